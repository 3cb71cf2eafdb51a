// Stage-2 page tables: walks per second over a 1 GiB region mapped with 4K
// pages (262,144 leaves in 512 level-3 tables), by the hardware walk the
// guest-access path uses and by the stepped kernel walker, and what it costs
// to copy and hash a World holding those tables (the debugger's checkpoint).
// The baseline is a plain Map<number, number> holding the same 262,144
// translations: a lookup and a copy of it.
import { performance } from 'node:perf_hooks';
import { Machine } from '../src/core/machine/machine.js';
import { RETURN, call, model_fn } from '../src/core/machine/model.js';
import { spawn_thread } from '../src/core/machine/thread.js';
import type { Thread, World } from '../src/core/machine/world.js';
import { create_world } from '../src/core/world_init.js';
import { KVM_PGTABLE_PROT_RW, KVM_PGTABLE_WALK_HANDLE_FAULT, KVM_PGTABLE_WALK_SHARED } from '../src/core/arm64/kvm_pgtable.js';
import { pgtable_map_now, pgtable_unmap_now } from '../src/core/arm64/pgtable.js';
import { guest_translate, hw_walk } from '../src/core/arm64/tlb.js';
import { ns_per_op, print_rows, type Row } from './harness.js';

const BASE_IPA = 0x4000_0000;
const BASE_PA = 0x1_0000_0000;
const SIZE = 0x4000_0000;
const PAGES = SIZE / 4096;

/** A stepped walk per call: map an already-mapped page again (the leaf visit answers -EAGAIN), SHARED|HANDLE_FAULT, under RCU. */
const bench_walker = model_fn<{ i: number; n: number }>('bench_pgtable_walker', {
  next: (_w, _t, l) => {
    if (l.i >= l.n) return RETURN;
    const k = (l.i++ * 7919) % PAGES;
    return call(
      'kvm_pgtable_stage2_map',
      { mmu: -1, addr: BASE_IPA + k * 4096, size: 4096, phys: BASE_PA + k * 4096, prot: KVM_PGTABLE_PROT_RW, flags: KVM_PGTABLE_WALK_SHARED | KVM_PGTABLE_WALK_HANDLE_FAULT, memcache: 0 },
      'next',
    );
  },
});

function mapped_world(): { w: World; build_ms: number } {
  const w = create_world({ arch: 'arm64', vcpus: 1, memslots: [{ gpa: BASE_IPA, size: SIZE }], threads: [], sched: { policy: 'rr', seed: 1 }, variants: [] });
  const t0 = performance.now();
  const r = pgtable_map_now(w, -1, BASE_IPA, BASE_PA, SIZE, KVM_PGTABLE_PROT_RW, { force_pte: true });
  const build_ms = performance.now() - t0;
  if (r !== 0) throw new Error(`map failed: ${r}`);
  return { w, build_ms };
}

export async function bench_pgtable(): Promise<void> {
  const { w, build_ms } = mapped_world();
  const pgt = w.arm64!.mmu.pgt;
  const peer = new Map<number, number>();
  for (let k = 0; k < PAGES; k++) peer.set(BASE_IPA / 4096 + k, BASE_PA / 4096 + k);

  // Pseudo-random page order, the same for both.
  const order = new Float64Array(4096);
  for (let i = 0; i < order.length; i++) order[i] = BASE_IPA + ((i * 7919) % PAGES) * 4096 + 0x123;
  let sink = 0;
  const hw_ns = ns_per_op(() => {
    for (let i = 0; i < order.length; i++) {
      const r = hw_walk(w, pgt, order[i]!);
      if (r.ok) sink += r.oa;
    }
  }, order.length);
  const map_ns = ns_per_op(() => {
    for (let i = 0; i < order.length; i++) sink += peer.get(Math.floor(order[i]! / 4096)) ?? 0;
  }, order.length);

  // guest_translate: a miss at nearly every access (4K stride over 1 GiB, 64-entry TLB), walk and fill.
  const t = { id: 0, name: 'vcpu0', cpu: 0, vcpu: 0 } as Thread;
  const gt_ns = ns_per_op(() => {
    for (let i = 0; i < order.length; i++) {
      const r = guest_translate(w, t, -1, order[i]!, false);
      if (r.ok) sink += r.pa;
    }
    w.events.length = 0;
  }, order.length);

  // The stepped walker: whole kvm_pgtable_stage2_map walks through Machine.step, invariants on.
  const walks = 4000;
  const stepped = (): { ns: number; steps: number } => {
    const w2 = structuredClone(w);
    spawn_thread(w2, 'bench', 'vcpu', { cpu: 0, vcpu: 0, root: bench_walker.name, args: { i: 0, n: walks } });
    const m = new Machine(w2);
    let steps = 0;
    const t0 = performance.now();
    while (m.step().status === 'ok') steps++;
    return { ns: ((performance.now() - t0) * 1e6) / walks, steps };
  };
  stepped();
  const s = stepped();

  // Checkpoint: copy and hash the World holding the tables, against copying the Map.
  const m = new Machine(w);
  const clone_ns = ns_per_op(() => void structuredClone(w), 1, 5, 200);
  const hash_ns = ns_per_op(() => void m.state_hash(), 1, 5, 200);
  const map_clone_ns = ns_per_op(() => void new Map(peer), 1, 5, 200);
  const map_sclone_ns = ns_per_op(() => void structuredClone(peer), 1, 5, 200);
  const tables = w.pgt_pages!.length;

  // Unmapping the 1 GiB (exclusive walk): with FEAT_TLBIRANGE and FWB the
  // leaves' TLBIs are deferred to one range TLBI (stage2_unmap_defer_tlb_flush);
  // without FWB each leaf is invalidated as it is cleared.
  const unmap = (fwb: boolean): { ms: number; tlbis: number } => {
    const w2 = structuredClone(w);
    w2.arm64!.mmu.pgt.fwb_cap = fwb;
    w2.metrics = {};
    const t0 = performance.now();
    pgtable_unmap_now(w2, -1, BASE_IPA, SIZE);
    const ms = performance.now() - t0;
    const tlbis = (w2.metrics['tlbi_ipa'] ?? 0) + (w2.metrics['tlbi_range'] ?? 0) + (w2.metrics['tlbi_vmid'] ?? 0);
    return { ms, tlbis };
  };
  unmap(true);
  const deferred = unmap(true);
  const per_leaf = unmap(false);

  const rows: Row[] = [
    { name: 'hardware walk (hw_walk), 1 GiB of 4K pages', value: 1e9 / hw_ns, unit: 'walks/s', peer: 'Map.get', peer_value: 1e9 / map_ns },
    { name: 'guest_translate: TLB miss, walk, fill', value: 1e9 / gt_ns, unit: 'walks/s' },
    { name: 'stepped walker (kvm_pgtable_stage2_map)', value: 1e9 / s.ns, unit: 'walks/s', note: `${(s.steps / walks).toFixed(1)} steps per walk` },
    { name: `World copy with the tables (${tables} pages)`, value: clone_ns / 1e6, unit: 'ms', peer: 'new Map(262,144)', peer_value: map_clone_ns / 1e6 },
    { name: 'World copy, peer: structuredClone(Map)', value: clone_ns / 1e6, unit: 'ms', peer: 'structuredClone(Map)', peer_value: map_sclone_ns / 1e6 },
    { name: 'state hash of that World', value: hash_ns / 1e6, unit: 'ms' },
    { name: 'mapping 1 GiB of 4K pages (exclusive walk)', value: build_ms, unit: 'ms', note: `${((build_ms * 1e6) / PAGES).toFixed(0)} ns/page` },
    {
      name: 'unmapping it, deferred range TLBI (FWB)',
      value: deferred.ms,
      unit: 'ms',
      peer: 'a TLBI per leaf (no FWB)',
      peer_value: per_leaf.ms,
      note: `${deferred.tlbis} TLBIs vs ${per_leaf.tlbis}`,
    },
  ];
  print_rows('pgtable: stage-2 walks and checkpoints', rows);
  if (sink === 42) console.log('');
}
