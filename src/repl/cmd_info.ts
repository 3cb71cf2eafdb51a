// `info ...`: the state as aligned tables (JSON: {"rows": [...]}). A group
// whose layer is not in this World says so instead of failing.
import { all_invariants } from '../core/machine/invariants.js';
import { all_variants } from '../core/machine/variants.js';
import type { World } from '../core/machine/world.js';
import { pending_req_names } from '../core/kvm/kvm_host.js';
import { mmu_name, kvm_s2_mmu_valid, type kvm_s2_mmu } from '../core/arm64/kvm_host.js';
import { kvm_pgtable_leaves } from '../core/arm64/pgtable.js';
import type { Session } from '../debugger/session.js';
import { type Command, type Reply } from './command.js';
import { info_breakpoints } from './cmd_break.js';
import { thread_state } from './cmd_inspect.js';
import { hex, json_value } from './format.js';
import { table } from './text.js';

type Row = Record<string, string | number | boolean | null>;

/** A table in text and {"rows": [...]} in JSON; columns are the keys of the first row. */
function rows_reply(rows: Row[], empty: string, footer: string[] = [], extra: Record<string, unknown> = {}): Reply {
  if (rows.length === 0) return { json: { rows: [], ...extra }, text: [empty, ...footer].join('\n') };
  const headers = Object.keys(rows[0]!);
  const text = table(
    headers,
    rows.map((r) => headers.map((h) => (r[h] === null ? '-' : String(r[h])))),
  );
  return { json: { rows: rows.map((r) => json_value(r)), ...extra }, text: [text, ...footer].join('\n') };
}

function absent(what: string, w: World): Reply {
  return { json: { rows: [], absent: true, message: `${what} (this World is ${w.arch})` }, text: `${what} (this World is ${w.arch}).` };
}

const tname = (w: World, id: number) => (id < 0 ? '-' : (w.threads[id]?.name ?? `#${id}`));
const tnames = (w: World, ids: readonly number[]) => (ids.length ? ids.map((i) => tname(w, i)).join(',') : '-');

function info_threads(s: Session): Reply {
  const w = s.world;
  return rows_reply(
    w.threads.map((t) => {
      const f = t.stack[t.stack.length - 1];
      return {
        id: t.id,
        name: t.name,
        kind: t.kind,
        cpu: t.cpu,
        state: thread_state(s, t),
        frame: f ? `${f.fn}:${f.pc}` : '-',
        op: t.prog.length ? `${Math.min(t.ip, t.prog.length)}/${t.prog.length}` : '-',
      };
    }),
    'No threads.',
  );
}

function info_vcpus(s: Session): Reply {
  const w = s.world;
  const vcpus = w.kvm?.vcpus ?? [];
  return rows_reply(
    vcpus.map((v) => {
      const a = w.arm64?.vcpus[v.vcpu_id];
      const row: Row = {
        vcpu: v.vcpu_id,
        thread: tname(w, v.thread),
        mode: v.mode,
        cpu: v.cpu,
        requests: pending_req_names(w.arch, v.requests).join(',') || '-',
      };
      if (a) {
        row['hw_mmu'] = mmu_name(a.hw_mmu);
        if (a.ctxt) row['ctxt'] = a.ctxt;
      }
      row['exit'] = v.exit_reason || '-';
      return row;
    }),
    'No vCPUs.',
  );
}

function mmu_row(w: World, name: string, m: kvm_s2_mmu): Row {
  let leaves: number | string = '?';
  try {
    leaves = kvm_pgtable_leaves(w, m.index).length;
  } catch {
    // tables not built in this World
  }
  return {
    mmu: name,
    vmid: m.vmid,
    valid: kvm_s2_mmu_valid(m),
    refcnt: m.refcnt,
    tlb_vttbr: hex(m.tlb_vttbr),
    tlb_vtcr: hex(m.tlb_vtcr),
    s2_enabled: m.nested_stage2_enabled,
    pending_unmap: m.pending_unmap,
    leaves,
  };
}

function info_mmus(s: Session): Reply {
  const w = s.world;
  const a = w.arm64;
  if (!a) return absent('No stage-2 MMUs: that is the arm64 layer', w);
  const rows = [mmu_row(w, 's2', a.mmu), ...a.nested_mmus.map((m, i) => mmu_row(w, `nested[${i}]`, m))];
  return rows_reply(rows, 'No MMUs.', [`nested_mmus_size=${a.nested_mmus_size} nested_mmus_next=${a.nested_mmus_next} ipa_bits=${a.ipa_bits}`], {
    nested_mmus_size: a.nested_mmus_size,
    nested_mmus_next: a.nested_mmus_next,
  });
}

function info_locks(s: Session): Reply {
  const w = s.world;
  const rows: Row[] = Object.values(w.locks ?? {}).map((l) => ({
    lock: l.name,
    writer: tname(w, l.writer),
    readers: tnames(w, l.readers),
    waiting_writers: tnames(w, l.waiting_writers),
    waiting_readers: tnames(w, l.waiting_readers),
  }));
  for (const sr of Object.values(w.srcu ?? {})) {
    rows.push({ lock: sr.name, writer: '-', readers: tnames(w, sr.readers.map((r) => r.thread)), waiting_writers: '-', waiting_readers: '-' });
  }
  return rows_reply(rows, 'No locks.');
}

function info_memslots(s: Session): Reply {
  const w = s.world;
  return rows_reply(
    (w.kvm?.memslots ?? []).map((m) => ({
      slot: m.id,
      gpa_start: hex(m.base_gfn * 4096),
      gpa_end: hex((m.base_gfn + m.npages) * 4096),
      pages: m.npages,
      hva: hex(m.userspace_addr),
    })),
    'No memslots.',
  );
}

function info_requests(s: Session): Reply {
  const w = s.world;
  return rows_reply(
    (w.kvm?.vcpus ?? []).map((v) => ({
      vcpu: v.vcpu_id,
      requests: hex(v.requests),
      pending: pending_req_names(w.arch, v.requests).join(',') || '-',
      at_mode_in: pending_req_names(w.arch, v.requests_at_mode_in).join(',') || '-',
      mode: v.mode,
    })),
    'No vCPUs.',
  );
}

function info_tlb(s: Session): Reply {
  const w = s.world;
  const tlb = w.tlb;
  if (!tlb) return absent(w.arch === 'arm64' ? 'No TLB entries yet' : 'No stage-2 TLB model', w);
  const rows: Row[] = [];
  tlb.cpus.forEach((entries, cpu) => {
    for (const e of entries ?? []) {
      rows.push({
        cpu,
        vmid: e.vmid,
        ipa: hex(e.ipa),
        pa: hex(e.pa),
        level: e.level,
        perms: `${e.r ? 'r' : '-'}${e.w ? 'w' : '-'}${e.x ? 'x' : '-'}`,
        filled: e.fill_step,
        stale: e.stale_since >= 0 ? `since ${e.stale_since} (${e.stale_by})` : '-',
      });
    }
  });
  return rows_reply(rows, 'The TLBs are empty.', [`capacity ${tlb.capacity} entries per CPU`]);
}

function info_invalidation(s: Session): Reply {
  const k = s.world.kvm;
  if (!k) return absent('No KVM state', s.world);
  const unset = k.mmu_invalidate_range_start === -1;
  const row: Row = {
    mmu_invalidate_seq: k.mmu_invalidate_seq,
    in_progress: k.mmu_invalidate_in_progress,
    range_start: unset ? null : hex(k.mmu_invalidate_range_start),
    range_end: unset ? null : hex(k.mmu_invalidate_range_end),
    mn_active_invalidate_count: k.mn_active_invalidate_count,
  };
  const text = Object.entries(row)
    .map(([key, v]) => `${key.padEnd(27)} ${v === null ? 'unset (INVALID_GPA)' : String(v)}`)
    .join('\n');
  return { json: { rows: [json_value(row)] }, text: `${text}\n(range in gfns)` };
}

function info_rcu(s: Session): Reply {
  const w = s.world;
  const r = w.rcu;
  const srcu = Object.values(w.srcu ?? {});
  if (!r && srcu.length === 0) return absent('No RCU state', w);
  const lines: string[] = [];
  const json: Record<string, unknown> = {};
  if (r) {
    const readers = Object.entries(r.nesting).map(([id, n]) => `${tname(w, Number(id))}(${n})`);
    lines.push(
      `gp_seq=${r.gp_seq} gp_active=${r.gp_active} gp_requested=${r.gp_requested}`,
      `readers: ${readers.join(' ') || '-'}`,
      `holdouts: ${tnames(w, r.holdouts)}`,
      `callbacks: ${r.cbs.length ? '' : '-'}`,
      ...r.cbs.map((c) => `  #${c.id} ${c.kind} ${JSON.stringify(json_value(c.arg))} gp=${c.gp < 0 ? 'next' : c.gp} by ${c.by} at step ${c.queued_step}`),
    );
    json['rcu'] = json_value(r);
  }
  for (const d of srcu) {
    lines.push(`srcu ${d.name}: srcu_idx=${d.srcu_idx} gp_seq=${d.gp_seq} readers: ${d.readers.map((x) => `${tname(w, x.thread)}[idx ${x.idx}]`).join(' ') || '-'}`);
  }
  if (srcu.length) json['srcu'] = json_value(srcu);
  return { json, text: lines.join('\n') };
}

function info_hyperv(s: Session): Reply {
  const w = s.world;
  const x = w.x86;
  if (!x) return absent('No Hyper-V state: that is the x86 layer', w);
  return rows_reply(
    x.vcpus.map((v, i) => ({
      vcpu: i,
      vp_index: v.hyperv.vp_index,
      fifo_l1: v.hyperv.tlb_flush_fifo[0]?.entries.length ?? 0,
      fifo_l2: v.hyperv.tlb_flush_fifo[1]?.entries.length ?? 0,
      inhibit: v.hyperv.tlb_flush_inhibit,
      suspended: v.hyperv.suspended,
      waiting_on: v.hyperv.waiting_on,
      tlb: v.tlb.length,
      hcall: v.hcall ? hex(v.hcall.code) : null,
    })),
    'No vCPUs.',
    [`clock=${x.clock} completed flushes=${x.flushes.length}`],
  );
}

function info_checkpoints(s: Session): Reply {
  const c = s.checkpoint_info();
  const lines = [
    `automatic: every ${c.interval} steps; ${c.steps.length} kept at steps ${c.steps.join(' ')}`,
    `history: ${s.end_step} steps (${c.history_bytes} bytes); recent events held: ${c.events_held} (steps after ${c.events_from})`,
    ...c.user.map((u) => `checkpoint ${u.id}: step ${u.step}${u.detached ? ' (on another timeline)' : ''}`),
  ];
  return { json: { interval: c.interval, automatic: c.steps, user: c.user.map((u) => ({ id: u.id, step: u.step, detached: u.detached !== null })), end: s.end_step }, text: lines.join('\n') };
}

function info_variants(s: Session): Reply {
  const w = s.world;
  return rows_reply(
    all_variants()
      .filter((v) => !v.arch || v.arch === w.arch)
      .map((v) => ({ variant: v.name, on: w.variants[v.name] === true, breaks: v.breaks, description: v.description })),
    'No variants.',
  );
}

function info_invariants(s: Session): Reply {
  const w = s.world;
  return rows_reply(
    all_invariants()
      .filter((i) => !i.arch || i.arch === w.arch)
      .map((i) => ({ invariant: i.name, checked: i.on ? `on ${i.on.join(',')}` : 'every step', description: i.description })),
    'No invariants.',
  );
}

function info_pokes(s: Session): Reply {
  return rows_reply(
    s.pokes().map((p, i) => ({ n: i + 1, step: p.step, command: p.text })),
    'No pokes.',
  );
}

const sub = (name: string, summary: string, fn: (s: Session) => Reply): Command => ({
  name,
  usage: `info ${name}`,
  summary,
  run: (ctx) => fn(ctx.s),
});

export const INFO_COMMAND: Command = {
  name: 'info',
  aliases: ['i'],
  usage: 'info threads|vcpus|mmus|locks|memslots|requests|tlb|invalidation|rcu|hyperv|breakpoints|checkpoints|variants|invariants|pokes',
  summary: 'the state as tables',
  sub: [
    sub('threads', 'every thread: state, innermost frame, program position', info_threads),
    sub('vcpus', 'each vCPU: mode, CPU, pending requests, hw_mmu', info_vcpus),
    sub('mmus', 'arm64 stage-2 MMUs: the canonical s2 and nested[I]', info_mmus),
    sub('locks', 'mmu_lock and the other locks: holders and waiters', info_locks),
    sub('memslots', 'memslots: guest physical range and host address', info_memslots),
    sub('requests', 'pending vCPU requests', info_requests),
    sub('tlb', 'the stage-2 TLB entries of every CPU', info_tlb),
    sub('invalidation', 'MMU-notifier invalidation state (mmu_invalidate_seq, in_progress, range)', info_invalidation),
    sub('rcu', 'RCU readers, grace periods and callbacks; SRCU domains', info_rcu),
    sub('hyperv', 'x86 Hyper-V TLB flush FIFOs and flush inhibit', info_hyperv),
    sub('breakpoints', 'breakpoints, watchpoints, catchpoints and dprintfs', info_breakpoints),
    sub('checkpoints', 'automatic and user checkpoints, history size', info_checkpoints),
    sub('variants', 'the variants and whether each is on', info_variants),
    sub('invariants', 'the invariants checked', info_invariants),
    sub('pokes', 'the state changes recorded in the history', info_pokes),
  ],
};
