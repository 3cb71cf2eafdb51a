// src/core/machine/invariants.ts
var invariants = [];
function define_invariant(inv) {
  if (invariants.some((i) => i.name === inv.name)) throw new Error(`invariant ${inv.name} defined twice`);
  invariants.push(inv);
  return inv;
}
function all_invariants() {
  return invariants;
}
function invariant_named(name) {
  return invariants.find((i) => i.name === name);
}

// src/core/machine/sched_invariants.ts
define_invariant({
  name: "sched.sleep_in_atomic",
  description: "a thread never sleeps while holding a spinning lock or with preemption or interrupts disabled",
  on: ["sched.might_sleep"],
  check(w, ev) {
    const e = ev;
    if (e.preempt_count <= 0 && !e.irqs_disabled) return null;
    const t2 = w.threads.find((x) => x.name === e.thread);
    return {
      thread: e.thread,
      message: `BUG: sleeping function called from invalid context: ${e.thread} may sleep (${e.what}) in ${t2.stack.map((f) => f.fn).reverse().join(" <- ")} with preempt_count=${e.preempt_count}` + (e.irqs_disabled ? ", irqs disabled" : ""),
      values: { what: e.what, preempt_count: e.preempt_count, irqs_disabled: e.irqs_disabled }
    };
  }
});

// src/core/machine/events.ts
var EVENT_CATALOGUE = {
  "request.make": { req: "str", bit: "int", flags: "int", target: "int" },
  "request.make_all": { req: "str", targets: "any", ipi_mask: "any", wait: "bool" },
  "request.check": { req: "str", result: "bool" },
  "vcpu.mode": { from: "str", to: "str", via: "str" },
  "vcpu.kick": { target: "int", action: "str" },
  "ipi.send": { to: "int", wait: "bool" },
  "ipi.ack": { target_cpu: "int" },
  "vcpu.enter": { hw_mmu: "str" },
  "vcpu.entry_abort": { reason: "str" },
  "vcpu.exit": { reason: "str" },
  "vcpu.load": { pcpu: "int" },
  "vcpu.put": { scheduled_out: "bool", in_wfi: "bool" },
  "guest.access": { ipa: "addr", write: "bool", pa: "addr", via: "str" },
  "guest.irq": {},
  "lock.acquire": { lock: "str", mode: "str" },
  "lock.release": { lock: "str", mode: "str" },
  "lock.contend": { lock: "str", mode: "str" },
  "lock.cond_resched": { lock: "str", dropped: "bool" },
  "sched.block": { reason: "str" },
  "sched.wake": { reason: "str" },
  "sched.preempt": {},
  "sched.might_sleep": { what: "str", preempt_count: "int", irqs_disabled: "bool" },
  "srcu.read_lock": { srcu: "str", idx: "int" },
  "srcu.read_unlock": { srcu: "str", idx: "int" },
  "srcu.sync": { srcu: "str", phase: "str" },
  "s2mmu.lookup": { vttbr: "u64", vtcr: "u64", s2_enabled: "bool", hit: "int" },
  "s2mmu.recycle": { index: "int", victim_valid: "bool", next_cursor: "int" },
  "s2mmu.assign": { index: "int", tlb_vttbr: "u64", tlb_vtcr: "u64", s2_enabled: "bool" },
  "s2mmu.ref": { index: "int", refcnt: "int" },
  "s2mmu.unref": { index: "int", refcnt: "int" },
  "pending_unmap.set": { index: "int" },
  "pending_unmap.clear": { index: "int", was_set: "bool" },
  "nested.unmap": { index: "any", start: "addr", size: "addr", may_block: "bool" },
  "nested.wp": { index: "any" },
  "vncr.invalidate": { ipa: "addr" },
  "nested.s2_fault": { nested_ipa: "addr" },
  tlbi: { op: "str", operand: "u64", vmid: "int", base: "addr", size: "addr", ttl: "int", tg: "int", scale: "int", num: "int" },
  "tlbi.target": { index: "int", start: "addr", size: "addr" },
  "hv.hypercall": { code: "int", flags: "int", rep_cnt: "int", all_cpus: "bool", banks: "any", fast: "bool" },
  "hv.fifo.push": { target: "int", fifo: "int", entries: "int", flushall: "bool" },
  "hv.fifo.drain": { target: "int", entries: "int", result: "int" },
  "hv.flush": { target: "int", scope: "str", gva: "addr", pages: "int" },
  "hv.suspend": { target: "int", waiting_on: "int" },
  "hv.unsuspend": { target: "int", waiting_on: "int" },
  "mt.store": { first: "u64", last: "u64", entry: "u64", overwritten: "u64" },
  "mt.insert": { first: "u64", last: "u64", result: "int" },
  "mt.erase": { index: "u64", range: "any", entry: "u64" },
  "mt.load": { index: "u64", entry: "u64" },
  "mt.find": { index: "u64", max: "u64", range: "any", entry: "u64" },
  "mt.empty_area": { min: "u64", max: "u64", size: "u64", result: "any" },
  "mt.node": { op: "str", type: "str", slots: "int" },
  "revmap.add": { mmu: "int", canon_range: "any", nested_ipa: "addr" },
  "revmap.lookup": { mmu: "int", range: "any", hits: "any" },
  "revmap.invalid": { mmu: "int", reason: "str" },
  "walk.begin": { pgt: "str", start: "addr", end: "addr", flags: "str" },
  "walk.end": { ret: "int" },
  "pte.visit": { ptep: "str", level: "int", visit: "str", old: "u64" },
  "pte.cmpxchg": { ptep: "str", old: "u64", new: "u64", ok: "bool" },
  "pte.store": { ptep: "str", value: "u64", release: "bool" },
  "pte.break": { ptep: "str", level: "int", old: "u64", ok: "bool" },
  "pte.make": { ptep: "str", new: "u64" },
  "walk.eagain": { ptep: "str", reason: "str" },
  "tlbi.hyp": { scope: "str", vmid: "int", ipa: "addr", level: "int", size: "addr" },
  "table.alloc": { page: "int", level: "int" },
  "table.unlink": { page: "int", level: "int" },
  "rcu.read_lock": {},
  "rcu.read_unlock": {},
  "rcu.call": { page: "int", level: "int" },
  "rcu.gp_start": { gp: "int" },
  "rcu.gp_end": { gp: "int" },
  "rcu.free": { page: "int" },
  "invalidate.start": { hva_start: "addr", hva_end: "addr", event: "str", blockable: "bool" },
  "invalidate.begin": { in_progress: "int" },
  "invalidate.range_add": { start: "addr", end: "addr", union: "bool" },
  "invalidate.end": { mmu_invalidate_seq: "int", in_progress: "int" },
  "mm.change_pte": { hva: "addr", old_pfn: "addr", new_pfn: "addr", prot_none: "bool", pages: "int" },
  "fault.start": { gpa: "addr", write: "bool", nested: "bool" },
  "fault.seq_snapshot": { mmu_seq: "int" },
  "fault.faultin": { pfn: "addr", slept: "bool" },
  "fault.check": { in_progress: "int", seq_now: "int", seq_snap: "int", range: "any", retry: "bool" },
  "fault.retry": { reason: "str" },
  "fault.map": { mmu: "str", ipa: "addr", pa: "addr", level: "int", prot: "str" },
  "numa.protect": { start: "addr", end: "addr" },
  "flush.remote": { scope: "str", reason: "str" },
  "thread.op": { op: "str", index: "int" },
  "thread.exit": {},
  // Stage-2 page tables, TLB (src/core/arm64: pgtable, tlb): appended by the pgtable work.
  "pte.replace": { ptep: "str", level: "int", old: "u64", new: "u64" },
  "table.free": { page: "int", level: "int", how: "str" },
  "tlb.fill": { vmid: "int", ipa: "addr", pa: "addr", level: "int", perms: "str", conflicts: "int" },
  "tlb.hit": { vmid: "int", ipa: "addr", pa: "addr", level: "int", stale_since: "int" },
  // x86 guest TLB and Hyper-V TLB flush (src/core/x86): appended by the x86 work.
  "guest.gva_access": { gva: "addr", write: "bool", hit: "bool" },
  "guest.tlb_flush": { scope: "str", reason: "str", entries: "int" },
  "hv.hypercall.complete": { code: "int", status: "int", reps: "int", suspended: "bool" },
  "hv.inhibit": { target: "int", inhibit: "bool", phase: "str" },
  // NUMA balancing and the x86 TDP fault path (src/core/kvm/numa.ts, src/core/x86/mmu.ts, tdp_mmu.ts): appended by the NUMA work.
  "numa.skip": { hva: "addr", reason: "str" },
  "mm.pin": { hva: "addr", pfn: "addr" },
  "invalidate.numa_protect": { hva_start: "addr", hva_end: "addr", in_progress: "int" },
  "fault.precheck": { where: "str", gfn: "addr", in_progress: "int", seq_now: "int", seq_snap: "int", retry: "bool" },
  "spte.zap": { gpa: "addr", pfn: "addr", level: "int" },
  "tdp_mmu.yield": { gfn: "addr", flush: "bool", contended: "bool" }
};
var EVENT_KINDS = Object.keys(EVENT_CATALOGUE);
var HEADER_FIELDS = ["seq", "step", "thread", "cpu", "vcpu", "kind"];
for (const k of EVENT_KINDS) {
  for (const f of Object.keys(EVENT_CATALOGUE[k])) {
    if (HEADER_FIELDS.includes(f)) throw new Error(`event ${k}: field ${f} clashes with the event header`);
  }
}
function emit(w, t2, kind, fields) {
  const e = fields;
  e.seq = w.seq++;
  e.step = w.step;
  e.thread = t2 ? t2.name : "-";
  e.cpu = t2 ? t2.cpu : -1;
  e.vcpu = t2 && t2.vcpu >= 0 ? t2.vcpu : null;
  e.kind = kind;
  w.events.push(e);
  return e;
}
var HEADER_SET = new Set(HEADER_FIELDS);

// src/core/machine/model.ts
var RETURN = "#return";
var BLOCKED = "#blocked";
var registry = /* @__PURE__ */ new Map();
function model_fn(name, steps) {
  if (registry.has(name)) throw new Error(`model function ${name} defined twice`);
  const labels = Object.keys(steps);
  if (labels.length === 0) throw new Error(`model function ${name} has no steps`);
  const fn = { name, entry: labels[0], steps };
  registry.set(name, fn);
  return fn;
}
function lookup_fn(name) {
  const fn = registry.get(name);
  if (!fn) throw new Error(`no model function ${name}`);
  return fn;
}
function has_fn(name) {
  return registry.has(name);
}
var observed = /* @__PURE__ */ new Set();
function observed_frames(...names) {
  for (const n of names) observed.add(n);
}
function frame_observed(name) {
  return observed.has(name);
}
function call(fn, args, ret2) {
  return { call: typeof fn === "string" ? fn : fn.name, args, ret: ret2 };
}
function ret(t2, value) {
  t2.retval = value;
  return RETURN;
}
function block(t2, wait) {
  t2.wait = wait;
  return BLOCKED;
}
var wait_kinds = /* @__PURE__ */ new Map();
function wait_kind(kind, sleeps, pred, opts = {}) {
  wait_kinds.set(kind, { pred, sleeps, preempts: opts.preempts ?? false });
}
function wait_kind_of(wait) {
  const k = wait_kinds.get(wait.kind);
  if (!k) throw new Error(`no wait predicate for ${wait.kind}`);
  return k;
}
function wait_holds(w, t2) {
  const wait = t2.wait;
  return wait === null || wait_kind_of(wait).pred(w, t2, wait);
}
function wait_sleeps(wait) {
  return wait_kind_of(wait).sleeps;
}
function wait_preempted(t2) {
  return t2.wait !== null && wait_kind_of(t2.wait).preempts;
}
function describe_wait(wait) {
  const rest = Object.entries(wait).filter(([k]) => k !== "kind").map(([k, v]) => `${k}=${String(v)}`).join(" ");
  return rest ? `${wait.kind} ${rest}` : wait.kind;
}
function kvm_arch_fn(w, name) {
  const own = `${name}_${w.arch}`;
  return registry.has(own) ? own : name;
}

// src/core/machine/world.ts
function variant_on(w, name) {
  return w.variants[name] === true;
}
function metric_add(w, name, n = 1) {
  w.metrics[name] = (w.metrics[name] ?? 0) + n;
}

// src/core/kvm/kvm_host.ts
var PAGE_SHIFT = 12;
var PAGE_SIZE = 4096;
var INVALID_GPA = -1;
var KVM_REQUEST_MASK = 255;
var KVM_REQUEST_NO_WAKEUP = 1 << 8;
var KVM_REQUEST_WAIT = 1 << 9;
var KVM_REQUEST_NO_ACTION = 1 << 10;
var KVM_REQUEST_ARCH_BASE = 8;
var REQ = (nr, flags = 0) => nr | flags;
var ARCH_REQ = (nr, flags = 0) => REQ(nr + KVM_REQUEST_ARCH_BASE, flags);
var KVM_REQ_GENERIC = {
  TLB_FLUSH: REQ(0, KVM_REQUEST_WAIT | KVM_REQUEST_NO_WAKEUP),
  VM_DEAD: REQ(1, KVM_REQUEST_WAIT | KVM_REQUEST_NO_WAKEUP),
  UNBLOCK: REQ(2),
  DIRTY_RING_SOFT_FULL: REQ(3),
  OUTSIDE_GUEST_MODE: REQ(0, KVM_REQUEST_NO_ACTION | KVM_REQUEST_WAIT | KVM_REQUEST_NO_WAKEUP)
};
var KVM_REQ_ARM64 = {
  SLEEP: ARCH_REQ(0, KVM_REQUEST_WAIT | KVM_REQUEST_NO_WAKEUP),
  IRQ_PENDING: ARCH_REQ(1),
  VCPU_RESET: ARCH_REQ(2),
  RECORD_STEAL: ARCH_REQ(3),
  RELOAD_GICv4: ARCH_REQ(4),
  RELOAD_PMU: ARCH_REQ(5),
  SUSPEND: ARCH_REQ(6),
  RESYNC_PMU_EL0: ARCH_REQ(7),
  NESTED_S2_UNMAP: ARCH_REQ(8),
  GUEST_HYP_IRQ_PENDING: ARCH_REQ(9),
  MAP_L1_VNCR_EL2: ARCH_REQ(10)
};
var KVM_REQ_X86 = {
  EVENT: ARCH_REQ(6),
  TLB_FLUSH_CURRENT: ARCH_REQ(26),
  TLB_FLUSH_GUEST: ARCH_REQ(27, KVM_REQUEST_WAIT | KVM_REQUEST_NO_WAKEUP),
  HV_TLB_FLUSH: ARCH_REQ(32, KVM_REQUEST_WAIT | KVM_REQUEST_NO_WAKEUP)
};
var REQUESTS = {
  arm64: { ...KVM_REQ_GENERIC, ...KVM_REQ_ARM64 },
  x86: { ...KVM_REQ_GENERIC, ...KVM_REQ_X86 }
};
function kvm_requests(arch) {
  return REQUESTS[arch];
}
var NAMES = { arm64: [], x86: [] };
for (const arch of ["arm64", "x86"]) {
  for (const [name, v] of Object.entries(REQUESTS[arch])) {
    const bit = v & KVM_REQUEST_MASK;
    if (!(v & KVM_REQUEST_NO_ACTION) && NAMES[arch][bit] === void 0) NAMES[arch][bit] = name;
  }
}
function req_name(arch, req) {
  const bit = req & KVM_REQUEST_MASK;
  return NAMES[arch][bit] ?? `REQ_${bit}`;
}
function pending_req_names(arch, requests) {
  const out = [];
  for (let bit = 0; requests > 0 && bit < 53; bit++) if (test_bit(requests, bit)) out.push(req_name(arch, bit));
  return out;
}
function test_bit(map, bit) {
  if (map < 2 ** 31 && bit < 31) return (map >> bit & 1) === 1;
  return Math.floor(map / 2 ** bit) % 2 === 1;
}
function set_bit(map, bit) {
  return test_bit(map, bit) ? map : map + 2 ** bit;
}
function clear_bit(map, bit) {
  return test_bit(map, bit) ? map - 2 ** bit : map;
}
function vcpu_of(w, vcpu_id) {
  const v = w.kvm.vcpus[vcpu_id];
  if (!v) throw new Error(`no vcpu${vcpu_id}`);
  return v;
}
function gfn_to_memslot(w, gfn) {
  return w.kvm.memslots.find((s2) => gfn >= s2.base_gfn && gfn < s2.base_gfn + s2.npages);
}
function gfn_to_hva(slot, gfn) {
  return slot.userspace_addr + (gfn - slot.base_gfn) * PAGE_SIZE;
}

// src/core/kvm/smp.ts
function thread_on_cpu(w, cpu) {
  return w.threads.find((t2) => t2.cpu === cpu && !t2.done);
}
function smp_send_ipi(w, from, cpu, wait) {
  emit(w, from, "ipi.send", { to: cpu, wait });
  const c = w.cpus[cpu];
  if (!c) return;
  c.ipi_pending = true;
  const target = thread_on_cpu(w, cpu);
  if (!target || !target.irqs_disabled) ipi_ack(w, target ?? null, cpu);
}
function ipi_ack(w, t2, cpu) {
  const c = w.cpus[cpu];
  if (!c.ipi_pending) return;
  c.ipi_pending = false;
  emit(w, t2, "ipi.ack", { target_cpu: cpu });
}
function local_irq_enable(w, t2) {
  t2.irqs_disabled = false;
  ipi_ack(w, t2, t2.cpu);
}
function local_irq_disable(t2) {
  t2.irqs_disabled = true;
}
wait_kind("ipi_ack", false, (w, _t, wait) => wait["cpus"].every((c) => !w.cpus[c].ipi_pending));

// src/core/machine/scheduler.ts
import { unsafeUniformIntDistribution, xoroshiro128plus } from "pure-rand";
function sched_init(policy, seed, script = []) {
  return { policy, rng: [...xoroshiro128plus(seed).getState()], seed, rr: -1, script, script_pos: 0 };
}
function sched_rand(s2, n) {
  const g = xoroshiro128plus.fromState(s2.rng);
  const v = unsafeUniformIntDistribution(0, n - 1, g);
  s2.rng = [...g.getState()];
  return v;
}
function sched_pick(w, runnable) {
  const s2 = w.sched;
  switch (s2.policy) {
    case "random":
      return runnable[sched_rand(s2, runnable.length)];
    case "script": {
      while (s2.script_pos < s2.script.length && s2.script[s2.script_pos].includes("=")) s2.script_pos++;
      if (s2.script_pos < s2.script.length) {
        const name = s2.script[s2.script_pos];
        const t2 = w.threads.find((x) => x.name === name);
        if (t2 && runnable.includes(t2.id)) {
          s2.script_pos++;
          s2.rr = t2.id;
          return t2.id;
        }
      }
      return rr_pick(s2, runnable);
    }
    case "rr":
      return rr_pick(s2, runnable);
  }
}
function rr_pick(s2, runnable) {
  for (const id2 of runnable) {
    if (id2 > s2.rr) {
      s2.rr = id2;
      return id2;
    }
  }
  s2.rr = runnable[0];
  return s2.rr;
}
var choice_kinds = /* @__PURE__ */ new Map();
function define_choice(c) {
  choice_kinds.set(c.name, c);
  return c;
}
function choice_kind(name) {
  return choice_kinds.get(name);
}
function sched_choose(w, kind) {
  const s2 = w.sched;
  if (s2.policy === "random") {
    if (kind.n <= 1) return 0;
    if (sched_rand(s2, 1024) >= Math.round(kind.p_random * 1024)) return 0;
    return 1 + sched_rand(s2, kind.n - 1);
  }
  if (s2.policy === "script") {
    const tok = s2.script[s2.script_pos];
    const prefix = `${kind.name}=`;
    if (tok !== void 0 && tok.startsWith(prefix)) {
      s2.script_pos++;
      const v = Number(tok.slice(prefix.length));
      return Number.isInteger(v) && v >= 0 && v < kind.n ? v : 0;
    }
  }
  return 0;
}
var active = (w, _t, kind) => sched_choose(w, kind);
function set_chooser(c) {
  const prev = active;
  active = c;
  return prev;
}
function choose(w, t2, kind) {
  return active(w, t2, kind);
}

// src/core/machine/history.ts
var kinds = /* @__PURE__ */ new Map();
function define_history(name, kind) {
  const had = kinds.get(name);
  if (had && had !== kind) throw new Error(`history field ${name} declared as ${had} and as ${kind}`);
  kinds.set(name, kind);
}
function history_kind(name) {
  return kinds.get(name);
}
function stamp_class(v) {
  if (typeof v === "number") return v >= 0 ? 0 : v;
  if (v === null || typeof v !== "object") return v;
  if (Array.isArray(v)) return v.map(stamp_class);
  const out = {};
  for (const k of Object.keys(v)) out[k] = stamp_class(v[k]);
  return out;
}

// src/core/kvm/vcpu_load.ts
var PREEMPT = define_choice({
  name: "preempt",
  n: 4,
  description: "need_resched() is set at a preemption point: the vCPU thread is scheduled out for 8 (1), 64 (2) or 512 (3) steps of the other threads",
  p_random: 0.1,
  // Longer off the CPU only keeps the vCPU from running longer; after 8 steps
  // the search may still leave it off, at no preemption (it did not run last).
  exhaustive: 2
});
var PREEMPT_STEPS = [0, 8, 64, 512];
function preempt_point(w, t2, next) {
  const c = choose(w, t2, PREEMPT);
  return c === 0 ? next : call(kvm_preempt, { steps: PREEMPT_STEPS[c] }, next);
}
wait_kind(
  "preempted",
  false,
  (w, t2, wait) => {
    if (w.step >= wait["until"]) return true;
    return w.threads.every((o) => o === t2 || o.done || o.daemon || o.wait !== null && !other_can_run(w, o));
  },
  { preempts: true }
);
function other_can_run(w, o) {
  const wait = o.wait;
  return wait.kind === "preempted" ? w.step >= wait["until"] : wait_holds(w, o);
}
var vcpu_load = model_fn("vcpu_load", {
  get_cpu: (_w, t2) => {
    t2.preempt_count++;
    return call("kvm_arch_vcpu_load", {}, "put_cpu");
  },
  put_cpu: (_w, t2) => {
    t2.preempt_count--;
    return RETURN;
  }
});
var vcpu_put = model_fn("vcpu_put", {
  disable: (_w, t2) => {
    t2.preempt_count++;
    return call("kvm_arch_vcpu_put", {}, "enable");
  },
  enable: (_w, t2) => {
    t2.preempt_count--;
    return RETURN;
  }
});
var kvm_preempt = model_fn("kvm_preempt", {
  sched_out: (w, t2) => {
    const vcpu = vcpu_of(w, t2.vcpu);
    vcpu.scheduled_out = true;
    t2.preempt_count++;
    return call("kvm_arch_vcpu_put", {}, "switched");
  },
  switched: (w, t2, l2) => {
    t2.preempt_count--;
    emit(w, t2, "sched.preempt", {});
    l2.until = w.step + (l2.steps ?? PREEMPT_STEPS[1]);
    return "off_cpu";
  },
  off_cpu: (w, t2, l2) => w.step >= l2.until ? "sched_in" : block(t2, { kind: "preempted", until: l2.until }),
  sched_in: (_w, t2) => {
    t2.preempt_count++;
    return call("kvm_arch_vcpu_load", {}, "back");
  },
  back: (w, t2) => {
    t2.preempt_count--;
    vcpu_of(w, t2.vcpu).scheduled_out = false;
    return RETURN;
  }
});
var arch_runnable = /* @__PURE__ */ new Map();
function register_kvm_arch_vcpu_runnable(arch, fn) {
  arch_runnable.set(arch, fn);
}
function kvm_vcpu_wakeup_pending(w, vcpu) {
  return (arch_runnable.get(w.arch)?.(w, vcpu) ?? false) || test_bit(vcpu_of(w, vcpu).requests, KVM_REQ_GENERIC.UNBLOCK & KVM_REQUEST_MASK);
}
var HALT_WAIT = "kvm_vcpu_halt";
wait_kind(HALT_WAIT, true, (w, t2) => kvm_vcpu_wakeup_pending(w, t2.vcpu));
function kvm_vcpu_is_blocking(w, vcpu) {
  return vcpu_of(w, vcpu).rcuwait === true;
}
var kvm_vcpu_block = model_fn("kvm_vcpu_block", {
  check_block: (w, t2) => {
    const vcpu = vcpu_of(w, t2.vcpu);
    if (arch_runnable.get(w.arch)?.(w, t2.vcpu)) return RETURN;
    if (kvm_check_request(w, t2, KVM_REQ_GENERIC.UNBLOCK, vcpu)) return RETURN;
    return "sched_out";
  },
  // schedule() -> kvm_sched_out()
  sched_out: (w, t2) => {
    const vcpu = vcpu_of(w, t2.vcpu);
    vcpu.rcuwait = true;
    vcpu.scheduled_out = true;
    t2.preempt_count++;
    return call("kvm_arch_vcpu_put", {}, "switched");
  },
  switched: (_w, t2) => {
    t2.preempt_count--;
    return "asleep";
  },
  asleep: (w, t2) => kvm_vcpu_wakeup_pending(w, t2.vcpu) ? "sched_in" : block(t2, { kind: HALT_WAIT }),
  // kvm_sched_in()
  sched_in: (w, t2) => {
    vcpu_of(w, t2.vcpu).rcuwait = false;
    emit(w, t2, "sched.wake", { reason: "kvm_vcpu_block" });
    t2.preempt_count++;
    return call("kvm_arch_vcpu_load", {}, "back");
  },
  back: (w, t2) => {
    t2.preempt_count--;
    vcpu_of(w, t2.vcpu).scheduled_out = false;
    return "check_block";
  }
});
define_history("until", "deadline");

// src/core/kvm/requests.ts
function kvm_vcpu_wake_up(w, vcpu) {
  return kvm_vcpu_is_blocking(w, vcpu.vcpu_id);
}
function set_mode(w, t2, vcpu, to, via) {
  const from = vcpu.mode;
  vcpu.mode = to;
  emit(w, t2, "vcpu.mode", { from, to, via });
}
function kvm_make_request(w, t2, req, vcpu) {
  if (req & KVM_REQUEST_NO_ACTION) throw new Error("kvm_make_request of a NO_ACTION request");
  const bit = req & KVM_REQUEST_MASK;
  vcpu.requests = set_bit(vcpu.requests, bit);
  emit(w, t2, "request.make", { req: req_name(w.arch, req), bit, flags: req & ~KVM_REQUEST_MASK, target: vcpu.vcpu_id });
}
function kvm_request_pending(vcpu) {
  return vcpu.requests !== 0;
}
function kvm_test_request(req, vcpu) {
  return test_bit(vcpu.requests, req & KVM_REQUEST_MASK);
}
function kvm_check_request(w, t2, req, vcpu) {
  const bit = req & KVM_REQUEST_MASK;
  const result = test_bit(vcpu.requests, bit);
  if (result) vcpu.requests = clear_bit(vcpu.requests, bit);
  emit(w, t2, "request.check", { req: req_name(w.arch, req), result });
  return result;
}
function kvm_vcpu_exiting_guest_mode(w, t2, vcpu, via) {
  const old = vcpu.mode;
  if (old === "IN_GUEST_MODE") set_mode(w, t2, vcpu, "EXITING_GUEST_MODE", via);
  return old;
}
function kvm_request_needs_ipi(w, t2, vcpu, req) {
  const mode = kvm_vcpu_exiting_guest_mode(w, t2, vcpu, "kvm_request_needs_ipi");
  if (req & KVM_REQUEST_WAIT) return mode !== "OUTSIDE_GUEST_MODE";
  return mode === "IN_GUEST_MODE";
}
function kvm_vcpu_kick(w, t2, vcpu) {
  if (kvm_vcpu_wake_up(w, vcpu)) {
    emit(w, t2, "vcpu.kick", { target: vcpu.vcpu_id, action: "wakeup" });
    return;
  }
  if (t2.id === vcpu.thread) {
    const action2 = vcpu.mode === "IN_GUEST_MODE" ? "self" : "none";
    if (action2 === "self") set_mode(w, t2, vcpu, "EXITING_GUEST_MODE", "kvm_vcpu_kick");
    emit(w, t2, "vcpu.kick", { target: vcpu.vcpu_id, action: action2 });
    return;
  }
  const cpu = vcpu.cpu;
  const should_kick = kvm_vcpu_exiting_guest_mode(w, t2, vcpu, "kvm_vcpu_kick") === "IN_GUEST_MODE";
  const action = should_kick && cpu >= 0 && cpu !== t2.cpu ? "ipi" : "none";
  emit(w, t2, "vcpu.kick", { target: vcpu.vcpu_id, action });
  if (action === "ipi") smp_send_ipi(w, t2, cpu, false);
}
var kvm_make_all_cpus_request = model_fn(
  "kvm_make_all_cpus_request",
  {
    get_cpu: (_w, t2, l2) => {
      t2.preempt_count++;
      l2.i = 0;
      l2.mask = [];
      l2.targets = [];
      return "make";
    },
    make: (w, t2, l2) => {
      const vcpu = w.kvm.vcpus[l2.i];
      if (!vcpu) return "kick";
      if (!(l2.req & KVM_REQUEST_NO_ACTION)) kvm_make_request(w, t2, l2.req, vcpu);
      l2.targets.push(vcpu.vcpu_id);
      if (!(l2.req & KVM_REQUEST_NO_WAKEUP) && kvm_vcpu_wake_up(w, vcpu)) {
        emit(w, t2, "vcpu.kick", { target: vcpu.vcpu_id, action: "wakeup" });
        l2.i++;
        return "make";
      }
      return "needs_ipi";
    },
    needs_ipi: (w, t2, l2) => {
      const vcpu = vcpu_of(w, l2.i);
      if (kvm_request_needs_ipi(w, t2, vcpu, l2.req)) {
        const cpu = vcpu.cpu;
        if (cpu !== -1 && cpu !== t2.cpu) l2.mask.push(cpu);
      }
      l2.i++;
      return "make";
    },
    kick: (w, t2, l2) => {
      const wait = (l2.req & KVM_REQUEST_WAIT) !== 0;
      emit(w, t2, "request.make_all", { req: req_name(w.arch, l2.req), targets: l2.targets.slice(), ipi_mask: l2.mask.slice(), wait });
      if ((l2.req & KVM_REQUEST_MASK) === (KVM_REQ_GENERIC.TLB_FLUSH & KVM_REQUEST_MASK)) metric_add(w, "remote_flush_ipis", l2.mask.length);
      for (const cpu of l2.mask) smp_send_ipi(w, t2, cpu, wait);
      return wait && l2.mask.length ? "wait" : "put_cpu";
    },
    // csd_lock_wait(): spin until every target CPU ran the handler.
    wait: (w, t2, l2) => l2.mask.every((c) => !w.cpus[c].ipi_pending) ? "put_cpu" : block(t2, { kind: "ipi_ack", cpus: l2.mask }),
    put_cpu: (_w, t2, l2) => {
      t2.preempt_count--;
      t2.retval = l2.mask.length > 0;
      return RETURN;
    }
  }
);
var kvm_make_request_and_kick = model_fn("kvm_make_request_and_kick", {
  make: (w, t2, l2) => {
    kvm_make_request(w, t2, l2.req, vcpu_of(w, l2.vcpu));
    return "kick";
  },
  kick: (w, t2, l2) => {
    kvm_vcpu_kick(w, t2, vcpu_of(w, l2.vcpu));
    return RETURN;
  }
});

// src/core/machine/hash.ts
var f64 = new Float64Array(1);
var u32 = new Uint32Array(f64.buffer);
var OMIT = /* @__PURE__ */ Symbol("omit");
var Mixer = class _Mixer {
  a = 2166136261 | 0;
  b = 16777619 | 0;
  reset(seed) {
    this.a = 2166136261 ^ seed | 0;
    this.b = 16777619 + seed | 0;
    return this;
  }
  word(x) {
    this.a = Math.imul(this.a ^ x, 16777619);
    this.b = Math.imul(this.b ^ x, 1540483477);
    this.b ^= this.b >>> 15;
  }
  /**
   * Strings by a 64-bit digest made once per string (the explorer's key:
   * its leaves hold the same few hundred names and labels over and over).
   * A Mixer with it hashes differently from one without: only for keys
   * compared with keys of the same kind.
   */
  strings = null;
  str(s2) {
    this.word(3);
    const cache2 = this.strings;
    if (cache2) {
      let d = cache2.get(s2);
      if (d === void 0) {
        const m = new _Mixer();
        m.str(s2);
        m.fin();
        d = [m.a, m.b];
        if (cache2.size > 1 << 16) cache2.clear();
        cache2.set(s2, d);
      }
      this.word(d[0]);
      this.word(d[1]);
      return;
    }
    this.word(s2.length);
    for (let i = 0; i < s2.length; i++) this.word(s2.charCodeAt(i));
  }
  /** Mix in any plain value (throws on a function or symbol: the World must be plain data). */
  value(v, canon) {
    switch (typeof v) {
      case "number":
        if (Number.isInteger(v) && Math.abs(v) <= 2147483647) {
          this.word(1);
          this.word(v | 0);
        } else {
          f64[0] = v;
          this.word(2);
          this.word(u32[0]);
          this.word(u32[1]);
        }
        return;
      case "string":
        this.str(v);
        return;
      case "boolean":
        this.word(v ? 5 : 4);
        return;
      case "bigint":
        this.str(v.toString(16));
        this.word(6);
        return;
      case "undefined":
        this.word(7);
        return;
      case "object":
        break;
      default:
        throw new Error(`cannot hash a ${typeof v}: the World must be plain data`);
    }
    if (v === null) {
      this.word(8);
      return;
    }
    if (Array.isArray(v)) {
      this.word(9);
      this.word(v.length);
      for (const x of v) this.value(x, canon);
      return;
    }
    if (ArrayBuffer.isView(v)) {
      this.word(10);
      const bytes = new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
      this.word(bytes.length);
      const n4 = (v.byteOffset & 3) === 0 ? bytes.length >>> 2 : 0;
      if (n4) {
        const words = new Uint32Array(v.buffer, v.byteOffset, n4);
        for (let i = 0; i < n4; i++) this.word(words[i]);
      }
      for (let i = n4 * 4; i < bytes.length; i++) this.word(bytes[i]);
      return;
    }
    this.object(v, Object.keys(v), canon);
  }
  /** An object by the given keys, in sorted order. */
  object(v, keys, canon) {
    keys.sort();
    this.word(11);
    this.word(keys.length);
    for (const k of keys) {
      this.str(k);
      if (!canon) this.value(v[k]);
      else {
        const c = canon(k, v[k]);
        if (c !== OMIT) this.value(c, canon);
      }
    }
  }
  /** Avalanche both lanes in place (the explorer sums finished lanes). */
  fin() {
    let a = this.a ^ this.b >>> 16;
    let b = this.b ^ Math.imul(this.a, 2246822507);
    a = Math.imul(a ^ a >>> 13, 3266489909);
    b = Math.imul(b ^ b >>> 16, 668265261);
    this.a = (a ^ a >>> 16) >>> 0;
    this.b = (b ^ b >>> 13) >>> 0;
  }
  digest() {
    let a = this.a ^ this.b >>> 16;
    let b = this.b ^ Math.imul(this.a, 2246822507);
    a = Math.imul(a ^ a >>> 13, 3266489909);
    b = Math.imul(b ^ b >>> 16, 668265261);
    return (a >>> 0).toString(16).padStart(8, "0") + (b >>> 0).toString(16).padStart(8, "0");
  }
};
function hash_value(v, skip = []) {
  const m = new Mixer();
  if (skip.length && v && typeof v === "object" && !Array.isArray(v)) {
    m.object(v, Object.keys(v).filter((k) => !skip.includes(k)));
  } else {
    m.value(v);
  }
  return m.digest();
}

// src/core/machine/ops.ts
var ops = /* @__PURE__ */ new Map();
function define_op(d) {
  if (ops.has(d.name)) throw new Error(`op ${d.name} defined twice`);
  ops.set(d.name, d);
  return d;
}
function op_named(name) {
  return ops.get(name);
}
function all_ops() {
  return [...ops.values()];
}
var S = {
  addr: { type: "integer", minimum: 0, maximum: 2 ** 52 },
  size: { type: "integer", minimum: 1, maximum: 2 ** 52 },
  u64: { type: ["integer", "string"] },
  bool: { type: "boolean" },
  int: { type: "integer" }
};

// src/core/machine/thread.ts
function thread_struct(w, name, kind, opts) {
  const root2 = lookup_fn(opts.root);
  return {
    id: w.threads.length,
    name,
    kind,
    cpu: opts.cpu,
    vcpu: opts.vcpu ?? -1,
    stack: [{ fn: root2.name, pc: root2.entry, locals: opts.args ?? {} }],
    wait: null,
    done: false,
    prog: opts.prog ?? [],
    ip: 0,
    steps: 0,
    daemon: opts.daemon ?? false,
    retval: void 0,
    preempt_count: 0,
    irqs_disabled: false
  };
}
function spawn_thread(w, name, kind, opts) {
  const t2 = thread_struct(w, name, kind, opts);
  w.threads.push(t2);
  return t2;
}
function next_op(t2) {
  return t2.ip < t2.prog.length ? t2.prog[t2.ip] : null;
}
var host_thread_fn = model_fn("host_thread_fn", {
  next: (w, t2) => {
    const op = next_op(t2);
    if (!op) return RETURN;
    const def = op_named(op.op);
    if (!def?.fn) throw new Error(`${t2.name}: op ${op.op} cannot run on a host thread`);
    emit(w, t2, "thread.op", { op: op.op, index: t2.ip });
    t2.ip++;
    return call(def.fn, { ...op.args }, "next");
  }
});

// src/core/machine/machine.ts
var NOT_STATE = ["step", "seq", "events", "metrics", "sched", "violations"];
var Machine = class {
  constructor(w, opts = {}) {
    this.w = w;
    this.answer = opts.chooser ?? null;
    for (const inv of opts.invariants === false ? [] : all_invariants()) {
      if (inv.arch && inv.arch !== w.arch) continue;
      if (!inv.on) {
        this.unconditional.push(inv);
        continue;
      }
      for (const k of inv.on) {
        let list = this.by_kind.get(k);
        if (!list) this.by_kind.set(k, list = []);
        list.push(inv);
      }
    }
  }
  w;
  subscribers = [];
  schedule = { picks: [], choices: [] };
  /** Replay source: answers picks and choices from here while it lasts. */
  replay = null;
  unconditional = [];
  by_kind = /* @__PURE__ */ new Map();
  /**
   * Answers injected-fault choices instead of the World's policy (after the
   * replay source, if any, runs out): the explorer branches on them.
   */
  answer;
  chooser = (w, t2, kind) => {
    const r2 = this.replay;
    const v = r2 && r2.choice < r2.s.choices.length ? r2.s.choices[r2.choice++] : this.answer ? this.answer(w, t2, kind) : sched_choose(w, kind);
    this.schedule.choices.push(v);
    return v;
  };
  subscribe(fn) {
    this.subscribers.push(fn);
    return () => {
      const i = this.subscribers.indexOf(fn);
      if (i >= 0) this.subscribers.splice(i, 1);
    };
  }
  /** Thread ids that can run now, ascending. */
  runnable() {
    return this.fill_runnable([]);
  }
  run_buf = [];
  fill_runnable(out) {
    out.length = 0;
    let workers = false;
    for (const t2 of this.w.threads) {
      if (t2.done) continue;
      if (!t2.daemon) workers = true;
      if (wait_holds(this.w, t2)) out.push(t2.id);
    }
    if (!workers) out.length = 0;
    return out;
  }
  /**
   * Run one step; `force` makes that thread run (it must be runnable).
   * `known` says the caller has just checked that it is (the explorer's
   * Sim, on the plain World), so the runnable set is not computed again.
   */
  step(force, known = false) {
    const w = this.w;
    const runnable = known && force !== void 0 ? [force] : this.fill_runnable(this.run_buf);
    if (runnable.length === 0) {
      const stuck = w.threads.filter((t3) => !t3.done && !t3.daemon);
      const blocked = stuck.map((t3) => `${t3.name} (${t3.wait ? describe_wait(t3.wait) : "?"})`);
      return { status: blocked.length ? "deadlock" : "end", thread: null, events: [], violations: [], blocked };
    }
    let id2;
    const r2 = this.replay;
    if (force !== void 0) {
      if (!runnable.includes(force)) throw new Error(`thread ${w.threads[force]?.name ?? force} cannot run now`);
      id2 = force;
    } else if (r2 && r2.pick < r2.s.picks.length) {
      id2 = r2.s.picks[r2.pick++];
      if (!runnable.includes(id2)) throw new Error(`replay diverged at step ${w.step + 1}: thread ${w.threads[id2]?.name ?? id2} cannot run`);
    } else {
      id2 = sched_pick(w, runnable);
    }
    this.schedule.picks.push(id2);
    const t2 = w.threads[id2];
    w.step++;
    set_chooser(this.chooser);
    exec_label(w, t2);
    const events = w.events;
    w.events = [];
    const violations = this.check(events);
    for (const e of events) for (const s2 of this.subscribers) s2(e);
    return { status: "ok", thread: t2, events, violations };
  }
  check(events) {
    const w = this.w;
    let out = null;
    const fail2 = (inv, ev) => {
      const f = inv.check(w, ev);
      if (!f) return;
      const v = { invariant: inv.name, message: f.message, step: w.step, thread: f.thread, values: f.values };
      (out ??= []).push(v);
      w.violations.push(v);
    };
    for (const inv of this.unconditional) fail2(inv, null);
    for (const e of events) {
      const list = this.by_kind.get(e.kind);
      if (list) for (const inv of list) fail2(inv, e);
    }
    return out ?? NO_VIOLATIONS;
  }
  /** Hash of the whole World but the transient event buffer. */
  hash() {
    return hash_value(this.w, ["events"]);
  }
  /** Hash of the simulated state only (no step counters, PRNG or metrics): two paths to the same state agree. */
  state_hash() {
    return hash_value(this.w, NOT_STATE);
  }
};
var NO_VIOLATIONS = [];
function same_wait(a, b) {
  if (!a || a.kind !== b.kind) return false;
  for (const k in b) if (a[k] !== b[k]) return false;
  return true;
}
function exec_label(w, t2) {
  const f = t2.stack[t2.stack.length - 1];
  if (!f) {
    t2.done = true;
    return;
  }
  const prev_wait = t2.wait;
  t2.wait = null;
  t2.steps++;
  const fn = lookup_fn(f.fn);
  const step = fn.steps[f.pc];
  if (!step) throw new Error(`${f.fn} has no label ${f.pc}`);
  const next = step(w, t2, f.locals);
  if (typeof next === "string") {
    if (next === RETURN) {
      t2.stack.pop();
      if (t2.stack.length === 0) {
        t2.done = true;
        emit(w, t2, "thread.exit", {});
      }
    } else if (next === BLOCKED) {
      const wait = t2.wait;
      if (!wait) throw new Error(`${f.fn}:${f.pc} returned BLOCKED without a wait`);
      if (!same_wait(prev_wait, wait)) {
        emit(w, t2, "sched.block", { reason: describe_wait(wait) });
        if (wait_sleeps(wait)) might_sleep(w, t2, describe_wait(wait));
      }
    } else {
      f.pc = next;
    }
    return;
  }
  f.pc = next.ret;
  const callee = lookup_fn(next.call);
  t2.stack.push({ fn: callee.name, pc: callee.entry, locals: next.args });
}
function might_sleep(w, t2, what, offset = 0) {
  emit(w, t2, "sched.might_sleep", { what, preempt_count: t2.preempt_count - offset, irqs_disabled: t2.irqs_disabled });
}

// src/core/kvm/rwlock.ts
function rwlock_init(name) {
  return { name, readers: [], writer: -1, waiting_writers: [], waiting_readers: [] };
}
function lock_named(w, name) {
  const l2 = w.locks[name];
  if (!l2) throw new Error(`no lock ${name}`);
  return l2;
}
function can_read(l2) {
  return l2.writer < 0 && l2.waiting_writers.length === 0;
}
function can_write(l2, id2) {
  return l2.writer < 0 && l2.readers.length === 0 && (l2.waiting_writers.length === 0 || l2.waiting_writers[0] === id2);
}
wait_kind("rwlock", false, (w, t2, wait) => {
  const l2 = lock_named(w, wait["lock"]);
  return wait["mode"] === "read" ? can_read(l2) : can_write(l2, t2.id);
});
function read_trylock_or_spin(w, t2, name) {
  const l2 = lock_named(w, name);
  if (!can_read(l2)) {
    if (!l2.waiting_readers.includes(t2.id)) l2.waiting_readers.push(t2.id);
    block(t2, { kind: "rwlock", lock: name, mode: "read" });
    emit(w, t2, "lock.contend", { lock: name, mode: "read" });
    return false;
  }
  const q = l2.waiting_readers.indexOf(t2.id);
  if (q >= 0) l2.waiting_readers.splice(q, 1);
  l2.readers.push(t2.id);
  t2.preempt_count++;
  emit(w, t2, "lock.acquire", { lock: name, mode: "read" });
  return true;
}
function write_trylock_or_spin(w, t2, name) {
  const l2 = lock_named(w, name);
  if (!can_write(l2, t2.id)) {
    if (!l2.waiting_writers.includes(t2.id)) l2.waiting_writers.push(t2.id);
    block(t2, { kind: "rwlock", lock: name, mode: "write" });
    emit(w, t2, "lock.contend", { lock: name, mode: "write" });
    return false;
  }
  if (l2.waiting_writers[0] === t2.id) l2.waiting_writers.shift();
  l2.writer = t2.id;
  t2.preempt_count++;
  emit(w, t2, "lock.acquire", { lock: name, mode: "write" });
  return true;
}
function read_unlock(w, t2, name) {
  const l2 = lock_named(w, name);
  const i = l2.readers.indexOf(t2.id);
  if (i < 0) throw new Error(`${t2.name} read_unlock(${name}) without holding it`);
  l2.readers.splice(i, 1);
  t2.preempt_count--;
  emit(w, t2, "lock.release", { lock: name, mode: "read" });
}
function write_unlock(w, t2, name) {
  const l2 = lock_named(w, name);
  if (l2.writer !== t2.id) throw new Error(`${t2.name} write_unlock(${name}) without holding it`);
  l2.writer = -1;
  t2.preempt_count--;
  emit(w, t2, "lock.release", { lock: name, mode: "write" });
}
function lockdep_assert_held_write(w, t2, name) {
  if (lock_named(w, name).writer !== t2.id) throw new Error(`${t2.name}: ${name} not held for write`);
}
function rwlock_is_contended(l2) {
  return l2.waiting_writers.length > 0 || l2.waiting_readers.length > 0;
}
var lock_read = (w, t2, name, next) => read_trylock_or_spin(w, t2, name) ? next : BLOCKED;
var lock_write = (w, t2, name, next) => write_trylock_or_spin(w, t2, name) ? next : BLOCKED;
var COND_RESCHED = define_choice({
  name: "cond_resched",
  n: 2,
  description: "cond_resched_rwlock_write() finds should_resched() true and drops the lock",
  p_random: 0.25
});
var cond_resched_rwlock_write = model_fn("cond_resched_rwlock_write", {
  check: (w, t2, l2) => {
    might_sleep(w, t2, "cond_resched_rwlock_write", 1);
    const resched = choose(w, t2, COND_RESCHED) === 1;
    const dropped2 = resched || rwlock_is_contended(lock_named(w, l2.lock));
    emit(w, t2, "lock.cond_resched", { lock: l2.lock, dropped: dropped2 });
    if (!dropped2) return RETURN;
    write_unlock(w, t2, l2.lock);
    return resched && t2.kind === "vcpu" && has_fn("kvm_preempt") ? call("kvm_preempt", { steps: 64 }, "relock") : "relock";
  },
  relock: (w, t2, l2) => lock_write(w, t2, l2.lock, RETURN)
});

// src/core/machine/variants.ts
var variants = /* @__PURE__ */ new Map();
function define_variant(v) {
  if (variants.has(v.name)) throw new Error(`variant ${v.name} defined twice`);
  variants.set(v.name, v);
  return v;
}
function all_variants() {
  return [...variants.values()].sort((a, b) => a.name.localeCompare(b.name));
}
function variant_named(name) {
  return variants.get(name);
}

// src/core/kvm/host_mm.ts
var PMD_SIZE = 2 ** 21;
var PUD_SIZE = 2 ** 30;
var HUGE_SIZES = [PUD_SIZE, PMD_SIZE];
function vpn_of(hva) {
  return Math.floor(hva / 2 ** PAGE_SHIFT);
}
function align_down(x, a) {
  return x - x % a;
}
function covering(all, hva) {
  if (!all) return void 0;
  for (const size of HUGE_SIZES) {
    const x = all[align_down(hva, size)];
    if (x && x.size === size) return x;
  }
  return void 0;
}
function host_huge(w, hva) {
  return covering(w.mm.huge, hva);
}
function host_vma(w, hva) {
  return covering(w.mm.vmas, hva);
}
function host_vma_declare(w, hva, kind, size) {
  const base = align_down(hva, size);
  const old = host_vma(w, hva);
  if (old) {
    if (old.kind === kind && old.size === size) return old;
    throw new Error(`hva 0x${hva.toString(16)} is already in a ${old.kind} region of ${old.size / 2 ** 20}M at 0x${old.base.toString(16)}; it cannot also be ${kind} of ${size / 2 ** 20}M`);
  }
  const v = { kind, base, size };
  (w.mm.vmas ??= {})[base] = v;
  return v;
}
function host_pte(w, hva) {
  const h = host_huge(w, hva);
  if (h) return { pfn: h.pfn + (hva - h.base) / PAGE_SIZE, prot_none: h.prot_none, changed_step: h.changed_step };
  return w.mm.ptes[vpn_of(hva)];
}
function alloc_pfns(w, n) {
  const pfn = Math.ceil(w.mm.next_pfn / n) * n;
  w.mm.next_pfn = pfn + n;
  return pfn;
}
function region_has_ptes(w, base, size) {
  const first = vpn_of(base);
  for (let i = 0; i < size / PAGE_SIZE; i++) if (w.mm.ptes[first + i]) return true;
  return false;
}
function host_faultin(w, hva) {
  const h = host_huge(w, hva);
  if (h) {
    if (h.prot_none) h.prot_none = false;
    return h.pfn + (hva - h.base) / PAGE_SIZE;
  }
  const vma = host_vma(w, hva);
  if (vma && (vma.kind === "hugetlb" || !region_has_ptes(w, vma.base, vma.size))) {
    const nh = { kind: vma.kind, base: vma.base, size: vma.size, pfn: alloc_pfns(w, vma.size / PAGE_SIZE), prot_none: false, changed_step: -1 };
    (w.mm.huge ??= {})[vma.base] = nh;
    return nh.pfn + (hva - vma.base) / PAGE_SIZE;
  }
  const vpn = vpn_of(hva);
  let pte = w.mm.ptes[vpn];
  if (!pte) w.mm.ptes[vpn] = pte = { pfn: w.mm.next_pfn++, prot_none: false, changed_step: -1 };
  if (pte.prot_none) pte.prot_none = false;
  return pte.pfn;
}
function get_user_mapping_size(w, hva) {
  const h = host_huge(w, hva);
  if (h) return h.prot_none ? -11 : h.size;
  const pte = w.mm.ptes[vpn_of(hva)];
  return !pte || pte.prot_none ? -11 : PAGE_SIZE;
}
function host_notifier_range(w, hva, size) {
  let start2 = hva;
  let end = hva + size;
  for (let a = align_down(hva, PAGE_SIZE); a < hva + size; ) {
    const h = host_huge(w, a);
    if (!h) {
      a += PAGE_SIZE;
      continue;
    }
    start2 = Math.min(start2, h.base);
    end = Math.max(end, h.base + h.size);
    a = h.base + h.size;
  }
  return [start2, end];
}
function emit_change(w, t2, hva, old_pfn, p2, pages) {
  p2.changed_step = w.step;
  emit(w, t2, "mm.change_pte", { hva, old_pfn, new_pfn: p2.pfn, prot_none: p2.prot_none, pages });
}
function split_huge_pmd(w, h) {
  delete w.mm.huge[h.base];
  const first = vpn_of(h.base);
  for (let i = 0; i < h.size / PAGE_SIZE; i++) w.mm.ptes[first + i] = { pfn: h.pfn + i, prot_none: h.prot_none, changed_step: h.changed_step };
}
function host_change_pte(w, t2, hva, change, end, notified) {
  const h = host_huge(w, hva);
  if (h && notified && (h.base < notified[0] || h.base + h.size > notified[1])) return h.base + h.size - hva;
  if (h) {
    const whole = end === void 0 || hva <= h.base && end >= h.base + h.size;
    if (whole || change.migrate || h.kind === "hugetlb") {
      const old_pfn2 = h.pfn;
      const was = h.prot_none;
      if (change.migrate || change.zap) h.pfn = alloc_pfns(w, h.size / PAGE_SIZE);
      if (change.prot_none !== void 0) h.prot_none = change.prot_none;
      if (h.pfn !== old_pfn2 || h.prot_none !== was) emit_change(w, t2, h.base, old_pfn2, h, h.size / PAGE_SIZE);
      return h.base + h.size - hva;
    }
    split_huge_pmd(w, h);
  }
  const vpn = vpn_of(hva);
  const pte = w.mm.ptes[vpn];
  if (!pte) return PAGE_SIZE;
  const old_pfn = pte.pfn;
  if (change.migrate || change.zap) pte.pfn = w.mm.next_pfn++;
  if (change.prot_none !== void 0) pte.prot_none = change.prot_none;
  emit_change(w, t2, vpn * 2 ** PAGE_SHIFT, old_pfn, pte, 1);
  return PAGE_SIZE;
}
define_history("changed_step", "stamp");

// src/core/kvm/mmu_invalidate.ts
function kvm_mmu_invalidate_begin(w, t2) {
  const kvm = w.kvm;
  kvm.mmu_invalidate_in_progress++;
  if (kvm.mmu_invalidate_in_progress === 1) {
    kvm.mmu_invalidate_range_start = INVALID_GPA;
    kvm.mmu_invalidate_range_end = INVALID_GPA;
  }
  emit(w, t2, "invalidate.begin", { in_progress: kvm.mmu_invalidate_in_progress });
}
function kvm_mmu_invalidate_range_add(w, t2, start2, end) {
  const kvm = w.kvm;
  if (kvm.mmu_invalidate_in_progress <= 0) throw new Error("WARN: kvm_mmu_invalidate_range_add() with no invalidation in progress");
  const union2 = kvm.mmu_invalidate_range_start !== INVALID_GPA;
  if (!union2) {
    kvm.mmu_invalidate_range_start = start2;
    kvm.mmu_invalidate_range_end = end;
  } else {
    kvm.mmu_invalidate_range_start = Math.min(kvm.mmu_invalidate_range_start, start2);
    kvm.mmu_invalidate_range_end = Math.max(kvm.mmu_invalidate_range_end, end);
  }
  emit(w, t2, "invalidate.range_add", { start: start2, end, union: union2 });
}
function kvm_mmu_invalidate_end(w, t2) {
  const kvm = w.kvm;
  kvm.mmu_invalidate_seq++;
  kvm.mmu_invalidate_in_progress--;
  if (kvm.mmu_invalidate_in_progress < 0) throw new Error("KVM_BUG_ON: mmu_invalidate_in_progress < 0");
  emit(w, t2, "invalidate.end", { mmu_invalidate_seq: kvm.mmu_invalidate_seq, in_progress: kvm.mmu_invalidate_in_progress });
}
function mmu_invalidate_retry(w, mmu_seq) {
  const kvm = w.kvm;
  if (kvm.mmu_invalidate_in_progress) return "in_progress";
  if (kvm.mmu_invalidate_seq !== mmu_seq) return "seq";
  return null;
}
function mmu_invalidate_retry_gfn(w, mmu_seq, gfn) {
  const kvm = w.kvm;
  if (kvm.mmu_invalidate_in_progress) {
    if (kvm.mmu_invalidate_range_start === INVALID_GPA || kvm.mmu_invalidate_range_end === INVALID_GPA) return "in_progress";
    if (gfn >= kvm.mmu_invalidate_range_start && gfn < kvm.mmu_invalidate_range_end) return "range";
  }
  if (kvm.mmu_invalidate_seq !== mmu_seq) return "seq";
  return null;
}
function mmu_invalidate_retry_gfn_unsafe(w, mmu_seq, gfn) {
  const kvm = w.kvm;
  if (kvm.mmu_invalidate_in_progress && gfn >= kvm.mmu_invalidate_range_start && gfn < kvm.mmu_invalidate_range_end) return "range";
  if (kvm.mmu_invalidate_seq !== mmu_seq) return "seq";
  return null;
}
function describe_invalidation(w) {
  const k = w.kvm;
  const range = k.mmu_invalidate_range_start === INVALID_GPA ? "unset" : `gfn [0x${k.mmu_invalidate_range_start.toString(16)}, 0x${k.mmu_invalidate_range_end.toString(16)})`;
  return `mmu_invalidate_seq=${k.mmu_invalidate_seq} in_progress=${k.mmu_invalidate_in_progress} range=${range}`;
}

// src/core/rcu/srcu.ts
var KVM_SRCU = "kvm->srcu";
function srcu_init(w, name) {
  const s2 = { name, srcu_idx: 0, next_ticket: 0, readers: [], gp_seq: 0 };
  (w.srcu ??= {})[name] = s2;
  return s2;
}
function srcu_named(w, name) {
  const s2 = w.srcu?.[name];
  if (!s2) throw new Error(`no SRCU domain ${name}`);
  return s2;
}
function srcu_read_lock(w, t2, name) {
  const s2 = srcu_named(w, name);
  const idx = s2.srcu_idx & 1;
  s2.readers.push({ thread: t2.id, idx, ticket: s2.next_ticket++, step: w.step });
  emit(w, t2, "srcu.read_lock", { srcu: name, idx });
  return idx;
}
function srcu_read_unlock(w, t2, name, idx) {
  const s2 = srcu_named(w, name);
  for (let i = s2.readers.length - 1; i >= 0; i--) {
    const r2 = s2.readers[i];
    if (r2.thread !== t2.id) continue;
    if (r2.idx !== idx) throw new Error(`${t2.name}: srcu_read_unlock(${name}, ${idx}) but its section was entered with idx ${r2.idx}`);
    s2.readers.splice(i, 1);
    emit(w, t2, "srcu.read_unlock", { srcu: name, idx });
    return;
  }
  throw new Error(`${t2.name}: srcu_read_unlock(${name}) outside a reader section`);
}
function srcu_read_lock_held(w, t2, name) {
  return srcu_named(w, name).readers.some((r2) => r2.thread === t2.id);
}
function srcu_held_idx(w, t2, name) {
  const rs = srcu_named(w, name).readers;
  for (let i = rs.length - 1; i >= 0; i--) if (rs[i].thread === t2.id) return rs[i].idx;
  return -1;
}
function srcu_blockers(s2, limit) {
  return s2.readers.filter((r2) => r2.ticket < limit);
}
wait_kind("srcu_gp", true, (w, _t, wait) => srcu_blockers(srcu_named(w, wait["srcu"]), wait["limit"]).length === 0);
var synchronize_srcu = model_fn("synchronize_srcu", {
  start: (w, t2, l2) => {
    const s2 = srcu_named(w, l2.srcu);
    if (srcu_read_lock_held(w, t2, l2.srcu)) {
      throw new Error(`${t2.name}: synchronize_srcu(${l2.srcu}) inside its own reader section would never end`);
    }
    might_sleep(w, t2, "synchronize_srcu");
    l2.limit = s2.next_ticket;
    s2.srcu_idx++;
    emit(w, t2, "srcu.sync", { srcu: l2.srcu, phase: "start" });
    return "wait";
  },
  wait: (w, t2, l2) => {
    const s2 = srcu_named(w, l2.srcu);
    if (srcu_blockers(s2, l2.limit).length) return block(t2, { kind: "srcu_gp", srcu: l2.srcu, limit: l2.limit });
    s2.gp_seq++;
    emit(w, t2, "srcu.sync", { srcu: l2.srcu, phase: "end" });
    return RETURN;
  }
});
define_history("step", "stamp");

// src/core/kvm/mmu_notifier.ts
function hva_range_slots(w, hva_start, hva_end) {
  const out = [];
  for (const slot of w.kvm.memslots) {
    const s_end = slot.userspace_addr + slot.npages * PAGE_SIZE;
    const lo = Math.max(hva_start, slot.userspace_addr);
    const hi = Math.min(hva_end, s_end);
    if (lo >= hi) continue;
    out.push({
      slot,
      start: slot.base_gfn + Math.floor((lo - slot.userspace_addr) / PAGE_SIZE),
      end: slot.base_gfn + Math.ceil((hi - slot.userspace_addr) / PAGE_SIZE)
    });
  }
  return out;
}
var UNMAP_ONLY_PROTECTED = define_variant({
  name: "numa.unmap_only_protected",
  description: `Yan Zhao's RFC: change_protection() flags its notifier range MMU_NOTIFIER_RANGE_NUMA; for such a range KVM's invalidate_range_start only begins the invalidation and records the range (no unmap, no remote flush), and the new .numa_protect() callback, called by change_pte_range() for each page it is about to make PROT_NONE, unmaps just that page and flushes. Upstream instead unmaps the whole notifier range at invalidate_range_start, pages the pass leaves alone (VFIO-pinned, already PROT_NONE) included. Sean Christopherson was "strongly opposed to adding MMU_NOTIFIER_RANGE_NUMA" (a one-off; invalidations lose their batching; the callback runs under the PMD/PTE lock); the series was not merged`,
  source: `posting: Yan Zhao, "[RFC PATCH v2 5/5] KVM: Unmap pages only when it's indeed protected for NUMA migration", kvm/linux-mm list, 10 Aug 2023; Sean Christopherson, "Re: [RFC PATCH v2 0/5] Reduce NUMA balance caused TLB-shootdowns in a VM", kvm list, 14 Aug 2023; not merged`,
  breaks: "nothing; sptes_zapped, kvm_unmaps, remote_tlb_flushes (and their IPIs) and faults_mapped (refaults) go down: pinned pages are no longer zapped"
});
var NO_REMOTE_FLUSH = define_variant({
  name: "mmu.no_notifier_flush",
  description: "__kvm_handle_hva_range() ignores flush_on_ret: after kvm_unmap_gfn_range() zapped SPTEs, invalidate_range_start returns without kvm_flush_remote_tlbs(), so vCPUs keep the zapped translations in their TLBs (only a zap that yielded mmu_lock flushed what it had zapped before the yield)",
  source: "hypothetical: no kernel dropped this flush; it shows why the TLB model sits behind the SPTEs: zapping a SPTE alone does not stop a vCPU from using the page, the remote flush (KVM_REQ_TLB_FLUSH with WAIT) must reach every vCPU before the primary MMU changes the PTE",
  breaks: "x86.stale_tlb_entry",
  arch: "x86"
});
var __kvm_handle_hva_range = model_fn("__kvm_handle_hva_range", {
  // idx = srcu_read_lock(&kvm->srcu), then the memslots read under it: one
  // step, as neither blocks and nothing in the model changes the memslots.
  slots: (w, t2, l2) => {
    l2.srcu_idx = srcu_read_lock(w, t2, KVM_SRCU);
    l2.slots = hva_range_slots(w, l2.start, l2.end).map(({ start: start2, end }) => ({ start: start2, end }));
    l2.i = 0;
    l2.flush = false;
    if (l2.slots.length) return "lock";
    srcu_read_unlock(w, t2, KVM_SRCU, l2.srcu_idx);
    return ret(t2, false);
  },
  lock: (w, t2) => lock_write(w, t2, "mmu_lock", "on_lock"),
  on_lock: (w, t2, l2) => {
    if (l2.on_lock === "begin") kvm_mmu_invalidate_begin(w, t2);
    else if (l2.on_lock === "end") kvm_mmu_invalidate_end(w, t2);
    return l2.handler === "none" ? "unlock" : "handler";
  },
  handler: (w, t2, l2) => {
    const r2 = l2.slots[l2.i];
    kvm_mmu_invalidate_range_add(w, t2, r2.start, r2.end);
    if (l2.handler === "range_add") {
      t2.retval = false;
      return "handled";
    }
    metric_add(w, "kvm_unmaps");
    return call(kvm_arch_fn(w, "kvm_unmap_gfn_range"), { start: r2.start, end: r2.end, may_block: l2.may_block }, "handled");
  },
  handled: (_w, t2, l2) => {
    if (t2.retval === true) l2.flush = true;
    l2.i++;
    if (l2.i < l2.slots.length) return "handler";
    return l2.flush && l2.flush_on_ret ? "flush" : "unlock";
  },
  flush: (w, t2) => {
    if (variant_on(w, NO_REMOTE_FLUSH.name)) return "unlock";
    return call("kvm_flush_remote_tlbs", { reason: "mmu_notifier" }, "unlock");
  },
  // KVM_MMU_UNLOCK(kvm); srcu_read_unlock(&kvm->srcu, idx): two releases, one step.
  unlock: (w, t2, l2) => {
    write_unlock(w, t2, "mmu_lock");
    srcu_read_unlock(w, t2, KVM_SRCU, l2.srcu_idx);
    return ret(t2, l2.flush);
  }
});
var kvm_mmu_notifier_invalidate_range_start = model_fn("kvm_mmu_notifier_invalidate_range_start", {
  trace: (w, t2, l2) => {
    emit(w, t2, "invalidate.start", { hva_start: l2.start, hva_end: l2.end, event: l2.event, blockable: l2.may_block });
    metric_add(w, "invalidations");
    return "count";
  },
  count: (w, _t, l2) => {
    w.kvm.mn_active_invalidate_count++;
    const rfc = l2.numa && variant_on(w, UNMAP_ONLY_PROTECTED.name);
    return call(
      __kvm_handle_hva_range,
      { start: l2.start, end: l2.end, on_lock: "begin", handler: rfc ? "range_add" : "unmap", flush_on_ret: !rfc, may_block: l2.may_block },
      "done"
    );
  },
  done: () => RETURN
});
var kvm_mmu_notifier_invalidate_range_end = model_fn("kvm_mmu_notifier_invalidate_range_end", {
  end: (_w, _t, l2) => call(__kvm_handle_hva_range, { start: l2.start, end: l2.end, on_lock: "end", handler: "none", flush_on_ret: false, may_block: false }, "count"),
  count: (w) => {
    w.kvm.mn_active_invalidate_count--;
    return RETURN;
  }
});
var kvm_flush_remote_tlbs = model_fn("kvm_flush_remote_tlbs", {
  flush: (w, t2, l2) => {
    metric_add(w, "remote_tlb_flushes");
    if (w.arch === "arm64") {
      emit(w, t2, "flush.remote", { scope: "vmid", reason: l2.reason });
      return call("kvm_arch_flush_remote_tlbs", {}, "done");
    }
    emit(w, t2, "flush.remote", { scope: "all_vcpus", reason: l2.reason });
    return call(kvm_make_all_cpus_request, { req: KVM_REQ_GENERIC.TLB_FLUSH }, "done");
  },
  done: () => RETURN
});
var NOTIFY_EVENT = {
  migrate: "MMU_NOTIFY_CLEAR",
  zap: "MMU_NOTIFY_UNMAP",
  numa: "MMU_NOTIFY_PROTECTION_VMA",
  none: "MMU_NOTIFY_CLEAR"
};
var mmu_notifier_invalidate_range = model_fn(
  "mmu_notifier_invalidate_range",
  {
    start: (w, _t, l2) => {
      l2.range = host_notifier_range(w, l2.hva, l2.size);
      return call(kvm_mmu_notifier_invalidate_range_start, { start: l2.range[0], end: l2.range[1], event: NOTIFY_EVENT[l2.change], numa: false, may_block: l2.may_block }, "change");
    },
    change: (w, t2, l2) => {
      const hva = l2.hva + (l2.i ?? 0) * PAGE_SIZE;
      const end = l2.hva + l2.size;
      let done = PAGE_SIZE;
      if (l2.change !== "none") done = host_change_pte(w, t2, hva, l2.change === "numa" ? { prot_none: true } : l2.change === "zap" ? { zap: true } : { migrate: true }, end, l2.range);
      l2.i = (l2.i ?? 0) + done / PAGE_SIZE;
      return l2.i * PAGE_SIZE < l2.size ? "change" : "end";
    },
    end: (_w, _t, l2) => call(kvm_mmu_notifier_invalidate_range_end, { start: l2.range[0], end: l2.range[1] }, "done"),
    done: () => RETURN
  }
);

// src/core/kvm/kvm_invariants.ts
define_invariant({
  name: "kvm.request_unserviced",
  description: "a request made before a vCPU stored IN_GUEST_MODE is never left pending while that vCPU runs the guest",
  on: ["vcpu.enter", "guest.access"],
  check(w, ev) {
    const e = ev;
    const vcpu = w.kvm.vcpus[e.vcpu ?? -1];
    if (!vcpu || vcpu.mode === "OUTSIDE_GUEST_MODE" || vcpu.requests === 0 || vcpu.requests_at_mode_in === 0) return null;
    let stale = 0;
    for (let bit = 0; bit < 53; bit++) {
      if (test_bit(vcpu.requests, bit) && test_bit(vcpu.requests_at_mode_in, bit)) stale += 2 ** bit;
    }
    if (!stale) return null;
    const names = pending_req_names(w.arch, stale);
    return {
      thread: e.thread,
      message: `vcpu${vcpu.vcpu_id} runs the guest with request ${names.join(", ")} pending since before it stored IN_GUEST_MODE: kvm_vcpu_exit_request() did not see it and no kick came (mode=${vcpu.mode})`,
      values: { vcpu: vcpu.vcpu_id, requests: names, mode: vcpu.mode }
    };
  }
});

// src/core/kvm/stale_mapping.ts
var checks = {};
function define_stale_mapping_check(arch, fn) {
  checks[arch] = fn;
}
define_invariant({
  name: "mmu.stale_mapping",
  description: "a fault that raced with an invalidation never installs its pfn, and no stage-2 / TDP mapping outlives the host moving its page",
  on: ["fault.map", "mm.change_pte"],
  check: (w, ev) => checks[w.arch]?.(w, ev) ?? null
});

// src/core/kvm/ops.ts
var host_invalidate = model_fn("host_invalidate", {
  start: (w, t2, l2) => {
    const gfn = Math.floor(l2.gpa / PAGE_SIZE);
    const slot = gfn_to_memslot(w, gfn);
    if (!slot) throw new Error(`${t2.name}: invalidate of gpa 0x${l2.gpa.toString(16)} outside every memslot`);
    return call(
      mmu_notifier_invalidate_range,
      { hva: gfn_to_hva(slot, gfn), size: l2.size, change: l2.change ?? "migrate", may_block: l2.may_block ?? true, i: 0 },
      "done"
    );
  },
  done: () => RETURN
});
define_op({
  name: "invalidate",
  threads: ["mm"],
  summary: "the host changes the PTEs behind a guest range (migrate: new pfn; numa: PROT_NONE; zap: unmapped) inside invalidate_range_start/end",
  schema: {
    type: "object",
    properties: { gpa: S.addr, size: S.size, change: { enum: ["migrate", "numa", "zap", "none"] }, may_block: S.bool },
    required: ["gpa", "size"],
    additionalProperties: false
  },
  fn: host_invalidate.name
});
var vmm_request = model_fn("vmm_request", {
  start: (w, t2, l2) => {
    const req = kvm_requests(w.arch)[l2.req];
    if (req === void 0) throw new Error(`${t2.name}: unknown request ${l2.req}`);
    if (l2.all) return call(kvm_make_all_cpus_request, { req }, "done");
    return call(kvm_make_request_and_kick, { req, vcpu: l2.vcpu }, "done");
  },
  done: () => RETURN
});
define_op({
  name: "request",
  threads: ["vmm", "mm"],
  summary: "kvm_make_request(REQ, vcpu) + kvm_vcpu_kick(vcpu); with all: true, kvm_make_all_cpus_request(REQ)",
  schema: {
    type: "object",
    properties: { vcpu: { type: "integer", minimum: 0 }, req: { type: "string" }, all: S.bool },
    required: ["req"],
    additionalProperties: false
  },
  fn: vmm_request.name
});

// src/core/arm64/kvm_host.ts
var VTTBR_CNP_BIT = 1n;
var VTTBR_VMID_SHIFT = 48n;
function get_vmid(vttbr) {
  return Number(vttbr >> VTTBR_VMID_SHIFT & 0xffffn);
}
function vttbr_baddr(vttbr) {
  return (vttbr & 0x0000fffffffffffen).toString(16);
}
function kvm_s2_mmu_valid(mmu) {
  return (mmu.tlb_vttbr & VTTBR_CNP_BIT) === 0n;
}
function arm64(w) {
  if (!w.arm64) throw new Error("not an arm64 world");
  return w.arm64;
}
function mmu_by_id(w, id2) {
  const a = arm64(w);
  if (id2 === -1) return a.mmu;
  const m = a.nested_mmus[id2];
  if (!m) throw new Error(`no nested_mmus[${id2}]`);
  return m;
}
function mmu_name(id2) {
  return id2 === null ? "none" : id2 === -1 ? "s2" : `nested[${id2}]`;
}

// src/core/rcu/tree.ts
function rcu_state(w) {
  if (!w.rcu) throw new Error("RCU is not initialised (rcu_init)");
  return w.rcu;
}
function rcu_init(w, cpu) {
  const t2 = spawn_thread(w, "rcu_gp", "rcu", { cpu, root: rcu_gp_kthread.name, daemon: true });
  w.rcu = {
    kthread: t2.id,
    nesting: {},
    section_start: {},
    gp_seq: 0,
    gp_active: false,
    gp_start_seq: -1,
    holdouts: [],
    gp_readers: [],
    cbs: [],
    next_cb_id: 0,
    invoked_upto: -1,
    gp_requested: 0
  };
  return t2;
}
function rcu_read_lock_held(w, t2) {
  return (w.rcu?.nesting[t2.id] ?? 0) > 0;
}
function rcu_read_lock(w, t2) {
  const s2 = rcu_state(w);
  const n = (s2.nesting[t2.id] ?? 0) + 1;
  s2.nesting[t2.id] = n;
  if (n === 1) s2.section_start[t2.id] = w.seq;
  emit(w, t2, "rcu.read_lock", {});
}
function rcu_read_unlock(w, t2) {
  const s2 = rcu_state(w);
  const n = (s2.nesting[t2.id] ?? 0) - 1;
  if (n < 0) throw new Error(`${t2.name}: rcu_read_unlock() without rcu_read_lock()`);
  if (n === 0) {
    delete s2.nesting[t2.id];
    delete s2.section_start[t2.id];
    const i = s2.holdouts.indexOf(t2.id);
    if (i >= 0) s2.holdouts.splice(i, 1);
    const j = s2.gp_readers.indexOf(t2.id);
    if (j >= 0) s2.gp_readers.splice(j, 1);
  } else {
    s2.nesting[t2.id] = n;
  }
  emit(w, t2, "rcu.read_unlock", {});
}
var callbacks = /* @__PURE__ */ new Map();
function define_rcu_callback(kind, fn) {
  if (callbacks.has(kind)) throw new Error(`RCU callback ${kind} defined twice`);
  callbacks.set(kind, fn);
}
function call_rcu(w, t2, kind, arg) {
  if (!callbacks.has(kind)) throw new Error(`no RCU callback kind ${kind}`);
  const s2 = rcu_state(w);
  const cb = { id: s2.next_cb_id++, kind, arg, gp: -1, queued_step: w.step, by: t2.name };
  s2.cbs.push(cb);
  emit(w, t2, "rcu.call", { page: typeof arg["page"] === "number" ? arg["page"] : -1, level: typeof arg["level"] === "number" ? arg["level"] : -1 });
  metric_add(w, "rcu_callbacks");
  return cb;
}
function cb_ready(s2) {
  const cb = s2.cbs[0];
  return cb !== void 0 && cb.gp >= 0 && cb.gp <= s2.gp_seq;
}
function gp_needed(s2) {
  return s2.cbs.some((cb) => cb.gp < 0) || s2.gp_requested > s2.gp_seq;
}
wait_kind("rcu_gp_idle", true, (w) => {
  const s2 = rcu_state(w);
  return cb_ready(s2) || gp_needed(s2);
});
wait_kind("rcu_gp_readers", true, (w) => rcu_state(w).holdouts.length === 0);
wait_kind("rcu_sync", true, (w, _t, wait) => rcu_state(w).gp_seq >= wait["target"]);
wait_kind("rcu_barrier", true, (w, _t, wait) => rcu_state(w).invoked_upto >= wait["target"]);
var rcu_gp_kthread = model_fn("rcu_gp_kthread", {
  idle: (w, t2) => {
    const s2 = rcu_state(w);
    if (cb_ready(s2)) return "invoke";
    if (gp_needed(s2)) return "gp_start";
    return block(t2, { kind: "rcu_gp_idle" });
  },
  // rcu_gp_init(): the callbacks queued so far wait for this GP.
  gp_start: (w, t2) => {
    const s2 = rcu_state(w);
    const gp = s2.gp_seq + 1;
    for (const cb of s2.cbs) if (cb.gp < 0) cb.gp = gp;
    s2.holdouts = Object.keys(s2.nesting).map(Number).filter((id2) => (s2.nesting[id2] ?? 0) > 0 && id2 !== t2.id).sort((a, b) => a - b);
    s2.gp_readers = s2.holdouts.slice();
    s2.gp_active = true;
    s2.gp_start_seq = w.seq;
    emit(w, t2, "rcu.gp_start", { gp });
    return "gp_wait";
  },
  // rcu_gp_fqs_loop(): until every holdout has reported a quiescent state.
  gp_wait: (w, t2) => rcu_state(w).holdouts.length === 0 ? "gp_end" : block(t2, { kind: "rcu_gp_readers" }),
  gp_end: (w, t2) => {
    const s2 = rcu_state(w);
    s2.gp_seq++;
    s2.gp_active = false;
    emit(w, t2, "rcu.gp_end", { gp: s2.gp_seq });
    metric_add(w, "rcu_grace_periods");
    return "idle";
  },
  // rcu_do_batch(): one callback per step.
  invoke: (w, t2) => {
    const s2 = rcu_state(w);
    const cb = s2.cbs.shift();
    s2.invoked_upto = cb.id;
    callbacks.get(cb.kind)(w, t2, cb.arg);
    return "idle";
  }
});
var synchronize_rcu = model_fn("synchronize_rcu", {
  start: (w, t2, l2) => {
    might_sleep(w, t2, "synchronize_rcu");
    const s2 = rcu_state(w);
    if (rcu_read_lock_held(w, t2)) throw new Error(`${t2.name}: synchronize_rcu() inside an RCU read-side critical section`);
    l2.target = s2.gp_seq + (s2.gp_active ? 2 : 1);
    s2.gp_requested = Math.max(s2.gp_requested, l2.target);
    return "wait";
  },
  wait: (w, t2, l2) => rcu_state(w).gp_seq >= l2.target ? RETURN : block(t2, { kind: "rcu_sync", target: l2.target })
});
var rcu_barrier = model_fn("rcu_barrier", {
  start: (w, t2, l2) => {
    might_sleep(w, t2, "rcu_barrier");
    l2.target = rcu_state(w).next_cb_id - 1;
    return "wait";
  },
  wait: (w, t2, l2) => rcu_state(w).invoked_upto >= l2.target ? RETURN : block(t2, { kind: "rcu_barrier", target: l2.target })
});
define_invariant({
  name: "rcu.grace_period",
  description: "a grace period never ends while a reader that entered its read-side critical section before the grace period started is still inside it",
  on: ["rcu.gp_end"],
  check(w, ev) {
    const s2 = w.rcu;
    if (!s2) return null;
    for (const id2 of s2.gp_readers) {
      if ((s2.nesting[id2] ?? 0) > 0) {
        const start2 = s2.section_start[id2];
        const reader = w.threads[id2]?.name ?? `thread ${id2}`;
        const gp = ev.gp;
        return {
          thread: ev.thread,
          message: `grace period ${gp} ended while ${reader} is still inside the read-side critical section it entered before the grace period started (event ${start2} < ${s2.gp_start_seq})`,
          values: { gp, reader, section_start: start2, gp_start: s2.gp_start_seq }
        };
      }
    }
    return null;
  }
});
var callbacks_queued = (w, t2, n) => rcu_state(w).next_cb_id >= n || w.threads.every((o) => o === t2 || o.done || o.daemon);
var rcu_barrier_op = model_fn("rcu_barrier_op", {
  wait: (w, t2, l2) => callbacks_queued(w, t2, l2.min_callbacks ?? 0) ? "barrier" : block(t2, { kind: "rcu_callbacks_queued", n: l2.min_callbacks ?? 0 }),
  barrier: () => call(rcu_barrier, {}, "done"),
  done: () => RETURN
});
wait_kind("rcu_callbacks_queued", true, (w, t2, wait) => callbacks_queued(w, t2, wait["n"]));
define_op({
  name: "rcu_barrier",
  threads: ["vmm", "mm"],
  summary: "rcu_barrier(): wait until every RCU callback queued so far has run; with min_callbacks, first wait until that many have been queued (or no other thread is left to queue one)",
  schema: { type: "object", properties: { min_callbacks: { type: "integer", minimum: 0 } }, additionalProperties: false },
  fn: rcu_barrier_op.name
});
define_history("section_start", "stamp");
define_history("gp_start_seq", "stamp");
define_history("queued_step", "stamp");

// src/core/arm64/kvm_pgtable.ts
var PTRS_PER_PTE = 512;
var KVM_PGTABLE_MAX_LEVELS = 4;
var KVM_PGTABLE_MIN_BLOCK_LEVEL = 1;
var KVM_PGTABLE_LAST_LEVEL = KVM_PGTABLE_MAX_LEVELS - 1;
var KVM_PGTABLE_WALK_LEAF = 1 << 0;
var KVM_PGTABLE_WALK_TABLE_PRE = 1 << 1;
var KVM_PGTABLE_WALK_TABLE_POST = 1 << 2;
var KVM_PGTABLE_WALK_SHARED = 1 << 3;
var KVM_PGTABLE_WALK_HANDLE_FAULT = 1 << 4;
var KVM_PGTABLE_WALK_SKIP_BBM_TLBI = 1 << 5;
var KVM_PGTABLE_WALK_SKIP_CMO = 1 << 6;
var TLBI_TTL_UNKNOWN = 2147483647;
var WALK_FLAG_NAMES = [
  [KVM_PGTABLE_WALK_LEAF, "LEAF"],
  [KVM_PGTABLE_WALK_TABLE_PRE, "TABLE_PRE"],
  [KVM_PGTABLE_WALK_TABLE_POST, "TABLE_POST"],
  [KVM_PGTABLE_WALK_SHARED, "SHARED"],
  [KVM_PGTABLE_WALK_HANDLE_FAULT, "HANDLE_FAULT"],
  [KVM_PGTABLE_WALK_SKIP_BBM_TLBI, "SKIP_BBM_TLBI"],
  [KVM_PGTABLE_WALK_SKIP_CMO, "SKIP_CMO"]
];
function walk_flags_name(flags) {
  const names = WALK_FLAG_NAMES.filter(([b]) => flags & b).map(([, n]) => n);
  return names.length ? names.join("|") : "0";
}
var KVM_PGTABLE_PROT_X = 1 << 0;
var KVM_PGTABLE_PROT_W = 1 << 1;
var KVM_PGTABLE_PROT_R = 1 << 2;
var KVM_PGTABLE_PROT_DEVICE = 1 << 3;
var KVM_PGTABLE_PROT_NORMAL_NC = 1 << 4;
var KVM_PGTABLE_PROT_RW = KVM_PGTABLE_PROT_R | KVM_PGTABLE_PROT_W;
var KVM_PGTABLE_PROT_RWX = KVM_PGTABLE_PROT_RW | KVM_PGTABLE_PROT_X;
var KVM_PGTABLE_PROT_SW0 = 1n << 55n;
var KVM_PGTABLE_PROT_SW1 = 1n << 56n;
var KVM_PGTABLE_PROT_SW2 = 1n << 57n;
var KVM_PGTABLE_PROT_SW3 = 1n << 58n;
var KVM_NV_GUEST_MAP_SZ = KVM_PGTABLE_PROT_SW1 | KVM_PGTABLE_PROT_SW0;
function kvm_encode_nested_level(level) {
  return BigInt(level) << 55n & KVM_NV_GUEST_MAP_SZ;
}
function kvm_decode_nested_level(pte) {
  return Number((pte & KVM_NV_GUEST_MAP_SZ) >> 55n);
}
var KVM_PGTABLE_S2_NOFWB = 1 << 0;
var KVM_PGTABLE_S2_IDMAP = 1 << 1;
var KVM_PTE_VALID = 1n << 0n;
var KVM_PTE_TYPE = 1n << 1n;
var KVM_PTE_ADDR_MASK = 0x0000fffffffff000n;
var KVM_PTE_LEAF_ATTR_LO = 0xffcn;
var KVM_PTE_LEAF_ATTR_LO_S2_MEMATTR = 0x3cn;
var KVM_PTE_LEAF_ATTR_LO_S2_S2AP_R = 1n << 6n;
var KVM_PTE_LEAF_ATTR_LO_S2_S2AP_W = 1n << 7n;
var KVM_PTE_LEAF_ATTR_LO_S2_SH = 0x300n;
var KVM_PTE_LEAF_ATTR_LO_S2_SH_IS = 3n;
var KVM_PTE_LEAF_ATTR_LO_S2_AF = 1n << 10n;
var KVM_PTE_LEAF_ATTR_HI = 0xfffc000000000000n;
var KVM_PTE_LEAF_ATTR_HI_SW = 0x0780000000000000n;
var KVM_PTE_LEAF_ATTR_HI_S2_XN = 1n << 54n;
var KVM_PTE_LEAF_ATTR_S2_PERMS = KVM_PTE_LEAF_ATTR_LO_S2_S2AP_R | KVM_PTE_LEAF_ATTR_LO_S2_S2AP_W | KVM_PTE_LEAF_ATTR_HI_S2_XN;
var KVM_INVALID_PTE_OWNER_MASK = 0x3fcn;
var KVM_INVALID_PTE_LOCKED = 1n << 10n;
var MT_S2_NORMAL = 15;
var MT_S2_NORMAL_NC = 5;
var MT_S2_DEVICE_nGnRE = 1;
var MT_S2_FWB_NORMAL = 6;
var MT_S2_FWB_NORMAL_NC = 5;
var MT_S2_FWB_DEVICE_nGnRE = 1;
function PAGE_S2_MEMATTR(kind, has_fwb) {
  const t2 = has_fwb ? { NORMAL: MT_S2_FWB_NORMAL, NORMAL_NC: MT_S2_FWB_NORMAL_NC, DEVICE_nGnRE: MT_S2_FWB_DEVICE_nGnRE }[kind] : { NORMAL: MT_S2_NORMAL, NORMAL_NC: MT_S2_NORMAL_NC, DEVICE_nGnRE: MT_S2_DEVICE_nGnRE }[kind];
  return BigInt(t2) << 2n;
}
var EINVAL = 22;
var ENOMEM = 12;
var EAGAIN = 11;
var ERANGE = 34;
function kvm_granule_shift(level) {
  return 9 * (4 - level) + 3;
}
function kvm_granule_size(level) {
  return 2 ** kvm_granule_shift(level);
}
function kvm_level_supports_block_mapping(level) {
  return level >= KVM_PGTABLE_MIN_BLOCK_LEVEL;
}
function align_down2(x, a) {
  return x - x % a;
}
function is_aligned(x, a) {
  return x % a === 0;
}
function kvm_pgtable_idx(addr2, level) {
  return Math.floor(addr2 / kvm_granule_size(level)) % PTRS_PER_PTE;
}
function system_supports_tlb_range(pgt) {
  return pgt.tlb_range_cap !== false;
}
function stage2_has_fwb(pgt) {
  return pgt.fwb_cap && !(pgt.flags & KVM_PGTABLE_S2_NOFWB);
}
function stage2_pgtable_levels(ia_bits) {
  return Math.max(2, Math.floor((ia_bits - 4 - 4) / 9));
}
function stage2_start_level(ia_bits) {
  return KVM_PGTABLE_MAX_LEVELS - stage2_pgtable_levels(ia_bits);
}
function kvm_pgd_page_idx(ia_bits, start_level, addr2) {
  const shift = kvm_granule_shift(start_level - 1);
  return Math.floor(addr2 % 2 ** ia_bits / 2 ** shift);
}
function kvm_pgd_pages(ia_bits, start_level) {
  return kvm_pgd_page_idx(ia_bits, start_level, 2 ** ia_bits - 1) + 1;
}
function kvm_mmu_cache_min_pages(pgt) {
  return KVM_PGTABLE_MAX_LEVELS - pgt.start_level - 1;
}
var KVM_PGT_POOL_PA = 549755813888;
var POOL_PAGES = 2 ** 24;
function pgt_pages(w) {
  return w.pgt_pages ??= [];
}
function pgt_page(w, id2) {
  const p2 = w.pgt_pages?.[id2];
  if (!p2) throw new Error(`no stage-2 table page ${id2}`);
  return p2;
}
function pgt_alloc_page(w, level) {
  const pages = pgt_pages(w);
  const p2 = {
    id: pages.length,
    level,
    refcount: 1,
    ent: new Uint32Array(2 * PTRS_PER_PTE),
    freed: false,
    freed_step: -1,
    freed_seq: -1,
    freed_by: "",
    freed_how: ""
  };
  pages.push(p2);
  return p2;
}
function pgt_page_pa(id2) {
  return KVM_PGT_POOL_PA + id2 * PAGE_SIZE;
}
function pgt_pa_page(w, pa) {
  if (pa < KVM_PGT_POOL_PA || pa % PAGE_SIZE !== 0) return -1;
  const id2 = (pa - KVM_PGT_POOL_PA) / PAGE_SIZE;
  return id2 < POOL_PAGES && w.pgt_pages && id2 < w.pgt_pages.length ? id2 : -1;
}
function pte_get(p2, idx) {
  return BigInt(p2.ent[2 * idx + 1] ?? 0) << 32n | BigInt(p2.ent[2 * idx] ?? 0);
}
function pte_set(p2, idx, v) {
  p2.ent[2 * idx] = Number(v & 0xffffffffn);
  p2.ent[2 * idx + 1] = Number(v >> 32n & 0xffffffffn);
}
function ptep_name(page, idx) {
  return `pt${page}[${idx}]`;
}
function parse_ptep(s2) {
  const m = /^pt(\d+)\[(\d+)\]$/.exec(s2);
  return m ? { page: Number(m[1]), idx: Number(m[2]) } : null;
}
function kvm_pte_valid(pte) {
  return (pte & KVM_PTE_VALID) !== 0n;
}
function kvm_pte_to_phys(pte) {
  return Number(pte & KVM_PTE_ADDR_MASK);
}
function kvm_phys_to_pte(pa) {
  return BigInt(pa) & KVM_PTE_ADDR_MASK;
}
function kvm_pte_table(pte, level) {
  if (level === KVM_PGTABLE_LAST_LEVEL) return false;
  if (!kvm_pte_valid(pte)) return false;
  return (pte & KVM_PTE_TYPE) !== 0n;
}
function kvm_init_table_pte(page) {
  return kvm_phys_to_pte(pgt_page_pa(page)) | KVM_PTE_TYPE | KVM_PTE_VALID;
}
function kvm_init_valid_leaf_pte(pa, attr, level) {
  let pte = kvm_phys_to_pte(pa);
  pte |= attr & (KVM_PTE_LEAF_ATTR_LO | KVM_PTE_LEAF_ATTR_HI);
  if (level === KVM_PGTABLE_LAST_LEVEL) pte |= KVM_PTE_TYPE;
  return pte | KVM_PTE_VALID;
}
function kvm_init_invalid_leaf_owner(owner_id) {
  return BigInt(owner_id) << 2n & KVM_INVALID_PTE_OWNER_MASK;
}
function stage2_pte_is_counted(pte) {
  return pte !== 0n;
}
function stage2_pte_is_locked(pte) {
  return !kvm_pte_valid(pte) && (pte & KVM_INVALID_PTE_LOCKED) !== 0n;
}
function stage2_pte_needs_update(old, nw) {
  if (!kvm_pte_valid(old) || !kvm_pte_valid(nw)) return true;
  return ((old ^ nw) & ~KVM_PTE_LEAF_ATTR_S2_PERMS) !== 0n;
}
function prot_big(prot) {
  return typeof prot === "bigint" ? prot : BigInt(prot);
}
function stage2_set_prot_attr(pgt, prot) {
  const p2 = prot_big(prot);
  const device = (p2 & BigInt(KVM_PGTABLE_PROT_DEVICE)) !== 0n;
  const nc = (p2 & BigInt(KVM_PGTABLE_PROT_NORMAL_NC)) !== 0n;
  if (device && nc) return -EINVAL;
  const fwb = stage2_has_fwb(pgt);
  let attr = PAGE_S2_MEMATTR(device ? "DEVICE_nGnRE" : nc ? "NORMAL_NC" : "NORMAL", fwb);
  if (!(p2 & BigInt(KVM_PGTABLE_PROT_X))) attr |= KVM_PTE_LEAF_ATTR_HI_S2_XN;
  else if (device) return -EINVAL;
  if (p2 & BigInt(KVM_PGTABLE_PROT_R)) attr |= KVM_PTE_LEAF_ATTR_LO_S2_S2AP_R;
  if (p2 & BigInt(KVM_PGTABLE_PROT_W)) attr |= KVM_PTE_LEAF_ATTR_LO_S2_S2AP_W;
  attr |= KVM_PTE_LEAF_ATTR_LO_S2_SH_IS << 8n;
  attr |= KVM_PTE_LEAF_ATTR_LO_S2_AF;
  attr |= p2 & KVM_PTE_LEAF_ATTR_HI_SW;
  return attr;
}
function kvm_pte_decode(pte, level) {
  const valid = kvm_pte_valid(pte);
  const type_bit = (pte & KVM_PTE_TYPE) !== 0n;
  let type;
  if (!valid) type = stage2_pte_is_locked(pte) ? "locked" : pte === 0n ? "invalid" : "owner";
  else if (level === KVM_PGTABLE_LAST_LEVEL) type = type_bit ? "page" : "reserved";
  else if (type_bit) type = "table";
  else type = kvm_level_supports_block_mapping(level) ? "block" : "reserved";
  return {
    raw: pte,
    level,
    type,
    valid,
    oa: valid && type !== "reserved" ? kvm_pte_to_phys(pte) : null,
    size: kvm_granule_size(level),
    memattr: Number((pte & KVM_PTE_LEAF_ATTR_LO_S2_MEMATTR) >> 2n),
    r: (pte & KVM_PTE_LEAF_ATTR_LO_S2_S2AP_R) !== 0n,
    w: (pte & KVM_PTE_LEAF_ATTR_LO_S2_S2AP_W) !== 0n,
    xn: (pte & KVM_PTE_LEAF_ATTR_HI_S2_XN) !== 0n,
    sh: Number((pte & KVM_PTE_LEAF_ATTR_LO_S2_SH) >> 8n),
    af: (pte & KVM_PTE_LEAF_ATTR_LO_S2_AF) !== 0n,
    sw: Number((pte & KVM_PTE_LEAF_ATTR_HI_SW) >> 55n),
    owner: valid ? 0 : Number((pte & KVM_INVALID_PTE_OWNER_MASK) >> 2n),
    locked: stage2_pte_is_locked(pte)
  };
}
function hex(v) {
  return "0x" + v.toString(16);
}
function hex64(v) {
  return "0x" + v.toString(16).padStart(16, "0");
}
var SIZE_NAMES = { 0: "512G", 1: "1G", 2: "2M", 3: "4K" };
var SH_NAMES = ["NS", "RES", "OS", "IS"];
function kvm_pte_describe(pte, level) {
  const d = kvm_pte_decode(pte, level);
  switch (d.type) {
    case "invalid":
      return "invalid";
    case "locked":
      return "LOCKED (break-before-make in progress)";
    case "owner":
      return `invalid, owner ${d.owner}`;
    case "reserved":
      return "reserved encoding (translation fault)";
    case "table":
      return `table -> ${hex(d.oa)}`;
    default: {
      const ap = (d.r ? "R" : "-") + (d.w ? "W" : "-");
      const parts = [`${SIZE_NAMES[level]} ${d.type}`, `PA ${hex(d.oa)}`, `S2AP ${ap}`, d.xn ? "XN" : "X", d.af ? "AF" : "noAF", `SH ${SH_NAMES[d.sh]}`, `MemAttr ${hex(d.memattr)}`];
      if (d.sw) parts.push(`SW ${hex(d.sw)}`);
      return parts.join(" ");
    }
  }
}
define_history("freed_step", "stamp");
define_history("freed_seq", "stamp");

// src/core/arm64/pgtable_walk.ts
var fast_paths = /* @__PURE__ */ new Map();
function define_visitor_fast_path(cb, fn) {
  fast_paths.set(cb, fn);
}
function kvm_pgtable_walk_continue(flags, r2) {
  if (r2 === -EAGAIN) return !(flags & KVM_PGTABLE_WALK_HANDLE_FAULT);
  return r2 === 0;
}
function kvm_pgtable_walk_shared(flags) {
  return (flags & KVM_PGTABLE_WALK_SHARED) !== 0;
}
function ctx(l2, f, old, addr2, visit) {
  return { mmu: l2.mmu, page: f.page, idx: f.idx, old, start: l2.start, addr: addr2, end: l2.end, level: f.level, flags: l2.flags, visit, data: l2.data };
}
function proceed(w, l2, f, old, table) {
  if (!table) {
    const g = kvm_granule_size(f.level);
    l2.addr = align_down2(l2.addr, g) + g;
    f.idx++;
    return "visit";
  }
  const child = pgt_pa_page(w, kvm_pte_to_phys(old));
  if (child < 0) {
    l2.ret = -EINVAL;
    return "bad";
  }
  l2.frames.push({ page: child, level: f.level + 1, idx: kvm_pgtable_idx(l2.addr, f.level + 1), up_old: old, up_addr: l2.addr });
  return "visit";
}
function visit_step(w, t2, l2, after_read = false) {
  const pgt = mmu_by_id(w, l2.mmu).pgt;
  const shared = kvm_pgtable_walk_shared(l2.flags);
  const fast = shared ? void 0 : fast_paths.get(l2.cb);
  let read = after_read;
  for (; ; ) {
    const f = l2.frames[l2.frames.length - 1];
    if (!f) {
      if (l2.addr >= l2.end) return walk_end(w, t2, l2);
      l2.pgd_idx++;
      l2.frames.push({ page: pgt.pgd[l2.pgd_idx], level: pgt.start_level, idx: kvm_pgtable_idx(l2.addr, pgt.start_level), up_old: 0n, up_addr: 0 });
      continue;
    }
    if (l2.addr >= l2.end || f.idx >= PTRS_PER_PTE) {
      l2.frames.pop();
      const parent = l2.frames[l2.frames.length - 1];
      if (!parent) continue;
      if (l2.flags & KVM_PGTABLE_WALK_TABLE_POST) {
        const c = ctx(l2, parent, f.up_old, f.up_addr, "post");
        const r2 = fast ? fast(w, c) : null;
        if (r2 === null) return call(l2.cb, c, "post_done");
        if (!kvm_pgtable_walk_continue(l2.flags, r2)) {
          l2.ret = r2;
          return walk_end(w, t2, l2);
        }
      }
      parent.idx++;
      continue;
    }
    const page = pgt_page(w, f.page);
    const old = pte_get(page, f.idx);
    const folded = !shared && old === 0n;
    if (read && !folded) return "visit";
    read = true;
    if (folded && skip_empty(w, l2, f, page, fast)) continue;
    w.metrics["pgtable_entries_read"] = (w.metrics["pgtable_entries_read"] ?? 0) + 1;
    const table = kvm_pte_table(old, f.level);
    const pre = table && (l2.flags & KVM_PGTABLE_WALK_TABLE_PRE) !== 0;
    const leaf = !table && (l2.flags & KVM_PGTABLE_WALK_LEAF) !== 0;
    const visit = pre ? "pre" : leaf ? "leaf" : table ? "table" : "skip";
    if (!folded) emit(w, t2, "pte.visit", { ptep: ptep_name(f.page, f.idx), level: f.level, visit, old });
    if (pre || leaf) {
      const c = ctx(l2, f, old, l2.addr, pre ? "pre" : "leaf");
      const r2 = fast ? fast(w, c) : null;
      if (r2 === null) return call(l2.cb, c, "reload");
      if (!kvm_pgtable_walk_continue(l2.flags, r2)) {
        l2.ret = r2;
        return walk_end(w, t2, l2);
      }
    }
    if (proceed(w, l2, f, old, table) !== "visit") return walk_end(w, t2, l2);
  }
}
function skip_empty(w, l2, f, page, fast) {
  const leaf = (l2.flags & KVM_PGTABLE_WALK_LEAF) !== 0;
  if (leaf && !fast) return false;
  const ent = page.ent;
  const { mmu, start: start2, end, flags, data } = l2;
  const { page: id2, level } = f;
  const g = kvm_granule_size(level);
  let idx = f.idx;
  let addr2 = l2.addr;
  const c = { mmu, page: id2, idx, old: 0n, start: start2, addr: addr2, end, level, flags, visit: "leaf", data };
  while (idx < PTRS_PER_PTE && addr2 < end && ent[2 * idx] === 0 && ent[2 * idx + 1] === 0) {
    if (leaf) {
      c.idx = idx;
      c.addr = addr2;
      if (fast(w, c) !== 0) break;
    }
    addr2 = align_down2(addr2, g) + g;
    idx++;
  }
  const n = idx - f.idx;
  if (n === 0) return false;
  w.metrics["pgtable_entries_read"] = (w.metrics["pgtable_entries_read"] ?? 0) + n;
  l2.addr = addr2;
  f.idx = idx;
  return true;
}
function walk_end(w, t2, l2) {
  if (kvm_pgtable_walk_shared(l2.flags)) return "end";
  return end_step(w, t2, l2);
}
function end_step(w, t2, l2) {
  if (kvm_pgtable_walk_shared(l2.flags)) rcu_read_unlock(w, t2);
  emit(w, t2, "walk.end", { ret: l2.ret });
  if (l2.ret === -EAGAIN) metric_add(w, "walk_eagain");
  return ret(t2, { r: l2.ret, data: l2.data });
}
var kvm_pgtable_walk = model_fn("kvm_pgtable_walk", {
  // kvm_pgtable_walk_begin(): rcu_read_lock() for shared walks only.
  begin: (w, t2, l2) => {
    const pgt = mmu_by_id(w, l2.mmu).pgt;
    if (kvm_pgtable_walk_shared(l2.flags)) rcu_read_lock(w, t2);
    l2.start = align_down2(l2.addr, PAGE_SIZE);
    l2.addr = l2.start;
    l2.end = Math.ceil((l2.start + l2.size) / PAGE_SIZE) * PAGE_SIZE;
    l2.ret = 0;
    l2.frames = [];
    emit(w, t2, "walk.begin", { pgt: mmu_name(l2.mmu), start: l2.start, end: l2.end, flags: walk_flags_name(l2.flags) });
    const limit = 2 ** pgt.ia_bits;
    if (l2.addr > limit || l2.end > limit) {
      l2.ret = -ERANGE;
      return walk_end(w, t2, l2);
    }
    l2.pgd_idx = kvm_pgd_page_idx(pgt.ia_bits, pgt.start_level, l2.addr);
    if (l2.addr < l2.end) {
      l2.frames.push({ page: pgt.pgd[l2.pgd_idx], level: pgt.start_level, idx: kvm_pgtable_idx(l2.addr, pgt.start_level), up_old: 0n, up_addr: 0 });
    }
    return kvm_pgtable_walk_shared(l2.flags) ? "visit" : visit_step(w, t2, l2);
  },
  visit: (w, t2, l2) => visit_step(w, t2, l2),
  // After a TABLE_PRE or LEAF callback: reload, so the walk descends into a
  // table the visitor just installed (or steps over one it replaced).
  reload: (w, t2, l2) => {
    const res = t2.retval;
    l2.data = res.data;
    const f = l2.frames[l2.frames.length - 1];
    const old = pte_get(pgt_page(w, f.page), f.idx);
    emit(w, t2, "pte.visit", { ptep: ptep_name(f.page, f.idx), level: f.level, visit: "reload", old });
    if (!kvm_pgtable_walk_continue(l2.flags, res.r)) {
      l2.ret = res.r;
      return walk_end(w, t2, l2);
    }
    if (proceed(w, l2, f, old, kvm_pte_table(old, f.level)) !== "visit") return walk_end(w, t2, l2);
    return visit_step(w, t2, l2, true);
  },
  // After TABLE_POST: the parent table's loop moves to its next entry.
  post_done: (w, t2, l2) => {
    const res = t2.retval;
    l2.data = res.data;
    if (!kvm_pgtable_walk_continue(l2.flags, res.r)) {
      l2.ret = res.r;
      return walk_end(w, t2, l2);
    }
    l2.frames[l2.frames.length - 1].idx++;
    return visit_step(w, t2, l2);
  },
  // kvm_pgtable_walk_end()
  end: end_step
});

// src/core/arm64/tlb.ts
var TLB_DEFAULT_CAPACITY = 64;
function tlb_state(w) {
  return w.tlb ??= { cpus: [], capacity: TLB_DEFAULT_CAPACITY };
}
function cpu_tlb(w, cpu) {
  const s2 = tlb_state(w);
  while (s2.cpus.length <= cpu) s2.cpus.push([]);
  return s2.cpus[cpu];
}
var GRAN = [kvm_granule_size(0), kvm_granule_size(1), kvm_granule_size(2), kvm_granule_size(3)];
function covers(e, ipa) {
  return ipa >= e.ipa && ipa < e.ipa + GRAN[e.level];
}
function overlaps(e, start2, size) {
  return e.ipa < start2 + size && start2 < e.ipa + GRAN[e.level];
}
function hw_walk(w, pgt, ipa) {
  if (ipa < 0 || ipa >= 2 ** pgt.ia_bits) return { ok: false, kind: "translation", level: pgt.start_level };
  const pages = w.pgt_pages;
  let page = pages[pgt.pgd[kvm_pgd_page_idx(pgt.ia_bits, pgt.start_level, ipa)]];
  for (let level = pgt.start_level; level <= KVM_PGTABLE_LAST_LEVEL; level++) {
    const idx = Math.floor(ipa / GRAN[level]) % 512;
    const lo = page.ent[2 * idx] ?? 0;
    const hi = page.ent[2 * idx + 1] ?? 0;
    if (!(lo & 1)) return { ok: false, kind: "translation", level };
    const oa = (hi & 65535) * 4294967296 + ((lo & 4294963200) >>> 0);
    if (level < KVM_PGTABLE_LAST_LEVEL && lo & 2) {
      const id2 = pgt_pa_page(w, oa);
      if (id2 < 0) return { ok: false, kind: "translation", level };
      page = pages[id2];
      continue;
    }
    if (level === KVM_PGTABLE_LAST_LEVEL ? !(lo & 2) : level < 1) return { ok: false, kind: "translation", level };
    return { ok: true, level, oa, lo, hi, page: page.id, idx };
  }
  return { ok: false, kind: "translation", level: KVM_PGTABLE_LAST_LEVEL };
}
var S2AP_R = 1 << 6;
var S2AP_W = 1 << 7;
var AF = 1 << 10;
var XN_HI = 1 << 54 - 32;
function perms_str(e) {
  return (e.r ? "R" : "-") + (e.w ? "W" : "-") + (e.x ? "X" : "-");
}
function guest_translate(w, t2, mmu_id, ipa, write) {
  const mmu = mmu_by_id(w, mmu_id);
  const vmid = mmu.vmid;
  const tlb = cpu_tlb(w, t2.cpu);
  for (const e2 of tlb) {
    if (e2.vmid !== vmid || !covers(e2, ipa)) continue;
    const pa = e2.pa + (ipa - e2.ipa);
    emit(w, t2, "tlb.hit", { vmid, ipa, pa, level: e2.level, stale_since: e2.stale_since });
    if (write ? !e2.w : !e2.r) return { ok: false, kind: "permission", level: e2.level };
    return { ok: true, pa, level: e2.level, via: "tlb" };
  }
  const r2 = hw_walk(w, mmu.pgt, ipa);
  if (!r2.ok) return r2;
  if (!(r2.lo & AF)) return { ok: false, kind: "access_flag", level: r2.level };
  const e = {
    vmid,
    ipa: ipa - ipa % GRAN[r2.level],
    pa: r2.oa,
    level: r2.level,
    r: (r2.lo & S2AP_R) !== 0,
    w: (r2.lo & S2AP_W) !== 0,
    x: (r2.hi & XN_HI) === 0,
    fill_step: w.step,
    stale_since: -1,
    stale_by: ""
  };
  if (write ? !e.w : !e.r) return { ok: false, kind: "permission", level: r2.level };
  let conflicts = 0;
  for (const o of tlb) if (o.vmid === vmid && overlaps(o, e.ipa, GRAN[e.level])) conflicts++;
  tlb.push(e);
  if (tlb.length > tlb_state(w).capacity) tlb.shift();
  emit(w, t2, "tlb.fill", { vmid, ipa: e.ipa, pa: e.pa, level: e.level, perms: perms_str(e), conflicts });
  metric_add(w, "tlb_fills");
  return { ok: true, pa: e.pa + (ipa - e.ipa), level: e.level, via: "walk" };
}
function drop_on(tlb, keep) {
  let n = 0;
  let j = 0;
  for (let i = 0; i < tlb.length; i++) {
    const e = tlb[i];
    if (keep(e)) tlb[j++] = e;
    else n++;
  }
  tlb.length = j;
  return n;
}
function drop(w, keep) {
  let n = 0;
  for (const tlb of tlb_state(w).cpus) n += drop_on(tlb, keep);
  return n;
}
function tlbi_vmid(w, vmid) {
  return drop(w, (e) => e.vmid !== vmid);
}
function tlbi_ttl_level(level) {
  return level >= 0 && level <= KVM_PGTABLE_LAST_LEVEL ? level : null;
}
function ipa_keep(w, vmid, ipa, level, what) {
  const hint = tlbi_ttl_level(level);
  return (e) => {
    if (e.vmid !== vmid || !covers(e, ipa)) return true;
    if (hint !== null && e.level !== hint) {
      if (e.stale_since < 0) {
        e.stale_since = w.step;
        e.stale_by = `${what} ipa=0x${ipa.toString(16)} TTL level ${hint} (entry is level ${e.level})`;
      }
      return true;
    }
    return false;
  };
}
function tlbi_ipa(w, vmid, ipa, level) {
  return drop(w, ipa_keep(w, vmid, ipa, level, "TLBI IPAS2E1IS"));
}
function tlbi_ipa_local(w, cpu, vmid, ipa, level) {
  return drop_on(cpu_tlb(w, cpu), ipa_keep(w, vmid, ipa, level, "TLBI IPAS2E1"));
}
function tlbi_range(w, vmid, start2, size) {
  return drop(w, (e) => e.vmid !== vmid || !overlaps(e, start2, size));
}
function __kvm_tlb_flush_vmid(w, t2, mmu_id) {
  const vmid = mmu_by_id(w, mmu_id).vmid;
  emit(w, t2, "tlbi.hyp", { scope: "vmid", vmid, ipa: 0, level: TLBI_TTL_UNKNOWN, size: 0 });
  metric_add(w, "tlbi_vmid");
  tlbi_vmid(w, vmid);
}
function __kvm_tlb_flush_vmid_ipa(w, t2, mmu_id, ipa, level) {
  const vmid = mmu_by_id(w, mmu_id).vmid;
  emit(w, t2, "tlbi.hyp", { scope: "ipa", vmid, ipa, level, size: 0 });
  metric_add(w, "tlbi_ipa");
  tlbi_ipa(w, vmid, ipa, level);
}
function __kvm_tlb_flush_vmid_ipa_nsh(w, t2, mmu_id, ipa, level) {
  const vmid = mmu_by_id(w, mmu_id).vmid;
  emit(w, t2, "tlbi.hyp", { scope: "ipa_nsh", vmid, ipa, level, size: 0 });
  metric_add(w, "tlbi_ipa_nsh");
  tlbi_ipa_local(w, t2.cpu, vmid, ipa, level);
}
function __kvm_tlb_flush_vmid_range(w, t2, mmu_id, start2, size) {
  const vmid = mmu_by_id(w, mmu_id).vmid;
  emit(w, t2, "tlbi.hyp", { scope: "range", vmid, ipa: start2, level: TLBI_TTL_UNKNOWN, size });
  metric_add(w, "tlbi_range");
  tlbi_range(w, vmid, start2, size);
}
function kvm_tlb_flush_vmid_range(w, t2, mmu_id, addr2, size) {
  if (!system_supports_tlb_range(mmu_by_id(w, mmu_id).pgt)) return __kvm_tlb_flush_vmid(w, t2, mmu_id);
  __kvm_tlb_flush_vmid_range(w, t2, mmu_id, align_down2(addr2, 4096), size);
}
function tlb_bbm_complete(w, vmid, start2, size, what) {
  for (const tlb of tlb_state(w).cpus) {
    for (const e of tlb) {
      if (e.vmid !== vmid || e.stale_since >= 0 || !overlaps(e, start2, size)) continue;
      e.stale_since = w.step;
      e.stale_by = `${what} completed break-before-make with no TLBI covering this entry`;
    }
  }
}
function tlb_entry_describe(e) {
  const size = { 1: "1G", 2: "2M", 3: "4K" }[e.level] ?? `L${e.level}`;
  const stale = e.stale_since >= 0 ? ` STALE since step ${e.stale_since} (${e.stale_by})` : "";
  return `vmid ${e.vmid} IPA 0x${e.ipa.toString(16)} -> PA 0x${e.pa.toString(16)} ${size} ${perms_str(e)} (filled at step ${e.fill_step})${stale}`;
}
function stale_reason(by, step) {
  return by.startsWith("TLBI") ? `${by} retired at step ${step} without removing it` : `${by} (step ${step})`;
}
function fill_overlaps(w, e) {
  const end = e.ipa + GRAN[e.level];
  const others = (w.tlb?.cpus[e.cpu] ?? []).filter((x) => x.vmid === e.vmid && !(x.ipa === e.ipa && x.level === e.level) && x.ipa < end && e.ipa < x.ipa + GRAN[x.level]);
  return others.sort((a, b) => Number(b.stale_since >= 0) - Number(a.stale_since >= 0));
}
define_invariant({
  name: "tlb.stale_entry",
  description: "a guest access is never served by, and no TLB fill overlaps, a TLB entry that a retired TLBI or a completed break-before-make covered (it should have been invalidated)",
  arch: "arm64",
  on: ["tlb.hit", "tlb.fill"],
  check(w, ev) {
    const e = ev;
    if (e.kind === "tlb.fill") {
      if (!e.conflicts) return null;
      const stale = fill_overlaps(w, e).find((x) => x.stale_since >= 0);
      if (!stale) return null;
      return {
        thread: e.thread,
        message: `${e.thread} on CPU ${e.cpu} filled a level-${e.level} entry for IPA 0x${e.ipa.toString(16)} (vmid ${e.vmid}) while the TLB still holds a stale entry for IPA 0x${stale.ipa.toString(16)} (level ${stale.level}, PA 0x${stale.pa.toString(16)}): ${stale_reason(stale.stale_by, stale.stale_since)}`,
        values: { cpu: e.cpu, vmid: e.vmid, ipa: stale.ipa, pa: stale.pa, level: stale.level, stale_since: stale.stale_since }
      };
    }
    if ((e.stale_since ?? -1) < 0) return null;
    const entry = (w.tlb?.cpus[e.cpu] ?? []).find((x) => x.vmid === e.vmid && covers(x, e.ipa));
    return {
      thread: e.thread,
      message: `${e.thread} on CPU ${e.cpu} accessed IPA 0x${e.ipa.toString(16)} through a stale TLB entry (vmid ${e.vmid}, level ${e.level}, PA 0x${e.pa.toString(16)}): ${stale_reason(entry?.stale_by ?? "TLBI", e.stale_since)}`,
      values: { cpu: e.cpu, vmid: e.vmid, ipa: e.ipa, pa: e.pa, level: e.level, stale_since: e.stale_since }
    };
  }
});
define_invariant({
  name: "tlb.conflict",
  description: "a CPU never holds two TLB entries of one VMID for the same IPA (a TLB conflict abort: the old translation was not invalidated before the new one was installed)",
  arch: "arm64",
  on: ["tlb.fill"],
  check(w, ev) {
    const e = ev;
    if (e.conflicts <= 0) return null;
    const others = fill_overlaps(w, e);
    if (others.some((x) => x.stale_since >= 0)) return null;
    return {
      thread: e.thread,
      message: `TLB conflict on CPU ${e.cpu}: ${e.thread} filled a level-${e.level} entry for IPA 0x${e.ipa.toString(16)} (vmid ${e.vmid}) while the TLB still holds ${others.map(tlb_entry_describe).join("; ") || `${e.conflicts} overlapping entries`}`,
      values: { cpu: e.cpu, vmid: e.vmid, ipa: e.ipa, level: e.level, conflicts: e.conflicts }
    };
  }
});
define_history("fill_step", "stamp");
define_history("stale_since", "stamp");

// src/core/arm64/pgtable.ts
var NO_BBM = define_variant({
  name: "pgtable.no_bbm",
  description: "stage2_map_walker_try_leaf() writes a new valid descriptor straight over a valid one (a table by a block, a block by another mapping) with stage2_try_set_pte(), skipping stage2_try_break_pte() and its TLBI",
  source: 'hypothetical: the stage-2 map walker has replaced live valid entries by break-before-make since hyp/pgtable.c was written (Arm ARM "TLB maintenance requirements and the TLB conflict abort"); it shows why stage2_try_break_pte() exists: a TLB may then hold both translations for one IPA',
  breaks: "pgtable.break_before_make",
  arch: "arm64"
});
var NO_TABLE_TLBI = define_variant({
  name: "pgtable.no_table_tlbi",
  description: "stage2_try_break_pte() skips kvm_tlb_flush_vmid_range() over the span of a table entry it breaks (the TABLE_PRE collapse of a table into a block): the page translations cached under the old table survive stage2_make_pte()",
  source: 'hypothetical: a broken table entry has been invalidated since hyp/pgtable.c was written (the whole VMID, a range since defc8cc7abf0 "KVM: arm64: Invalidate the table entries upon a range"); it checks that the TLB model catches a missing invalidation: the next access or fill meets the stale 4K translation',
  breaks: "tlb.stale_entry",
  arch: "arm64"
});
var MEMCACHE_NONE = -1;
var MEMCACHE_DIRECT = -2;
var s2_mm_ops = {
  zalloc_page: (w, t2, mc, level) => mc === MEMCACHE_NONE ? -1 : alloc_table_page(w, t2, level),
  free_unlinked_table: (w, t2, page, level) => kvm_pgtable_stage2_free_unlinked(w, t2, page, level, "free_unlinked")
};
function set_s2_mm_ops(ops2) {
  s2_mm_ops = ops2;
}
function alloc_table_page(w, t2, level) {
  const p2 = pgt_alloc_page(w, level);
  emit(w, t2, "table.alloc", { page: p2.id, level });
  return p2.id;
}
function get_page(w, id2) {
  pgt_page(w, id2).refcount++;
}
function free_page(w, t2, p2, how) {
  p2.freed = true;
  p2.freed_step = w.step;
  p2.freed_seq = w.seq;
  p2.freed_by = t2?.name ?? "-";
  p2.freed_how = how;
  p2.ent = new Uint32Array(0);
  emit(w, t2, "table.free", { page: p2.id, level: p2.level, how });
  metric_add(w, "tables_freed");
}
function put_page(w, t2, id2, how) {
  const p2 = pgt_page(w, id2);
  p2.refcount--;
  if (p2.refcount === 0) free_page(w, t2, p2, how);
  else if (p2.refcount < 0) emit(w, t2, "table.free", { page: p2.id, level: p2.level, how: "put_page of a freed page" });
}
function put_unlinked_page(w, t2, id2) {
  put_page(w, t2, id2, "put_page");
  const pages = pgt_pages(w);
  if (pages[id2].refcount === 0 && id2 === pages.length - 1) pages.pop();
}
function kvm_pte_follow(w, pte) {
  return pgt_pa_page(w, kvm_pte_to_phys(pte));
}
function kvm_pgtable_stage2_free_unlinked(w, t2, page, level, how) {
  const walk = (id2, lvl) => {
    const p2 = pgt_page(w, id2);
    if (p2.level !== lvl) metric_add(w, "warn_free_unlinked_level");
    for (let idx = 0; idx < PTRS_PER_PTE; idx++) {
      const old = pte_get(p2, idx);
      if (!stage2_pte_is_counted(old)) continue;
      if (kvm_pte_table(old, lvl)) {
        const child = kvm_pte_follow(w, old);
        if (child >= 0) walk(child, lvl + 1);
        put_page(w, t2, id2, how);
        if (child >= 0) put_page(w, t2, child, how);
      } else {
        put_page(w, t2, id2, how);
      }
    }
  };
  walk(page, level + 1);
  const root2 = pgt_page(w, page);
  if (root2.refcount !== 1) metric_add(w, "warn_free_unlinked_refcount");
  put_page(w, t2, page, how);
}
function stage2_try_set_pte(w, t2, c, nw) {
  const p2 = pgt_page(w, c.page);
  const ptep = ptep_name(c.page, c.idx);
  if (!kvm_pgtable_walk_shared(c.flags)) {
    pte_set(p2, c.idx, nw);
    emit(w, t2, "pte.store", { ptep, value: nw, release: false });
    return true;
  }
  const ok = pte_get(p2, c.idx) === c.old;
  if (ok) pte_set(p2, c.idx, nw);
  emit(w, t2, "pte.cmpxchg", { ptep, old: c.old, new: nw, ok });
  return ok;
}
function stage2_try_break_pte(w, t2, c) {
  const ptep = ptep_name(c.page, c.idx);
  if (stage2_pte_is_locked(c.old)) {
    if (!kvm_pgtable_walk_shared(c.flags)) metric_add(w, "warn_exclusive_saw_locked");
    emit(w, t2, "pte.break", { ptep, level: c.level, old: c.old, ok: false });
    emit(w, t2, "walk.eagain", { ptep, reason: "entry is LOCKED by another walker" });
    return false;
  }
  if (!stage2_try_set_pte(w, t2, c, KVM_INVALID_PTE_LOCKED)) {
    emit(w, t2, "pte.break", { ptep, level: c.level, old: c.old, ok: false });
    emit(w, t2, "walk.eagain", { ptep, reason: "lost the cmpxchg to another walker" });
    return false;
  }
  emit(w, t2, "pte.break", { ptep, level: c.level, old: c.old, ok: true });
  if (kvm_pte_table(c.old, c.level)) emit(w, t2, "table.unlink", { page: kvm_pte_follow(w, c.old), level: c.level + 1 });
  return true;
}
function stage2_break_tlbi(w, t2, c) {
  if (!(c.flags & KVM_PGTABLE_WALK_SKIP_BBM_TLBI)) {
    if (kvm_pte_table(c.old, c.level)) {
      if (!variant_on(w, NO_TABLE_TLBI.name)) {
        const size = kvm_granule_size(c.level);
        kvm_tlb_flush_vmid_range(w, t2, c.mmu, align_down2(c.addr, size), size);
      }
    } else if (kvm_pte_valid(c.old)) {
      __kvm_tlb_flush_vmid_ipa(w, t2, c.mmu, c.addr, c.level);
    }
  }
  if (stage2_pte_is_counted(c.old)) put_page(w, t2, c.page, "put_page");
}
function stage2_make_pte(w, t2, c, nw) {
  const p2 = pgt_page(w, c.page);
  const ptep = ptep_name(c.page, c.idx);
  if (!stage2_pte_is_locked(pte_get(p2, c.idx))) metric_add(w, "warn_make_pte_not_locked");
  if (stage2_pte_is_counted(nw)) get_page(w, c.page);
  pte_set(p2, c.idx, nw);
  emit(w, t2, "pte.store", { ptep, value: nw, release: true });
  emit(w, t2, "pte.make", { ptep, new: nw });
  if (kvm_pte_valid(c.old) && !(c.flags & KVM_PGTABLE_WALK_SKIP_BBM_TLBI)) {
    const size = kvm_granule_size(c.level);
    tlb_bbm_complete(w, mmu_by_id(w, c.mmu).vmid, align_down2(c.addr, size), size, `stage2_make_pte() on ${ptep} (level ${c.level})`);
  }
}
function stage2_replace_pte(w, t2, c, nw) {
  if (!stage2_try_set_pte(w, t2, c, nw)) return false;
  emit(w, t2, "pte.replace", { ptep: ptep_name(c.page, c.idx), level: c.level, old: c.old, new: nw });
  return true;
}
function stage2_map_walker_phys_addr(c) {
  return c.data.phys + (c.addr - c.start);
}
function kvm_block_mapping_supported(c, phys) {
  const granule = kvm_granule_size(c.level);
  if (!kvm_level_supports_block_mapping(c.level)) return false;
  if (granule > c.end - c.addr) return false;
  if (!is_aligned(phys, granule)) return false;
  return is_aligned(c.addr, granule);
}
function stage2_leaf_mapping_allowed(c) {
  if (c.data.force_pte && c.level < KVM_PGTABLE_LAST_LEVEL) return false;
  if (c.data.annotation) return true;
  return kvm_block_mapping_supported(c, stage2_map_walker_phys_addr(c));
}
function visit_done(t2, l2, r2) {
  return ret(t2, { r: r2, data: l2.data });
}
function after_break(w, t2, l2) {
  if (kvm_pte_valid(l2.old)) return "tlbi";
  if (stage2_pte_is_counted(l2.old)) put_page(w, t2, l2.page, "put_page");
  return "make";
}
function try_leaf(w, t2, l2) {
  const nw = l2.data.annotation ? kvm_init_invalid_leaf_owner(l2.data.owner_id) : kvm_init_valid_leaf_pte(stage2_map_walker_phys_addr(l2), l2.data.attr, l2.level);
  if (!stage2_pte_needs_update(l2.old, nw)) {
    emit(w, t2, "walk.eagain", { ptep: ptep_name(l2.page, l2.idx), reason: "mapping already present (at most the permissions differ)" });
    return visit_done(t2, l2, -EAGAIN);
  }
  l2.nw = nw;
  if (!kvm_pgtable_walk_shared(l2.flags) && ((l2.old ^ nw) & ~KVM_PTE_LEAF_ATTR_HI_SW) === 0n) {
    const p2 = pgt_page(w, l2.page);
    if (stage2_pte_is_counted(l2.old) !== stage2_pte_is_counted(nw)) {
      if (stage2_pte_is_counted(l2.old)) put_page(w, t2, l2.page, "put_page");
      else get_page(w, l2.page);
    }
    pte_set(p2, l2.idx, nw);
    emit(w, t2, "pte.store", { ptep: ptep_name(l2.page, l2.idx), value: nw, release: false });
    return l2.unlink >= 0 ? "free" : visit_done(t2, l2, 0);
  }
  return replace_or_break(w, t2, l2);
}
function replace_or_break(w, t2, l2) {
  if (variant_on(w, NO_BBM.name) && kvm_pte_valid(l2.old)) {
    if (!stage2_replace_pte(w, t2, l2, l2.nw)) return visit_done(t2, l2, -EAGAIN);
    if (kvm_pte_table(l2.old, l2.level)) emit(w, t2, "table.unlink", { page: kvm_pte_follow(w, l2.old), level: l2.level + 1 });
    return l2.unlink >= 0 ? "free" : visit_done(t2, l2, 0);
  }
  if (!stage2_try_break_pte(w, t2, l2)) {
    if (l2.childp >= 0) put_unlinked_page(w, t2, l2.childp);
    return visit_done(t2, l2, -EAGAIN);
  }
  return after_break(w, t2, l2);
}
var stage2_map_walker = model_fn("stage2_map_walker", {
  start: (w, t2, l2) => {
    l2.unlink = -1;
    l2.childp = -1;
    if (l2.visit === "pre") {
      if (!stage2_leaf_mapping_allowed(l2)) return visit_done(t2, l2, 0);
      l2.unlink = kvm_pte_follow(w, l2.old);
      return try_leaf(w, t2, l2);
    }
    if (l2.visit !== "leaf") return visit_done(t2, l2, -EINVAL);
    if (stage2_leaf_mapping_allowed(l2)) return try_leaf(w, t2, l2);
    if (l2.level === KVM_PGTABLE_LAST_LEVEL) return visit_done(t2, l2, -EINVAL);
    if (l2.data.memcache === MEMCACHE_NONE) return visit_done(t2, l2, -ENOMEM);
    const childp = s2_mm_ops.zalloc_page(w, t2, l2.data.memcache, l2.level + 1);
    if (childp < 0) return visit_done(t2, l2, -ENOMEM);
    l2.childp = childp;
    l2.nw = kvm_init_table_pte(childp);
    return replace_or_break(w, t2, l2);
  },
  tlbi: (w, t2, l2) => {
    stage2_break_tlbi(w, t2, l2);
    return "make";
  },
  make: (w, t2, l2) => {
    stage2_make_pte(w, t2, l2, l2.nw);
    return l2.unlink >= 0 ? "free" : visit_done(t2, l2, 0);
  },
  // mm_ops->free_unlinked_table(childp, ctx->level)
  free: (w, t2, l2) => {
    s2_mm_ops.free_unlinked_table(w, t2, l2.unlink, l2.level);
    return visit_done(t2, l2, 0);
  }
});
var kvm_pgtable_stage2_map = model_fn("kvm_pgtable_stage2_map", {
  start: (w, t2, l2) => {
    const pgt = mmu_by_id(w, l2.mmu).pgt;
    if (pgt.flags & KVM_PGTABLE_S2_IDMAP && l2.addr !== l2.phys) return ret(t2, -EINVAL);
    const attr = stage2_set_prot_attr(pgt, l2.prot);
    if (typeof attr === "number") return ret(t2, attr);
    const data = {
      phys: align_down2(l2.phys, PAGE_SIZE),
      attr,
      memcache: l2.memcache ?? MEMCACHE_NONE,
      force_pte: l2.force_pte ?? false,
      owner_id: 0,
      annotation: false
    };
    return call(
      kvm_pgtable_walk,
      { mmu: l2.mmu, addr: l2.addr, size: l2.size, flags: l2.flags | KVM_PGTABLE_WALK_TABLE_PRE | KVM_PGTABLE_WALK_LEAF, cb: stage2_map_walker.name, data },
      "done"
    );
  },
  // dsb(ishst)
  done: (_w, t2) => ret(t2, t2.retval.r)
});
var stage2_unmap_walker = model_fn("stage2_unmap_walker", {
  start: (w, t2, l2) => {
    l2.childp = -1;
    const p2 = pgt_page(w, l2.page);
    if (!kvm_pte_valid(l2.old)) {
      if (stage2_pte_is_counted(l2.old)) {
        pte_set(p2, l2.idx, 0n);
        emit(w, t2, "pte.store", { ptep: ptep_name(l2.page, l2.idx), value: 0n, release: false });
        put_page(w, t2, l2.page, "put_page");
      }
      return visit_done(t2, l2, 0);
    }
    if (kvm_pte_table(l2.old, l2.level)) {
      const child = kvm_pte_follow(w, l2.old);
      if (child < 0 || pgt_page(w, child).refcount !== 1) return visit_done(t2, l2, 0);
      l2.childp = child;
    }
    pte_set(p2, l2.idx, 0n);
    emit(w, t2, "pte.store", { ptep: ptep_name(l2.page, l2.idx), value: 0n, release: false });
    if (l2.childp >= 0) emit(w, t2, "table.unlink", { page: l2.childp, level: l2.level + 1 });
    if (l2.childp < 0 && stage2_unmap_defer_tlb_flush(mmu_by_id(w, l2.mmu).pgt)) return unmap_put(w, t2, l2);
    return "tlbi";
  },
  tlbi: (w, t2, l2) => {
    __kvm_tlb_flush_vmid_ipa(w, t2, l2.mmu, l2.addr, l2.childp >= 0 ? TLBI_TTL_UNKNOWN : l2.level);
    return unmap_put(w, t2, l2);
  }
});
function unmap_put(w, t2, l2) {
  put_page(w, t2, l2.page, "put_page");
  if (l2.childp >= 0) put_page(w, t2, l2.childp, "put_page");
  return visit_done(t2, l2, 0);
}
function stage2_unmap_defer_tlb_flush(pgt) {
  return system_supports_tlb_range(pgt) && stage2_has_fwb(pgt);
}
function stage2_unmap_deferred_flush(w, t2, mmu, addr2, size) {
  if (stage2_unmap_defer_tlb_flush(mmu_by_id(w, mmu).pgt)) kvm_tlb_flush_vmid_range(w, t2, mmu, addr2, size);
}
define_visitor_fast_path(stage2_unmap_walker.name, (w, c) => {
  if (c.visit !== "post") return c.old === 0n ? 0 : null;
  if (!kvm_pte_table(c.old, c.level)) return null;
  const child = kvm_pte_follow(w, c.old);
  return child >= 0 && pgt_page(w, child).refcount !== 1 ? 0 : null;
});
function stage2_unmap_walk_args(mmu, addr2, size) {
  return { mmu, addr: addr2, size, flags: KVM_PGTABLE_WALK_LEAF | KVM_PGTABLE_WALK_TABLE_POST, cb: stage2_unmap_walker.name, data: {} };
}
var kvm_pgtable_stage2_unmap = model_fn("kvm_pgtable_stage2_unmap", {
  start: (_w, _t, l2) => call(kvm_pgtable_walk, stage2_unmap_walk_args(l2.mmu, l2.addr, l2.size), "done"),
  done: (w, t2, l2) => {
    stage2_unmap_deferred_flush(w, t2, l2.mmu, l2.addr, l2.size);
    return ret(t2, t2.retval.r);
  }
});
var stage2_attr_walker = model_fn("stage2_attr_walker", {
  start: (w, t2, l2) => {
    if (!kvm_pte_valid(l2.old)) {
      emit(w, t2, "walk.eagain", { ptep: ptep_name(l2.page, l2.idx), reason: "no valid leaf to change" });
      return visit_done(t2, l2, -EAGAIN);
    }
    l2.data.level = l2.level;
    l2.data.pte = l2.old;
    const pte = l2.old & ~l2.data.attr_clr | l2.data.attr_set;
    if (pte !== l2.old && !stage2_replace_pte(w, t2, l2, pte)) {
      emit(w, t2, "walk.eagain", { ptep: ptep_name(l2.page, l2.idx), reason: "lost the cmpxchg to another walker" });
      return visit_done(t2, l2, -EAGAIN);
    }
    return visit_done(t2, l2, 0);
  }
});
var ATTR_MASK = KVM_PTE_LEAF_ATTR_LO | KVM_PTE_LEAF_ATTR_HI;
function attr_walk(l2, set, clr, flags) {
  const data = { attr_set: set & ATTR_MASK, attr_clr: clr & ATTR_MASK, pte: 0n, level: -1 };
  return { mmu: l2.mmu, addr: l2.addr, size: l2.size, flags: flags | KVM_PGTABLE_WALK_LEAF, cb: stage2_attr_walker.name, data };
}
var kvm_pgtable_stage2_relax_perms = model_fn("kvm_pgtable_stage2_relax_perms", {
  start: (_w, t2, l2) => {
    const prot = typeof l2.prot === "bigint" ? l2.prot : BigInt(l2.prot);
    if (prot & KVM_PTE_LEAF_ATTR_HI_SW) return ret(t2, -EINVAL);
    let set = 0n;
    let clr = 0n;
    if (prot & BigInt(KVM_PGTABLE_PROT_R)) set |= KVM_PTE_LEAF_ATTR_LO_S2_S2AP_R;
    if (prot & BigInt(KVM_PGTABLE_PROT_W)) set |= KVM_PTE_LEAF_ATTR_LO_S2_S2AP_W;
    if (prot & BigInt(KVM_PGTABLE_PROT_X)) clr |= KVM_PTE_LEAF_ATTR_HI_S2_XN;
    return call(kvm_pgtable_walk, attr_walk({ mmu: l2.mmu, addr: l2.addr, size: 1 }, set, clr, KVM_PGTABLE_WALK_HANDLE_FAULT | KVM_PGTABLE_WALK_SHARED), "tlbi");
  },
  tlbi: (w, t2, l2) => {
    const res = t2.retval;
    if (res.r === 0 || res.r === -EAGAIN) __kvm_tlb_flush_vmid_ipa_nsh(w, t2, l2.mmu, l2.addr, res.r === 0 ? res.data.level : TLBI_TTL_UNKNOWN);
    return ret(t2, res.r);
  }
});
function stage2_wrprotect_walk_args(mmu, addr2, size, flags = 0) {
  return attr_walk({ mmu, addr: addr2, size }, 0n, KVM_PTE_LEAF_ATTR_LO_S2_S2AP_W, flags);
}
var kvm_pgtable_stage2_wrprotect = model_fn("kvm_pgtable_stage2_wrprotect", {
  start: (_w, _t, l2) => call(kvm_pgtable_walk, stage2_wrprotect_walk_args(l2.mmu, l2.addr, l2.size, l2.flags ?? 0), "done"),
  done: (_w, t2) => ret(t2, t2.retval.r)
});
var TOUCH_VERB = {
  "pte.visit": "read",
  "pte.cmpxchg": "cmpxchg on",
  "pte.store": "wrote",
  "pte.break": "broke",
  "pte.make": "made",
  "pte.replace": "replaced"
};
define_invariant({
  name: "pgtable.use_after_free",
  description: "a software walker never touches an entry of a stage-2 table page after the page was freed (and no page is freed twice)",
  arch: "arm64",
  on: ["pte.visit", "pte.cmpxchg", "pte.store", "pte.break", "pte.make", "pte.replace", "table.free"],
  check(w, ev) {
    const e = ev;
    if (e.kind === "table.free") {
      const p3 = w.pgt_pages?.[e.page];
      if (!p3 || p3.refcount >= 0) return null;
      return {
        thread: e.thread,
        message: `double free: ${e.thread} dropped a reference on table page ${p3.id} (level ${p3.level}), which ${p3.freed_by} freed at step ${p3.freed_step} (${p3.freed_how})`,
        values: { page: p3.id, level: p3.level, freed_step: p3.freed_step, freed_by: p3.freed_by, refcount: p3.refcount }
      };
    }
    const at = parse_ptep(e.ptep ?? "");
    if (!at) return null;
    const p2 = w.pgt_pages?.[at.page];
    if (!p2 || !p2.freed || e.seq <= p2.freed_seq) return null;
    if (w.violations.some((v) => v.invariant === "pgtable.use_after_free" && v.thread === e.thread && v.values["page"] === p2.id)) return null;
    return {
      thread: e.thread,
      message: `use-after-free: ${e.thread} ${TOUCH_VERB[e.kind] ?? "touched"} ${e.ptep} in level-${p2.level} table page ${p2.id}, which ${p2.freed_by} freed at step ${p2.freed_step} (${p2.freed_how}) while ${e.thread} was still walking it`,
      values: { page: p2.id, level: p2.level, ptep: e.ptep, freed_step: p2.freed_step, freed_by: p2.freed_by, how: p2.freed_how, event: e.kind }
    };
  }
});
var BBM_EXEMPT = KVM_PTE_LEAF_ATTR_LO_S2_S2AP_R | KVM_PTE_LEAF_ATTR_LO_S2_S2AP_W | KVM_PTE_LEAF_ATTR_HI_S2_XN | KVM_PTE_LEAF_ATTR_LO_S2_AF | KVM_PTE_LEAF_ATTR_HI_SW;
define_invariant({
  name: "pgtable.break_before_make",
  description: "a valid stage-2 descriptor is only replaced in place when nothing but its permissions, AF or software bits change; a new output address, size or type needs break-before-make (invalidate, TLBI, then write), or a TLB may hold two translations for one IPA",
  arch: "arm64",
  on: ["pte.replace"],
  check(_w, ev) {
    const e = ev;
    if (!kvm_pte_valid(e.old) || !kvm_pte_valid(e.new)) return null;
    if (((e.old ^ e.new) & ~BBM_EXEMPT) === 0n) return null;
    return {
      thread: e.thread,
      message: `${e.thread} replaced the live descriptor at ${e.ptep} (level ${e.level}) without break-before-make: ${hex64(e.old)} (${kvm_pte_describe(e.old, e.level)}) -> ${hex64(e.new)} (${kvm_pte_describe(e.new, e.level)}); a TLB may now hold translations from both`,
      values: { ptep: e.ptep, level: e.level, old: e.old, new: e.new }
    };
  }
});
function kvm_pgtable_walk_levels(w, mmu_id, ipa) {
  const pgt = mmu_by_id(w, mmu_id).pgt;
  const levels = [];
  if (ipa < 0 || ipa >= 2 ** pgt.ia_bits) return { levels, pa: null };
  let page = pgt.pgd[kvm_pgd_page_idx(pgt.ia_bits, pgt.start_level, ipa)];
  for (let level = pgt.start_level; level <= KVM_PGTABLE_LAST_LEVEL; level++) {
    const index = Math.floor(ipa / kvm_granule_size(level)) % PTRS_PER_PTE;
    const d = pte_get(pgt_page(w, page), index);
    const text = kvm_pte_describe(d, level);
    const table = kvm_pte_table(d, level);
    levels.push({ level, page, index, descriptor: d, type: !kvm_pte_valid(d) ? "invalid" : table ? "table" : level === KVM_PGTABLE_LAST_LEVEL ? "page" : "block", text });
    if (!kvm_pte_valid(d)) return { levels, pa: null };
    if (table) {
      page = kvm_pte_follow(w, d);
      if (page < 0) return { levels, pa: null };
      continue;
    }
    const g = kvm_granule_size(level);
    return { levels, pa: kvm_pte_to_phys(d) + ipa % g };
  }
  return { levels, pa: null };
}
function kvm_pgtable_get_leaf(w, mmu_id, addr2) {
  const { levels } = kvm_pgtable_walk_levels(w, mmu_id, addr2);
  const last = levels[levels.length - 1];
  return last ? { pte: last.descriptor, level: last.level } : { pte: 0n, level: -1 };
}
function kvm_pgtable_leaves(w, mmu_id, start2 = 0, size) {
  const pgt = mmu_by_id(w, mmu_id).pgt;
  const end = Math.min(size === void 0 ? 2 ** pgt.ia_bits : start2 + size, 2 ** pgt.ia_bits);
  const out = [];
  const visit = (page, level, base) => {
    const g = kvm_granule_size(level);
    const p2 = pgt_page(w, page);
    const ent = p2.ent;
    const last = Math.min(PTRS_PER_PTE, Math.ceil((end - base) / g));
    for (let i = Math.max(0, Math.floor((start2 - base) / g)); i < last; i++) {
      const a = base + i * g;
      const lo = ent[2 * i] ?? 0;
      if (!(lo & 1)) continue;
      const d = pte_get(p2, i);
      if (kvm_pte_table(d, level)) {
        const c = kvm_pte_follow(w, d);
        if (c >= 0) visit(c, level + 1, a);
      } else out.push({ ipa: a, level, pte: d, pa: kvm_pte_to_phys(d), page, index: i });
    }
  };
  const span = kvm_granule_size(pgt.start_level) * PTRS_PER_PTE;
  pgt.pgd.forEach((page, k) => visit(page, pgt.start_level, k * span));
  return out;
}

// src/core/arm64/mmu_stage2.ts
var FREE_UNLINKED_SYNC = define_variant({
  name: "pgtable.free_unlinked_sync",
  description: "stage2_free_unlinked_table() calls kvm_pgtable_stage2_free_unlinked() at once instead of through call_rcu(): a table a shared (read-lock) fault walk unlinks is freed while other walkers may still be inside it",
  source: 'hypothetical: this never shipped; before "KVM: arm64: Free removed stage-2 tables in RCU callback" (the v6.2 parallel-fault series ending in 1577cb5823ce) every stage-2 walk held mmu_lock for write, so freeing at once was safe. It shows why a shared walk needs the grace period: the walker still inside the unlinked table reads freed memory',
  breaks: "pgtable.use_after_free",
  arch: "arm64"
});
var KVM_ARCH_NR_OBJS_PER_MEMORY_CACHE = 40;
function vcpu_memcache(w, vcpu) {
  const all = w.s2_memcache ??= [];
  while (all.length <= vcpu) all.push({ nobjs: 0, capacity: KVM_ARCH_NR_OBJS_PER_MEMORY_CACHE });
  return all[vcpu];
}
function kvm_mmu_topup_memory_cache(w, vcpu, min) {
  const mc = vcpu_memcache(w, vcpu);
  const need = min ?? kvm_mmu_cache_min_pages(arm64(w).mmu.pgt);
  if (mc.nobjs >= need) return 0;
  metric_add(w, "memcache_topup_pages", mc.capacity - mc.nobjs);
  mc.nobjs = mc.capacity;
  return 0;
}
function stage2_memcache_zalloc_page(w, t2, memcache, level) {
  if (memcache === MEMCACHE_NONE) return -1;
  if (memcache !== MEMCACHE_DIRECT) {
    const mc = vcpu_memcache(w, memcache);
    if (mc.nobjs > 0) mc.nobjs--;
    else metric_add(w, "warn_memcache_empty");
  }
  return alloc_table_page(w, t2, level);
}
function stage2_free_unlinked_table(w, t2, page, level) {
  if (variant_on(w, FREE_UNLINKED_SYNC.name) || !w.rcu) {
    kvm_pgtable_stage2_free_unlinked(w, t2, page, level, variant_on(w, FREE_UNLINKED_SYNC.name) ? "at once in stage2_free_unlinked_table, no RCU grace period: pgtable.free_unlinked_sync" : "at once in stage2_free_unlinked_table: no RCU in this World");
    return;
  }
  call_rcu(w, t2, "stage2_free_unlinked_table_rcu_cb", { page, level, by: t2.name });
}
define_rcu_callback("stage2_free_unlinked_table_rcu_cb", (w, t2, arg) => {
  const page = arg["page"];
  emit(w, t2, "rcu.free", { page });
  kvm_pgtable_stage2_free_unlinked(w, t2, page, arg["level"], `RCU callback after a grace period (queued by ${String(arg["by"])})`);
});
set_s2_mm_ops({ zalloc_page: stage2_memcache_zalloc_page, free_unlinked_table: stage2_free_unlinked_table });
function kvm_pgtable_stage2_init(w, a, b) {
  const ia_bits = b ?? (typeof a === "number" ? a : 40);
  const start_level = stage2_start_level(ia_bits);
  const pgd = [];
  for (let i = 0; i < kvm_pgd_pages(ia_bits, start_level); i++) pgd.push(pgt_alloc_page(w, start_level).id);
  tlb_state(w);
  return { ia_bits, start_level, pgd, flags: 0, fwb_cap: true, tlb_range_cap: true };
}
function stage2_range_addr_end(addr2, end) {
  const size = kvm_granule_size(KVM_PGTABLE_MIN_BLOCK_LEVEL);
  const boundary = align_down2(addr2 + size, size);
  return boundary - 1 < end - 1 ? boundary : end;
}
var APPLY_WALKS = {
  [kvm_pgtable_stage2_unmap.name]: stage2_unmap_walk_args,
  [kvm_pgtable_stage2_wrprotect.name]: (mmu, addr2, size) => stage2_wrprotect_walk_args(mmu, addr2, size)
};
function apply_chunk(l2) {
  l2.next = stage2_range_addr_end(l2.addr, l2.end);
  const walk = APPLY_WALKS[l2.fn];
  if (walk) return call(kvm_pgtable_walk, walk(l2.mmu, l2.addr, l2.next - l2.addr), "chunk_done");
  return call(l2.fn, { mmu: l2.mmu, addr: l2.addr, size: l2.next - l2.addr }, "chunk_done");
}
var stage2_apply_range = model_fn("stage2_apply_range", {
  chunk: (_w, _t, l2) => apply_chunk(l2),
  chunk_done: (w, t2, l2) => {
    if (l2.fn === kvm_pgtable_stage2_unmap.name) stage2_unmap_deferred_flush(w, t2, l2.mmu, l2.addr, l2.next - l2.addr);
    const r2 = typeof t2.retval === "number" ? t2.retval : t2.retval.r;
    if (r2) return ret(t2, r2);
    if (l2.resched && l2.next !== l2.end) return call(cond_resched_rwlock_write, { lock: "mmu_lock" }, "advance");
    l2.addr = l2.next;
    return l2.addr !== l2.end ? apply_chunk(l2) : ret(t2, 0);
  },
  advance: (_w, t2, l2) => {
    l2.addr = l2.next;
    return l2.addr !== l2.end ? apply_chunk(l2) : ret(t2, 0);
  }
});
var kvm_stage2_unmap_range = model_fn("kvm_stage2_unmap_range", {
  start: (w, t2, l2) => {
    lockdep_assert_held_write(w, t2, "mmu_lock");
    return call(stage2_apply_range, { mmu: l2.mmu, addr: l2.start, end: l2.start + l2.size, fn: kvm_pgtable_stage2_unmap.name, resched: l2.may_block }, "done");
  },
  done: (w, t2) => {
    if (t2.retval) metric_add(w, "warn_unmap_range");
    return RETURN;
  }
});
var stage2_wp_range = model_fn("stage2_wp_range", {
  start: (w, t2, l2) => {
    lockdep_assert_held_write(w, t2, "mmu_lock");
    return call(stage2_apply_range, { mmu: l2.mmu, addr: l2.addr, end: l2.end, fn: kvm_pgtable_stage2_wrprotect.name, resched: true }, "done");
  },
  done: (_w, t2) => ret(t2, t2.retval)
});
var kvm_arch_flush_remote_tlbs = model_fn("kvm_arch_flush_remote_tlbs", {
  flush: (w, t2) => {
    __kvm_tlb_flush_vmid(w, t2, -1);
    return ret(t2, 0);
  }
});
function fault_supports_stage2_huge_mapping(slot, hva, map_size) {
  if (map_size === PAGE_SIZE) return true;
  const size = slot.npages * PAGE_SIZE;
  const gpa_start = slot.base_gfn * PAGE_SIZE;
  const uaddr_start = slot.userspace_addr;
  const uaddr_end = uaddr_start + size;
  if (gpa_start % map_size !== uaddr_start % map_size) return false;
  const base = align_down2(hva, map_size);
  return base >= uaddr_start && base + map_size <= uaddr_end;
}
function fault_backing(t2) {
  const op = next_op(t2);
  if (op?.op !== "access_hugepage") return null;
  const size = op.args["size"];
  const kind = op.args["backing"] === "hugetlbfs" || size === PUD_SIZE ? "hugetlb" : "thp";
  return { kind, size, logging: op.args["force_pte"] === true };
}
function get_vma_page_size(vma) {
  return vma?.kind === "hugetlb" ? vma.size : PAGE_SIZE;
}
function user_mem_abort_vma_size(w, t2, l2) {
  l2.fault_ipa = align_down2(l2.fault_ipa, PAGE_SIZE);
  l2.canonical_ipa = align_down2(l2.canonical_ipa, PAGE_SIZE);
  const slot = gfn_to_memslot(w, Math.floor(l2.canonical_ipa / PAGE_SIZE));
  const backing = fault_backing(t2);
  if (backing) host_vma_declare(w, l2.hva, backing.kind, backing.size);
  let size;
  l2.force_pte = false;
  if (backing?.logging) {
    l2.force_pte = true;
    size = PAGE_SIZE;
  } else {
    size = get_vma_page_size(host_vma(w, l2.hva));
  }
  if (size === PUD_SIZE && !fault_supports_stage2_huge_mapping(slot, l2.hva, PUD_SIZE)) size = PMD_SIZE;
  if (size === PMD_SIZE && !fault_supports_stage2_huge_mapping(slot, l2.hva, PMD_SIZE)) {
    size = PAGE_SIZE;
    l2.force_pte = true;
  }
  if (l2.guest_level) {
    let max_map_size = Math.min(kvm_granule_size(l2.guest_level), l2.force_pte ? PAGE_SIZE : PUD_SIZE);
    if (max_map_size >= PMD_SIZE && max_map_size < PUD_SIZE) max_map_size = PMD_SIZE;
    else if (max_map_size >= PAGE_SIZE && max_map_size < PMD_SIZE) max_map_size = PAGE_SIZE;
    l2.force_pte = max_map_size === PAGE_SIZE;
    size = Math.min(size, max_map_size);
  }
  l2.vma_pagesize = size;
  if (size === PMD_SIZE || size === PUD_SIZE) {
    l2.fault_ipa = align_down2(l2.fault_ipa, size);
    l2.canonical_ipa = align_down2(l2.canonical_ipa, size);
  }
}
function transparent_hugepage_adjust(w, l2) {
  const slot = gfn_to_memslot(w, Math.floor(l2.canonical_ipa / PAGE_SIZE));
  if (fault_supports_stage2_huge_mapping(slot, l2.hva, PMD_SIZE)) {
    const sz = get_user_mapping_size(w, l2.hva);
    if (sz < 0) return sz;
    if (sz >= PMD_SIZE) {
      l2.fault_ipa = align_down2(l2.fault_ipa, PMD_SIZE);
      l2.pfn = align_down2(l2.pfn, PMD_SIZE / PAGE_SIZE);
      l2.vma_pagesize = PMD_SIZE;
      return PMD_SIZE;
    }
  }
  return PAGE_SIZE;
}
define_op({
  name: "access_hugepage",
  threads: ["vcpu"],
  arch: "arm64",
  summary: "guest load or store to an IPA the host backs with a SIZE huge page (backing: thp, 2M only, the default for 2M; or hugetlbfs, the default for 1G); the fault maps a block, or a 4K page with force_pte (as under dirty logging). From L2, the guest hypervisor's own mapping size caps the block",
  schema: {
    type: "object",
    properties: {
      ipa: S.addr,
      write: S.bool,
      size: { enum: [PMD_SIZE, PUD_SIZE] },
      backing: { enum: ["thp", "hugetlbfs"] },
      force_pte: S.bool
    },
    required: ["ipa", "size"],
    additionalProperties: false,
    // A THP is PMD-sized: a 1G host page is hugetlbfs.
    if: { properties: { size: { const: PUD_SIZE } }, required: ["size"] },
    then: { properties: { backing: { const: "hugetlbfs" } } }
  },
  in_guest: (w, t2, args) => {
    const ipa = args["ipa"];
    const write = args["write"] === true;
    const r2 = guest_translate(w, t2, arm64(w).vcpus[t2.vcpu]?.hw_mmu ?? -1, ipa, write);
    if (r2.ok) {
      emit(w, t2, "guest.access", { ipa, write, pa: r2.pa, via: r2.via });
      return { done: true };
    }
    const vcpu = vcpu_of(w, t2.vcpu);
    vcpu.fault_ipa = ipa;
    vcpu.fault_write = write;
    return { exit: "abort" };
  }
});
define_history("nobjs", "count");

// src/core/maple/ulong.ts
var MAX_SAFE = 9007199254740991;
var TWO53N = 9007199254740992n;
var U64_MAXN = 0xffffffffffffffffn;
var U64_MAX_M1N = 0xfffffffffffffffen;
var MOD = 1n << 64n;
function ul(x) {
  if (typeof x === "number") {
    if (x >= 0 && x <= MAX_SAFE && Number.isInteger(x)) return x;
    if (x === Infinity) return Infinity;
    if (Number.isInteger(x) && x > MAX_SAFE && x < 18446744073709552e3) return BigInt(x);
    return null;
  }
  if (typeof x === "bigint") return x >= 0n && x <= U64_MAXN ? ul_of_big(x) : null;
  return null;
}
function ul_of_big(x) {
  if (x <= 9007199254740991n) return Number(x);
  if (x === U64_MAXN) return Infinity;
  return x;
}
function ul_big(x) {
  if (typeof x === "bigint") return x;
  return x === Infinity ? U64_MAXN : BigInt(x);
}
function ul_inc(x) {
  if (typeof x === "number") {
    if (x < MAX_SAFE) return x + 1;
    return x === Infinity ? 0 : TWO53N;
  }
  return x === U64_MAX_M1N ? Infinity : x + 1n;
}
function ul_dec(x) {
  if (typeof x === "number") {
    if (x > 0 && x !== Infinity) return x - 1;
    return x === 0 ? Infinity : U64_MAX_M1N;
  }
  return x === TWO53N ? MAX_SAFE : x - 1n;
}
function ul_sub(x, y) {
  if (typeof x === "number" && typeof y === "number" && x !== Infinity && x >= y) return x - y;
  return ul_of_big(((ul_big(x) - ul_big(y)) % MOD + MOD) % MOD);
}
function ul_low2(x) {
  if (typeof x === "bigint") return Number(x & 3n);
  return x === Infinity ? 3 : x % 4;
}
function ul_arg(x) {
  return typeof x === "number" && x !== Infinity ? x : ul_big(x);
}

// src/core/maple/constants.ts
var EINVAL2 = 22;
var EEXIST = 17;
var ENOMEM2 = 12;
var __GFP_KSWAPD_RECLAIM = 2048;
var GFP_KERNEL = 3264;
var GFP_NOWAIT = __GFP_KSWAPD_RECLAIM;
var MT_FLAGS_ALLOC_RANGE = 1;
var MT_FLAGS_USE_RCU = 2;
var MT_FLAGS_HEIGHT_OFFSET = 2;
var MT_FLAGS_HEIGHT_MASK = 124;
var MT_FLAGS_LOCK_EXTERN = 768;
var MM_MT_FLAGS = MT_FLAGS_ALLOC_RANGE | MT_FLAGS_LOCK_EXTERN | MT_FLAGS_USE_RCU;
var MAPLE_NODE_SLOTS = 31;
var MAPLE_RANGE64_SLOTS = 16;
var MAPLE_ARANGE64_SLOTS = 10;
var maple_range_64 = 2;
var maple_arange_64 = 3;
var MAPLE_TYPE_NAMES = ["maple_dense", "maple_leaf_64", "maple_range_64", "maple_arange_64"];
var MT_SLOTS = [MAPLE_NODE_SLOTS, MAPLE_RANGE64_SLOTS, MAPLE_RANGE64_SLOTS, MAPLE_ARANGE64_SLOTS];
var MT_PIVOTS = [0, MAPLE_RANGE64_SLOTS - 1, MAPLE_RANGE64_SLOTS - 1, MAPLE_ARANGE64_SLOTS - 1];
var MT_MIN_SLOTS = [
  MAPLE_NODE_SLOTS / 2,
  MAPLE_RANGE64_SLOTS / 2 - 2,
  MAPLE_RANGE64_SLOTS / 2 - 2,
  MAPLE_ARANGE64_SLOTS / 2 - 1
];
function xa_is_internal(entry) {
  return ul_low2(entry) === 2;
}
var XA_RETRY_ENTRY = 1026;
function xa_is_advanced(entry) {
  return xa_is_internal(entry) && entry <= XA_RETRY_ENTRY;
}

// src/core/maple/hooks.ts
var alloc_fail_hook = null;
var trace_hook = null;
function mt_set_alloc_fail_hook(fn) {
  alloc_fail_hook = fn;
}
function mt_set_trace_hook(fn) {
  trace_hook = fn;
}
function alloc_hooked() {
  return alloc_fail_hook !== null;
}
function alloc_would_fail(mt, count, gfp) {
  if (count <= 0 || alloc_fail_hook === null) return false;
  return alloc_fail_hook(mt, count, gfp);
}
var pending = [];
function trace_queue(op, type, slots) {
  if (trace_hook !== null) pending.push({ op, type, slots });
}
function trace_flush() {
  if (pending.length === 0) return;
  const evs = pending.splice(0, pending.length);
  const fn = trace_hook;
  if (fn === null) return;
  for (const ev of evs) fn(ev);
}
var mod = { seq: 0, iterating: 0 };
var written = /* @__PURE__ */ new WeakMap();
function note_write(mt) {
  const s2 = ++mod.seq;
  if (mod.iterating !== 0) written.set(mt, s2);
}

// src/core/maple/tree.ts
var NODE_WORDS = 32;
var SLOT_R = 16;
var SLOT_A = 10;
var INITIAL_NODES = 8;
function mt_init_flags(flags, id2 = 0) {
  return {
    ma_flags: flags & ~MT_FLAGS_HEIGHT_MASK,
    ma_root: 0,
    root_is_node: false,
    height: 0,
    arena: new Float64Array(INITIAL_NODES * NODE_WORDS),
    wide: null,
    nr_nodes: 1,
    free_head: 0,
    nr_free: 0,
    id: id2
  };
}
function set_height(mt, h) {
  mt.height = h;
  mt.ma_flags = mt.ma_flags & ~MT_FLAGS_HEIGHT_MASK | h << MT_FLAGS_HEIGHT_OFFSET;
}
function mt_is_alloc(mt) {
  return (mt.ma_flags & MT_FLAGS_ALLOC_RANGE) !== 0;
}
function mt_in_rcu(mt) {
  return (mt.ma_flags & MT_FLAGS_USE_RCU) !== 0;
}
function internal_type(mt) {
  return mt.ma_flags & MT_FLAGS_ALLOC_RANGE ? maple_arange_64 : maple_range_64;
}
var MAX_SAFE2 = 9007199254740991;
function rd(a, w, i) {
  const v = a[i];
  return v > MAX_SAFE2 && v !== Infinity ? w[i] : v;
}
function aset(mt, i, v) {
  if (typeof v === "number") {
    mt.arena[i] = v;
  } else {
    mt.arena[i] = Number(v);
    (mt.wide ??= new BigUint64Array(mt.arena.length))[i] = v;
  }
}
function ntype(a, n) {
  return a[n * NODE_WORDS] & 3;
}
function nend(a, n) {
  return a[n * NODE_WORDS] >> 2 & 15;
}
function ngapoff(a, n) {
  return a[n * NODE_WORDS] >> 6 & 15;
}
function set_meta(a, n, type, end, gapoff) {
  a[n * NODE_WORDS] = type | end << 2 | gapoff << 6;
}
function slot_base(type) {
  return type === maple_arange_64 ? SLOT_A : SLOT_R;
}
function npivots(type) {
  return type === maple_arange_64 ? 9 : 15;
}
function arena_reserve(mt, count) {
  const need = (mt.nr_nodes + count) * NODE_WORDS;
  if (need <= mt.arena.length) return;
  let cap = mt.arena.length;
  while (cap < need) cap *= 2;
  const next = new Float64Array(cap);
  next.set(mt.arena.subarray(0, mt.nr_nodes * NODE_WORDS));
  mt.arena = next;
  if (mt.wide) {
    const w = new BigUint64Array(cap);
    w.set(mt.wide.subarray(0, mt.nr_nodes * NODE_WORDS));
    mt.wide = w;
  }
}
function node_alloc(mt) {
  let n = mt.free_head;
  if (n !== 0) {
    const a = mt.arena;
    const base = n * NODE_WORDS;
    mt.free_head = a[base + 1];
    mt.nr_free--;
    a[base + 1] = 0;
    return n;
  }
  n = mt.nr_nodes;
  if ((n + 1) * NODE_WORDS > mt.arena.length) arena_reserve(mt, 1);
  mt.nr_nodes = n + 1;
  return n;
}
function node_free(mt, n) {
  const a = mt.arena;
  const base = n * NODE_WORDS;
  a.fill(0, base, base + NODE_WORDS);
  if (mt.wide) mt.wide.fill(0n, base, base + NODE_WORDS);
  a[base + 1] = mt.free_head;
  mt.free_head = n;
  mt.nr_free++;
}
function subtree_free(mt, n) {
  const a = mt.arena;
  const t2 = ntype(a, n);
  if (t2 !== 1) {
    const end = nend(a, n);
    const sb = n * NODE_WORDS + slot_base(t2);
    for (let i = 0; i <= end; i++) {
      const c = a[sb + i];
      if (c !== 0) subtree_free(mt, c);
    }
  }
  node_free(mt, n);
}
function mtree_destroy(mt) {
  note_write(mt);
  mt.ma_root = 0;
  mt.root_is_node = false;
  set_height(mt, 0);
  mt.arena = new Float64Array(INITIAL_NODES * NODE_WORDS);
  mt.wide = null;
  mt.nr_nodes = 1;
  mt.free_head = 0;
  mt.nr_free = 0;
}

// src/core/maple/bignode.ts
var GAP_A = 20;
var NODE_WORDS2 = 32;
var PIV = 1;
var ULONG_MAX2 = Infinity;
var MAX_SAFE3 = 9007199254740991;
var maple_arange_642 = 3;
var maple_leaf_64 = 1;
var BN_MAX = 80;
var bn = {
  n: 0,
  type: 0,
  piv: new Array(BN_MAX).fill(0),
  slot: new Array(BN_MAX).fill(0),
  gap: new Array(BN_MAX).fill(0)
};
function bn_reset(type) {
  bn.n = 0;
  bn.type = type;
}
function bn_push(piv, slot, gap) {
  const i = bn.n++;
  bn.piv[i] = piv;
  bn.slot[i] = slot;
  bn.gap[i] = gap;
}
function bn_copy(mt, n, max, from, to) {
  const a = mt.arena;
  const w = mt.wide;
  const base = n * NODE_WORDS2;
  const t2 = a[base] & 3;
  const end = a[base] >> 2 & 15;
  const sb = base + slot_base(t2);
  const arange = t2 === maple_arange_642;
  for (let i = from; i <= to; i++) {
    const j = bn.n++;
    if (i < end) {
      const v2 = a[base + PIV + i];
      bn.piv[j] = v2 > MAX_SAFE3 && v2 !== Infinity ? w[base + PIV + i] : v2;
    } else {
      bn.piv[j] = max;
    }
    const v = a[sb + i];
    bn.slot[j] = v > MAX_SAFE3 && v !== Infinity ? w[sb + i] : v;
    if (arange) {
      const g = a[base + GAP_A + i];
      bn.gap[j] = g > MAX_SAFE3 && g !== Infinity ? w[base + GAP_A + i] : g;
    } else {
      bn.gap[j] = 0;
    }
  }
}
function bn_prepend_node(mt, n, max) {
  const cnt = nend(mt.arena, n) + 1;
  const piv = bn.piv;
  const slot = bn.slot;
  const gap = bn.gap;
  for (let i = bn.n - 1; i >= 0; i--) {
    piv[i + cnt] = piv[i];
    slot[i + cnt] = slot[i];
    gap[i + cnt] = gap[i];
  }
  const keep = bn.n;
  bn.n = 0;
  bn_copy(mt, n, max, 0, cnt - 1);
  bn.n = keep + cnt;
}
function gap_size(lo, hi) {
  if (hi === ULONG_MAX2) return ULONG_MAX2;
  if (typeof hi === "number" && typeof lo === "number") return hi - lo + 1;
  return ul_inc(ul_sub(hi, lo));
}
function leaf_max_gap(mt, n, min, max) {
  const a = mt.arena;
  const w = mt.wide;
  const base = n * NODE_WORDS2;
  const end = a[base] >> 2 & 15;
  if (max === ULONG_MAX2 && a[base + 16 + end] === 0) return ULONG_MAX2;
  let g = 0;
  let lo = min;
  for (let i = 0; i <= end; i++) {
    let hi = max;
    if (i < end) {
      const v = a[base + PIV + i];
      hi = v > MAX_SAFE3 && v !== Infinity ? w[base + PIV + i] : v;
    }
    if (a[base + 16 + i] === 0) {
      const size = typeof hi === "number" && typeof lo === "number" ? hi === ULONG_MAX2 ? ULONG_MAX2 : hi - lo + 1 : gap_size(lo, hi);
      if (size > g) g = size;
    }
    lo = typeof hi === "number" && hi < MAX_SAFE3 ? hi + 1 : ul_inc(hi);
  }
  return g;
}
function node_max_gap(mt, n, min, max) {
  const a = mt.arena;
  const t2 = ntype(a, n);
  if (t2 === maple_leaf_64) return leaf_max_gap(mt, n, min, max);
  return rd(a, mt.wide, n * NODE_WORDS2 + GAP_A + ngapoff(a, n));
}
function node_from_bn(mt, type, s2, e, max) {
  const n = node_alloc(mt);
  const base = n * NODE_WORDS2;
  const sb = base + slot_base(type);
  const np = npivots(type);
  const end = e - s2;
  const a = mt.arena;
  for (let j = 0; j <= end; j++) {
    const x = bn.slot[s2 + j];
    if (typeof x === "number") a[sb + j] = x;
    else aset(mt, sb + j, x);
    if (j < np) {
      const y = j < end ? bn.piv[s2 + j] : max;
      if (typeof y === "number") a[base + PIV + j] = y;
      else aset(mt, base + PIV + j, y);
    }
  }
  let gapoff = 0;
  if (type === maple_arange_642) {
    let mg = 0;
    for (let j = end; j >= 0; j--) {
      const g = bn.gap[s2 + j];
      aset(mt, base + GAP_A + j, g);
      if (g > mg) {
        mg = g;
        gapoff = j;
      }
    }
  }
  set_meta(a, n, type, end, gapoff);
  return n;
}
function leaf_write_bn(mt, n, max) {
  const a = mt.arena;
  const base = n * NODE_WORDS2;
  a.fill(0, base + 1, base + NODE_WORDS2);
  const end = bn.n - 1;
  for (let j = 0; j <= end; j++) {
    const x = bn.slot[j];
    if (typeof x === "number") a[base + 16 + j] = x;
    else aset(mt, base + 16 + j, x);
    if (j < 15) {
      const y = j < end ? bn.piv[j] : max;
      if (typeof y === "number") a[base + PIV + j] = y;
      else aset(mt, base + PIV + j, y);
    }
  }
  set_meta(a, n, maple_leaf_64, end, 0);
}
function no_null_split(split, type, b_end) {
  if (bn.slot[split] === 0) {
    if (split < MT_SLOTS[type] - 1 && b_end - split > MT_MIN_SLOTS[type]) split++;
    else split--;
  }
  return split;
}
var SPLIT = { split: 0, mid: 0 };
function calc_split(type, min) {
  const b_end = bn.n - 1;
  const slot_count = MT_SLOTS[type];
  let split = b_end >> 1;
  let mid = 0;
  if (b_end >= 2 * slot_count || bn.slot[split] === 0 && b_end >= 2 * slot_count - 1) {
    split = Math.floor(b_end / 3);
    mid = split * 2;
  } else {
    const slot_min = MT_MIN_SLOTS[type];
    while (split < slot_count - 1 && bn.piv[split] >= min && ul_sub(bn.piv[split], min) < slot_count - 1 && b_end - split > slot_min) split++;
  }
  split = no_null_split(split, type, b_end);
  if (mid) mid = no_null_split(mid, type, b_end);
  SPLIT.split = split;
  SPLIT.mid = mid;
}
function arange_rescan(mt, n) {
  const a = mt.arena;
  const base = n * NODE_WORDS2;
  const end = nend(a, n);
  let off = end;
  let mg = 0;
  for (let i = end; i >= 0; i--) {
    const v = a[base + GAP_A + i];
    const g = v > MAX_SAFE3 && v !== Infinity ? mt.wide[base + GAP_A + i] : v;
    if (g > mg) {
      mg = g;
      off = i;
    }
  }
  set_meta(a, n, maple_arange_642, end, off);
  return mg;
}
function update_gap(mt, pnode, poff, pmin, pmax, d) {
  if (!mt_is_alloc(mt) || d === 0) return;
  const a = mt.arena;
  let g = node_max_gap(mt, pnode[d], pmin[d], pmax[d]);
  let pd = d - 1;
  let p2 = pnode[pd];
  let off = poff[pd];
  const c = a[p2 * NODE_WORDS2 + GAP_A + off];
  const cur = c > MAX_SAFE3 && c !== Infinity ? mt.wide[p2 * NODE_WORDS2 + GAP_A + off] : c;
  if (cur === g) return;
  for (; ; ) {
    const base = p2 * NODE_WORDS2;
    const meta_off = ngapoff(a, p2);
    const m = a[base + GAP_A + meta_off];
    const meta_gap = m > MAX_SAFE3 && m !== Infinity ? mt.wide[base + GAP_A + meta_off] : m;
    if (typeof g === "number") a[base + GAP_A + off] = g;
    else aset(mt, base + GAP_A + off, g);
    if (meta_gap === g) return;
    if (off !== meta_off) {
      if (meta_gap > g) return;
      set_meta(a, p2, maple_arange_642, nend(a, p2), off);
    } else if (g < meta_gap) {
      g = arange_rescan(mt, p2);
    }
    if (pd === 0) return;
    pd--;
    off = poff[pd];
    p2 = pnode[pd];
  }
}

// src/core/maple/walk.ts
var MT_FLAGS_ALLOC_RANGE2 = 1;
var NODE_WORDS3 = 32;
var PIV2 = 1;
var ULONG_MAX3 = Infinity;
var XA_ZERO_ENTRY = 1030;
var MAX_SAFE4 = 9007199254740991;
function new_path() {
  return {
    node: new Int32Array(34),
    off: new Int32Array(34),
    min: new Array(34).fill(0),
    max: new Array(34).fill(0)
  };
}
var LP = new_path();
var RP = new_path();
function path_copy(dst, src, upto) {
  for (let d = 0; d <= upto; d++) {
    dst.node[d] = src.node[d];
    dst.off[d] = src.off[d];
    dst.min[d] = src.min[d];
    dst.max[d] = src.max[d];
  }
}
function key_offset(a, w, pb, end, key) {
  let o = 0;
  if (typeof key === "number") {
    while (o < end && a[pb + o] < key) o++;
    return o;
  }
  const kd = Number(key);
  while (o < end) {
    const d = a[pb + o];
    if (d > kd || d === kd && rd(a, w, pb + o) >= key) break;
    o++;
  }
  return o;
}
function path_walk(mt, key, p2, to_depth) {
  const a = mt.arena;
  const w = mt.wide;
  let n = mt.ma_root;
  let min = 0;
  let max = ULONG_MAX3;
  for (let d = 0; ; d++) {
    const base = n * NODE_WORDS3;
    const end = a[base] >> 2 & 15;
    let o = 0;
    if (typeof key === "number") while (o < end && a[base + PIV2 + o] < key) o++;
    else o = key_offset(a, w, base + PIV2, end, key);
    p2.node[d] = n;
    p2.off[d] = o;
    p2.min[d] = min;
    p2.max[d] = max;
    if (d === to_depth) return;
    if (o > 0) {
      const v = a[base + PIV2 + o - 1];
      const x = v > MAX_SAFE4 && v !== Infinity ? w[base + PIV2 + o - 1] : v;
      min = typeof x === "number" && x < MAX_SAFE4 ? x + 1 : ul_inc(x);
    }
    if (o < end) {
      const v = a[base + PIV2 + o];
      max = v > MAX_SAFE4 && v !== Infinity ? w[base + PIV2 + o] : v;
    }
    n = a[base + slot_base(a[base] & 3) + o];
  }
}
function mtree_load(mt, index) {
  if (!mt.root_is_node) {
    const r2 = mt.ma_root;
    return index === 0 && r2 !== XA_ZERO_ENTRY ? r2 : 0;
  }
  if (typeof index !== "number" || index > MAX_SAFE4 && index !== Infinity) return load_slow(mt, index);
  const a = mt.arena;
  let n = mt.ma_root;
  if (mt.height > 1) {
    const sb = (mt.ma_flags & MT_FLAGS_ALLOC_RANGE2) !== 0 ? 9 : 15;
    for (let d = mt.height - 1; d > 0; d--) {
      let i2 = n * NODE_WORDS3 + PIV2;
      const lim2 = i2 + (a[i2 - 1] >> 2 & 15);
      while (i2 + 3 < lim2 && a[i2 + 3] < index) i2 += 4;
      while (i2 < lim2 && a[i2] < index) i2++;
      n = a[i2 + sb];
    }
  }
  let i = n * NODE_WORDS3 + PIV2;
  const lim = i + (a[i - 1] >> 2 & 15);
  while (i + 3 < lim && a[i + 3] < index) i += 4;
  while (i < lim && a[i] < index) i++;
  const e = a[i + 15];
  if (e > MAX_SAFE4 && e !== Infinity) return mt.wide[i + 15];
  return e === XA_ZERO_ENTRY ? 0 : e;
}
function load_slow(mt, index) {
  const k = ul(index);
  if (k === null) return 0;
  if (typeof k === "number") return mtree_load(mt, k);
  const a = mt.arena;
  const w = mt.wide;
  let n = mt.ma_root;
  for (; ; ) {
    const base = n * NODE_WORDS3;
    const meta = a[base];
    const o = key_offset(a, w, base + PIV2, meta >> 2 & 15, k);
    const sw = base + ((meta & 3) === 3 ? 10 : 16) + o;
    if ((meta & 3) === 1) {
      const e = rd(a, w, sw);
      return e === XA_ZERO_ENTRY ? 0 : e;
    }
    n = a[sw];
  }
}
var RW = {
  entry: 0,
  first: 0,
  last: 0,
  /** Leaf node, offset in it, its end and range (node walks only). */
  node: 0,
  off: 0,
  end: 0,
  nmin: 0,
  nmax: 0
};
function range_walk(mt, index) {
  const a = mt.arena;
  const w = mt.wide;
  let n = mt.ma_root;
  let min = 0;
  let max = ULONG_MAX3;
  for (; ; ) {
    const base = n * NODE_WORDS3;
    const t2 = a[base] & 3;
    const end = a[base] >> 2 & 15;
    const pb = base + PIV2;
    let o = 0;
    if (typeof index === "number") while (o < end && a[pb + o] < index) o++;
    else o = key_offset(a, w, pb, end, index);
    let lo = min;
    if (o > 0) {
      const v = a[pb + o - 1];
      const x = v > MAX_SAFE4 && v !== Infinity ? w[pb + o - 1] : v;
      lo = typeof x === "number" && x < MAX_SAFE4 ? x + 1 : ul_inc(x);
    }
    let hi = max;
    if (o < end) {
      const v = a[pb + o];
      hi = v > MAX_SAFE4 && v !== Infinity ? w[pb + o] : v;
    }
    const sw = base + (t2 === 3 ? 10 : 16) + o;
    if (t2 === 1) {
      const v = a[sw];
      const s2 = v > MAX_SAFE4 && v !== Infinity ? w[sw] : v;
      RW.entry = s2;
      RW.first = lo;
      RW.last = hi;
      RW.node = n;
      RW.off = o;
      RW.end = end;
      RW.nmin = min;
      RW.nmax = max;
      return s2;
    }
    n = a[sw];
    min = lo;
    max = hi;
  }
}
function rw_next_in_leaf(mt) {
  if (RW.off >= RW.end) return false;
  const a = mt.arena;
  const base = RW.node * NODE_WORDS3;
  const o = ++RW.off;
  const l2 = RW.last;
  RW.first = typeof l2 === "number" && l2 < MAX_SAFE4 ? l2 + 1 : ul_inc(l2);
  if (o < RW.end) {
    const v = a[base + PIV2 + o];
    RW.last = v > MAX_SAFE4 && v !== Infinity ? mt.wide[base + PIV2 + o] : v;
  } else {
    RW.last = RW.nmax;
  }
  const e = a[base + 16 + o];
  RW.entry = e > MAX_SAFE4 && e !== Infinity ? mt.wide[base + 16 + o] : e;
  return true;
}

// src/core/maple/rebalance.ts
var NODE_WORDS4 = 32;
var PIV3 = 1;
var ULONG_MAX4 = Infinity;
var maple_arange_643 = 3;
var maple_leaf_642 = 1;
var consumed = new Int32Array(256);
var n_consumed = 0;
var dropped = new Int32Array(256);
var n_dropped = 0;
var level_consumed = 0;
function consumed_reset() {
  n_consumed = 0;
  n_dropped = 0;
  level_consumed = 0;
}
function consume(n) {
  consumed[n_consumed++] = n;
}
function drop2(n) {
  if (n_dropped === dropped.length) {
    const next = new Int32Array(dropped.length * 2);
    next.set(dropped);
    dropped = next;
  }
  dropped[n_dropped++] = n;
}
var NEWN = new Int32Array(3);
var NEWMIN = [0, 0, 0];
var NEWMAX = [0, 0, 0];
var DEAD = 1 << 10;
function destroy(mt, x) {
  const a = mt.arena;
  const meta = a[x * NODE_WORDS4];
  if (meta & DEAD) return;
  const t2 = meta & 3;
  if (t2 !== maple_leaf_642) {
    const end = meta >> 2 & 15;
    const sb = x * NODE_WORDS4 + slot_base(t2);
    for (let i = 0; i <= end; i++) destroy(mt, a[sb + i]);
  }
  node_free(mt, x);
}
function dispose(mt, old_root) {
  const a = mt.arena;
  for (let i = 0; i < n_consumed; i++) {
    const base = consumed[i] * NODE_WORDS4;
    a[base] = a[base] | DEAD;
  }
  if (old_root !== 0) destroy(mt, old_root);
  for (let i = 0; i < n_dropped; i++) destroy(mt, dropped[i]);
  for (let i = 0; i < n_consumed; i++) {
    const c = consumed[i];
    if (a[c * NODE_WORDS4] & DEAD) node_free(mt, c);
  }
  consumed_reset();
}
function finish_root(mt, root2, height) {
  const old = mt.ma_root;
  dispose(mt, old);
  mt.ma_root = root2;
  mt.root_is_node = true;
  set_height(mt, height);
}
function pull(mt, lvl) {
  const a = mt.arena;
  for (let u = lvl - 1; u >= 0; u--) {
    if (RP.off[u] < nend(a, RP.node[u])) {
      path_walk(mt, ul_inc(RP.max[lvl]), RP, lvl);
      const n = RP.node[lvl];
      trace_queue("rebalance", MAPLE_TYPE_NAMES[ntype(a, n)], bn.n);
      bn_copy(mt, n, RP.max[lvl], 0, nend(a, n));
      consume(n);
      level_consumed++;
      return true;
    }
    if (LP.off[u] !== 0) {
      path_walk(mt, ul_dec(LP.min[lvl]), LP, lvl);
      const n = LP.node[lvl];
      trace_queue("rebalance", MAPLE_TYPE_NAMES[ntype(a, n)], bn.n);
      bn_prepend_node(mt, n, LP.max[lvl]);
      consume(n);
      level_consumed++;
      return true;
    }
  }
  return false;
}
function build_parent(mt, lvl, k) {
  const a = mt.arena;
  const pl = lvl - 1;
  const lp = LP.node[pl];
  const loff = LP.off[pl];
  const rp = RP.node[pl];
  const roff = RP.off[pl];
  const ptype = ntype(a, lp);
  bn_reset(ptype);
  if (loff > 0) bn_copy(mt, lp, LP.max[pl], 0, loff - 1);
  const gaps = ptype === maple_arange_643;
  for (let j = 0; j < k; j++) {
    bn_push(NEWMAX[j], NEWN[j], gaps ? node_max_gap(mt, NEWN[j], NEWMIN[j], NEWMAX[j]) : 0);
  }
  const rend = nend(a, rp);
  if (roff < rend) bn_copy(mt, rp, RP.max[pl], roff + 1, rend);
  const lsb = lp * NODE_WORDS4 + slot_base(ptype);
  const rsb = rp * NODE_WORDS4 + slot_base(ptype);
  if (lp === rp) {
    for (let i = loff + 1; i < roff; i++) drop2(a[lsb + i]);
  } else {
    const lend = nend(a, lp);
    for (let i = loff + 1; i <= lend; i++) drop2(a[lsb + i]);
    for (let i = 0; i < roff; i++) drop2(a[rsb + i]);
  }
  consume(lp);
  level_consumed = 1;
  if (rp !== lp) {
    consume(rp);
    level_consumed = 2;
  }
}
function bn_to_nodes(mt, type, lo, hi) {
  const b_end = bn.n - 1;
  if (b_end < MT_SLOTS[type]) {
    NEWN[0] = node_from_bn(mt, type, 0, b_end, hi);
    NEWMIN[0] = lo;
    NEWMAX[0] = hi;
    return 1;
  }
  calc_split(type, lo);
  const split = SPLIT.split;
  const mid = SPLIT.mid;
  trace_queue("split", MAPLE_TYPE_NAMES[type], bn.n);
  NEWN[0] = node_from_bn(mt, type, 0, split, bn.piv[split]);
  NEWMIN[0] = lo;
  NEWMAX[0] = bn.piv[split];
  if (mid) {
    NEWN[1] = node_from_bn(mt, type, split + 1, mid, bn.piv[mid]);
    NEWMIN[1] = ul_inc(bn.piv[split]);
    NEWMAX[1] = bn.piv[mid];
    NEWN[2] = node_from_bn(mt, type, mid + 1, b_end, hi);
    NEWMIN[2] = ul_inc(bn.piv[mid]);
    NEWMAX[2] = hi;
    return 3;
  }
  NEWN[1] = node_from_bn(mt, type, split + 1, b_end, hi);
  NEWMIN[1] = ul_inc(bn.piv[split]);
  NEWMAX[1] = hi;
  return 2;
}
function rebuild(mt, lvl, ln, rn) {
  const H2 = mt.height;
  consume(ln);
  level_consumed = 1;
  if (rn !== ln) {
    consume(rn);
    level_consumed = 2;
  }
  {
    const t0 = ntype(mt.arena, LP.node[lvl]);
    if (!(LP.min[lvl] === 0 && RP.max[lvl] === ULONG_MAX4) && bn.n <= MT_MIN_SLOTS[t0]) pull(mt, lvl);
  }
  for (; ; ) {
    const type = ntype(mt.arena, LP.node[lvl]);
    const lo = LP.min[lvl];
    const hi = RP.max[lvl];
    bn.type = type;
    const k = bn_to_nodes(mt, type, lo, hi);
    if (level_consumed > k) trace_queue("merge", MAPLE_TYPE_NAMES[type], bn.n);
    if (k === 1 && lo === 0 && hi === ULONG_MAX4) {
      finish_root(mt, NEWN[0], H2 - lvl);
      return;
    }
    if (lvl === 0) {
      const it = internal_type(mt);
      const gaps = it === maple_arange_643;
      const a = mt.arena;
      bn_reset(it);
      for (let j = 0; j < k; j++) {
        bn_push(NEWMAX[j], NEWN[j], gaps ? node_max_gap(mt, NEWN[j], NEWMIN[j], NEWMAX[j]) : 0);
      }
      finish_root(mt, node_from_bn(mt, it, 0, k - 1, ULONG_MAX4), H2 + 1);
      return;
    }
    build_parent(mt, lvl, k);
    lvl--;
    const pt = ntype(mt.arena, LP.node[lvl]);
    if (bn.n > MT_MIN_SLOTS[pt]) continue;
    if (lvl === 0) {
      finish_root(mt, node_from_bn(mt, pt, 0, bn.n - 1, ULONG_MAX4), H2);
      return;
    }
    pull(mt, lvl);
  }
}
function do_rebalance(mt, D) {
  const a = mt.arena;
  consumed_reset();
  path_copy(RP, LP, D);
  const P = LP.node[D - 1];
  const off = LP.off[D - 1];
  const pend = nend(a, P);
  const pt = ntype(a, P);
  const sb = P * NODE_WORDS4 + slot_base(pt);
  const leaf = LP.node[D];
  trace_queue("rebalance", MAPLE_TYPE_NAMES[maple_leaf_642], bn.n);
  if (off < pend) {
    const sib = a[sb + off + 1];
    const smax = off + 1 < pend ? rd(a, mt.wide, P * NODE_WORDS4 + PIV3 + off + 1) : LP.max[D - 1];
    bn_copy(mt, sib, smax, 0, nend(a, sib));
    RP.node[D] = sib;
    RP.off[D - 1] = off + 1;
    RP.min[D] = ul_inc(LP.max[D]);
    RP.max[D] = smax;
    rebuild(mt, D, leaf, sib);
  } else {
    const sib = a[sb + off - 1];
    const smin = off - 1 > 0 ? ul_inc(rd(a, mt.wide, P * NODE_WORDS4 + PIV3 + off - 2)) : LP.min[D - 1];
    const smax = ul_dec(LP.min[D]);
    bn_prepend_node(mt, sib, smax);
    LP.node[D] = sib;
    LP.off[D - 1] = off - 1;
    LP.min[D] = smin;
    LP.max[D] = smax;
    rebuild(mt, D, sib, leaf);
  }
}

// src/core/maple/split.ts
var NODE_WORDS5 = 32;
var PIV4 = 1;
var ULONG_MAX5 = Infinity;
var maple_arange_644 = 3;
var maple_leaf_643 = 1;
function final_replace(mt, lvl, n) {
  if (lvl === 0) {
    dispose(mt, 0);
    mt.ma_root = n;
    return;
  }
  const a = mt.arena;
  const p2 = LP.node[lvl - 1];
  a[p2 * NODE_WORDS5 + slot_base(ntype(a, p2)) + LP.off[lvl - 1]] = n;
  LP.node[lvl] = n;
  dispose(mt, 0);
  update_gap(mt, LP.node, LP.off, LP.min, LP.max, lvl);
}
function gap_of(mt, n, lo, hi, type) {
  return type === maple_arange_644 ? node_max_gap(mt, n, lo, hi) : 0;
}
function try_push(mt, lvl, left) {
  const a = mt.arena;
  const pl = lvl - 1;
  const P = LP.node[pl];
  const off = LP.off[pl];
  const pend = nend(a, P);
  const ptype = ntype(a, P);
  const psb = P * NODE_WORDS5 + slot_base(ptype);
  let sib;
  let smin;
  let smax;
  if (left) {
    if (off === 0) return false;
    sib = a[psb + off - 1];
    smax = ul_dec(LP.min[lvl]);
    smin = off - 1 > 0 ? ul_inc(rd(a, mt.wide, P * NODE_WORDS5 + PIV4 + off - 2)) : LP.min[pl];
  } else {
    if (off >= pend) return false;
    sib = a[psb + off + 1];
    smin = ul_inc(LP.max[lvl]);
    smax = off + 1 < pend ? rd(a, mt.wide, P * NODE_WORDS5 + PIV4 + off + 1) : LP.max[pl];
  }
  const type = bn.type;
  const sib_end = nend(a, sib);
  const slot_total = bn.n - 1 + sib_end;
  let space = 2 * MT_SLOTS[type] - 2;
  if (type === maple_leaf_643) space--;
  if (LP.max[lvl] === ULONG_MAX5) space--;
  if (slot_total >= space) return false;
  let split;
  if (left) {
    bn_prepend_node(mt, sib, smax);
    split = no_null_split(MT_SLOTS[type] - 2, type, bn.n - 1);
  } else {
    bn_copy(mt, sib, smax, 0, sib_end);
    split = no_null_split(slot_total - (MT_SLOTS[type] - 2), type, bn.n);
  }
  trace_queue("split", MAPLE_TYPE_NAMES[type], bn.n);
  const lo = left ? smin : LP.min[lvl];
  const hi = left ? LP.max[lvl] : smax;
  const lmax = bn.piv[split];
  const l2 = node_from_bn(mt, type, 0, split, lmax);
  const r2 = node_from_bn(mt, type, split + 1, bn.n - 1, hi);
  consume(sib);
  const lpos = left ? off - 1 : off;
  bn_reset(ptype);
  if (lpos > 0) bn_copy(mt, P, LP.max[pl], 0, lpos - 1);
  bn_push(lmax, l2, gap_of(mt, l2, lo, lmax, ptype));
  bn_push(hi, r2, gap_of(mt, r2, ul_inc(lmax), hi, ptype));
  if (lpos + 1 < pend) bn_copy(mt, P, LP.max[pl], lpos + 2, pend);
  consume(P);
  final_replace(mt, pl, node_from_bn(mt, ptype, 0, bn.n - 1, LP.max[pl]));
  return true;
}
function do_split(mt, D) {
  consumed_reset();
  consume(LP.node[D]);
  let lvl = D;
  let prev_min = 0;
  for (; ; ) {
    const type = bn.type;
    if (lvl > 0 && (try_push(mt, lvl, true) || try_push(mt, lvl, false))) return;
    calc_split(type, prev_min);
    const split = SPLIT.split;
    trace_queue("split", MAPLE_TYPE_NAMES[type], bn.n);
    const lo = LP.min[lvl];
    const hi = LP.max[lvl];
    const lmax = bn.piv[split];
    const l2 = node_from_bn(mt, type, 0, split, lmax);
    const r2 = node_from_bn(mt, type, split + 1, bn.n - 1, hi);
    if (lvl === 0) {
      const it = internal_type(mt);
      bn_reset(it);
      bn_push(lmax, l2, gap_of(mt, l2, lo, lmax, it));
      bn_push(hi, r2, gap_of(mt, r2, ul_inc(lmax), hi, it));
      const root2 = node_from_bn(mt, it, 0, 1, ULONG_MAX5);
      dispose(mt, 0);
      mt.ma_root = root2;
      set_height(mt, mt.height + 1);
      return;
    }
    const pl = lvl - 1;
    const a = mt.arena;
    const P = LP.node[pl];
    const off = LP.off[pl];
    const pend = nend(a, P);
    const ptype = ntype(a, P);
    bn_reset(ptype);
    if (off > 0) bn_copy(mt, P, LP.max[pl], 0, off - 1);
    bn_push(lmax, l2, gap_of(mt, l2, lo, lmax, ptype));
    bn_push(hi, r2, gap_of(mt, r2, ul_inc(lmax), hi, ptype));
    if (off < pend) bn_copy(mt, P, LP.max[pl], off + 1, pend);
    consume(P);
    prev_min = lo;
    lvl = pl;
    if (bn.n <= MT_SLOTS[ptype]) {
      final_replace(mt, lvl, node_from_bn(mt, ptype, 0, bn.n - 1, LP.max[lvl]));
      return;
    }
  }
}

// src/core/maple/store.ts
var NODE_WORDS6 = 32;
var PIV5 = 1;
var ULONG_MAX6 = Infinity;
var MAX_SAFE5 = 9007199254740991;
var maple_leaf_644 = 1;
var WS = {
  type: 0 /* invalid */,
  /** Depth of the leaf (or of the node where a spanning write was found). */
  d: 0,
  index: 0,
  last: 0,
  off: 0,
  end: 0,
  r_min: 0,
  r_max: 0,
  offset_end: 0,
  end_piv: 0,
  content: 0
};
var WR = { content: 0, index: 0, last: 0 };
function wr_prepare(mt, index, last, entry) {
  WS.index = index;
  WS.last = last;
  if (!mt.root_is_node) {
    WS.type = 2 /* store_root */;
    WS.content = index === 0 ? mt.ma_root : 0;
    return;
  }
  const a = mt.arena;
  const w = mt.wide;
  let n = mt.ma_root;
  let min = 0;
  let max = ULONG_MAX6;
  for (let d = 0; ; d++) {
    const base = n * NODE_WORDS6;
    const t2 = a[base] & 3;
    const end = a[base] >> 2 & 15;
    let o = 0;
    if (typeof index === "number") while (o < end && a[base + PIV5 + o] < index) o++;
    else o = key_offset(a, w, base + PIV5, end, index);
    let r_min = min;
    if (o > 0) {
      const v = a[base + PIV5 + o - 1];
      const x = v > MAX_SAFE5 && v !== Infinity ? w[base + PIV5 + o - 1] : v;
      r_min = typeof x === "number" && x < MAX_SAFE5 ? x + 1 : ul_inc(x);
    }
    let r_max = max;
    if (o < end) {
      const v = a[base + PIV5 + o];
      r_max = v > MAX_SAFE5 && v !== Infinity ? w[base + PIV5 + o] : v;
    }
    LP.node[d] = n;
    LP.off[d] = o;
    LP.min[d] = min;
    LP.max[d] = max;
    const leaf = t2 === maple_leaf_644;
    let span = false;
    if (last >= r_max) {
      const m = leaf ? max : r_max;
      if (last > m) span = true;
      else if (last === m) span = entry === 0 && last !== ULONG_MAX6;
    }
    if (span) {
      WS.type = 7 /* spanning_store */;
      WS.d = d;
      WS.content = 0;
      return;
    }
    const sw = base + (t2 === 3 ? 10 : 16) + o;
    if (leaf) {
      WS.d = d;
      WS.off = o;
      WS.end = end;
      WS.r_min = r_min;
      WS.r_max = r_max;
      const v = a[sw];
      WS.content = v > MAX_SAFE5 && v !== Infinity ? w[sw] : v;
      leaf_store_type(mt, entry);
      return;
    }
    n = a[sw];
    min = r_min;
    max = r_max;
  }
}
function leaf_store_type(mt, entry) {
  const a = mt.arena;
  const w = mt.wide;
  const d = WS.d;
  const base = LP.node[d] * NODE_WORDS6;
  const nmin = LP.min[d];
  const nmax = LP.max[d];
  const end = WS.end;
  let index = WS.index;
  let last = WS.last;
  let off = WS.off;
  let offset_end = off;
  if (typeof last === "number") {
    while (offset_end < end && last > a[base + PIV5 + offset_end]) offset_end++;
  } else {
    while (offset_end < end && last > rd(a, w, base + PIV5 + offset_end)) offset_end++;
  }
  let end_piv = nmax;
  if (offset_end < end) {
    const v = a[base + PIV5 + offset_end];
    end_piv = v > MAX_SAFE5 && v !== Infinity ? w[base + PIV5 + offset_end] : v;
  }
  let r_min = WS.r_min;
  let r_max = WS.r_max;
  if (entry === 0) {
    if (a[base + 16 + offset_end] === 0) {
      last = end_piv;
    } else if (last === end_piv && end !== offset_end && a[base + 16 + offset_end + 1] === 0) {
      offset_end++;
      last = offset_end === end ? nmax : rd(a, w, base + PIV5 + offset_end);
      end_piv = last;
    }
    if (WS.content === 0) {
      index = r_min;
    } else if (index === r_min && off > 0 && a[base + 16 + off - 1] === 0) {
      off--;
      r_min = index = off > 0 ? ul_inc(rd(a, w, base + PIV5 + off - 1)) : nmin;
      r_max = rd(a, w, base + PIV5 + off);
    }
  }
  WS.index = index;
  WS.last = last;
  WS.off = off;
  WS.offset_end = offset_end;
  WS.end_piv = end_piv;
  WS.r_min = r_min;
  WS.r_max = r_max;
  if (r_min === index && r_max === last) {
    WS.type = 3 /* exact_fit */;
    return;
  }
  if (index === 0 && last === ULONG_MAX6) {
    WS.type = 1 /* new_root */;
    return;
  }
  const new_end = end + 2 - (offset_end - off) - (r_min === index ? 1 : 0) - (end_piv === last ? 1 : 0);
  const rcu = mt_in_rcu(mt);
  if (new_end < 6) {
    WS.type = d !== 0 ? 9 /* rebalance */ : 6 /* node_store */;
  } else if (new_end >= 16) {
    WS.type = 8 /* split_store */;
  } else if (!rcu && off === end) {
    WS.type = 4 /* append */;
  } else if (new_end === end && (!rcu || offset_end - off === 1)) {
    WS.type = 5 /* slot_store */;
  } else {
    WS.type = 6 /* node_store */;
  }
}
function prealloc_calc(mt, entry) {
  const h = mt.height;
  switch (WS.type) {
    case 1 /* new_root */:
      return 1;
    case 2 /* store_root */:
      if (WS.last !== 0 || WS.index !== 0) return 1;
      return ul_low2(entry) === 2 ? 1 : 0;
    case 7 /* spanning_store */:
      return h * 3 + 1;
    case 8 /* split_store */:
      return h * 2 + 1;
    case 9 /* rebalance */:
      return h * 2 - 1;
    case 6 /* node_store */:
      return mt_in_rcu(mt) ? 1 : 0;
    default:
      return 0;
  }
}
function new_root(mt, entry) {
  const old = mt.root_is_node ? mt.ma_root : 0;
  if (entry === 0) {
    mt.ma_root = 0;
    mt.root_is_node = false;
    set_height(mt, 0);
  } else {
    const n = node_alloc(mt);
    aset(mt, n * NODE_WORDS6 + 16, entry);
    mt.arena[n * NODE_WORDS6 + PIV5] = ULONG_MAX6;
    set_meta(mt.arena, n, maple_leaf_644, 0, 0);
    mt.ma_root = n;
    mt.root_is_node = true;
    set_height(mt, 1);
  }
  if (old !== 0) subtree_free(mt, old);
}
function store_root(mt, index, last, entry) {
  if (entry === 0) {
    if (index === 0) mt.ma_root = 0;
    return;
  }
  if (last === 0 && index === 0 && ul_low2(entry) !== 2) {
    mt.ma_root = entry;
    return;
  }
  const contents = mt.ma_root;
  const n = node_alloc(mt);
  const base = n * NODE_WORDS6;
  let slot = 0;
  if (index !== 0) {
    if (contents !== 0) {
      aset(mt, base + 16, contents);
      if (index > 1) slot++;
    }
    aset(mt, base + PIV5 + slot++, ul_dec(index));
  }
  aset(mt, base + 16 + slot, entry);
  aset(mt, base + PIV5 + slot, last);
  if (last !== ULONG_MAX6) mt.arena[base + PIV5 + ++slot] = ULONG_MAX6;
  set_meta(mt.arena, n, maple_leaf_644, slot, 0);
  mt.ma_root = n;
  mt.root_is_node = true;
  set_height(mt, 1);
}
function leaf_bn(mt, entry) {
  const a = mt.arena;
  const w = mt.wide;
  const d = WS.d;
  const n = LP.node[d];
  const base = n * NODE_WORDS6;
  const nmax = LP.max[d];
  const off = WS.off;
  bn_reset(maple_leaf_644);
  if (off > 0) bn_copy(mt, n, nmax, 0, off - 1);
  if (WS.r_min < WS.index) {
    const i = WS.index;
    const v = a[base + 16 + off];
    bn_push(typeof i === "number" && i > 0 && i !== Infinity ? i - 1 : ul_dec(i), v > MAX_SAFE5 && v !== Infinity ? w[base + 16 + off] : v, 0);
  }
  bn_push(WS.last, entry, 0);
  if (WS.last >= nmax) return;
  const oe = WS.offset_end;
  let piv = nmax;
  if (oe < WS.end) {
    const v = a[base + PIV5 + oe];
    piv = v > MAX_SAFE5 && v !== Infinity ? w[base + PIV5 + oe] : v;
  }
  if (piv > WS.last) {
    const v = a[base + 16 + oe];
    bn_push(piv, v > MAX_SAFE5 && v !== Infinity ? w[base + 16 + oe] : v, 0);
  }
  if (oe + 1 <= WS.end) bn_copy(mt, n, nmax, oe + 1, WS.end);
}
function wr_append(mt, entry) {
  const a = mt.arena;
  const d = WS.d;
  const base = LP.node[d] * NODE_WORDS6;
  const end = WS.end;
  const new_end = end + 2 - (WS.r_min === WS.index ? 1 : 0) - (WS.end_piv === WS.last ? 1 : 0);
  const P = base + PIV5;
  const S2 = base + 16;
  const content = rd(a, mt.wide, S2 + end);
  if (new_end < 15) aset(mt, P + new_end, end < 15 ? rd(a, mt.wide, P + end) : LP.max[d]);
  if (new_end === end + 1) {
    if (WS.last === WS.r_max) {
      aset(mt, S2 + new_end, entry);
      aset(mt, P + end, ul_dec(WS.index));
    } else {
      aset(mt, S2 + new_end, content);
      aset(mt, P + end, WS.last);
      aset(mt, S2 + end, entry);
    }
  } else {
    aset(mt, S2 + new_end, content);
    aset(mt, P + end + 1, WS.last);
    aset(mt, S2 + end + 1, entry);
    aset(mt, P + end, ul_dec(WS.index));
  }
  set_meta(a, LP.node[d], maple_leaf_644, new_end, 0);
}
function wr_slot_store(mt, entry) {
  const a = mt.arena;
  const base = LP.node[WS.d] * NODE_WORDS6;
  const off = WS.off;
  const P = base + PIV5;
  const S2 = base + 16;
  let gap = a[S2 + off] === 0 || a[S2 + off + 1] === 0;
  if (WS.offset_end - off === 1) {
    if (WS.index === WS.r_min) {
      aset(mt, S2 + off, entry);
      aset(mt, P + off, WS.last);
    } else {
      aset(mt, S2 + off + 1, entry);
      aset(mt, P + off, ul_dec(WS.index));
    }
  } else {
    if (a[S2 + off + 2] === 0) gap = true;
    aset(mt, S2 + off + 1, entry);
    aset(mt, P + off, ul_dec(WS.index));
    aset(mt, P + off + 1, WS.last);
  }
  return gap;
}
function wr_execute(mt, entry) {
  const d = WS.d;
  switch (WS.type) {
    case 2 /* store_root */:
      store_root(mt, WS.index, WS.last, entry);
      return;
    case 1 /* new_root */:
      new_root(mt, entry);
      return;
    case 3 /* exact_fit */: {
      aset(mt, LP.node[d] * NODE_WORDS6 + 16 + WS.off, entry);
      if (entry === 0 !== (WS.content === 0)) update_gap(mt, LP.node, LP.off, LP.min, LP.max, d);
      return;
    }
    case 4 /* append */:
      wr_append(mt, entry);
      if (WS.content === 0 || entry === 0) update_gap(mt, LP.node, LP.off, LP.min, LP.max, d);
      return;
    case 5 /* slot_store */:
      if (wr_slot_store(mt, entry) || entry === 0) update_gap(mt, LP.node, LP.off, LP.min, LP.max, d);
      return;
    case 6 /* node_store */: {
      leaf_bn(mt, entry);
      if (WS.type === 6 /* node_store */ && mt_in_rcu(mt)) {
        const old = LP.node[d];
        const n = node_alloc(mt);
        leaf_write_bn(mt, n, LP.max[d]);
        if (d === 0) mt.ma_root = n;
        else {
          const p2 = LP.node[d - 1];
          mt.arena[p2 * NODE_WORDS6 + ((mt.arena[p2 * NODE_WORDS6] & 3) === 3 ? 10 : 16) + LP.off[d - 1]] = n;
        }
        LP.node[d] = n;
        node_free(mt, old);
      } else {
        leaf_write_bn(mt, LP.node[d], LP.max[d]);
      }
      update_gap(mt, LP.node, LP.off, LP.min, LP.max, d);
      return;
    }
    case 8 /* split_store */:
      leaf_bn(mt, entry);
      do_split(mt, d);
      return;
    case 9 /* rebalance */:
      leaf_bn(mt, entry);
      do_rebalance(mt, d);
      return;
    case 7 /* spanning_store */:
      spanning_store(mt, entry);
      return;
    default:
      throw new Error("maple: invalid store type");
  }
}
function spanning_store(mt, entry) {
  let index = WS.index;
  let last = WS.last;
  if (index === 0 && last === ULONG_MAX6) {
    new_root(mt, entry);
    return;
  }
  const D = mt.height - 1;
  const smax = LP.max[WS.d];
  const rkey = last === ULONG_MAX6 || last === smax ? last : ul_inc(last);
  path_walk(mt, index, LP, D);
  path_walk(mt, rkey, RP, D);
  const a = mt.arena;
  const w = mt.wide;
  const ln = LP.node[D];
  const lb = ln * NODE_WORDS6;
  const rn = RP.node[D];
  const rb = rn * NODE_WORDS6;
  const lmin = LP.min[D];
  const lmax = LP.max[D];
  const rmax = RP.max[D];
  const rend = a[rb] >> 2 & 15;
  let loff = LP.off[D];
  let roff = RP.off[D];
  const lcontent = rd(a, w, lb + 16 + loff);
  const rcontent = rd(a, w, rb + 16 + roff);
  let l_rmin = loff > 0 ? ul_inc(rd(a, w, lb + PIV5 + loff - 1)) : lmin;
  const r_rmax = roff < rend ? rd(a, w, rb + PIV5 + roff) : rmax;
  if (entry === 0) {
    if (lcontent === 0) index = l_rmin;
    if (index === l_rmin && loff > 0 && a[lb + 16 + loff - 1] === 0) {
      loff--;
      index = l_rmin = loff > 0 ? ul_inc(rd(a, w, lb + PIV5 + loff - 1)) : lmin;
    }
    if (rcontent === 0) {
      if (last < r_rmax) last = r_rmax;
      roff++;
    } else if (last === r_rmax && last < rmax && a[rb + 16 + roff + 1] === 0) {
      last = roff + 1 < rend ? rd(a, w, rb + PIV5 + roff + 1) : rmax;
      roff++;
    }
  }
  WS.index = index;
  WS.last = last;
  if (index === 0 && last === ULONG_MAX6) {
    new_root(mt, entry);
    return;
  }
  bn_reset(maple_leaf_644);
  if (loff > 0) bn_copy(mt, ln, lmax, 0, loff - 1);
  if (l_rmin < index) bn_push(ul_dec(index), lcontent, 0);
  bn_push(last, entry, 0);
  if (last < lmax) {
    throw new Error("maple: spanning store inside one leaf");
  }
  if (rmax > last && roff <= rend) bn_copy(mt, rn, rmax, roff, rend);
  consumed_reset();
  rebuild(mt, D, ln, rn);
}
function mas_store_core(mt, index, last, entry, gfp, insert) {
  wr_prepare(mt, index, last, entry);
  WR.content = WS.type === 7 /* spanning_store */ ? range_walk(mt, index) : WS.content;
  WR.index = WS.index;
  WR.last = WS.last;
  if (insert && WS.type === 2 /* store_root */ && WS.content !== 0) return -EEXIST;
  const req = prealloc_calc(mt, entry);
  if (req > 0 && alloc_hooked()) {
    if (alloc_would_fail(mt, req, gfp)) return -ENOMEM2;
    wr_prepare(mt, index, last, entry);
  }
  if (insert && insert_exists(mt)) return -EEXIST;
  arena_reserve(mt, 3 * (mt.height + 2));
  wr_execute(mt, entry);
  WR.index = WS.index;
  WR.last = WS.last;
  note_write(mt);
  trace_flush();
  return 0;
}
function insert_exists(mt) {
  switch (WS.type) {
    case 2 /* store_root */:
      return WS.content !== 0;
    case 7 /* spanning_store */:
      return true;
    case 1 /* new_root */: {
      const a = mt.arena;
      const base = LP.node[WS.d] * NODE_WORDS6;
      for (let i = 0; i <= WS.end; i++) if (a[base + 16 + i] !== 0) return true;
      return false;
    }
    default:
      return WS.content !== 0 || WS.last > WS.r_max;
  }
}

// src/core/maple/state.ts
var NODE_WORDS7 = 32;
var ULONG_MAX7 = Infinity;
var MAX_SAFE6 = 9007199254740991;
function MA_STATE(mt, first, last) {
  return { tree: mt, index: ul(first) ?? first, last: ul(last) ?? last, status: "start", error: 0, node: 0, min: 0, max: ULONG_MAX7, offset: 0, end: 0 };
}
function mas_walk(mas) {
  const mt = mas.tree;
  mas.status = "start";
  if (!mt.root_is_node) {
    if (mt.ma_root === 0) {
      mas.status = "none";
      mas.index = 0;
      mas.last = ULONG_MAX7;
      return 0;
    }
    if (mas.index === 0) {
      mas.status = "root";
      mas.last = 0;
      return mt.ma_root;
    }
    mas.index = 1;
    mas.last = ULONG_MAX7;
    mas.status = "none";
    return 0;
  }
  mas.status = "active";
  const index = mas.index;
  if (mt.wide === null && typeof index === "number") {
    const a2 = mt.arena;
    let n2 = mt.ma_root;
    let min2 = 0;
    let max2 = ULONG_MAX7;
    for (; ; ) {
      const base = n2 * NODE_WORDS7;
      const meta = a2[base];
      const end = meta >> 2 & 15;
      let o = 0;
      while (o < end && a2[base + 1 + o] < index) o++;
      const lo = o > 0 ? a2[base + o] + 1 : min2;
      const hi = o < end ? a2[base + 1 + o] : max2;
      const s2 = a2[base + ((meta & 3) === 3 ? 10 : 16) + o];
      if ((meta & 3) === 1) {
        mas.index = lo;
        mas.last = hi;
        mas.node = n2;
        mas.min = min2;
        mas.max = max2;
        mas.offset = o;
        mas.end = end;
        return s2;
      }
      n2 = s2;
      min2 = lo;
      max2 = hi;
    }
  }
  const a = mt.arena;
  const w = mt.wide;
  let n = mt.ma_root;
  let min = 0;
  let max = ULONG_MAX7;
  for (; ; ) {
    const base = n * NODE_WORDS7;
    const meta = a[base];
    const t2 = meta & 3;
    const end = meta >> 2 & 15;
    let o = 0;
    if (typeof index === "number") while (o < end && a[base + 1 + o] < index) o++;
    else o = key_offset(a, w, base + 1, end, index);
    let lo = min;
    if (o > 0) {
      const v = a[base + o];
      const x = v > MAX_SAFE6 && v !== Infinity ? w[base + o] : v;
      lo = typeof x === "number" && x < MAX_SAFE6 ? x + 1 : ul_inc(x);
    }
    let hi = max;
    if (o < end) {
      const v = a[base + 1 + o];
      hi = v > MAX_SAFE6 && v !== Infinity ? w[base + 1 + o] : v;
    }
    const sw = base + (t2 === 3 ? 10 : 16) + o;
    if (t2 === 1) {
      const v = a[sw];
      const s2 = v > MAX_SAFE6 && v !== Infinity ? w[sw] : v;
      mas.index = lo;
      mas.last = hi;
      mas.node = n;
      mas.min = min;
      mas.max = max;
      mas.offset = o;
      mas.end = end;
      return s2;
    }
    n = a[sw];
    min = lo;
    max = hi;
  }
}
function after_write(mas) {
  mas.index = WR.index;
  mas.last = WR.last;
  mas.status = mas.tree.root_is_node ? "active" : "start";
  mas.node = 0;
}
function mas_erase(mas) {
  const i = ul(mas.index);
  if (i === null) return 0;
  mas.index = i;
  const entry = mas_walk(mas);
  if (!entry) return 0;
  const ret2 = mas_store_core(mas.tree, mas.index, mas.last, 0, GFP_KERNEL, false);
  if (ret2) {
    mas.status = "error";
    mas.error = ret2;
    return entry;
  }
  after_write(mas);
  return entry;
}

// src/core/maple/api.ts
var ULONG_MAX8 = Infinity;
var XA_ZERO_ENTRY2 = 1030;
var MAX_SAFE7 = 9007199254740991;
var CR = { first: 0, last: 0, entry: 0 };
function check_range(first, last, entry) {
  const f = typeof first === "number" && first >= 0 && first <= MAX_SAFE7 && Math.floor(first) === first ? first : ul(first);
  const l2 = typeof last === "number" && (last >= 0 && last <= MAX_SAFE7 && Math.floor(last) === last || last === Infinity) ? last : ul(last);
  const e = typeof entry === "number" && entry >= 0 && entry <= MAX_SAFE7 && Math.floor(entry) === entry ? entry : ul(entry);
  if (f === null || l2 === null || e === null) return -EINVAL2;
  if (typeof e === "number" ? e <= 1026 && e % 4 === 2 : xa_is_advanced(e)) return -EINVAL2;
  if (f > l2) return -EINVAL2;
  CR.first = f;
  CR.last = l2;
  CR.entry = e;
  return 0;
}
function mtree_store_range(mt, first, last, entry, gfp = GFP_KERNEL) {
  const e = check_range(first, last, entry);
  if (e) return e;
  return mas_store_core(mt, CR.first, CR.last, CR.entry, gfp, false);
}
function mtree_erase(mt, index) {
  return mas_erase(MA_STATE(mt, index, index));
}
var MT_FOUND = { first: 0, last: 0 };
function mt_find(mt, index, max) {
  let start2 = index.value;
  if (typeof start2 !== "number" || start2 > MAX_SAFE7) {
    const s2 = ul(start2);
    if (s2 === null) return 0;
    start2 = s2;
  }
  if (start2 > max) return 0;
  if (!mt.root_is_node) {
    const r2 = mt.ma_root;
    if (start2 !== 0 || r2 === 0 || r2 === XA_ZERO_ENTRY2) return 0;
    MT_FOUND.first = 0;
    MT_FOUND.last = 0;
    index.value = 1;
    return r2;
  }
  range_walk(mt, start2);
  let e = RW.entry;
  while (e === 0 || e === XA_ZERO_ENTRY2) {
    if (RW.last >= max) return 0;
    if (!rw_next_in_leaf(mt)) range_walk(mt, ul_inc(RW.last));
    e = RW.entry;
  }
  MT_FOUND.first = RW.first;
  MT_FOUND.last = RW.last;
  index.value = ul_inc(RW.last);
  return e;
}
function mt_find_after(mt, index, max) {
  if (index.value === 0) return 0;
  return mt_find(mt, index, max);
}
function* mt_entries(mt, index = 0, max = ULONG_MAX8) {
  const ref = { value: index };
  let e = mt_find(mt, ref, max);
  while (e) {
    yield { first: MT_FOUND.first, last: MT_FOUND.last, entry: e };
    e = mt_find_after(mt, ref, max);
  }
}

// src/core/maple/sim.ts
var MT_ALLOC_FAIL = define_choice({
  name: "mt_alloc_fail",
  n: 2,
  description: "a GFP_NOWAIT maple-tree node allocation fails (-ENOMEM)",
  p_random: 0.05
});
function traced(w, t2, gfp, fn) {
  mt_set_alloc_fail_hook(gfp === GFP_NOWAIT ? () => choose(w, t2, MT_ALLOC_FAIL) === 1 : null);
  mt_set_trace_hook((ev) => emit(w, t2, "mt.node", { op: ev.op, type: ev.type, slots: ev.slots }));
  try {
    return fn();
  } finally {
    mt_set_alloc_fail_hook(null);
    mt_set_trace_hook(null);
  }
}
function sim_mtree_store_range(w, t2, mt, first, last, entry, gfp) {
  const overwritten = mtree_load(mt, first);
  const r2 = traced(w, t2, gfp, () => mtree_store_range(mt, first, last, entry, gfp));
  emit(w, t2, "mt.store", { first: ul_arg(first), last: ul_arg(last), entry: ul_arg(entry), overwritten: r2 === 0 ? ul_arg(overwritten) : 0 });
  return r2;
}
function sim_mtree_erase(w, t2, mt, index, range) {
  const entry = traced(w, t2, 0, () => mtree_erase(mt, index));
  emit(w, t2, "mt.erase", { index: ul_arg(index), range: [ul_arg(range[0]), ul_arg(range[1])], entry: ul_arg(entry) });
  return entry;
}
function sim_mt_ranges(mt, first, last) {
  return [...mt_entries(mt, first, last)];
}

// src/core/arm64/nested.ts
var UNMAP_ON_RECYCLE = define_variant({
  name: "nv.unmap_on_recycle",
  description: "get_s2_mmu_nested() unmaps a valid victim in full on the spot, as v6.11 did (kvm_stage2_unmap_range() always allowed to reschedule; c268f204f7c5 later moved the unmap to KVM_REQ_NESTED_S2_UNMAP): it runs from kvm_vcpu_load_hw_mmu() with the write lock held and preemption off (vcpu_load, kvm_sched_in, the nested ERET), so cond_resched_rwlock_write() sleeps in atomic context",
  source: 'reverts 3c164eb9464d "KVM: arm64: nv: Do not block when unmapping stage-2 if disallowed" (v6.12)',
  breaks: "sched.sleep_in_atomic",
  arch: "arm64"
});
var PUT_DROPS_REF = define_variant({
  name: "nv.put_drops_ref",
  description: "kvm_vcpu_put_hw_mmu() drops the reference and hw_mmu on every put, also when the vCPU is only scheduled out: a vCPU preempted in its KVM_REQ_NESTED_S2_UNMAP pass (at cond_resched_rwlock_write()) no longer pins the MMU, another vCPU recycles it again and marks it pending_unmap, and the resumed pass finishes and clears that flag although what was mapped behind its cursor meanwhile is still there",
  source: 'hypothetical: dropping the reference on every put is the code before 6ded46b5a4fd "KVM: arm64: nv: Keep reference on stage-2 MMU when scheduled out" (v6.12), but that code unmapped recycled MMUs inline and had no pending_unmap; on the request-based recycling of c268f204f7c5 it never existed. It shows why the reference must outlive a preempted unmap pass',
  breaks: "nv.pending_unmap_cleared_early",
  arch: "arm64"
});
var NO_UNMAP_REQUEST = define_variant({
  name: "nv.no_unmap_request",
  description: "get_s2_mmu_nested() marks a valid victim pending_unmap but makes no KVM_REQ_NESTED_S2_UNMAP request (neither for the recycler nor for a vCPU that later finds the MMU), so nobody unmaps it before entering the guest on it",
  source: 'hypothetical: c268f204f7c5 "KVM: arm64: nv: Punt stage-2 recycling to a vCPU request" (v6.12) without its request; never posted. It shows what the request, made by every vCPU that takes the MMU ("lend a hand"), guarantees',
  breaks: "nv.entry_with_pending_unmap",
  arch: "arm64"
});
function arch_vcpu(w, t2) {
  return arm64(w).vcpus[t2.vcpu];
}
function kvm_phys_size(w, _mmu) {
  return 2 ** arm64(w).ipa_bits;
}
function lookup_s2_mmu(w, t2) {
  lockdep_assert_held_write(w, t2, "mmu_lock");
  const v = arch_vcpu(w, t2);
  const vttbr = v.vttbr & ~VTTBR_CNP_BIT;
  for (const mmu of arm64(w).nested_mmus) {
    if (!kvm_s2_mmu_valid(mmu)) continue;
    if (v.hcr_vm && mmu.nested_stage2_enabled && vttbr === mmu.tlb_vttbr && v.vtcr === mmu.tlb_vtcr) return mmu;
    if (!v.hcr_vm && !mmu.nested_stage2_enabled && get_vmid(vttbr) === get_vmid(mmu.tlb_vttbr)) return mmu;
  }
  return null;
}
var get_s2_mmu_nested = model_fn("get_s2_mmu_nested", {
  lookup: (w, t2, l2) => {
    const a = arm64(w);
    const v = arch_vcpu(w, t2);
    const hit = lookup_s2_mmu(w, t2);
    emit(w, t2, "s2mmu.lookup", { vttbr: v.vttbr, vtcr: v.vtcr, s2_enabled: v.hcr_vm, hit: hit ? hit.index : -1 });
    if (hit) {
      l2.mmu = hit.index;
      return "out";
    }
    let victim = null;
    let i = a.nested_mmus_next;
    for (; i < a.nested_mmus_size + a.nested_mmus_next; i++) {
      victim = a.nested_mmus[i % a.nested_mmus_size];
      if (victim.refcnt === 0) break;
    }
    if (!victim || victim.refcnt !== 0) throw new Error("BUG_ON: get_s2_mmu_nested() found no shadow stage-2 with refcnt 0");
    a.nested_mmus_next = (i + 1) % a.nested_mmus_size;
    const was_valid = kvm_s2_mmu_valid(victim);
    a.nested_recycles[victim.index]++;
    metric_add(w, "nv_recycles");
    emit(w, t2, "s2mmu.recycle", { index: victim.index, victim_valid: was_valid, next_cursor: a.nested_mmus_next });
    l2.mmu = victim.index;
    if (was_valid && variant_on(w, UNMAP_ON_RECYCLE.name)) {
      return call("kvm_stage2_unmap_range", { mmu: victim.index, start: 0, size: kvm_phys_size(w, victim), may_block: true }, "assign");
    }
    if (was_valid) {
      victim.pending_unmap = true;
      metric_add(w, "nv_pending_unmaps");
      emit(w, t2, "pending_unmap.set", { index: victim.index });
    }
    return "assign";
  },
  assign: (w, t2, l2) => {
    const v = arch_vcpu(w, t2);
    const mmu = mmu_by_id(w, l2.mmu);
    mmu.tlb_vttbr = v.vttbr & ~VTTBR_CNP_BIT;
    mmu.tlb_vtcr = v.vtcr;
    mmu.nested_stage2_enabled = v.hcr_vm;
    emit(w, t2, "s2mmu.assign", { index: mmu.index, tlb_vttbr: mmu.tlb_vttbr, tlb_vtcr: mmu.tlb_vtcr, s2_enabled: mmu.nested_stage2_enabled });
    return "out";
  },
  // refcnt++; whoever set pending_unmap, this vCPU lends a hand before using it.
  out: (w, t2, l2) => {
    const mmu = mmu_by_id(w, l2.mmu);
    mmu.refcnt++;
    emit(w, t2, "s2mmu.ref", { index: mmu.index, refcnt: mmu.refcnt });
    if (mmu.pending_unmap && !variant_on(w, NO_UNMAP_REQUEST.name)) kvm_make_request(w, t2, KVM_REQ_ARM64.NESTED_S2_UNMAP, vcpu_of_thread(w, t2));
    return ret(t2, mmu.index);
  }
});
var kvm_vcpu_load_hw_mmu = model_fn("kvm_vcpu_load_hw_mmu", {
  start: (w, t2) => {
    const v = arch_vcpu(w, t2);
    if (v.ctxt === "vel2") {
      if (v.hw_mmu === null) v.hw_mmu = -1;
      return RETURN;
    }
    return v.hw_mmu === null ? "lock" : RETURN;
  },
  lock: (w, t2) => lock_write(w, t2, "mmu_lock", "get"),
  get: () => call(get_s2_mmu_nested, {}, "unlock"),
  unlock: (w, t2) => {
    arch_vcpu(w, t2).hw_mmu = t2.retval;
    write_unlock(w, t2, "mmu_lock");
    return RETURN;
  }
});
var kvm_vcpu_put_hw_mmu = model_fn("kvm_vcpu_put_hw_mmu", {
  put: (w, t2) => {
    const v = arch_vcpu(w, t2);
    if (vcpu_of_thread(w, t2).scheduled_out && !v.in_wfi && !variant_on(w, PUT_DROPS_REF.name)) return RETURN;
    if (v.hw_mmu !== null && v.hw_mmu >= 0) {
      const mmu = mmu_by_id(w, v.hw_mmu);
      mmu.refcnt--;
      emit(w, t2, "s2mmu.unref", { index: mmu.index, refcnt: mmu.refcnt });
    }
    v.hw_mmu = null;
    return RETURN;
  }
});
var check_nested_vcpu_requests = model_fn("check_nested_vcpu_requests", {
  check: (w, t2, l2) => {
    if (!kvm_check_request(w, t2, KVM_REQ_ARM64.NESTED_S2_UNMAP, vcpu_of_thread(w, t2))) return RETURN;
    const hw = arch_vcpu(w, t2).hw_mmu;
    if (hw === null || hw < 0) throw new Error(`${t2.name}: NESTED_S2_UNMAP with hw_mmu = ${hw === null ? "NULL" : "the canonical MMU"}`);
    l2.mmu = hw;
    return "lock";
  },
  lock: (w, t2) => lock_write(w, t2, "mmu_lock", "test"),
  test: (w, _t, l2) => {
    const mmu = mmu_by_id(w, l2.mmu);
    if (!mmu.pending_unmap) return "unlock";
    l2.pass_gen = arm64(w).nested_recycles[l2.mmu];
    return call("kvm_stage2_unmap_range", { mmu: l2.mmu, start: 0, size: kvm_phys_size(w, mmu), may_block: true }, "clear");
  },
  clear: (w, t2, l2) => {
    const mmu = mmu_by_id(w, l2.mmu);
    const was_set = mmu.pending_unmap;
    mmu.pending_unmap = false;
    revmap_reset(mmu);
    emit(w, t2, "pending_unmap.clear", { index: l2.mmu, was_set });
    return "unlock";
  },
  unlock: (w, t2) => {
    write_unlock(w, t2, "mmu_lock");
    return RETURN;
  }
});
var kvm_nested_s2_unmap = model_fn("kvm_nested_s2_unmap", {
  start: (w, t2, l2) => {
    lockdep_assert_held_write(w, t2, "mmu_lock");
    l2.i = 0;
    l2.steps0 = entries_read(w);
    return "next";
  },
  next: (w, t2, l2) => {
    const a = arm64(w);
    while (l2.i < a.nested_mmus_size && !kvm_s2_mmu_valid(a.nested_mmus[l2.i])) l2.i++;
    if (l2.i >= a.nested_mmus_size) return nested_unmap_done(w, t2, l2.steps0);
    const mmu = a.nested_mmus[l2.i++];
    revmap_reset(mmu);
    count_shadow_leaves(w, mmu.index, 0, kvm_phys_size(w, mmu));
    emit(w, t2, "nested.unmap", { index: mmu.index, start: 0, size: kvm_phys_size(w, mmu), may_block: l2.may_block });
    return call("kvm_stage2_unmap_range", { mmu: mmu.index, start: 0, size: kvm_phys_size(w, mmu), may_block: l2.may_block }, "next");
  }
});
function count_shadow_leaves(w, mmu, start2, size) {
  metric_add(w, "nested_unmap_leaves", kvm_pgtable_leaves(w, mmu, start2, size).length);
}
function entries_read(w) {
  return w.metrics["pgtable_entries_read"] ?? 0;
}
define_history("steps0", "count");
function nested_unmap_done(w, _t, entries0) {
  metric_add(w, "nested_unmap_walk_steps", entries_read(w) - entries0);
  return RETURN;
}
function ttl_to_size(ttl) {
  if ((ttl >> 2 & 3) !== TLBI_TTL_TG_4K) return 0;
  return [0, 2 ** 30, 2 ** 21, 2 ** 12][ttl & 3];
}
var TLBI_TTL_TG_4K = 1;
var SZ_4K = 2 ** 12;
var SZ_2M = 2 ** 21;
var SZ_1G = 2 ** 30;
function get_guest_mapping_ttl(w, t2, mmu, addr2) {
  lockdep_assert_held_write(w, t2, "mmu_lock");
  let tmp = addr2;
  for (const sz of [SZ_4K, SZ_2M, SZ_1G]) {
    tmp = Math.floor(tmp / sz) * sz;
    const { pte } = kvm_pgtable_get_leaf(w, mmu.index, tmp);
    if (!(pte & 1n)) continue;
    const level = kvm_decode_nested_level(pte);
    if (!level) continue;
    const ttl = TLBI_TTL_TG_4K << 2 | level;
    return addr2 < tmp + ttl_to_size(ttl) ? ttl : 0;
  }
  return 0;
}
function compute_tlb_inval_range(w, t2, mmu, val) {
  let ttl = Number(val >> 44n & 0xfn);
  if (!ttl) ttl = get_guest_mapping_ttl(w, t2, mmu, Number(val & 0xfffffffffn) * SZ_4K);
  return ttl_to_size(ttl) || SZ_1G;
}
var kvm_s2_mmu_iterate_by_vmid = model_fn("kvm_s2_mmu_iterate_by_vmid", {
  lock: (w, t2) => lock_write(w, t2, "mmu_lock", "first"),
  first: (_w, _t, l2) => {
    l2.i = 0;
    return "next";
  },
  next: (w, t2, l2) => {
    const a = arm64(w);
    while (l2.i < a.nested_mmus_size) {
      const mmu = a.nested_mmus[l2.i++];
      if (!kvm_s2_mmu_valid(mmu) || get_vmid(mmu.tlb_vttbr) !== l2.vmid) continue;
      let start2;
      let size;
      if (l2.info.kind === "ipa") {
        const val = BigInt(l2.info.val);
        size = compute_tlb_inval_range(w, t2, mmu, val);
        start2 = Math.floor(Number(val & 0xfffffffffn) * SZ_4K / size) * size;
      } else {
        start2 = l2.info.start;
        size = l2.info.size || kvm_phys_size(w, mmu);
      }
      emit(w, t2, "tlbi.target", { index: mmu.index, start: start2, size });
      return call("kvm_stage2_unmap_range", { mmu: mmu.index, start: start2, size, may_block: true }, "next");
    }
    write_unlock(w, t2, "mmu_lock");
    return RETURN;
  }
});
function kvm_walk_nested_s2(w, t2, nested_ipa) {
  const v = arch_vcpu(w, t2);
  if (!v.hcr_vm) return { ipa: nested_ipa, level: 3, writable: true };
  const table = arm64(w).l1_s2[vttbr_baddr(v.vttbr)];
  const e = table?.[Math.floor(nested_ipa / 4096)];
  if (!e) return null;
  return { ipa: e.ipa + nested_ipa % 4096, level: e.level, writable: e.writable };
}

// src/core/arm64/nested_revmap.ts
var NV_REVMAP = define_variant({
  name: "nv.revmap",
  description: "a per-shadow reverse map (maple tree) from canonical IPA ranges to nested IPAs, the payload stored as posted (VALID_ENTRY bit 63 | nested IPA bits 55:12, UNKNOWN_IPA bit 0): a canonical invalidation unmaps only the shadow ranges it names, and falls back to a full unmap on an UNKNOWN_IPA record or nested_revmap_broken (upstream unmaps every shadow in full)",
  source: 'posting: Wei-Lin Chang, "KVM: arm64: nv: Avoid full shadow s2 unmap" (v2 3/3 of "KVM: arm64: nv: Implement nested stage-2 reverse map"), kvmarm, 11 Apr 2026 (not merged)',
  breaks: "nothing by itself; cuts nested_unmap_walk_steps per canonical invalidation (the soft lockups Ampere reported)",
  arch: "arm64"
});
var NV_REVMAP_OVERWRITE = define_variant({
  name: "nv.revmap_overwrite",
  description: "on top of nv.revmap: a canonical range backing several nested IPAs keeps only the last record (the range store overwrites the earlier one), so the invalidation misses the other alias",
  source: `posting: Ganapatrao Kulkarni, "[PATCH v2] KVM: arm64: nv: Optimize unmapping of shadow S2-MMU tables", kvmarm, 13 Oct 2025 (not merged; Marc Zyngier's review, 23 Oct 2025)`,
  breaks: "mmu.stale_mapping",
  arch: "arm64"
});
var VALID_ENTRY = 1n << 63n;
var UNKNOWN_IPA = 1n;
var NESTED_IPA_MASK = (1n << 56n) - 1n & ~((1n << 12n) - 1n);
function revmap_payload(nested_ipa) {
  return ul_of_big(VALID_ENTRY | BigInt(nested_ipa) & NESTED_IPA_MASK);
}
var REVMAP_UNKNOWN = ul_of_big(VALID_ENTRY | UNKNOWN_IPA);
function payload_is_unknown(e) {
  return (ul_big(e) & UNKNOWN_IPA) !== 0n;
}
function payload_nested_ipa(e) {
  return Number(ul_big(e) & NESTED_IPA_MASK);
}
var hex2 = (x) => `0x${x.toString(16)}`;
var hexrange = (first, last) => `${hex2(first)}-${hex2(last)}`;
function revmap_enabled(w) {
  return (variant_on(w, NV_REVMAP.name) || variant_on(w, NV_REVMAP_OVERWRITE.name)) && arm64(w).nested_mmus_size > 0;
}
function revmap_of(mmu) {
  return mmu.revmap ??= { mt: mt_init_flags(0), nested_revmap_broken: false };
}
function revmap_reset(mmu) {
  if (!mmu.revmap) return;
  mtree_destroy(mmu.revmap.mt);
  mmu.revmap.nested_revmap_broken = false;
}
function revmap_add(w, t2, mmu, ipa, nested_ipa, size) {
  const rm = revmap_of(mmu);
  if (rm.nested_revmap_broken) return;
  const first = Math.floor(ipa / size) * size;
  const last = first + size - 1;
  const value = revmap_payload(nested_ipa);
  let lo = first;
  let hi = last;
  let entry = value;
  if (!variant_on(w, NV_REVMAP_OVERWRITE.name)) {
    const hits = sim_mt_ranges(rm.mt, first, last);
    if (hits.length === 1 && hits[0].entry === value && hits[0].first <= first && hits[0].last >= last) return;
    if (hits.length) {
      lo = Math.min(lo, ...hits.map((h) => Number(h.first)));
      hi = Math.max(hi, ...hits.map((h) => Number(h.last)));
      entry = REVMAP_UNKNOWN;
    }
  }
  const r2 = sim_mtree_store_range(w, t2, rm.mt, lo, hi, entry, GFP_NOWAIT);
  if (r2 !== 0) {
    rm.nested_revmap_broken = true;
    metric_add(w, "revmap_broken");
    emit(w, t2, "revmap.invalid", { mmu: mmu.index, reason: r2 === -12 ? "ENOMEM (GFP_NOWAIT under mmu_lock): nested_revmap_broken" : `store failed: ${r2}` });
    return;
  }
  if (entry !== value) emit(w, t2, "revmap.invalid", { mmu: mmu.index, reason: `UNKNOWN_IPA [${hex2(lo)}, ${hex2(hi)}]` });
  emit(w, t2, "revmap.add", { mmu: mmu.index, canon_range: hexrange(first, last), nested_ipa: Math.floor(nested_ipa / PAGE_SIZE) * PAGE_SIZE });
}
var kvm_nested_s2_unmap_range = model_fn(
  "kvm_nested_s2_unmap_range",
  {
    start: (w, t2, l2) => {
      lockdep_assert_held_write(w, t2, "mmu_lock");
      l2.i = 0;
      l2.todo = [];
      l2.steps0 = entries_read(w);
      return "mmu";
    },
    // Next valid shadow: decide what to unmap from it.
    mmu: (w, t2, l2) => {
      const a = arm64(w);
      while (l2.i < a.nested_mmus_size && !kvm_s2_mmu_valid(a.nested_mmus[l2.i])) l2.i++;
      if (l2.i >= a.nested_mmus_size) return nested_unmap_done(w, t2, l2.steps0);
      const mmu = a.nested_mmus[l2.i++];
      const rm = revmap_of(mmu);
      const first = l2.start * PAGE_SIZE;
      const last = l2.end * PAGE_SIZE - 1;
      const hits = rm.nested_revmap_broken ? [] : sim_mt_ranges(rm.mt, first, last).map((h) => ({ first: Number(h.first), last: Number(h.last), entry: h.entry }));
      emit(w, t2, "revmap.lookup", {
        mmu: mmu.index,
        range: hexrange(first, last),
        hits: hits.map((h) => `${hexrange(h.first, h.last)}=>${payload_is_unknown(h.entry) ? "UNKNOWN_IPA" : hex2(payload_nested_ipa(h.entry))}`)
      });
      if (rm.nested_revmap_broken || hits.some((h) => payload_is_unknown(h.entry))) {
        metric_add(w, "revmap_full_unmaps");
        emit(w, t2, "nested.unmap", { index: mmu.index, start: 0, size: 2 ** a.ipa_bits, may_block: l2.may_block });
        l2.todo = [];
        count_shadow_leaves(w, mmu.index, 0, 2 ** a.ipa_bits);
        return call("kvm_stage2_unmap_range", { mmu: mmu.index, start: 0, size: 2 ** a.ipa_bits, may_block: l2.may_block }, "full_done");
      }
      l2.todo = hits.map((h) => {
        const lo = Math.max(h.first, first);
        const hi = Math.min(h.last, last);
        sim_mtree_erase(w, t2, rm.mt, h.first, [h.first, h.last]);
        return [payload_nested_ipa(h.entry) + (lo - h.first), hi - lo + 1];
      });
      return "range";
    },
    range: (w, t2, l2) => {
      const next = l2.todo.shift();
      if (!next) return "mmu";
      const id2 = l2.i - 1;
      emit(w, t2, "nested.unmap", { index: id2, start: next[0], size: next[1], may_block: l2.may_block });
      metric_add(w, "revmap_range_unmaps");
      count_shadow_leaves(w, id2, next[0], next[1]);
      return call("kvm_stage2_unmap_range", { mmu: id2, start: next[0], size: next[1], may_block: l2.may_block }, "range");
    },
    full_done: (w, _t, l2) => {
      revmap_reset(mmu_by_id(w, l2.i - 1));
      return "mmu";
    }
  }
);
function revmap_stale_records(w, mmu) {
  if (!mmu.revmap) return 0;
  let n = 0;
  for (const { entry } of mt_entries(mmu.revmap.mt)) {
    if (payload_is_unknown(entry)) continue;
    if (!(kvm_pgtable_get_leaf(w, mmu.index, payload_nested_ipa(entry)).pte & 1n)) n++;
  }
  return n;
}

// src/core/arm64/sys_regs.ts
var bits = (v, hi, lo) => Number(v >> BigInt(lo) & (1n << BigInt(hi - lo + 1)) - 1n);
var tlbi_range_pages = (num2, scale) => (num2 + 1) * 2 ** (5 * scale + 1);
function decode_range_tlbi(val) {
  const tg = bits(val, 47, 46);
  const shift = tg === 1 ? 12 : tg === 2 ? 14 : 16;
  const scale = bits(val, 45, 44);
  const num2 = bits(val, 43, 39);
  return { base: bits(val, 36, 0) * 2 ** shift, size: tlbi_range_pages(num2, scale) * 2 ** shift, tg, scale, num: num2 };
}
function tlbi_operand(op, a) {
  if (op === "ipas2e1is") return BigInt(Math.floor((a.ipa ?? 0) / 4096)) & 0xfffffffffn | BigInt(a.ttl ?? 0) << 44n;
  if (op === "ripas2e1is") {
    const pages = a.pages ?? 1;
    for (let scale = 0; scale < 4; scale++) {
      for (let num2 = 0; num2 < 32; num2++) {
        if (tlbi_range_pages(num2, scale) >= pages) {
          return 1n << 46n | BigInt(scale) << 44n | BigInt(num2) << 39n | BigInt(Math.floor((a.ipa ?? 0) / 4096));
        }
      }
    }
    throw new Error(`ripas2e1is: ${pages} pages exceed the largest range`);
  }
  return 0n;
}
var kvm_handle_s2_tlbi = model_fn("kvm_handle_s2_tlbi", {
  decode: (w, t2, l2) => {
    const v = arch_vcpu(w, t2);
    const vmid = get_vmid(v.vttbr);
    const val = BigInt(l2.val);
    const whole = 2 ** arm64(w).ipa_bits;
    let ev = { base: 0, size: whole, ttl: 0, tg: 0, scale: 0, num: 0 };
    let info = { kind: "range", start: 0, size: 0 };
    if (l2.op === "ipas2e1is") {
      const ttl = bits(val, 47, 44);
      ev = { ...ev, base: bits(val, 35, 0) * 4096, size: ttl_to_size(ttl), ttl };
      info = { kind: "ipa", val: l2.val };
    } else if (l2.op === "ripas2e1is") {
      const r2 = decode_range_tlbi(val);
      ev = { ...ev, ...r2 };
      info = { kind: "range", start: r2.base, size: r2.size };
    }
    emit(w, t2, "tlbi", { op: l2.op.toUpperCase(), operand: val, vmid, ...ev });
    v.tlbi_retiring = tlbi_scope(l2.op, vmid, ev.base, ev.size);
    if (l2.op === "alle1is") return "alle1is";
    return call(kvm_s2_mmu_iterate_by_vmid, { vmid, info }, "done");
  },
  // handle_alle1is(): every shadow, in full.
  alle1is: (w, t2) => lock_write(w, t2, "mmu_lock", "alle1is_unmap"),
  alle1is_unmap: () => call(kvm_nested_s2_unmap, { may_block: true }, "alle1is_unlock"),
  alle1is_unlock: (w, t2) => {
    write_unlock(w, t2, "mmu_lock");
    return "done";
  },
  // How many reverse-map records now name nested pages the TLBI took out of the shadow (Marc Zyngier's accuracy question).
  done: (w, t2) => {
    t2.ip++;
    if (revmap_enabled(w)) {
      const stale = arm64(w).nested_mmus.reduce((n, m) => n + revmap_stale_records(w, m), 0);
      w.metrics["revmap_stale_records"] = stale;
    }
    return RETURN;
  }
});
function tlbi_scope(op, vmid, base, size) {
  if (op === "alle1is") return { vmid: -1, start: 0, size: Number.MAX_SAFE_INTEGER };
  if (op === "vmalls12e1is") return { vmid, start: 0, size: Number.MAX_SAFE_INTEGER };
  if (op === "ipas2e1is") return { vmid, start: Math.floor(base / 4096) * 4096, size: 4096 };
  return { vmid, start: base, size };
}
var handle_exit_sysreg = model_fn("handle_exit_sysreg", {
  trap: (w, t2) => {
    const trap = arch_vcpu(w, t2).sysreg_trap;
    arch_vcpu(w, t2).sysreg_trap = null;
    return call(kvm_handle_s2_tlbi, { op: trap.op, val: trap.val }, "done");
  },
  done: () => RETURN
});
function tlbi_retire(w, t2) {
  const v = arch_vcpu(w, t2);
  const r2 = v.tlbi_retiring;
  if (!r2) return;
  v.tlbi_retiring = null;
  const a = arm64(w);
  a.l1_s2_dirty = a.l1_s2_dirty.filter((d) => !((r2.vmid === -1 || d.vmid === r2.vmid) && d.start < r2.start + r2.size && r2.start < d.start + d.size));
}

// src/core/arm64/arm.ts
var EXIT_REQUEST_BEFORE_MODE = define_variant({
  name: "kvm.exit_request_before_mode",
  description: "kvm_arch_vcpu_ioctl_run() tests for pending requests before smp_store_mb(vcpu->mode, IN_GUEST_MODE) and not after it: a request made in between is not seen, and its maker read OUTSIDE_GUEST_MODE so it sent no kick",
  source: 'hypothetical: the arm64 run loop has re-checked requests after publishing IN_GUEST_MODE since it adopted vCPU requests; the wrong order is the one Documentation/virt/kvm/vcpu-requests.rst ("Ensuring Requests Are Seen") warns about, and it shows the race the smp_store_mb()/kvm_vcpu_exit_request() pair closes',
  breaks: "kvm.request_unserviced",
  arch: "arm64"
});
function kvm_arch_init_vm(w, cfg, cpu) {
  const ipa_bits = cfg.ipa_bits ?? 40;
  const mmu = (index, vmid) => ({
    index,
    vmid,
    pgt: kvm_pgtable_stage2_init(w, ipa_bits),
    // kvm_init_nested_s2_mmu(): a shadow starts invalid (VTTBR_CNP_BIT alone); the canonical MMU's stays 0 (valid).
    tlb_vttbr: index < 0 ? 0n : VTTBR_CNP_BIT,
    tlb_vtcr: 0n,
    nested_stage2_enabled: false,
    pending_unmap: false,
    refcnt: 0,
    revmap: null
  });
  w.arm64 = {
    mmu: mmu(-1, 1),
    nested_mmus: [],
    nested_mmus_size: 0,
    nested_mmus_next: 0,
    nested_recycles: [],
    ipa_bits,
    vcpus: w.kvm.vcpus.map(() => ({
      hw_mmu: null,
      ctxt: "vel2",
      vttbr: 0n,
      vtcr: 0n,
      hcr_vm: false,
      tlbi_retiring: null,
      sysreg_trap: null,
      in_wfi: false,
      irq_pending: false
    })),
    l1_s2: {},
    l1_s2_dirty: []
  };
  if (cfg.nested_mmus && cfg.nested_mmus !== 2 * w.kvm.vcpus.length) {
    throw new Error(`nested_mmus = ${cfg.nested_mmus}: kvm_vcpu_init_nested() sizes it to 2 per vCPU (${2 * w.kvm.vcpus.length})`);
  }
  for (let i = 0; i < (cfg.nested_mmus ?? 0); i++) {
    w.arm64.nested_mmus.push(mmu(i, 2 + i));
    w.arm64.nested_recycles.push(0);
  }
  w.arm64.nested_mmus_size = w.arm64.nested_mmus.length;
  for (const v of w.kvm.vcpus) vcpu_memcache(w, v.vcpu_id);
  const last_cpu = Math.max(-1, ...w.threads.map((t2) => t2.cpu));
  if (last_cpu >= 0) cpu_tlb(w, last_cpu);
  rcu_init(w, cpu);
}
function vcpu_of_thread(w, t2) {
  return vcpu_of(w, t2.vcpu);
}
function kvm_vcpu_exit_request(vcpu) {
  return kvm_request_pending(vcpu);
}
function abort_entry(w, t2, vcpu, reason) {
  set_mode(w, t2, vcpu, "OUTSIDE_GUEST_MODE", "entry_abort");
  local_irq_enable(w, t2);
  t2.preempt_count--;
  emit(w, t2, "vcpu.entry_abort", { reason });
}
var kvm_arch_vcpu_ioctl_run = model_fn("kvm_arch_vcpu_ioctl_run", {
  load: () => call("vcpu_load", {}, "loop"),
  loop: (w, t2) => next_op(t2) && !w.kvm.vm_dead ? "work" : "put",
  // xfer_to_guest_mode_handle_work(): signals and need_resched (preemption
  // points belong to the layers that model them).
  work: (w, t2) => preempt_point(w, t2, "requests"),
  requests: () => call(check_vcpu_requests, {}, "requests_done"),
  requests_done: (_w, t2) => t2.retval === -5 ? "put" : "irq_off",
  // preempt_disable(); local_irq_disable();
  irq_off: (w, t2) => {
    t2.preempt_count++;
    local_irq_disable(t2);
    const vcpu = vcpu_of_thread(w, t2);
    if (variant_on(w, EXIT_REQUEST_BEFORE_MODE.name) && kvm_vcpu_exit_request(vcpu)) {
      abort_entry(w, t2, vcpu, "request");
      return "loop";
    }
    return "mode_in";
  },
  // smp_store_mb(vcpu->mode, IN_GUEST_MODE): from here a requester sees IN and kicks.
  mode_in: (w, t2) => {
    const vcpu = vcpu_of_thread(w, t2);
    set_mode(w, t2, vcpu, "IN_GUEST_MODE", "smp_store_mb");
    vcpu.requests_at_mode_in = vcpu.requests;
    return variant_on(w, EXIT_REQUEST_BEFORE_MODE.name) ? "enter" : "exit_check";
  },
  exit_check: (w, t2) => {
    const vcpu = vcpu_of_thread(w, t2);
    if (kvm_vcpu_exit_request(vcpu)) {
      abort_entry(w, t2, vcpu, "request");
      return "loop";
    }
    return "enter";
  },
  enter: (w, t2) => {
    tlbi_retire(w, t2);
    const av = arm64(w).vcpus[t2.vcpu];
    if (av.irq_pending) {
      av.irq_pending = false;
      emit(w, t2, "guest.irq", {});
    }
    emit(w, t2, "vcpu.enter", { hw_mmu: mmu_name(arm64(w).vcpus[t2.vcpu].hw_mmu) });
    return "guest";
  },
  // The guest runs one op per step until an op traps, an IPI arrives, or
  // the program ends (return to userspace).
  guest: (w, t2) => {
    const vcpu = vcpu_of_thread(w, t2);
    if (w.cpus[t2.cpu].ipi_pending) return guest_exit(w, t2, vcpu, "irq");
    if (vcpu.mode === "EXITING_GUEST_MODE") return guest_exit(w, t2, vcpu, "kick");
    const op = next_op(t2);
    if (!op) return guest_exit(w, t2, vcpu, "done");
    const def = op_named(op.op);
    if (!def?.in_guest) throw new Error(`${t2.name}: op ${op.op} cannot run in the guest`);
    const r2 = def.in_guest(w, t2, op.args);
    if ("done" in r2) {
      t2.ip++;
      return "guest";
    }
    return guest_exit(w, t2, vcpu, r2.exit);
  },
  // Back from the guest: mode OUTSIDE, interrupts on (a pending IPI is taken), preemption on.
  exit: (w, t2) => {
    const vcpu = vcpu_of_thread(w, t2);
    set_mode(w, t2, vcpu, "OUTSIDE_GUEST_MODE", "guest_exit");
    emit(w, t2, "vcpu.exit", { reason: vcpu.exit_reason });
    local_irq_enable(w, t2);
    t2.preempt_count--;
    return "handle_exit";
  },
  // handle_exit(): dispatch on the exit reason.
  handle_exit: (w, t2) => {
    const reason = vcpu_of_thread(w, t2).exit_reason;
    const handler = `handle_exit_${reason}`;
    return has_fn(handler) ? call(handler, {}, "loop") : "loop";
  },
  put: () => call("vcpu_put", {}, "done"),
  done: () => RETURN
});
var kvm_arch_vcpu_load = model_fn("kvm_arch_vcpu_load", {
  load: (w, t2) => {
    vcpu_of_thread(w, t2).cpu = t2.cpu;
    emit(w, t2, "vcpu.load", { pcpu: t2.cpu });
    if (arm64(w).nested_mmus_size > 0) return call("kvm_vcpu_load_hw_mmu", {}, "done");
    arm64(w).vcpus[t2.vcpu].hw_mmu = -1;
    return RETURN;
  },
  done: () => RETURN
});
var kvm_arch_vcpu_put = model_fn("kvm_arch_vcpu_put", {
  put: (w, t2) => {
    const vcpu = vcpu_of_thread(w, t2);
    emit(w, t2, "vcpu.put", { scheduled_out: vcpu.scheduled_out, in_wfi: arm64(w).vcpus[t2.vcpu].in_wfi });
    if (arm64(w).nested_mmus_size > 0) return call("kvm_vcpu_put_hw_mmu", {}, "unload");
    return "unload";
  },
  unload: (w, t2) => {
    vcpu_of_thread(w, t2).cpu = -1;
    return RETURN;
  }
});
function guest_exit(w, t2, vcpu, reason) {
  vcpu.exit_reason = reason;
  return "exit";
}
var NOOP_REQUESTS = ["SLEEP", "VCPU_RESET", "IRQ_PENDING", "RECORD_STEAL", "RELOAD_GICv4", "RELOAD_PMU", "RESYNC_PMU_EL0", "SUSPEND"];
var check_vcpu_requests = model_fn("check_vcpu_requests", {
  pending: (w, t2) => kvm_request_pending(vcpu_of_thread(w, t2)) ? "vm_dead" : RETURN,
  vm_dead: (w, t2) => {
    const vcpu = vcpu_of_thread(w, t2);
    if (kvm_test_request(KVM_REQ_GENERIC.VM_DEAD, vcpu) && kvm_check_request(w, t2, KVM_REQ_GENERIC.VM_DEAD, vcpu)) {
      t2.retval = -5;
      return RETURN;
    }
    for (const name of NOOP_REQUESTS) {
      const req = KVM_REQ_ARM64[name];
      if (kvm_test_request(req, vcpu)) kvm_check_request(w, t2, req, vcpu);
    }
    return has_fn("check_nested_vcpu_requests") ? call("check_nested_vcpu_requests", {}, "done") : "done";
  },
  done: (_w, t2) => {
    t2.retval = 1;
    return RETURN;
  }
});
register_kvm_arch_vcpu_runnable("arm64", (w, vcpu) => arm64(w).vcpus[vcpu].irq_pending);
var kvm_vcpu_wfi = model_fn("kvm_vcpu_wfi", {
  set_flag: (w, t2) => {
    arm64(w).vcpus[t2.vcpu].in_wfi = true;
    return call("kvm_vcpu_block", {}, "clear_flag");
  },
  clear_flag: (w, t2) => {
    arm64(w).vcpus[t2.vcpu].in_wfi = false;
    t2.ip++;
    return RETURN;
  }
});
var handle_exit_wfi = model_fn("handle_exit_wfi", {
  wfi: () => call(kvm_vcpu_wfi, {}, "done"),
  done: () => RETURN
});
define_op({
  name: "wfi",
  threads: ["vcpu"],
  summary: "the guest (vEL2 or L2) executes WFI: trapped, kvm_vcpu_wfi() halts the vCPU until an interrupt is pending (the `irq` op)",
  arch: "arm64",
  schema: { type: "object", additionalProperties: false },
  in_guest: () => ({ exit: "wfi" })
});
var vmm_irq = model_fn("vmm_irq", {
  inject: (w, t2, l2) => {
    if (!w.arm64?.vcpus[l2.vcpu]) throw new Error(`${t2.name}: irq for vcpu${l2.vcpu}, which does not exist`);
    arm64(w).vcpus[l2.vcpu].irq_pending = true;
    return call(kvm_make_request_and_kick, { req: KVM_REQ_ARM64.IRQ_PENDING, vcpu: l2.vcpu }, "done");
  },
  done: () => RETURN
});
define_op({
  name: "irq",
  threads: ["vmm", "mm"],
  summary: "an interrupt for a vCPU (KVM_IRQ_LINE): pending, KVM_REQ_IRQ_PENDING, kvm_vcpu_kick() (wakes it from WFI)",
  arch: "arm64",
  schema: { type: "object", properties: { vcpu: { type: "integer", minimum: 0 } }, required: ["vcpu"], additionalProperties: false },
  fn: vmm_irq.name
});

// src/core/arm64/mmu.ts
var NO_RETRY_CHECK = define_variant({
  name: "mmu.no_retry_check",
  description: "every fault path maps its pfn, page or block, without the locked retry check: arm64 user_mem_abort() skips mmu_invalidate_retry(); x86 skips is_page_fault_stale() (and the lockless pre-check). A fault that raced with an invalidation installs a mapping of the old pfn",
  source: "hypothetical: the check has guarded the fault paths since the MMU notifiers came to KVM (mmu_notifier_seq, 2008; user_mem_abort() has had it since KVM/arm64 was merged); it shows the race mmu_invalidate_seq closes, for 4K pages and for blocks backed by host THP or hugetlbfs",
  breaks: "mmu.stale_mapping"
});
define_op({
  name: "access",
  threads: ["vcpu"],
  summary: "guest load or store to an IPA (faults into user_mem_abort when unmapped)",
  schema: { type: "object", properties: { ipa: S.addr, write: S.bool }, required: ["ipa"], additionalProperties: false },
  in_guest: (w, t2, args) => {
    const ipa = args["ipa"];
    const write = args["write"] === true;
    const hw_mmu = w.arm64.vcpus[t2.vcpu].hw_mmu ?? -1;
    const r2 = guest_translate(w, t2, hw_mmu, ipa, write);
    if (r2.ok) {
      emit(w, t2, "guest.access", { ipa, write, pa: r2.pa, via: r2.via });
      return { done: true };
    }
    const vcpu = vcpu_of_thread(w, t2);
    vcpu.fault_ipa = ipa;
    vcpu.fault_write = write;
    return { exit: "abort" };
  }
});
var handle_exit_abort = model_fn("handle_exit_abort", {
  abort: (w, t2, l2) => {
    const vcpu = vcpu_of_thread(w, t2);
    const hw = w.arm64.vcpus[t2.vcpu].hw_mmu ?? -1;
    const nested = hw >= 0 && mmu_by_id(w, hw).nested_stage2_enabled;
    emit(w, t2, "fault.start", { gpa: vcpu.fault_ipa, write: vcpu.fault_write, nested });
    let ipa = vcpu.fault_ipa;
    let guest_level = 0;
    if (nested) {
      l2.walked = true;
      const tr = kvm_walk_nested_s2(w, t2, vcpu.fault_ipa);
      if (!tr) {
        emit(w, t2, "nested.s2_fault", { nested_ipa: vcpu.fault_ipa });
        t2.ip++;
        return RETURN;
      }
      ipa = tr.ipa;
      guest_level = tr.level;
      l2.nested_ipa = Math.floor(vcpu.fault_ipa / PAGE_SIZE) * PAGE_SIZE;
      l2.l1_ipa = Math.floor(tr.ipa / PAGE_SIZE) * PAGE_SIZE;
    }
    const gfn = Math.floor(ipa / PAGE_SIZE);
    const slot = gfn_to_memslot(w, gfn);
    if (!slot) throw new Error(`${t2.name}: guest access to IPA 0x${ipa.toString(16)} outside every memslot`);
    return call(user_mem_abort, { fault_ipa: vcpu.fault_ipa, canonical_ipa: ipa, write: vcpu.fault_write, hva: gfn_to_hva(slot, gfn), guest_level }, "done");
  },
  done: () => RETURN
});
function kvm_mapping_level(size) {
  for (let level = 3; level >= 1; level--) if (kvm_granule_size(level) === size) return level;
  throw new Error(`no stage-2 level maps ${size} bytes`);
}
var user_mem_abort = model_fn("user_mem_abort", {
  // kvm_mmu_topup_memory_cache(): may sleep, so before any lock.
  topup: (w, t2) => {
    might_sleep(w, t2, "kvm_mmu_topup_memory_cache");
    kvm_mmu_topup_memory_cache(w, t2.vcpu);
    return "snapshot";
  },
  // mmap_read_lock(); vma_lookup() and the mapping size; mmu_seq =
  // kvm->mmu_invalidate_seq; mmap_read_unlock() (its release pairs with the
  // smp_wmb in invalidate_end).
  snapshot: (w, t2, l2) => {
    user_mem_abort_vma_size(w, t2, l2);
    l2.mmu_seq = w.kvm.mmu_invalidate_seq;
    emit(w, t2, "fault.seq_snapshot", { mmu_seq: l2.mmu_seq });
    return "faultin";
  },
  // __kvm_faultin_pfn(): get_user_pages; may sleep, so the vCPU thread may be scheduled out here.
  faultin: (w, t2) => preempt_point(w, t2, "faultin_pfn"),
  faultin_pfn: (w, t2, l2) => {
    might_sleep(w, t2, "__kvm_faultin_pfn");
    const gfn = Math.floor(l2.canonical_ipa / PAGE_SIZE);
    l2.pfn = host_faultin(w, gfn_to_hva(gfn_to_memslot(w, gfn), gfn));
    emit(w, t2, "fault.faultin", { pfn: l2.pfn, slept: false });
    return "lock";
  },
  // kvm_fault_lock(): read_lock(&kvm->mmu_lock).
  lock: (w, t2) => lock_read(w, t2, "mmu_lock", "check"),
  check: (w, t2, l2) => {
    const hw = w.arm64.vcpus[t2.vcpu].hw_mmu;
    if (hw === null) throw new Error(`${t2.name}: user_mem_abort() with hw_mmu NULL under kvm_fault_lock()`);
    l2.mmu = hw;
    if (variant_on(w, NO_RETRY_CHECK.name)) return "map";
    const k = w.kvm;
    const reason = mmu_invalidate_retry(w, l2.mmu_seq);
    emit(w, t2, "fault.check", {
      in_progress: k.mmu_invalidate_in_progress,
      seq_now: k.mmu_invalidate_seq,
      seq_snap: l2.mmu_seq,
      range: [k.mmu_invalidate_range_start, k.mmu_invalidate_range_end],
      retry: reason !== null
    });
    if (reason === null) return "map";
    emit(w, t2, "fault.retry", { reason });
    metric_add(w, "fault_retries");
    return "unlock";
  },
  map: (w, t2, l2) => {
    if (l2.vma_pagesize === PAGE_SIZE && !l2.force_pte) {
      const sz = transparent_hugepage_adjust(w, l2);
      if (sz < 0) {
        emit(w, t2, "fault.retry", { reason: "user_mapping" });
        metric_add(w, "fault_retries");
        return "unlock";
      }
    }
    return call(
      "kvm_pgtable_stage2_map",
      {
        mmu: l2.mmu,
        addr: l2.fault_ipa,
        size: l2.vma_pagesize,
        phys: l2.pfn * PAGE_SIZE,
        // kvm_encode_nested_level(): a shadow leaf remembers the guest hypervisor's mapping level.
        prot: l2.guest_level ? BigInt(KVM_PGTABLE_PROT_R | KVM_PGTABLE_PROT_W) | kvm_encode_nested_level(l2.guest_level) : KVM_PGTABLE_PROT_R | KVM_PGTABLE_PROT_W,
        flags: KVM_PGTABLE_WALK_SHARED | KVM_PGTABLE_WALK_HANDLE_FAULT,
        memcache: t2.vcpu
      },
      "mapped"
    );
  },
  mapped: (w, t2, l2) => {
    const r2 = t2.retval;
    if (r2 === 0) {
      if (l2.mmu >= 0 && revmap_enabled(w)) revmap_add(w, t2, mmu_by_id(w, l2.mmu), l2.canonical_ipa - l2.canonical_ipa % l2.vma_pagesize, l2.fault_ipa, l2.vma_pagesize);
      emit(w, t2, "fault.map", { mmu: mmu_name(l2.mmu), ipa: l2.fault_ipa, pa: l2.pfn * PAGE_SIZE, level: kvm_mapping_level(l2.vma_pagesize), prot: "RW" });
      metric_add(w, "faults_mapped");
    } else {
      emit(w, t2, "fault.retry", { reason: "eagain" });
      metric_add(w, "fault_retries");
    }
    return "unlock";
  },
  unlock: (w, t2) => {
    read_unlock(w, t2, "mmu_lock");
    return ret(t2, 0);
  }
});
var kvm_unmap_gfn_range = model_fn("kvm_unmap_gfn_range", {
  unmap: (w, _t, l2) => {
    metric_add(w, "canonical_unmaps");
    return call("kvm_stage2_unmap_range", { mmu: -1, start: l2.start * PAGE_SIZE, size: (l2.end - l2.start) * PAGE_SIZE, may_block: l2.may_block }, "nested");
  },
  // With the reverse map only the shadow ranges it names; without it, every shadow in full.
  nested: (w, _t, l2) => revmap_enabled(w) ? call(kvm_nested_s2_unmap_range, { start: l2.start, end: l2.end, may_block: l2.may_block }, "done") : call(kvm_nested_s2_unmap, { may_block: l2.may_block }, "done"),
  done: (_w, t2) => ret(t2, false)
});

// src/core/arm64/mmu_invariants.ts
var hex3 = (n) => `0x${n.toString(16)}`;
var size_name = (n) => n >= 2 ** 30 ? `${n / 2 ** 30}G` : n >= 2 ** 20 ? `${n / 2 ** 20}M` : `${n / 1024}K`;
function first_moved(w, hva, pfn, size) {
  const h = host_huge(w, hva);
  if (h && h.base <= hva && hva + size <= h.base + h.size && h.pfn + (hva - h.base) / PAGE_SIZE === pfn) return null;
  for (let i = 0; i < size / PAGE_SIZE; i++) {
    const a = hva + i * PAGE_SIZE;
    const pte = host_pte(w, a);
    if (!pte || pte.pfn !== pfn + i) return { hva: a, want: pfn + i, pte };
  }
  return null;
}
define_stale_mapping_check("arm64", (w, e) => {
  if (e.kind === "fault.map") {
    const t2 = w.threads.find((x) => x.name === e.thread);
    const frame = t2.stack.find((f) => f.fn === "user_mem_abort");
    if (!frame) return null;
    const { hva, mmu_seq, pfn, vma_pagesize } = frame.locals;
    const size = vma_pagesize ?? PAGE_SIZE;
    const base = hva - hva % size;
    const moved = first_moved(w, base, pfn, size);
    if (!moved) return null;
    const what = size === PAGE_SIZE ? `hva ${hex3(moved.hva)}` : `hva ${hex3(moved.hva)} (in the ${size_name(size)} block at hva ${hex3(base)})`;
    return {
      thread: e.thread,
      message: `${e.thread} installed IPA ${hex3(e["ipa"])} -> PA ${hex3(pfn * PAGE_SIZE)}${size === PAGE_SIZE ? "" : ` (${size_name(size)} block)`} in ${e["mmu"]}, but the host now maps ${what} to ${moved.pte ? `pfn ${hex3(moved.pte.pfn)} (changed at step ${moved.pte.changed_step})` : "nothing"}${size === PAGE_SIZE ? "" : `, not pfn ${hex3(moved.want)}`}: the fault looked up its pfn before an invalidation of this gfn and mapped it after (mmu_seq snapshot ${mmu_seq}, now ${describe_invalidation(w)}); mmu_invalidate_retry() would have sent it back to the guest`,
      values: { ipa: e["ipa"], pa: pfn * PAGE_SIZE, size, hva: moved.hva, host_pfn: moved.pte?.pfn ?? null, mmu_seq, seq_now: w.kvm.mmu_invalidate_seq }
    };
  }
  const old = e["old_pfn"];
  if (old === e["new_pfn"]) return null;
  const pages = e["pages"] ?? 1;
  const a = arm64(w);
  for (const id2 of [-1, ...a.nested_mmus.map((m) => m.index)]) {
    for (const leaf of kvm_pgtable_leaves(w, id2)) {
      const first = leaf.pa / PAGE_SIZE;
      const n = 2 ** (9 * (3 - leaf.level));
      if (first >= old + pages || old >= first + n) continue;
      const moved = pages === 1 ? `hva ${hex3(e["hva"])}` : `the ${size_name(pages * PAGE_SIZE)} page at hva ${hex3(e["hva"])}`;
      return {
        thread: e.thread,
        message: `${mmu_name(id2)} still maps IPA ${hex3(leaf.ipa)} -> PA ${hex3(leaf.pa)}${n === 1 ? "" : ` (${size_name(n * PAGE_SIZE)} block)`} after the host moved ${moved} from pfn ${hex3(old)} to ${hex3(e["new_pfn"])}: the invalidation should have unmapped it (${describe_invalidation(w)})`,
        values: { mmu: mmu_name(id2), ipa: leaf.ipa, pa: leaf.pa, old_pfn: old, new_pfn: e["new_pfn"], pages }
      };
    }
  }
  return null;
});

// src/core/arm64/emulate_nested.ts
function switch_context(to) {
  return model_fn(to === "l2" ? "kvm_emulate_nested_eret" : "kvm_inject_nested_sync", {
    preempt_disable: (_w, t2) => {
      t2.preempt_count++;
      return call("kvm_arch_vcpu_put", {}, "switch");
    },
    switch: (w, t2) => {
      arch_vcpu(w, t2).ctxt = to;
      return call("kvm_arch_vcpu_load", {}, "preempt_enable");
    },
    preempt_enable: (_w, t2) => {
      t2.preempt_count--;
      t2.ip++;
      return RETURN;
    }
  });
}
var kvm_emulate_nested_eret = switch_context("l2");
var kvm_inject_nested_sync = switch_context("vel2");
var handle_exit_eret = model_fn("handle_exit_eret", {
  eret: () => call(kvm_emulate_nested_eret, {}, "done"),
  done: () => RETURN
});
var handle_exit_l2_trap = model_fn("handle_exit_l2_trap", {
  inject: () => call(kvm_inject_nested_sync, {}, "done"),
  done: () => RETURN
});

// src/core/arm64/nv_ops.ts
var u64 = (v) => typeof v === "bigint" ? v : BigInt(v);
var PAGE = 4096;
function require_ctxt(w, t2, ctxt, op) {
  const v = arch_vcpu(w, t2);
  if (arm64(w).nested_mmus_size === 0) throw new Error(`${t2.name}: ${op} needs a VM with nested_mmus (NV)`);
  if (v.ctxt !== ctxt) throw new Error(`${t2.name}: ${op} runs in ${ctxt === "vel2" ? "vEL2 (the guest hypervisor)" : "an L2 guest"}, but the vCPU is in ${v.ctxt}`);
}
define_op({
  name: "eret_l2",
  threads: ["vcpu"],
  summary: "the guest hypervisor sets VTTBR_EL2 (and VTCR_EL2, HCR_EL2.VM) and ERETs into an L2 guest",
  arch: "arm64",
  schema: {
    type: "object",
    properties: { vttbr: S.u64, vtcr: S.u64, s2: S.bool },
    required: ["vttbr"],
    additionalProperties: false
  },
  in_guest: (w, t2, a) => {
    require_ctxt(w, t2, "vel2", "eret_l2");
    const v = arch_vcpu(w, t2);
    v.vttbr = u64(a["vttbr"]);
    v.vtcr = a["vtcr"] === void 0 ? 0x80023558n : u64(a["vtcr"]);
    v.hcr_vm = a["s2"] !== false;
    return { exit: "eret" };
  }
});
define_op({
  name: "exit_l2",
  threads: ["vcpu"],
  summary: "the L2 guest takes an exception to the guest hypervisor (back to vEL2)",
  arch: "arm64",
  schema: { type: "object", additionalProperties: false },
  in_guest: (w, t2) => {
    require_ctxt(w, t2, "l2", "exit_l2");
    return { exit: "l2_trap" };
  }
});
function mark_dirty(w, vttbr, nested_ipa, level) {
  const dirty = arm64(w).l1_s2_dirty;
  const vmid = get_vmid(vttbr);
  const size = level === 2 ? 2 ** 21 : PAGE;
  const start2 = Math.floor(nested_ipa / size) * size;
  if (!dirty.some((d) => d.vmid === vmid && d.start === start2 && d.size === size)) dirty.push({ vmid, start: start2, size });
}
function l1_table(w, vttbr) {
  const a = arm64(w);
  return a.l1_s2[vttbr_baddr(vttbr)] ??= {};
}
define_op({
  name: "l1_map",
  threads: ["vcpu"],
  summary: "the guest hypervisor maps nested IPA -> IPA in its own stage-2 (a store to guest memory, no trap)",
  arch: "arm64",
  schema: {
    type: "object",
    properties: { vttbr: S.u64, nested_ipa: S.addr, ipa: S.addr, size: S.size, writable: S.bool },
    required: ["vttbr", "nested_ipa", "ipa"],
    additionalProperties: false
  },
  in_guest: (w, t2, a) => {
    require_ctxt(w, t2, "vel2", "l1_map");
    const size = a["size"] ?? PAGE;
    const level = size >= 2 ** 21 ? 2 : 3;
    const table = l1_table(w, u64(a["vttbr"]));
    const nested = a["nested_ipa"];
    const ipa = a["ipa"];
    for (let off = 0; off < size; off += PAGE) {
      const old = table[(nested + off) / PAGE];
      if (old && (old.ipa !== ipa + off || old.level !== level || old.writable !== (a["writable"] !== false))) mark_dirty(w, u64(a["vttbr"]), nested + off, old.level);
      table[(nested + off) / PAGE] = { ipa: ipa + off, level, writable: a["writable"] !== false };
    }
    return { done: true };
  }
});
define_op({
  name: "l1_unmap",
  threads: ["vcpu"],
  summary: "the guest hypervisor unmaps a nested IPA range from its own stage-2 (it must then issue a TLBI)",
  arch: "arm64",
  schema: {
    type: "object",
    properties: { vttbr: S.u64, nested_ipa: S.addr, size: S.size },
    required: ["vttbr", "nested_ipa"],
    additionalProperties: false
  },
  in_guest: (w, t2, a) => {
    require_ctxt(w, t2, "vel2", "l1_unmap");
    const size = a["size"] ?? PAGE;
    const vttbr = u64(a["vttbr"]);
    const table = l1_table(w, vttbr);
    const nested = a["nested_ipa"];
    for (let off = 0; off < size; off += PAGE) {
      const e = table[(nested + off) / PAGE];
      if (!e) continue;
      delete table[(nested + off) / PAGE];
      mark_dirty(w, vttbr, nested + off, e.level);
    }
    return { done: true };
  }
});
define_op({
  name: "tlbi",
  threads: ["vcpu"],
  summary: "a stage-2 TLBI from the guest hypervisor for the VMID in VTTBR_EL2 (or `vttbr`): alle1is, vmalls12e1is, ipas2e1is {ipa, ttl}, ripas2e1is {ipa, pages}, or a raw operand; trapped and emulated",
  arch: "arm64",
  schema: {
    type: "object",
    properties: {
      op: { enum: ["alle1is", "vmalls12e1is", "ipas2e1is", "ripas2e1is"] },
      ipa: S.addr,
      ttl: { type: "integer", minimum: 0, maximum: 15 },
      pages: { type: "integer", minimum: 1 },
      operand: S.u64,
      vttbr: S.u64
    },
    required: ["op"],
    additionalProperties: false
  },
  in_guest: (w, t2, a) => {
    require_ctxt(w, t2, "vel2", "tlbi");
    if (a["vttbr"] !== void 0) arch_vcpu(w, t2).vttbr = u64(a["vttbr"]);
    const op = a["op"];
    const val = a["operand"] !== void 0 ? u64(a["operand"]) : tlbi_operand(op, a);
    arch_vcpu(w, t2).sysreg_trap = { op, val: `0x${val.toString(16)}` };
    return { exit: "sysreg" };
  }
});

// src/core/arm64/nv_invariants.ts
var hex4 = (n) => `0x${n.toString(16)}`;
define_invariant({
  name: "nv.entry_with_pending_unmap",
  description: "no vCPU enters the guest with hw_mmu->pending_unmap set",
  arch: "arm64",
  on: ["vcpu.enter"],
  check(w, ev) {
    const e = ev;
    const a = w.arm64;
    if (!a || a.nested_mmus_size === 0 || e.vcpu === null) return null;
    const hw = a.vcpus[e.vcpu].hw_mmu;
    if (hw === null || hw < 0 || !a.nested_mmus[hw].pending_unmap) return null;
    const req_pending = w.kvm.vcpus[e.vcpu].requests !== 0;
    return {
      thread: e.thread,
      message: `vcpu${e.vcpu} entered the guest with nested_mmus[${hw}].pending_unmap = true: the recycled MMU still holds the previous context's mappings (request NESTED_S2_UNMAP was ${req_pending ? "pending but not serviced" : "not pending"})`,
      values: { vcpu: e.vcpu, mmu: hw, pending_unmap: true }
    };
  }
});
function still_using(w, t2, index) {
  if (arm64(w).vcpus[t2.vcpu].hw_mmu === index) return "hw_mmu";
  const f = t2.stack.find((x) => x.fn === "user_mem_abort");
  return f && f.locals["mmu"] === index ? "user_mem_abort" : null;
}
observed_frames("user_mem_abort");
define_invariant({
  name: "nv.recycled_in_use",
  description: "a shadow stage-2 is never recycled while a vCPU still has it as hw_mmu or is in a stage-2 fault that will map into it",
  arch: "arm64",
  on: ["s2mmu.recycle"],
  check(w, ev) {
    const e = ev;
    for (const t2 of w.threads) {
      if (t2.kind !== "vcpu" || t2.name === e.thread) continue;
      const use = still_using(w, t2, e.index);
      if (!use) continue;
      const scheduled_out = w.kvm.vcpus[t2.vcpu].scheduled_out;
      return {
        thread: e.thread,
        message: `${e.thread} recycled nested_mmus[${e.index}] (refcnt 0) while ${t2.name}${scheduled_out ? " (scheduled out)" : ""} ${use === "user_mem_abort" ? "is still handling a stage-2 fault that will map into it" : "still has it as hw_mmu"}: its reference was dropped`,
        values: { mmu: e.index, user: t2.name, scheduled_out, in: use }
      };
    }
    return null;
  }
});
define_invariant({
  name: "nv.pending_unmap_cleared_early",
  description: "pending_unmap is never cleared while the MMU still maps pages left from before its latest recycle (an unmap pass that began before that recycle must not clear it)",
  arch: "arm64",
  on: ["pending_unmap.clear"],
  check(w, ev) {
    const e = ev;
    if (!e.was_set) return null;
    const t2 = w.threads.find((x) => x.name === e.thread);
    const f = t2.stack.find((x) => x.fn === "check_nested_vcpu_requests");
    if (!f) return null;
    const gen = f.locals["pass_gen"];
    const now = arm64(w).nested_recycles[e.index];
    if (gen === now) return null;
    const left = kvm_pgtable_leaves(w, e.index);
    if (left.length === 0) return null;
    const mmu = arm64(w).nested_mmus[e.index];
    return {
      thread: e.thread,
      message: `${e.thread} cleared nested_mmus[${e.index}].pending_unmap, but the MMU, recycled again for VTTBR 0x${mmu.tlb_vttbr.toString(16)} since the unmap pass that cleared it began, still maps ${left.length} page${left.length === 1 ? "" : "s"} from before that recycle (IPA ${hex4(left[0].ipa)} -> PA ${hex4(left[0].pa)}): the pass had already gone past them; whoever enters the guest on it next runs the new context on the old one's translations`,
      values: { mmu: e.index, recycles_since_pass: now - gen, leaves: left.length, ipa: left[0].ipa, pa: left[0].pa }
    };
  }
});
function l1_translate(w, vttbr, nested_ipa) {
  const e = arm64(w).l1_s2[vttbr_baddr(vttbr)]?.[Math.floor(nested_ipa / PAGE_SIZE)];
  return e ? e.ipa : null;
}
function l1_change_outstanding(w, vmid, nested_ipa) {
  const page = Math.floor(nested_ipa / PAGE_SIZE) * PAGE_SIZE;
  return arm64(w).l1_s2_dirty.some((d) => d.vmid === vmid && page >= d.start && page < d.start + d.size);
}
define_invariant({
  name: "nv.shadow_fill_after_tlbi",
  description: "a shadow stage-2 fault never installs a translation of L1's stage-2 that L1 has since changed and invalidated with a TLBI that retired (the property L1 relies on when it reuses the old target page)",
  arch: "arm64",
  on: ["fault.map"],
  check(w, ev) {
    const e = ev;
    const t2 = w.threads.find((x) => x.name === e.thread);
    const uma = t2.stack.find((f) => f.fn === "user_mem_abort");
    const abort = t2.stack.find((f) => f.fn === "handle_exit_abort");
    if (!uma || !abort || abort.locals["walked"] !== true) return null;
    const id2 = uma.locals["mmu"];
    if (id2 < 0) return null;
    const mmu = arm64(w).nested_mmus[id2];
    const nested = abort.locals["nested_ipa"];
    const used = abort.locals["l1_ipa"];
    const now = l1_translate(w, mmu.tlb_vttbr, nested);
    if (now === used) return null;
    const vmid = get_vmid(mmu.tlb_vttbr);
    if (l1_change_outstanding(w, vmid, nested)) return null;
    return {
      thread: e.thread,
      message: `${e.thread} installed nested IPA ${hex4(e.ipa)} -> L1 IPA ${hex4(used)} (PA ${hex4(e.pa)}) in ${mmu_name(id2)} (VMID ${vmid}), from its walk of L1's stage-2 before its mmu_seq snapshot, but L1's stage-2 now gives ${now === null ? "no mapping" : `L1 IPA ${hex4(now)}`} and L1's TLBI for it has retired: L1 changed the entry and invalidated it while the fault was between kvm_walk_nested_s2() and kvm_fault_lock(); the TLBI found nothing to unmap and mmu_invalidate_retry() sees only MMU-notifier invalidations, so L2 keeps a translation L1 took away`,
      values: { nested_ipa: e.ipa, used_ipa: used, now_ipa: now, pa: e.pa, mmu: id2, vmid }
    };
  }
});
function nested_truth(w, t2, nested_ipa) {
  const thread = w.threads.find((x) => x.name === t2.name);
  const l1 = kvm_walk_nested_s2(w, thread, nested_ipa);
  if (!l1) return null;
  const gfn = Math.floor(l1.ipa / PAGE_SIZE);
  const slot = gfn_to_memslot(w, gfn);
  if (!slot) return null;
  const pte = host_pte(w, gfn_to_hva(slot, gfn));
  return pte ? pte.pfn * PAGE_SIZE + nested_ipa % PAGE_SIZE : null;
}
define_invariant({
  name: "nv.stale_shadow",
  description: "no L2 access is served by a shadow translation that the guest hypervisor's stage-2 and the canonical side no longer give, once the TLBI or invalidation that should have removed it has retired",
  arch: "arm64",
  on: ["guest.access"],
  check(w, ev) {
    const e = ev;
    const a = w.arm64;
    if (!a || a.nested_mmus_size === 0 || e.vcpu === null) return null;
    const v = a.vcpus[e.vcpu];
    if (v.ctxt !== "l2" || v.hw_mmu === null || v.hw_mmu < 0) return null;
    const truth = nested_truth(w, { name: e.thread, vcpu: e.vcpu }, e.ipa);
    if (truth === e.pa) return null;
    const vmid = get_vmid(v.vttbr);
    const page = Math.floor(e.ipa / PAGE_SIZE) * PAGE_SIZE;
    if (a.l1_s2_dirty.some((d) => d.vmid === vmid && page >= d.start && page < d.start + d.size)) return null;
    const l1 = l1_translate(w, v.vttbr, e.ipa);
    const now = l1 === null ? "L1's stage-2 now maps nothing there" : `L1's stage-2 now gives L1 IPA ${hex4(l1)}, ${truth === null ? "which the host has not populated yet" : `PA ${hex4(truth)}`}`;
    return {
      thread: e.thread,
      message: `${e.thread} (L2, ${mmu_name(v.hw_mmu)}) accessed nested IPA ${hex4(e.ipa)} -> PA ${hex4(e.pa)} via the ${e.via === "tlb" ? "TLB" : "shadow stage-2"}, but ${now}, and no TLBI for it is outstanding: a stale shadow translation survived`,
      values: { nested_ipa: e.ipa, pa: e.pa, expected: truth, mmu: v.hw_mmu, via: e.via }
    };
  }
});

// src/core/x86/kvm_host.ts
var ARCH_REQ2 = (nr, flags = 0) => nr + KVM_REQUEST_ARCH_BASE | flags;
var KVM_REQ = {
  TLB_FLUSH: KVM_REQ_GENERIC.TLB_FLUSH,
  UNBLOCK: KVM_REQ_GENERIC.UNBLOCK,
  VM_DEAD: KVM_REQ_GENERIC.VM_DEAD,
  EVENT: KVM_REQ_X86.EVENT,
  TLB_FLUSH_CURRENT: ARCH_REQ2(26),
  TLB_FLUSH_GUEST: ARCH_REQ2(27, KVM_REQUEST_WAIT | KVM_REQUEST_NO_WAKEUP),
  HV_TLB_FLUSH: KVM_REQ_X86.HV_TLB_FLUSH
};
var KVM_HV_TLB_FLUSH_FIFO_SIZE = 16;
var KVM_HV_TLB_FLUSHALL_ENTRY = -1;
var HV_L1_TLB_FLUSH_FIFO = 0;
var HV_L2_TLB_FLUSH_FIFO = 1;
var HV_NR_TLB_FLUSH_FIFOS = 2;
var PAGE_SIZE2 = 4096;
function gva_page(e) {
  return e - e % PAGE_SIZE2;
}
function gva_extra_pages(e) {
  return e % PAGE_SIZE2;
}
function x86(w) {
  if (!w.x86) throw new Error("not an x86 world");
  return w.x86;
}
function x86_vcpu(w, id2) {
  const v = x86(w).vcpus[id2];
  if (!v) throw new Error(`no vcpu${id2}`);
  return v;
}
function new_vcpu_x86(vcpu_id) {
  return {
    hyperv: {
      vp_index: vcpu_id,
      tlb_flush_fifo: Array.from({ length: HV_NR_TLB_FLUSH_FIFOS }, () => ({ write_lock: -1, entries: [] })),
      tlb_flush_inhibit: false,
      suspended: false,
      waiting_on: -1
    },
    tlb: [],
    tdp_tlb: [],
    hcall: null,
    mutex: -1,
    inhibited: false,
    inhibit_write_step: -1,
    inhibit_return_step: -1,
    clear_return_step: -1,
    inhibit_read_step: -1,
    suspend_step: -1
  };
}
function is_guest_mode(_w, _vcpu) {
  return false;
}
function kvm_hv_get_tlb_flush_fifo(w, vcpu, guest_mode) {
  return x86_vcpu(w, vcpu).hyperv.tlb_flush_fifo[guest_mode ? HV_L2_TLB_FLUSH_FIFO : HV_L1_TLB_FLUSH_FIFO];
}
function stale_entry(w, vcpu, f) {
  if (!f.targets.includes(vcpu)) return void 0;
  return x86_vcpu(w, vcpu).tlb.find((e) => e.stamp < f.stamp && (f.ranges === null || f.ranges.some(([s2, end]) => e.gva >= s2 && e.gva < end)));
}
function prune_flushes(w) {
  const x = x86(w);
  x.flushes = x.flushes.filter((f) => f.targets.some((v) => stale_entry(w, v, f) !== void 0));
}
for (const f of ["step", "issued_step", "done_step", "read_steps", "inhibit_write_step", "inhibit_return_step", "clear_return_step", "inhibit_read_step", "suspend_step"]) define_history(f, "stamp");

// src/core/x86/tlb.ts
function tlb_lookup(w, vcpu, gva) {
  const page = gva_page(gva);
  return x86_vcpu(w, vcpu).tlb.find((e) => e.gva === page);
}
function tlb_fill(w, vcpu, gva) {
  const x = x86(w);
  const tlb = x86_vcpu(w, vcpu).tlb;
  const e = { gva: gva_page(gva), stamp: x.clock++, step: w.step };
  let i = 0;
  while (i < tlb.length && tlb[i].gva < e.gva) i++;
  tlb.splice(i, 0, e);
  return e;
}
function flush_tlb_gva(w, vcpu, gva) {
  const tlb = x86_vcpu(w, vcpu).tlb;
  const i = tlb.findIndex((e) => e.gva === gva_page(gva));
  if (i < 0) return false;
  tlb.splice(i, 1);
  return true;
}
function flush_tlb_all_entries(w, t2, vcpu, scope, reason) {
  const v = x86_vcpu(w, vcpu);
  let n = v.tlb.length;
  v.tlb = [];
  if (scope === "all" || scope === "current") {
    n += v.tdp_tlb.length;
    v.tdp_tlb = [];
  }
  emit(w, t2, "guest.tlb_flush", { scope, reason, entries: n });
  metric_add(w, "guest_tlb_full_flushes");
  return n;
}
function gva_range(entry) {
  const page = gva_page(entry);
  return [page, page + (entry % PAGE_SIZE2 + 1) * PAGE_SIZE2];
}
define_op({
  name: "access_gva",
  threads: ["vcpu"],
  arch: "x86",
  summary: "guest load or store through a GVA: hits the guest TLB or walks and fills it (never exits)",
  schema: { type: "object", properties: { gva: S.addr, write: S.bool }, required: ["gva"], additionalProperties: false },
  in_guest: (w, t2, args) => {
    const gva = args["gva"];
    const write = args["write"] === true;
    const hit = tlb_lookup(w, t2.vcpu, gva) !== void 0;
    if (!hit) tlb_fill(w, t2.vcpu, gva);
    emit(w, t2, "guest.gva_access", { gva, write, hit });
    return { done: true };
  }
});
function tdp_tlb_lookup(w, vcpu, gfn) {
  return x86_vcpu(w, vcpu).tdp_tlb.find((e) => e.gfn === gfn);
}
function tdp_tlb_fill(w, vcpu, gfn, pfn, writable) {
  const tlb = x86_vcpu(w, vcpu).tdp_tlb;
  const old = tlb.findIndex((e2) => e2.gfn === gfn);
  if (old >= 0) tlb.splice(old, 1);
  const e = { gfn, pfn, writable, step: w.step };
  let i = 0;
  while (i < tlb.length && tlb[i].gfn < gfn) i++;
  tlb.splice(i, 0, e);
  return e;
}

// src/core/x86/hyperv_tlfs.ts
var HVCALL_FLUSH_VIRTUAL_ADDRESS_SPACE = 2;
var HVCALL_FLUSH_VIRTUAL_ADDRESS_LIST = 3;
var HVCALL_FLUSH_VIRTUAL_ADDRESS_SPACE_EX = 19;
var HVCALL_FLUSH_VIRTUAL_ADDRESS_LIST_EX = 20;
var HVCALL_NAMES = {
  [HVCALL_FLUSH_VIRTUAL_ADDRESS_SPACE]: "HvFlushVirtualAddressSpace",
  [HVCALL_FLUSH_VIRTUAL_ADDRESS_LIST]: "HvFlushVirtualAddressList",
  [HVCALL_FLUSH_VIRTUAL_ADDRESS_SPACE_EX]: "HvFlushVirtualAddressSpaceEx",
  [HVCALL_FLUSH_VIRTUAL_ADDRESS_LIST_EX]: "HvFlushVirtualAddressListEx"
};
function hvcall_name(code) {
  return HVCALL_NAMES[code] ?? `hypercall 0x${code.toString(16)}`;
}
function is_tlb_flush_hcall(code) {
  return code in HVCALL_NAMES;
}
var HV_FLUSH_ALL_PROCESSORS = 1 << 0;
var HV_FLUSH_ALL_VIRTUAL_ADDRESS_SPACES = 1 << 1;
var HV_FLUSH_NON_GLOBAL_MAPPINGS_ONLY = 1 << 2;
var HV_FLUSH_USE_EXTENDED_RANGE_FORMAT = 1 << 3;
var HV_GENERIC_SET_SPARSE_4K = 0;
var HV_GENERIC_SET_ALL = 1;
var HV_VCPUS_PER_SPARSE_BANK = 64;
var HV_MAX_SPARSE_VCPU_BANKS = 64;
var KVM_HV_MAX_SPARSE_VCPU_SET_BITS = 64;
var HV_HYPERCALL_MAX_XMM_REGISTERS = 6;
var HV_HYPERCALL_FAST_BIT = 1n << 16n;
var HV_HYPERCALL_VARHEAD_OFFSET = 17n;
var HV_HYPERCALL_VARHEAD_MASK = 0x3ffn << 17n;
var HV_HYPERCALL_RSVD0_MASK = 0x1fn << 27n;
var HV_HYPERCALL_REP_COMP_OFFSET = 32n;
var HV_HYPERCALL_RSVD1_MASK = 0xfn << 44n;
var HV_HYPERCALL_REP_START_OFFSET = 48n;
var HV_HYPERCALL_RSVD2_MASK = 0xfn << 60n;
var HV_HYPERCALL_RSVD_MASK = HV_HYPERCALL_RSVD0_MASK | HV_HYPERCALL_RSVD1_MASK | HV_HYPERCALL_RSVD2_MASK;
var HV_STATUS_SUCCESS = 0;
var HV_STATUS_INVALID_HYPERCALL_CODE = 2;
var HV_STATUS_INVALID_HYPERCALL_INPUT = 3;
var HV_STATUS_NAMES = {
  [HV_STATUS_SUCCESS]: "HV_STATUS_SUCCESS",
  [HV_STATUS_INVALID_HYPERCALL_CODE]: "HV_STATUS_INVALID_HYPERCALL_CODE",
  [HV_STATUS_INVALID_HYPERCALL_INPUT]: "HV_STATUS_INVALID_HYPERCALL_INPUT"
};
function hv_hypercall_param(f) {
  return BigInt(f.code & 65535) | (f.fast ? HV_HYPERCALL_FAST_BIT : 0n) | BigInt((f.var_cnt ?? 0) & 1023) << HV_HYPERCALL_VARHEAD_OFFSET | BigInt((f.rep_cnt ?? 0) & 4095) << HV_HYPERCALL_REP_COMP_OFFSET | BigInt((f.rep_idx ?? 0) & 4095) << HV_HYPERCALL_REP_START_OFFSET;
}
function hweight64(x) {
  let n = 0;
  for (let v = BigInt.asUintN(64, x); v; v &= v - 1n) n++;
  return n;
}
function u642(x) {
  if (typeof x === "bigint") return BigInt.asUintN(64, x);
  if (typeof x === "number") return BigInt.asUintN(64, BigInt(x));
  if (typeof x === "string") return BigInt.asUintN(64, BigInt(x.replace(/_/g, "")));
  return 0n;
}
function hex5(x) {
  return `0x${(typeof x === "bigint" ? x : BigInt(x)).toString(16)}`;
}

// src/core/x86/vcpu_ioctl.ts
var VCPU_MUTEX_WAIT = "vcpu_mutex";
wait_kind(VCPU_MUTEX_WAIT, true, (w, _t, wait) => x86_vcpu(w, wait["vcpu"]).mutex < 0);
function mutex_name(vcpu) {
  return `vcpu${vcpu}->mutex`;
}
function vcpu_mutex_lock(w, t2, vcpu, next) {
  const xv = x86_vcpu(w, vcpu);
  if (xv.mutex >= 0 && xv.mutex !== t2.id) {
    emit(w, t2, "lock.contend", { lock: mutex_name(vcpu), mode: "mutex" });
    return block(t2, { kind: VCPU_MUTEX_WAIT, vcpu });
  }
  if (xv.mutex === t2.id) throw new Error(`${t2.name}: ${mutex_name(vcpu)} taken twice`);
  xv.mutex = t2.id;
  emit(w, t2, "lock.acquire", { lock: mutex_name(vcpu), mode: "mutex" });
  return next;
}
function vcpu_mutex_unlock(w, t2, vcpu) {
  const xv = x86_vcpu(w, vcpu);
  if (xv.mutex !== t2.id) throw new Error(`${t2.name}: mutex_unlock(${mutex_name(vcpu)}) without holding it`);
  xv.mutex = -1;
  emit(w, t2, "lock.release", { lock: mutex_name(vcpu), mode: "mutex" });
}
var kvm_vcpu_ioctl_run = model_fn("kvm_vcpu_ioctl_run", {
  lock: (w, t2) => vcpu_mutex_lock(w, t2, t2.vcpu, "run"),
  run: () => call("kvm_arch_vcpu_ioctl_run_x86", {}, "unlock"),
  unlock: (w, t2, l2) => {
    l2.r = t2.retval;
    vcpu_mutex_unlock(w, t2, t2.vcpu);
    if (l2.r < 0 || !next_op(t2)) return RETURN;
    return "lock";
  }
});
define_op({
  name: "userspace_exit",
  threads: ["vcpu"],
  arch: "x86",
  summary: "the guest exits to the VMM (a port I/O or MMIO exit): KVM_RUN returns to userspace, dropping vcpu->mutex, and is called again",
  schema: { type: "object", properties: {}, additionalProperties: false },
  in_guest: () => ({ exit: "userspace" })
});

// src/core/x86/flush_inhibit.ts
var TLB_FLUSH_INHIBIT = define_variant({
  name: "hv.tlb_flush_inhibit",
  description: "adds KVM_HYPERV_SET_TLB_FLUSH_INHIBIT (a vCPU ioctl: write kvm_vcpu_hv.tlb_flush_inhibit, synchronize_srcu(&kvm->srcu), on clear unsuspend the vCPUs waiting on this one with KVM_REQ_UNBLOCK); kvm_hv_flush_tlb() reads each target's flag before queueing anything and, at an inhibited one, suspends its caller (not runnable, hypercall not skipped) instead; the review's merged suspended/waiting_on state (one store) and KVM_REQ_UNBLOCK are folded in",
  source: `posting: Nikolas Wipper, "[PATCH 0/7] KVM: x86: Introduce new ioctl KVM_HYPERV_SET_TLB_FLUSH_INHIBIT", kvm list, 4 Oct 2024; Vitaly Kuznetsov, "Re: [PATCH 2/7] KVM: x86: Implement Hyper-V's vCPU suspended state", kvm list, 10 Oct 2024; Sean Christopherson, "Re: [PATCH 2/7] KVM: x86: Implement Hyper-V's vCPU suspended state", kvm list, Oct 2024; not merged`,
  breaks: "nothing; flush hypercalls that target an inhibited vCPU suspend their caller (hv_suspends, hv_unsuspends) and re-run once it is cleared",
  arch: "x86"
});
var INHIBIT_V1 = define_variant({
  name: "hv.inhibit_v1",
  description: "on top of hv.tlb_flush_inhibit, the v1 patches as posted: the caller suspends with two stores (waiting_on, then suspended) and the unsuspend wakes waiters with KVM_REQ_EVENT; the check-first order and the synchronize_srcu() are v1's too",
  source: `posting: Nikolas Wipper, "[PATCH 2/7] KVM: x86: Implement Hyper-V's vCPU suspended state", kvm list, 4 Oct 2024; Nikolas Wipper, "[PATCH 5/7] KVM: x86: Implement KVM_HYPERV_SET_TLB_FLUSH_INHIBIT", kvm list, 4 Oct 2024; not merged`,
  breaks: "nothing; the wake-up request is KVM_REQ_EVENT (hv_unsuspend_requests.EVENT instead of .UNBLOCK). The window Vitaly Kuznetsov asked about (flag read, then set, before the request) is closed by synchronize_srcu(): the flusher holds kvm->srcu from its read to its return (Nikolas Wipper's answer); with hv.no_srcu_sync it opens",
  arch: "x86"
});
var INHIBIT_REQUEST_FIRST = define_variant({
  name: "hv.inhibit_request_first",
  description: "on top of hv.tlb_flush_inhibit, the order Vitaly Kuznetsov suggested: queue the flush and make KVM_REQ_HV_TLB_FLUSH on every target first, then look through the mask for an inhibited vCPU and suspend",
  source: 'posting: Vitaly Kuznetsov, "Re: [PATCH 5/7] KVM: x86: Implement KVM_HYPERV_SET_TLB_FLUSH_INHIBIT", kvm list, 10 Oct 2024; not merged',
  breaks: "nothing; a flusher that comes after the inhibit was set still suspends before completing, but its flush is already queued on the inhibited vCPU, which performs it on its next entry (hv_fifo_push_while_inhibited up from 0)",
  arch: "x86"
});
var NO_SRCU_SYNC = define_variant({
  name: "hv.no_srcu_sync",
  description: "on top of hv.tlb_flush_inhibit, KVM_HYPERV_SET_TLB_FLUSH_INHIBIT returns without synchronize_srcu(&kvm->srcu): it does not wait for flushes in flight",
  source: "hypothetical: no posting drops the synchronize_srcu() (Sean Christopherson only called it imprecise and slow); shows what it is for: the window between a flusher reading the flag and queueing or suspending, in both directions",
  breaks: "hv.flush_while_inhibited (a flusher that read the flag as 0 before it was set completes after the ioctl returned) and hv.suspended_forever (a flusher that read the flag as 1 before it was cleared suspends after the unsuspend scan)",
  arch: "x86"
});
var PROPOSAL = [TLB_FLUSH_INHIBIT, INHIBIT_V1, INHIBIT_REQUEST_FIRST, NO_SRCU_SYNC].map((v) => v.name);
function tlb_flush_inhibit_on(w) {
  return PROPOSAL.some((v) => variant_on(w, v));
}
function tlb_flush_inhibited(w, vcpu) {
  return x86_vcpu(w, vcpu).hyperv.tlb_flush_inhibit;
}
function kvm_hv_vcpu_suspended(w, vcpu) {
  return x86_vcpu(w, vcpu).hyperv.suspended;
}
var kvm_hv_vcpu_suspend_tlb_flush = model_fn("kvm_hv_vcpu_suspend_tlb_flush", {
  waiting_on: (w, t2, l2) => {
    if (!srcu_read_lock_held(w, t2, KVM_SRCU)) throw new Error(`${t2.name}: Suspicious Hyper-V TLB flush inhibit usage (kvm->srcu not held)`);
    const hv = x86_vcpu(w, t2.vcpu).hyperv;
    hv.waiting_on = l2.waiting_on;
    if (variant_on(w, INHIBIT_V1.name)) return "suspended";
    hv.suspended = true;
    return "suspended_done";
  },
  suspended: (w, t2) => {
    x86_vcpu(w, t2.vcpu).hyperv.suspended = true;
    return "suspended_done";
  },
  suspended_done: (w, t2, l2) => {
    x86_vcpu(w, t2.vcpu).suspend_step = w.step;
    emit(w, t2, "hv.suspend", { target: t2.vcpu, waiting_on: l2.waiting_on });
    metric_add(w, "hv_suspends");
    return RETURN;
  }
});
var kvm_hv_unsuspend_vcpus = model_fn("kvm_hv_unsuspend_vcpus", {
  start: (_w, _t, l2) => {
    l2.i = 0;
    l2.mask = [];
    return "scan";
  },
  scan: (w, t2, l2) => {
    const all = x86(w).vcpus;
    if (l2.i >= all.length) return "wake";
    const hv = all[l2.i].hyperv;
    if (hv.suspended && hv.waiting_on === l2.vcpu) {
      hv.waiting_on = -1;
      hv.suspended = false;
      l2.mask.push(l2.i);
      emit(w, t2, "hv.unsuspend", { target: l2.i, waiting_on: l2.vcpu });
      metric_add(w, "hv_unsuspends");
    }
    l2.i++;
    return "scan";
  },
  wake: (w, _t, l2) => {
    if (!l2.mask.length) return RETURN;
    const v1 = variant_on(w, INHIBIT_V1.name);
    const req = v1 ? KVM_REQ.EVENT : KVM_REQ.UNBLOCK;
    metric_add(w, v1 ? "hv_unsuspend_requests.EVENT" : "hv_unsuspend_requests.UNBLOCK");
    return call("kvm_make_vcpus_request_mask", { req, mask: l2.mask.slice() }, "done");
  },
  done: () => RETURN
});
var EINVAL3 = -22;
var kvm_vcpu_ioctl_set_tlb_flush_inhibit = model_fn("kvm_vcpu_ioctl_set_tlb_flush_inhibit", {
  mutex: (w, t2, l2) => vcpu_mutex_lock(w, t2, l2.vcpu, "dispatch"),
  dispatch: (w, t2, l2) => {
    const xv = x86_vcpu(w, l2.vcpu);
    l2.r = 0;
    if (!tlb_flush_inhibit_on(w)) {
      l2.r = EINVAL3;
      emit(w, t2, "hv.inhibit", { target: l2.vcpu, inhibit: l2.inhibit, phase: "einval" });
      return "unlock";
    }
    if (!l2.inhibit) xv.inhibited = false;
    return xv.hyperv.tlb_flush_inhibit === l2.inhibit ? "unlock" : "write";
  },
  write: (w, t2, l2) => {
    const xv = x86_vcpu(w, l2.vcpu);
    xv.hyperv.tlb_flush_inhibit = l2.inhibit;
    xv.inhibit_write_step = w.step;
    emit(w, t2, "hv.inhibit", { target: l2.vcpu, inhibit: l2.inhibit, phase: "write" });
    return variant_on(w, NO_SRCU_SYNC.name) ? "after_sync" : "sync";
  },
  sync: () => call(synchronize_srcu, { srcu: KVM_SRCU }, "after_sync"),
  after_sync: (_w, _t, l2) => l2.inhibit ? "unlock" : call(kvm_hv_unsuspend_vcpus, { vcpu: l2.vcpu }, "unlock"),
  // mutex_unlock(&vcpu->mutex); the ioctl returns.
  unlock: (w, t2, l2) => {
    vcpu_mutex_unlock(w, t2, l2.vcpu);
    if (l2.r < 0) return ret(t2, l2.r);
    const xv = x86_vcpu(w, l2.vcpu);
    if (l2.inhibit) {
      xv.inhibited = true;
      xv.inhibit_return_step = w.step;
    } else {
      xv.clear_return_step = w.step;
    }
    emit(w, t2, "hv.inhibit", { target: l2.vcpu, inhibit: l2.inhibit, phase: "return" });
    return ret(t2, 0);
  }
});
define_op({
  name: "set_tlb_flush_inhibit",
  threads: ["vmm"],
  arch: "x86",
  summary: "KVM_HYPERV_SET_TLB_FLUSH_INHIBIT on a vCPU under its vcpu->mutex (the proposal, variant hv.tlb_flush_inhibit; -EINVAL without it): set or clear its tlb_flush_inhibit, synchronize kvm->srcu, on clear wake the vCPUs suspended on it",
  schema: {
    type: "object",
    properties: { vcpu: { type: "integer", minimum: 0 }, inhibit: { type: "boolean" } },
    required: ["vcpu", "inhibit"],
    additionalProperties: false
  },
  fn: kvm_vcpu_ioctl_set_tlb_flush_inhibit.name
});

// src/core/x86/hyperv.ts
var EBUSY_STATUS = 65520;
var ENOSPC = -28;
function decode_param(param) {
  const rep_cnt = Number(param >> HV_HYPERCALL_REP_COMP_OFFSET & 0xfffn);
  const rep_idx = Number(param >> HV_HYPERCALL_REP_START_OFFSET & 0xfffn);
  return {
    param,
    code: Number(param & 0xffffn),
    var_cnt: Number((param & HV_HYPERCALL_VARHEAD_MASK) >> HV_HYPERCALL_VARHEAD_OFFSET),
    fast: (param & HV_HYPERCALL_FAST_BIT) !== 0n,
    rep_cnt,
    rep_idx,
    rep: rep_cnt !== 0 || rep_idx !== 0
  };
}
function xmm_fits(cnt, consumed_xmm_halves) {
  return cnt <= 2 * HV_HYPERCALL_MAX_XMM_REGISTERS - consumed_xmm_halves;
}
function sparse_set_to_vcpus(nr_vcpus, sparse_banks, valid_bank_mask) {
  const bitmap = [];
  let sbank = 0;
  for (let bank = 0; bank < KVM_HV_MAX_SPARSE_VCPU_SET_BITS; bank++) {
    if (valid_bank_mask >> BigInt(bank) & 1n) bitmap[bank] = sparse_banks[sbank++] ?? 0n;
  }
  const out = [];
  for (let i = 0; i < nr_vcpus; i++) {
    const word = bitmap[Math.floor(i / HV_VCPUS_PER_SPARSE_BANK)] ?? 0n;
    if (word >> BigInt(i % HV_VCPUS_PER_SPARSE_BANK) & 1n) out.push(i);
  }
  return out;
}
function kvm_hv_flush_tlb_decode(nr_vcpus, hc, input) {
  let all_cpus;
  let valid_bank_mask;
  let sparse_banks;
  let consumed_xmm_halves = 0;
  if (hc.code === HVCALL_FLUSH_VIRTUAL_ADDRESS_LIST || hc.code === HVCALL_FLUSH_VIRTUAL_ADDRESS_SPACE) {
    if (hc.fast) consumed_xmm_halves = 1;
    valid_bank_mask = 1n;
    sparse_banks = [input.processor_mask];
    all_cpus = (input.flags & BigInt(HV_FLUSH_ALL_PROCESSORS)) !== 0n || input.processor_mask === 0n;
  } else {
    if (hc.fast) consumed_xmm_halves = 2;
    valid_bank_mask = input.valid_bank_mask;
    all_cpus = input.format !== HV_GENERIC_SET_SPARSE_4K;
    sparse_banks = [];
    if (hc.var_cnt !== hweight64(valid_bank_mask)) {
      return { status: HV_STATUS_INVALID_HYPERCALL_INPUT, why: `var_cnt ${hc.var_cnt} != hweight64(valid_bank_mask ${hex5(valid_bank_mask)})` };
    }
    if (!all_cpus) {
      if (!hc.var_cnt) return { success_no_targets: true };
      if (hc.var_cnt > HV_MAX_SPARSE_VCPU_BANKS) return { status: HV_STATUS_INVALID_HYPERCALL_INPUT, why: "var_cnt > HV_MAX_SPARSE_VCPU_BANKS" };
      if (hc.fast && !xmm_fits(hc.var_cnt, consumed_xmm_halves)) {
        return { status: HV_STATUS_INVALID_HYPERCALL_INPUT, why: `${hc.var_cnt} banks do not fit in the XMM registers` };
      }
      const n = Math.min(hc.var_cnt, KVM_HV_MAX_SPARSE_VCPU_SET_BITS);
      for (let i = 0; i < n; i++) sparse_banks.push(input.banks[i] ?? 0n);
    }
    if (hc.fast) consumed_xmm_halves += hc.var_cnt;
  }
  let entries;
  if (hc.code === HVCALL_FLUSH_VIRTUAL_ADDRESS_SPACE || hc.code === HVCALL_FLUSH_VIRTUAL_ADDRESS_SPACE_EX || hc.rep_cnt > KVM_HV_TLB_FLUSH_FIFO_SIZE - 1) {
    entries = null;
  } else {
    if (hc.fast && !xmm_fits(hc.rep_cnt, consumed_xmm_halves)) {
      return { status: HV_STATUS_INVALID_HYPERCALL_INPUT, why: `${hc.rep_cnt} GVA entries do not fit in the XMM registers` };
    }
    entries = [];
    for (let i = 0; i < hc.rep_cnt; i++) entries.push(input.gvas[i] ?? 0);
  }
  const targets = all_cpus ? Array.from({ length: nr_vcpus }, (_, i) => i) : sparse_set_to_vcpus(nr_vcpus, sparse_banks, valid_bank_mask);
  return { decoded: { all_cpus, valid_bank_mask, sparse_banks, entries, targets } };
}
wait_kind("spinlock", false, (w, _t, wait) => {
  const fifo = kvm_hv_get_tlb_flush_fifo(w, wait["vcpu"], wait["fifo"] === 1);
  return fifo.write_lock < 0;
});
function fifo_lock_name(vcpu, fifo) {
  return `vcpu${vcpu}.hv.tlb_flush_fifo[${fifo}].write_lock`;
}
function hv_tlb_flush_enqueue_locked(w, t2, vcpu, fifo_idx, entries, count) {
  const fifo = kvm_hv_get_tlb_flush_fifo(w, vcpu, fifo_idx === 1);
  const avail = KVM_HV_TLB_FLUSH_FIFO_SIZE - fifo.entries.length;
  if (count && entries && count < avail) {
    fifo.entries.push(...entries.slice(0, count));
    emit(w, t2, "hv.fifo.push", { target: vcpu, fifo: fifo_idx, entries: count, flushall: false });
  } else {
    const pushed = avail > 0;
    if (pushed) fifo.entries.push(KVM_HV_TLB_FLUSHALL_ENTRY);
    emit(w, t2, "hv.fifo.push", { target: vcpu, fifo: fifo_idx, entries: pushed ? 1 : 0, flushall: true });
    metric_add(w, "hv_fifo_flushall");
  }
  if (x86_vcpu(w, vcpu).inhibited) metric_add(w, "hv_fifo_push_while_inhibited");
  fifo.write_lock = -1;
  t2.preempt_count--;
  emit(w, t2, "lock.release", { lock: fifo_lock_name(vcpu, fifo_idx), mode: "spin" });
}
function hv_fifo_lock(w, t2, vcpu, fifo_idx) {
  const fifo = kvm_hv_get_tlb_flush_fifo(w, vcpu, fifo_idx === 1);
  if (fifo.write_lock >= 0 && fifo.write_lock !== t2.id) {
    block(t2, { kind: "spinlock", vcpu, fifo: fifo_idx });
    emit(w, t2, "lock.contend", { lock: fifo_lock_name(vcpu, fifo_idx), mode: "spin" });
    return false;
  }
  fifo.write_lock = t2.id;
  t2.preempt_count++;
  emit(w, t2, "lock.acquire", { lock: fifo_lock_name(vcpu, fifo_idx), mode: "spin" });
  return true;
}
function kvm_hv_vcpu_purge_flush_tlb(w, t2, vcpu) {
  if (!kvm_check_request(w, t2, KVM_REQ.HV_TLB_FLUSH, vcpu_of(w, vcpu))) return;
  const fifo = kvm_hv_get_tlb_flush_fifo(w, vcpu, is_guest_mode(w, vcpu));
  const n = fifo.entries.length;
  fifo.entries = [];
  emit(w, t2, "hv.fifo.drain", { target: vcpu, entries: n, result: 1 });
}
var kvm_hv_vcpu_flush_tlb = model_fn("kvm_hv_vcpu_flush_tlb", {
  kfifo_out: (w, t2, l2) => {
    const fifo = kvm_hv_get_tlb_flush_fifo(w, t2.vcpu, is_guest_mode(w, t2.vcpu));
    l2.popped = fifo.entries.splice(0, KVM_HV_TLB_FLUSH_FIFO_SIZE);
    return "flush";
  },
  flush: (w, t2, l2) => {
    for (const e of l2.popped) {
      if (e === KVM_HV_TLB_FLUSHALL_ENTRY) {
        const fifo = kvm_hv_get_tlb_flush_fifo(w, t2.vcpu, is_guest_mode(w, t2.vcpu));
        fifo.entries = [];
        emit(w, t2, "hv.fifo.drain", { target: t2.vcpu, entries: l2.popped.length, result: ENOSPC });
        return ret(t2, ENOSPC);
      }
      const gva = gva_page(e);
      const pages = gva_extra_pages(e) + 1;
      for (let j = 0; j < pages; j++) flush_tlb_gva(w, t2.vcpu, gva + j * PAGE_SIZE2);
      emit(w, t2, "hv.flush", { target: t2.vcpu, scope: "gva", gva, pages });
      metric_add(w, "hv_gva_flushes");
    }
    emit(w, t2, "hv.fifo.drain", { target: t2.vcpu, entries: l2.popped.length, result: 0 });
    return ret(t2, 0);
  }
});
function flush_ranges(hc, input) {
  if (hc.code === HVCALL_FLUSH_VIRTUAL_ADDRESS_SPACE || hc.code === HVCALL_FLUSH_VIRTUAL_ADDRESS_SPACE_EX) return null;
  return input.gvas.slice(0, hc.rep_cnt).map(gva_range);
}
function success(t2, hc, d, input, read_steps = {}) {
  const r2 = { status: HV_STATUS_SUCCESS, reps: hc.rep_cnt, busy: false, targets: d ? d.targets.slice() : [], ranges: flush_ranges(hc, input), read_steps };
  return ret(t2, r2);
}
var kvm_hv_flush_tlb = model_fn("kvm_hv_flush_tlb", {
  decode: (w, t2, l2) => {
    const input = x86_vcpu(w, t2.vcpu).hcall;
    const r2 = kvm_hv_flush_tlb_decode(w.kvm.vcpus.length, l2.hc, input);
    const banks = "decoded" in r2 ? r2.decoded.sparse_banks.map((b) => hex5(b)) : [];
    const all_cpus = "decoded" in r2 ? r2.decoded.all_cpus : false;
    emit(w, t2, "hv.hypercall", { code: l2.hc.code, flags: Number(input.flags), rep_cnt: l2.hc.rep_cnt, all_cpus, banks, fast: l2.hc.fast });
    if ("status" in r2) {
      const res = { status: r2.status, reps: 0, busy: false, targets: [], ranges: null, read_steps: {} };
      return ret(t2, res);
    }
    if ("success_no_targets" in r2) return success(t2, l2.hc, null, input);
    l2.d = r2.decoded;
    l2.i = 0;
    l2.requested = false;
    l2.read_steps = {};
    l2.waiting_on = -1;
    if (l2.d.entries === null) metric_add(w, "hv_flush_all_requests");
    if (tlb_flush_inhibit_on(w) && !variant_on(w, INHIBIT_REQUEST_FIRST.name)) return "check_inhibit";
    return l2.d.targets.length ? "enqueue_lock" : "request";
  },
  // The proposal: READ_ONCE(v->arch.hyperv->tlb_flush_inhibit) per target;
  // an inhibited one suspends the caller (goto ret_suspend). By default
  // (and in v1) before anything is queued; with hv.inhibit_request_first
  // after the request.
  check_inhibit: (w, t2, l2) => {
    if (l2.i >= l2.d.targets.length) {
      l2.i = 0;
      return l2.requested ? "done" : l2.d.targets.length ? "enqueue_lock" : "request";
    }
    const v = l2.d.targets[l2.i];
    if (tlb_flush_inhibited(w, v)) {
      l2.waiting_on = v;
      x86_vcpu(w, t2.vcpu).inhibit_read_step = w.step;
      return call("kvm_hv_vcpu_suspend_tlb_flush", { waiting_on: v }, "suspended");
    }
    l2.read_steps[v] = w.step;
    l2.i++;
    return "check_inhibit";
  },
  suspended: (w, t2, l2) => {
    const res = { status: EBUSY_STATUS, reps: 0, busy: true, targets: [], ranges: null, read_steps: { ...l2.read_steps } };
    return ret(t2, res);
  },
  // hv_tlb_flush_enqueue(v, kvm_hv_get_tlb_flush_fifo(v, false), entries, rep_cnt)
  enqueue_lock: (w, t2, l2) => hv_fifo_lock(w, t2, l2.d.targets[l2.i], 0) ? "enqueue" : BLOCKED,
  enqueue: (w, t2, l2) => {
    hv_tlb_flush_enqueue_locked(w, t2, l2.d.targets[l2.i], 0, l2.d.entries, l2.hc.rep_cnt);
    l2.i++;
    return l2.i < l2.d.targets.length ? "enqueue_lock" : "request";
  },
  // kvm_make_all_cpus_request() or kvm_make_vcpus_request_mask(), both with
  // KVM_REQ_HV_TLB_FLUSH = WAIT|NO_WAKEUP: back only when every target that
  // was in the guest has left it.
  request: (w, _t, l2) => {
    l2.requested = true;
    if (l2.d.all_cpus) return call(kvm_make_all_cpus_request, { req: KVM_REQ.HV_TLB_FLUSH }, "requested");
    return call("kvm_make_vcpus_request_mask", { req: KVM_REQ.HV_TLB_FLUSH, mask: l2.d.targets.slice() }, "requested");
  },
  requested: (w, _t, l2) => {
    if (!variant_on(w, INHIBIT_REQUEST_FIRST.name)) return "done";
    l2.i = 0;
    return "check_inhibit";
  },
  done: (w, t2, l2) => success(t2, l2.hc, l2.d, x86_vcpu(w, t2.vcpu).hcall, { ...l2.read_steps })
});
var kvm_hv_hypercall = model_fn(
  "kvm_hv_hypercall",
  {
    decode: (w, t2, l2) => {
      const input = x86_vcpu(w, t2.vcpu).hcall;
      if (!input) throw new Error(`${t2.name}: hypercall exit without a hypercall`);
      metric_add(w, "hv_hypercalls");
      const hc = decode_param(hv_hypercall_param(input));
      l2.hc = hc;
      l2.status = HV_STATUS_SUCCESS;
      l2.reps = 0;
      l2.busy = false;
      l2.targets = [];
      l2.ranges = null;
      l2.read_steps = {};
      if (hc.param & HV_HYPERCALL_RSVD_MASK) return fail(l2, HV_STATUS_INVALID_HYPERCALL_INPUT);
      const list = hc.code === HVCALL_FLUSH_VIRTUAL_ADDRESS_LIST || hc.code === HVCALL_FLUSH_VIRTUAL_ADDRESS_LIST_EX;
      const space = hc.code === HVCALL_FLUSH_VIRTUAL_ADDRESS_SPACE || hc.code === HVCALL_FLUSH_VIRTUAL_ADDRESS_SPACE_EX;
      if (!list && !space) return fail(l2, HV_STATUS_INVALID_HYPERCALL_CODE);
      if ((hc.code === HVCALL_FLUSH_VIRTUAL_ADDRESS_LIST || hc.code === HVCALL_FLUSH_VIRTUAL_ADDRESS_SPACE) && hc.var_cnt) {
        return fail(l2, HV_STATUS_INVALID_HYPERCALL_INPUT);
      }
      if (list && (!hc.rep_cnt || hc.rep_idx)) return fail(l2, HV_STATUS_INVALID_HYPERCALL_INPUT);
      if (space && hc.rep) return fail(l2, HV_STATUS_INVALID_HYPERCALL_INPUT);
      return call(kvm_hv_flush_tlb, { hc }, "flushed");
    },
    flushed: (_w, t2, l2) => {
      const r2 = t2.retval;
      l2.status = r2.status;
      l2.reps = r2.reps;
      l2.busy = r2.busy;
      l2.targets = r2.targets;
      l2.ranges = r2.ranges;
      l2.read_steps = r2.read_steps;
      return "complete";
    },
    // kvm_hv_hypercall_complete()
    complete: (w, t2, l2) => {
      const xv = x86_vcpu(w, t2.vcpu);
      const input = xv.hcall;
      xv.hcall = null;
      if (kvm_hv_vcpu_suspended(w, t2.vcpu)) {
        emit(w, t2, "hv.hypercall.complete", { code: l2.hc.code, status: l2.status, reps: 0, suspended: true });
        return ret(t2, 1);
      }
      t2.ip++;
      if (l2.status === HV_STATUS_SUCCESS && is_tlb_flush_hcall(l2.hc.code) && l2.targets.length) {
        const done = {
          flusher: t2.vcpu,
          code: l2.hc.code,
          targets: l2.targets,
          ranges: l2.ranges,
          stamp: input.stamp,
          issued_step: input.step,
          done_step: w.step,
          read_steps: l2.read_steps
        };
        prune_flushes(w);
        x86(w).flushes.push(done);
      }
      if (l2.busy) metric_add(w, "hv_busy_results");
      emit(w, t2, "hv.hypercall.complete", { code: l2.hc.code, status: l2.status, reps: l2.status === HV_STATUS_SUCCESS ? l2.reps : 0, suspended: false });
      return ret(t2, 1);
    }
  }
);
function fail(l2, status) {
  l2.status = status;
  return "complete";
}
var FORMATS = { sparse_4k: HV_GENERIC_SET_SPARSE_4K, all: HV_GENERIC_SET_ALL };
function hcall_input(w, args) {
  const code = args["code"];
  const list = code === HVCALL_FLUSH_VIRTUAL_ADDRESS_LIST || code === HVCALL_FLUSH_VIRTUAL_ADDRESS_LIST_EX;
  const ex = code === HVCALL_FLUSH_VIRTUAL_ADDRESS_SPACE_EX || code === HVCALL_FLUSH_VIRTUAL_ADDRESS_LIST_EX;
  const gvas = (args["gvas"] ?? []).map((g) => Number(u642(g)));
  const banks = (args["banks"] ?? []).map(u642);
  const fmt = args["format"];
  const format = typeof fmt === "string" ? FORMATS[fmt] : typeof fmt === "number" ? fmt : HV_GENERIC_SET_SPARSE_4K;
  const valid_bank_mask = args["valid_bank_mask"] !== void 0 ? u642(args["valid_bank_mask"]) : (1n << BigInt(banks.length)) - 1n;
  const x = x86(w);
  return {
    code,
    fast: args["fast"] === true,
    rep_cnt: args["rep_cnt"] ?? (list ? gvas.length : 0),
    var_cnt: args["var_cnt"] ?? (ex ? hweight64(valid_bank_mask) : 0),
    rep_idx: args["rep_idx"] ?? 0,
    address_space: u642(args["address_space"] ?? 0),
    flags: u642(args["flags"] ?? 0),
    processor_mask: u642(args["processor_mask"] ?? 0),
    format,
    valid_bank_mask,
    banks,
    gvas,
    stamp: x.clock++,
    step: w.step
  };
}
define_op({
  name: "hv_flush",
  threads: ["vcpu"],
  arch: "x86",
  summary: "Hyper-V TLB flush hypercall: code 0x2 SPACE, 0x3 LIST, 0x13 SPACE_EX, 0x14 LIST_EX; flags, processor_mask (non-EX) or format/valid_bank_mask/banks (EX), gvas (page | extra pages in the low 12 bits); rep_cnt/var_cnt default from the lists",
  schema: {
    type: "object",
    properties: {
      code: { type: "integer", minimum: 0, maximum: 65535 },
      fast: S.bool,
      flags: S.u64,
      address_space: S.u64,
      processor_mask: S.u64,
      format: { anyOf: [{ enum: ["sparse_4k", "all"] }, { type: "integer", minimum: 0, maximum: 4294967295 }] },
      valid_bank_mask: S.u64,
      banks: { type: "array", items: S.u64, maxItems: 64 },
      // GVA page | extra pages in the low 12 bits; the model keeps GVAs below 2^52 (no canonical upper half).
      gvas: { type: "array", items: { type: "integer", minimum: 0, maximum: 2 ** 52 }, maxItems: 4095 },
      rep_cnt: { type: "integer", minimum: 0, maximum: 4095 },
      var_cnt: { type: "integer", minimum: 0, maximum: 1023 },
      rep_idx: { type: "integer", minimum: 0, maximum: 4095 }
    },
    required: ["code"],
    additionalProperties: false
  },
  in_guest: (w, t2, args) => {
    x86_vcpu(w, t2.vcpu).hcall = hcall_input(w, args);
    return { exit: "hypercall" };
  }
});

// src/core/x86/requests_mask.ts
var VCPU_BLOCK_WAIT = "kvm_vcpu_block";
function kvm_vcpu_wake_up2(w, t2, vcpu, reason) {
  const th = w.threads[vcpu.thread];
  if (!th || th.wait?.kind !== VCPU_BLOCK_WAIT) return false;
  emit(w, t2, "vcpu.kick", { target: vcpu.vcpu_id, action: "wakeup" });
  emit(w, t2, "sched.wake", { reason: `${th.name}: ${reason}` });
  return true;
}
var kvm_make_vcpus_request_mask = model_fn("kvm_make_vcpus_request_mask", {
  get_cpu: (_w, t2, l2) => {
    t2.preempt_count++;
    l2.i = 0;
    l2.cpus = [];
    l2.targets = [];
    return "make";
  },
  make: (w, t2, l2) => {
    if (l2.i >= l2.mask.length) return "kick";
    const vcpu = vcpu_of(w, l2.mask[l2.i]);
    if (!(l2.req & KVM_REQUEST_NO_ACTION)) kvm_make_request(w, t2, l2.req, vcpu);
    l2.targets.push(vcpu.vcpu_id);
    if (!(l2.req & KVM_REQUEST_NO_WAKEUP) && kvm_vcpu_wake_up2(w, t2, vcpu, req_name(w.arch, l2.req))) {
      l2.i++;
      return "make";
    }
    return "needs_ipi";
  },
  needs_ipi: (w, t2, l2) => {
    const vcpu = vcpu_of(w, l2.mask[l2.i]);
    if (kvm_request_needs_ipi(w, t2, vcpu, l2.req)) {
      const cpu = vcpu.cpu;
      if (cpu !== -1 && cpu !== t2.cpu && !l2.cpus.includes(cpu)) l2.cpus.push(cpu);
    }
    l2.i++;
    return "make";
  },
  kick: (w, t2, l2) => {
    const wait = (l2.req & KVM_REQUEST_WAIT) !== 0;
    emit(w, t2, "request.make_all", { req: req_name(w.arch, l2.req), targets: l2.targets.slice(), ipi_mask: l2.cpus.slice(), wait });
    for (const cpu of l2.cpus) smp_send_ipi(w, t2, cpu, wait);
    return wait && l2.cpus.length ? "wait" : "put_cpu";
  },
  // csd_lock_wait(): spin until every target CPU ran the (empty) handler.
  wait: (w, t2, l2) => l2.cpus.every((c) => !w.cpus[c].ipi_pending) ? "put_cpu" : block(t2, { kind: "ipi_ack", cpus: l2.cpus }),
  put_cpu: (_w, t2, l2) => {
    t2.preempt_count--;
    t2.retval = l2.cpus.length > 0;
    return RETURN;
  }
});

// src/core/x86/x86.ts
var X86_VCPU_ROOT = "kvm_vcpu_ioctl_run";
function kvm_arch_init_vm_x86(w, _cfg, _cpu) {
  w.x86 = { vcpus: w.kvm.vcpus.map((v) => new_vcpu_x86(v.vcpu_id)), clock: 0, flushes: [] };
}
function vcpu_of_thread2(w, t2) {
  return vcpu_of(w, t2.vcpu);
}
function kvm_vcpu_srcu_read_lock(w, t2) {
  srcu_read_lock(w, t2, KVM_SRCU);
}
function kvm_vcpu_srcu_read_unlock(w, t2) {
  srcu_read_unlock(w, t2, KVM_SRCU, srcu_held_idx(w, t2, KVM_SRCU));
}
function kvm_vcpu_running(w, vcpu) {
  return !kvm_hv_vcpu_suspended(w, vcpu);
}
function kvm_vcpu_exit_request2(vcpu) {
  return vcpu.mode === "EXITING_GUEST_MODE" || kvm_request_pending(vcpu);
}
var kvm_arch_vcpu_ioctl_run_x86 = model_fn("kvm_arch_vcpu_ioctl_run_x86", {
  load: (w, t2) => {
    const vcpu = vcpu_of_thread2(w, t2);
    vcpu.cpu = t2.cpu;
    emit(w, t2, "vcpu.load", { pcpu: t2.cpu });
    kvm_vcpu_srcu_read_lock(w, t2);
    return "run";
  },
  run: () => call(vcpu_run, {}, "put"),
  put: (w, t2) => {
    const r2 = t2.retval;
    kvm_vcpu_srcu_read_unlock(w, t2);
    emit(w, t2, "vcpu.put", { scheduled_out: false, in_wfi: false });
    vcpu_of_thread2(w, t2).cpu = -1;
    t2.retval = r2;
    return RETURN;
  }
});
var vcpu_run = model_fn("vcpu_run", {
  loop: (w, t2) => {
    if (w.kvm.vm_dead) return ret(t2, -5);
    return kvm_vcpu_running(w, t2.vcpu) ? call(vcpu_enter_guest, {}, "after") : call(vcpu_block, {}, "after");
  },
  after: (w, t2, l2) => {
    l2.r = t2.retval;
    if (l2.r <= 0) return ret(t2, l2.r);
    const vcpu = vcpu_of_thread2(w, t2);
    if (kvm_test_request(KVM_REQ.UNBLOCK, vcpu)) kvm_check_request(w, t2, KVM_REQ.UNBLOCK, vcpu);
    return "loop";
  }
});
wait_kind(VCPU_BLOCK_WAIT, true, (w, t2) => kvm_vcpu_check_block(w, t2.vcpu));
function kvm_vcpu_check_block(w, vcpu) {
  return kvm_vcpu_running(w, vcpu) || kvm_test_request(KVM_REQ.UNBLOCK, vcpu_of(w, vcpu));
}
var vcpu_block = model_fn("vcpu_block", {
  srcu_unlock: (w, t2) => {
    kvm_vcpu_srcu_read_unlock(w, t2);
    return "block";
  },
  block: (w, t2) => {
    if (!kvm_vcpu_check_block(w, t2.vcpu)) return block(t2, { kind: VCPU_BLOCK_WAIT, vcpu: t2.vcpu });
    return "srcu_lock";
  },
  srcu_lock: (w, t2) => {
    kvm_vcpu_srcu_read_lock(w, t2);
    return ret(t2, 1);
  }
});
var kvm_vcpu_flush_tlb_guest = model_fn("kvm_vcpu_flush_tlb_guest", {
  flush: (w, t2, l2) => {
    flush_tlb_all_entries(w, t2, t2.vcpu, "guest", l2.reason);
    if (l2.reason === "hv_flushall") emit(w, t2, "hv.flush", { target: t2.vcpu, scope: "all", gva: 0, pages: 0 });
    return "purge";
  },
  purge: (w, t2) => {
    kvm_hv_vcpu_purge_flush_tlb(w, t2, t2.vcpu);
    return RETURN;
  }
});
function cancel_entry(w, t2, vcpu, reason) {
  set_mode(w, t2, vcpu, "OUTSIDE_GUEST_MODE", "entry_abort");
  local_irq_enable(w, t2);
  t2.preempt_count--;
  emit(w, t2, "vcpu.entry_abort", { reason });
  kvm_vcpu_srcu_read_lock(w, t2);
}
var CONSUMED = [KVM_REQ.EVENT, KVM_REQ_GENERIC.DIRTY_RING_SOFT_FULL];
var vcpu_enter_guest = model_fn("vcpu_enter_guest", {
  requests: (w, t2) => kvm_request_pending(vcpu_of_thread2(w, t2)) ? "vm_dead" : "event",
  vm_dead: (w, t2) => {
    const vcpu = vcpu_of_thread2(w, t2);
    if (kvm_test_request(KVM_REQ.VM_DEAD, vcpu) && kvm_check_request(w, t2, KVM_REQ.VM_DEAD, vcpu)) return ret(t2, -5);
    return "tlb_flush";
  },
  // Flushing "all" also flushes "current": servicing it clears TLB_FLUSH_CURRENT.
  tlb_flush: (w, t2) => {
    const vcpu = vcpu_of_thread2(w, t2);
    if (kvm_test_request(KVM_REQ.TLB_FLUSH, vcpu) && kvm_check_request(w, t2, KVM_REQ.TLB_FLUSH, vcpu)) {
      flush_tlb_all_entries(w, t2, t2.vcpu, "all", "KVM_REQ_TLB_FLUSH");
      if (kvm_test_request(KVM_REQ.TLB_FLUSH_CURRENT, vcpu)) kvm_check_request(w, t2, KVM_REQ.TLB_FLUSH_CURRENT, vcpu);
    }
    return "local_flush";
  },
  // kvm_service_local_tlb_flush_requests()
  local_flush: (w, t2) => {
    const vcpu = vcpu_of_thread2(w, t2);
    if (kvm_test_request(KVM_REQ.TLB_FLUSH_CURRENT, vcpu) && kvm_check_request(w, t2, KVM_REQ.TLB_FLUSH_CURRENT, vcpu)) {
      flush_tlb_all_entries(w, t2, t2.vcpu, "current", "KVM_REQ_TLB_FLUSH_CURRENT");
    }
    if (kvm_test_request(KVM_REQ.TLB_FLUSH_GUEST, vcpu) && kvm_check_request(w, t2, KVM_REQ.TLB_FLUSH_GUEST, vcpu)) {
      return call(kvm_vcpu_flush_tlb_guest, { reason: "KVM_REQ_TLB_FLUSH_GUEST" }, "hv_flush");
    }
    return "hv_flush";
  },
  // Fall back to a full guest flush if Hyper-V's precise flushing fails.
  hv_flush: (w, t2) => {
    const vcpu = vcpu_of_thread2(w, t2);
    if (kvm_test_request(KVM_REQ.HV_TLB_FLUSH, vcpu) && kvm_check_request(w, t2, KVM_REQ.HV_TLB_FLUSH, vcpu)) {
      return call(kvm_hv_vcpu_flush_tlb, {}, "hv_flushed");
    }
    return "event";
  },
  hv_flushed: (_w, t2) => {
    if (t2.retval !== 0) return call(kvm_vcpu_flush_tlb_guest, { reason: "hv_flushall" }, "event");
    return "event";
  },
  // if (kvm_check_request(KVM_REQ_EVENT, vcpu) || req_int_win) ... inject
  event: (w, t2) => {
    const vcpu = vcpu_of_thread2(w, t2);
    for (const req of CONSUMED) if (kvm_test_request(req, vcpu)) kvm_check_request(w, t2, req, vcpu);
    return "irq_off";
  },
  // preempt_disable(); ... local_irq_disable();
  irq_off: (w, t2) => {
    t2.preempt_count++;
    local_irq_disable(t2);
    return "mode_in";
  },
  // smp_store_release(&vcpu->mode, IN_GUEST_MODE): from here a requester sees IN and kicks.
  mode_in: (w, t2) => {
    const vcpu = vcpu_of_thread2(w, t2);
    set_mode(w, t2, vcpu, "IN_GUEST_MODE", "smp_store_release");
    vcpu.requests_at_mode_in = vcpu.requests;
    return "srcu_unlock";
  },
  // kvm_vcpu_srcu_read_unlock(vcpu); smp_mb__after_srcu_read_unlock();
  srcu_unlock: (w, t2) => {
    kvm_vcpu_srcu_read_unlock(w, t2);
    return "exit_check";
  },
  exit_check: (w, t2) => {
    const vcpu = vcpu_of_thread2(w, t2);
    if (kvm_vcpu_exit_request2(vcpu)) {
      cancel_entry(w, t2, vcpu, vcpu.mode === "EXITING_GUEST_MODE" ? "kick" : "request");
      return ret(t2, 1);
    }
    return "enter";
  },
  enter: (w, t2) => {
    emit(w, t2, "vcpu.enter", { hw_mmu: "tdp" });
    metric_add(w, "vcpu_entries");
    return "guest";
  },
  // The guest runs one op per step until an op exits, an IPI arrives, or
  // the program ends (back to userspace).
  guest: (w, t2) => {
    const vcpu = vcpu_of_thread2(w, t2);
    if (w.cpus[t2.cpu].ipi_pending) return guest_exit2(vcpu, "irq");
    if (vcpu.mode === "EXITING_GUEST_MODE") return guest_exit2(vcpu, "kick");
    const op = next_op(t2);
    if (!op) return guest_exit2(vcpu, "done");
    const def = op_named(op.op);
    if (!def?.in_guest) throw new Error(`${t2.name}: op ${op.op} cannot run in the guest`);
    const r2 = def.in_guest(w, t2, op.args);
    if ("done" in r2) {
      t2.ip++;
      return "guest";
    }
    return guest_exit2(vcpu, r2.exit);
  },
  // vcpu->mode = OUTSIDE_GUEST_MODE; smp_wmb(); local_irq_enable() (a
  // pending IPI is taken here); preempt_enable().
  exit: (w, t2) => {
    const vcpu = vcpu_of_thread2(w, t2);
    set_mode(w, t2, vcpu, "OUTSIDE_GUEST_MODE", "guest_exit");
    emit(w, t2, "vcpu.exit", { reason: vcpu.exit_reason });
    local_irq_enable(w, t2);
    t2.preempt_count--;
    return "srcu_lock";
  },
  srcu_lock: (w, t2) => {
    kvm_vcpu_srcu_read_lock(w, t2);
    return "handle_exit";
  },
  // kvm_x86_ops.handle_exit(): a hypercall goes to kvm_emulate_hypercall()
  // -> kvm_hv_hypercall(); an interrupt or kick just re-enters; a
  // userspace_exit op, or the end of the program, is an exit to userspace
  // (r = 0; the VMM completes the op).
  handle_exit: (w, t2) => {
    const reason = vcpu_of_thread2(w, t2).exit_reason;
    if (reason === "hypercall") return call("kvm_hv_hypercall", {}, "handled");
    if (reason === "done") return ret(t2, 0);
    if (reason === "userspace") {
      t2.ip++;
      return ret(t2, 0);
    }
    if (has_fn(`handle_${reason}`)) return call(`handle_${reason}`, {}, "handled");
    return ret(t2, 1);
  },
  handled: (_w, t2) => ret(t2, t2.retval)
});
function vcpu_in_guest(w, vcpu) {
  const t2 = w.threads[vcpu_of(w, vcpu).thread];
  const top = t2?.stack[t2.stack.length - 1];
  return top?.fn === vcpu_enter_guest.name && (top.pc === "enter" || top.pc === "guest" || top.pc === "exit");
}
observed_frames("vcpu_enter_guest");
function guest_exit2(vcpu, reason) {
  vcpu.exit_reason = reason;
  return "exit";
}

// src/core/x86/tdp_mmu.ts
var PG_LEVEL_4K = 1;
function tdp_mmu(w) {
  return w.tdp_mmu ??= { sptes: {} };
}
function tdp_spte(w, gfn) {
  return w.tdp_mmu?.sptes[gfn];
}
function tdp_present_gfns(w, start2 = 0, end = Number.MAX_SAFE_INTEGER) {
  const s2 = w.tdp_mmu?.sptes;
  if (!s2) return [];
  return Object.keys(s2).map(Number).filter((g) => g >= start2 && g < end).sort((a, b) => a - b);
}
function tdp_gfns_mapping(w, pfn) {
  const s2 = w.tdp_mmu?.sptes;
  if (!s2) return [];
  return Object.keys(s2).map(Number).filter((g) => s2[g].pfn === pfn).sort((a, b) => a - b);
}
function kvm_tdp_mmu_map(w, t2, gfn, pfn, writable) {
  const m = tdp_mmu(w);
  const old = m.sptes[gfn];
  if (old && old.pfn === pfn && (old.writable || !writable)) return "spurious";
  m.sptes[gfn] = { pfn, writable: writable || (old?.writable ?? false), level: PG_LEVEL_4K, step: w.step, vcpu: t2.vcpu };
  return "fixed";
}
var tdp_mmu_zap_leafs = model_fn("tdp_mmu_zap_leafs", {
  start: (w, t2, l2) => {
    lockdep_assert_held_write(w, t2, "mmu_lock");
    l2.gfn = l2.start;
    l2.yielded_gfn = -1;
    return "next";
  },
  next: (w, t2, l2) => {
    const g = tdp_present_gfns(w, l2.gfn, l2.end)[0];
    if (g === void 0) return ret(t2, l2.flush);
    l2.gfn = g;
    if (!l2.can_yield || l2.yielded_gfn === g) return "zap";
    const contended = rwlock_is_contended(w.locks["mmu_lock"]);
    const resched = choose(w, t2, COND_RESCHED) === 1;
    if (!contended && !resched) return "zap";
    l2.yielded_gfn = g;
    emit(w, t2, "tdp_mmu.yield", { gfn: g, flush: l2.flush, contended });
    metric_add(w, "tdp_mmu_yields");
    if (contended) metric_add(w, "tdp_mmu_yields.contended");
    if (!l2.flush) return "drop";
    l2.flush = false;
    return call("kvm_flush_remote_tlbs", { reason: "tdp_mmu_iter_cond_resched" }, "drop");
  },
  // cond_resched_rwlock_write(): the lock is dropped for good here (the
  // decision was made above), so the write side cannot keep it.
  drop: (w, t2) => {
    emit(w, t2, "lock.cond_resched", { lock: "mmu_lock", dropped: true });
    write_unlock(w, t2, "mmu_lock");
    might_sleep(w, t2, "tdp_mmu_iter_cond_resched");
    return "relock";
  },
  // tdp_iter_restart(): walk again from the root, at the same gfn.
  relock: (w, t2) => lock_write(w, t2, "mmu_lock", "next"),
  // tdp_mmu_iter_set_spte(kvm, &iter, SHADOW_NONPRESENT_VALUE)
  zap: (w, t2, l2) => {
    const m = tdp_mmu(w);
    const s2 = m.sptes[l2.gfn];
    if (s2) {
      delete m.sptes[l2.gfn];
      emit(w, t2, "spte.zap", { gpa: l2.gfn * PAGE_SIZE, pfn: s2.pfn, level: s2.level });
      metric_add(w, "sptes_zapped");
      l2.flush = true;
    }
    l2.gfn++;
    return "next";
  }
});
var kvm_tdp_mmu_unmap_gfn_range = model_fn("kvm_tdp_mmu_unmap_gfn_range", {
  zap: (_w, _t, l2) => call(tdp_mmu_zap_leafs, { start: l2.start, end: l2.end, can_yield: l2.may_block, flush: l2.flush }, "done"),
  done: (_w, t2) => ret(t2, t2.retval === true)
});

// src/core/x86/invariants.ts
var hexs = (n) => `0x${n.toString(16)}`;
define_invariant({
  name: "hv.flush_while_inhibited",
  description: "from the return of KVM_HYPERV_SET_TLB_FLUSH_INHIBIT(vcpu, 1) until the VMM starts clearing it, no Hyper-V flush hypercall that targets that vCPU completes",
  arch: "x86",
  on: ["hv.hypercall.complete"],
  check(w, ev) {
    const e = ev;
    if (e.suspended || e.status !== 0 || !is_tlb_flush_hcall(e.code)) return null;
    const f = x86(w).flushes.find((d) => d.done_step === w.step && d.flusher === e.vcpu);
    const x = f?.targets.find((v) => x86_vcpu(w, v).inhibited);
    if (!f || x === void 0) return null;
    const xv = x86_vcpu(w, x);
    const read = f.read_steps[x];
    let why;
    if (read === void 0) {
      why = `it never read vcpu${x}'s tlb_flush_inhibit`;
    } else if (read < xv.inhibit_write_step) {
      why = `it read vcpu${x}'s tlb_flush_inhibit as 0 at step ${read}, before the ioctl wrote 1 at step ${xv.inhibit_write_step}, and the ioctl returned without waiting for this flusher to finish (synchronize_srcu(&kvm->srcu))`;
    } else {
      why = `it read vcpu${x}'s tlb_flush_inhibit as 0 at step ${read}`;
    }
    return {
      thread: e.thread,
      message: `${e.thread}'s ${hvcall_name(e.code)} returned HV_STATUS_SUCCESS with vcpu${x} among its targets while the VMM holds vcpu${x}'s flush inhibit (KVM_HYPERV_SET_TLB_FLUSH_INHIBIT(vcpu${x}, 1) returned at step ${xv.inhibit_return_step}): the caller should have been suspended until the inhibit is cleared; ${why}`,
      values: { target: x, flusher: e.thread, inhibit_write_step: xv.inhibit_write_step, inhibit_return_step: xv.inhibit_return_step, read_step: read ?? null }
    };
  }
});
function stale_in(w, vcpu, flushes) {
  for (const f of flushes) {
    const e = stale_entry(w, vcpu, f);
    if (e) return { f, e };
  }
  return null;
}
function stale_failure(thread, vcpu, mode, f, e, how) {
  return {
    thread,
    message: `vcpu${vcpu} runs the guest (mode ${mode}) with a TLB entry for GVA ${hexs(e.gva)} cached at step ${e.step}, but vcpu${f.flusher}'s ${hvcall_name(f.code)} issued at step ${f.issued_step} returned ${HV_STATUS_NAMES[0]} at step ${f.done_step} with vcpu${vcpu} among its targets: ${how}`,
    values: { vcpu, gva: e.gva, cached_step: e.step, flusher: f.flusher, code: f.code, issued_step: f.issued_step, done_step: f.done_step }
  };
}
define_invariant({
  name: "hv.stale_gva_after_flush",
  description: "a Hyper-V flush hypercall that returned success left no target running the guest with a TLB entry, cached before the call, for a GVA it flushed",
  arch: "x86",
  on: ["hv.hypercall.complete", "vcpu.enter", "guest.gva_access"],
  check(w, ev) {
    const x = x86(w);
    if (!x.flushes.length) return null;
    if (ev.kind === "hv.hypercall.complete") {
      const e = ev;
      if (e.status !== 0 || e.suspended) return null;
      const f2 = x.flushes[x.flushes.length - 1];
      if (f2.done_step !== w.step) return null;
      for (const v2 of f2.targets) {
        const vcpu = w.kvm.vcpus[v2];
        const mode2 = vcpu.mode;
        if (mode2 !== "IN_GUEST_MODE" && mode2 !== "EXITING_GUEST_MODE") continue;
        if (!vcpu_in_guest(w, v2) && kvm_test_request(KVM_REQ.HV_TLB_FLUSH, vcpu)) continue;
        const entry2 = stale_entry(w, v2, f2);
        if (entry2) return stale_failure(e.thread, v2, mode2, f2, entry2, `the hypercall returned while vcpu${v2} was still in the guest`);
      }
      return null;
    }
    const v = ev.vcpu;
    if (v === null) return null;
    const mode = w.kvm.vcpus[v].mode;
    if (ev.kind === "vcpu.enter") {
      const s3 = stale_in(w, v, x.flushes);
      return s3 ? stale_failure(ev.thread, v, mode, s3.f, s3.e, `vcpu${v} entered the guest without flushing it`) : null;
    }
    const a = ev;
    if (!a.hit) return null;
    const page = a.gva - a.gva % 4096;
    const entry = x86_vcpu(w, v).tlb.find((e) => e.gva === page);
    if (!entry) return null;
    const f = x.flushes.find((f2) => f2.targets.includes(v) && entry.stamp < f2.stamp && (f2.ranges === null || f2.ranges.some(([lo, hi]) => page >= lo && page < hi)));
    if (!f) return null;
    const s2 = { f, e: entry };
    return stale_failure(ev.thread, v, mode, s2.f, s2.e, `the guest just used it`);
  }
});
function clear_pending(w, vcpu) {
  for (const t2 of w.threads) {
    if (t2.kind === "vcpu" || t2.done) continue;
    if (t2.stack.some((f) => f.fn === "kvm_vcpu_ioctl_set_tlb_flush_inhibit" && f.locals.vcpu === vcpu && !f.locals.inhibit)) {
      return true;
    }
    for (let i = t2.ip; i < t2.prog.length; i++) {
      const op = t2.prog[i];
      if (op.op === "set_tlb_flush_inhibit" && op.args["vcpu"] === vcpu && op.args["inhibit"] === false) return true;
    }
  }
  return false;
}
observed_frames("kvm_vcpu_ioctl_set_tlb_flush_inhibit");
define_invariant({
  name: "hv.suspended_forever",
  description: "every vCPU suspended on an inhibited vCPU is unsuspended when that inhibit is cleared",
  arch: "x86",
  on: ["hv.suspend", "hv.inhibit", "thread.exit"],
  check(w, ev) {
    const x = x86(w);
    for (let v = 0; v < x.vcpus.length; v++) {
      const hv = x.vcpus[v].hyperv;
      if (!hv.suspended || hv.waiting_on < 0) continue;
      const on = x.vcpus[hv.waiting_on];
      if (on.hyperv.tlb_flush_inhibit || clear_pending(w, hv.waiting_on)) continue;
      const me = x.vcpus[v];
      const raced = me.inhibit_read_step >= 0 && on.inhibit_write_step > me.inhibit_read_step ? ` It read the inhibit as 1 at step ${me.inhibit_read_step}; the clear wrote 0 at step ${on.inhibit_write_step} and did not wait for it before its unsuspend scan.` : "";
      return {
        thread: ev.thread,
        message: `vcpu${v} is suspended waiting on vcpu${hv.waiting_on} (since step ${me.suspend_step}), but vcpu${hv.waiting_on}'s tlb_flush_inhibit is 0 and KVM_HYPERV_SET_TLB_FLUSH_INHIBIT(vcpu${hv.waiting_on}, 0) returned at step ${on.clear_return_step} without waking it: nothing will unsuspend vcpu${v}.${raced}`,
        values: { vcpu: v, waiting_on: hv.waiting_on, suspend_step: me.suspend_step, read_step: me.inhibit_read_step, clear_write_step: on.inhibit_write_step, clear_return_step: on.clear_return_step }
      };
    }
    return null;
  }
});
function host_pfn_of_gfn(w, gfn) {
  const slot = gfn_to_memslot(w, gfn);
  const pte = slot ? host_pte(w, gfn_to_hva(slot, gfn)) : void 0;
  if (!pte) return { pfn: null, changed_step: -1, prot_none: false };
  return { pfn: pte.prot_none ? null : pte.pfn, changed_step: pte.changed_step, prot_none: pte.prot_none };
}
function tlb_failure(w, thread, vcpu, e, what, how) {
  const spte = tdp_spte(w, e.gfn);
  const sp = spte ? spte.pfn === e.pfn ? "the SPTE is still there" : `the SPTE now maps PA ${hexs(spte.pfn * 4096)}` : "its SPTE was zapped";
  return {
    thread,
    message: `vcpu${vcpu} ${how} a TLB entry for GPA ${hexs(e.gfn * 4096)} -> PA ${hexs(e.pfn * 4096)} (filled at step ${e.step}), but the host ${what}: ${sp}, and no remote TLB flush reached vcpu${vcpu} before invalidate_range_start() returned (kvm_flush_remote_tlbs(): KVM_REQ_TLB_FLUSH with WAIT, serviced before the next entry)`,
    values: { vcpu, gpa: e.gfn * 4096, pa: e.pfn * 4096, filled_step: e.step, spte_present: spte !== void 0 }
  };
}
define_invariant({
  name: "x86.stale_tlb_entry",
  description: "no vCPU runs the guest with, enters with, or uses a TLB entry (guest-physical, behind the SPTEs) for a page the host has since moved or made PROT_NONE",
  arch: "x86",
  on: ["mm.change_pte", "vcpu.enter", "guest.access"],
  check(w, ev) {
    const x = x86(w);
    if (ev.kind === "mm.change_pte") {
      const e = ev;
      if (e.old_pfn === e.new_pfn && !e.prot_none) return null;
      const what2 = e.old_pfn === e.new_pfn ? `made it PROT_NONE at step ${w.step}` : `moved it to pfn ${hexs(e.new_pfn)} at step ${w.step}`;
      for (let v2 = 0; v2 < x.vcpus.length; v2++) {
        if (!vcpu_in_guest(w, v2)) continue;
        const entry = x.vcpus[v2].tdp_tlb.find((t3) => t3.pfn === e.old_pfn);
        if (entry) return tlb_failure(w, e.thread, v2, entry, what2, "is running the guest with");
      }
      return null;
    }
    const v = ev.vcpu;
    if (v === null) return null;
    const stale = (t3) => {
      const h = host_pfn_of_gfn(w, t3.gfn);
      if (h.pfn === t3.pfn) return null;
      if (h.prot_none) return `made it PROT_NONE at step ${h.changed_step}`;
      return h.pfn === null ? "unmapped it" : `moved it to pfn ${hexs(h.pfn)} at step ${h.changed_step}`;
    };
    if (ev.kind === "vcpu.enter") {
      for (const t3 of x.vcpus[v].tdp_tlb) {
        const what2 = stale(t3);
        if (what2) return tlb_failure(w, ev.thread, v, t3, what2, "entered the guest with");
      }
      return null;
    }
    const a = ev;
    if (a.via !== "tlb") return null;
    const t2 = x.vcpus[v].tdp_tlb.find((e) => e.gfn === Math.floor(a.ipa / 4096));
    const what = t2 && stale(t2);
    return t2 && what ? tlb_failure(w, ev.thread, v, t2, what, "accessed the guest page through") : null;
  }
});

// src/core/kvm/numa.ts
var NOTIFIER_CHUNK_SHIFT = 30;
function page_maybe_dma_pinned(w, hva) {
  return w.mm_pins?.[Math.floor(hva / 2 ** PAGE_SHIFT)] === true;
}
function gpa_range_to_hva(w, t2, gpa, size) {
  const gfn = Math.floor(gpa / PAGE_SIZE);
  const slot = gfn_to_memslot(w, gfn);
  const last = gfn_to_memslot(w, Math.floor((gpa + size - 1) / PAGE_SIZE));
  if (!slot || last !== slot) throw new Error(`${t2.name}: guest range [0x${gpa.toString(16)}, 0x${(gpa + size).toString(16)}) is not inside one memslot`);
  const hva = gfn_to_hva(slot, gfn);
  return [hva, hva + size];
}
var vfio_pin_pages = model_fn("vfio_pin_pages", {
  start: (w, t2, l2) => {
    [l2.hva, l2.end] = gpa_range_to_hva(w, t2, l2.gpa, l2.size);
    return "pin";
  },
  pin: (w, t2, l2) => {
    if (l2.hva >= l2.end) return RETURN;
    const pfn = host_faultin(w, l2.hva);
    (w.mm_pins ??= {})[Math.floor(l2.hva / 2 ** PAGE_SHIFT)] = true;
    emit(w, t2, "mm.pin", { hva: l2.hva, pfn });
    metric_add(w, "pages_pinned");
    l2.hva += PAGE_SIZE;
    return "pin";
  }
});
define_op({
  name: "dma_pin",
  threads: ["vmm", "mm"],
  summary: "VFIO pins guest memory for device DMA (pin_user_pages with FOLL_LONGTERM): the pages are faulted in and NUMA balancing leaves them alone",
  schema: { type: "object", properties: { gpa: S.addr, size: S.size }, required: ["gpa", "size"], additionalProperties: false },
  fn: vfio_pin_pages.name
});
var kvm_mmu_notifier_numa_protect = model_fn("kvm_mmu_notifier_numa_protect", {
  check: (w, t2, l2) => {
    emit(w, t2, "invalidate.numa_protect", { hva_start: l2.start, hva_end: l2.end, in_progress: w.kvm.mmu_invalidate_in_progress });
    metric_add(w, "numa_protect_callbacks");
    if (!w.kvm.mn_active_invalidate_count) metric_add(w, "warn_numa_protect_outside_invalidation");
    if (!w.kvm.mmu_invalidate_in_progress) return RETURN;
    return call(__kvm_handle_hva_range, { start: l2.start, end: l2.end, on_lock: "none", handler: "unmap", flush_on_ret: true, may_block: false }, "done");
  },
  done: () => RETURN
});
function prot_numa_skip(w, hva) {
  const pte = host_pte(w, hva);
  if (pte?.prot_none) return "protnone";
  if (page_maybe_dma_pinned(w, hva)) return "dma_pinned";
  return null;
}
function next_present(w, start2, end) {
  let best = -1;
  for (const k of Object.keys(w.mm.ptes)) {
    const hva = Number(k) * 2 ** PAGE_SHIFT;
    if (hva >= start2 && hva < end && (best < 0 || hva < best)) best = hva;
  }
  return best;
}
var change_prot_numa = model_fn("change_prot_numa", {
  start: (w, t2, l2) => {
    [l2.start, l2.end] = gpa_range_to_hva(w, t2, l2.gpa, l2.size);
    emit(w, t2, "numa.protect", { start: l2.start, end: l2.end });
    metric_add(w, "numa_passes");
    l2.addr = l2.start;
    l2.range_start = -1;
    l2.pages = 0;
    return "chunk";
  },
  // change_pud_range(): per PUD; the notifier fires at the first populated one.
  chunk: (w, _t, l2) => {
    if (l2.addr >= l2.end) return "finish";
    const size = 2 ** NOTIFIER_CHUNK_SHIFT;
    l2.chunk_end = Math.min((Math.floor(l2.addr / size) + 1) * size, l2.end);
    const first = next_present(w, l2.addr, l2.chunk_end);
    if (first < 0) {
      l2.addr = l2.chunk_end;
      return "chunk";
    }
    l2.pte = l2.addr;
    if (l2.range_start >= 0) return "pte";
    l2.range_start = l2.addr;
    return call(kvm_mmu_notifier_invalidate_range_start, { start: l2.range_start, end: l2.end, event: "MMU_NOTIFY_PROTECTION_VMA", numa: true, may_block: true }, "pte");
  },
  // change_pte_range(), one present PTE per step (empty slots are passed over at once).
  pte: (w, t2, l2) => {
    const next = next_present(w, l2.pte, l2.chunk_end);
    if (next < 0) {
      l2.addr = l2.chunk_end;
      return "chunk";
    }
    l2.pte = next;
    const skip = prot_numa_skip(w, l2.pte);
    if (skip) {
      emit(w, t2, "numa.skip", { hva: l2.pte, reason: skip });
      metric_add(w, "numa_ptes_skipped");
      l2.pte += PAGE_SIZE;
      return "pte";
    }
    if (variant_on(w, UNMAP_ONLY_PROTECTED.name)) return call(kvm_mmu_notifier_numa_protect, { start: l2.pte, end: l2.pte + PAGE_SIZE }, "protect");
    return "protect";
  },
  protect: (w, t2, l2) => {
    host_change_pte(w, t2, l2.pte, { prot_none: true });
    metric_add(w, "numa_ptes_protected");
    l2.pages++;
    l2.pte += PAGE_SIZE;
    return "pte";
  },
  finish: (_w, _t, l2) => l2.range_start >= 0 ? call(kvm_mmu_notifier_invalidate_range_end, { start: l2.range_start, end: l2.end }, "done") : "done",
  done: (_w, t2, l2) => ret(t2, l2.pages)
});
define_op({
  name: "numa_protect",
  threads: ["mm"],
  summary: "a NUMA-balancing scan (change_prot_numa) over a guest range: one MMU_NOTIFY_PROTECTION_VMA invalidation from the first populated chunk, present PTEs that are not pinned or already PROT_NONE become PROT_NONE hinting entries",
  schema: { type: "object", properties: { gpa: S.addr, size: S.size }, required: ["gpa", "size"], additionalProperties: false },
  fn: change_prot_numa.name
});
var numa_migrate_pages = model_fn("numa_migrate_pages", {
  start: (w, t2, l2) => {
    [l2.hva, l2.end] = gpa_range_to_hva(w, t2, l2.gpa, l2.size);
    return "page";
  },
  page: (w, t2, l2) => {
    if (l2.hva >= l2.end) return RETURN;
    if (!host_pte(w, l2.hva) || page_maybe_dma_pinned(w, l2.hva)) {
      if (host_pte(w, l2.hva)) emit(w, t2, "numa.skip", { hva: l2.hva, reason: "dma_pinned" });
      l2.hva += PAGE_SIZE;
      return "page";
    }
    return call(kvm_mmu_notifier_invalidate_range_start, { start: l2.hva, end: l2.hva + PAGE_SIZE, event: "MMU_NOTIFY_CLEAR", numa: false, may_block: true }, "move");
  },
  move: (w, t2, l2) => {
    host_change_pte(w, t2, l2.hva, { migrate: true, prot_none: false });
    metric_add(w, "numa_pages_migrated");
    return call(kvm_mmu_notifier_invalidate_range_end, { start: l2.hva, end: l2.hva + PAGE_SIZE }, "next");
  },
  next: (_w, _t, l2) => {
    l2.hva += PAGE_SIZE;
    return "page";
  }
});
define_op({
  name: "numa_migrate",
  threads: ["mm"],
  summary: "NUMA balancing migrates the populated, unpinned pages of a guest range to new pfns, each inside its own invalidation",
  schema: { type: "object", properties: { gpa: S.addr, size: S.size }, required: ["gpa", "size"], additionalProperties: false },
  fn: numa_migrate_pages.name
});
wait_kind("numa_scan_delay", true, (w, t2, wait) => {
  if (w.step >= wait["until"]) return true;
  return w.threads.every((o) => o === t2 || o.done || o.daemon || o.wait !== null && !other_can_run2(w, o));
});
function other_can_run2(w, o) {
  const wait = o.wait;
  return wait.kind === "numa_scan_delay" || wait.kind === "preempted" ? w.step >= wait["until"] : wait_holds(w, o);
}
var numa_scan_delay = model_fn("numa_scan_delay", {
  start: (w, _t, l2) => {
    l2.until = w.step + l2.steps;
    return "sleep";
  },
  sleep: (w, t2, l2) => w.step >= l2.until ? RETURN : block(t2, { kind: "numa_scan_delay", until: l2.until })
});
define_op({
  name: "numa_scan_delay",
  threads: ["mm"],
  summary: "the mm waits a scan period (that many scheduler steps of the other threads, or until nothing else can run) before its next NUMA op",
  schema: { type: "object", properties: { steps: { type: "integer", minimum: 1, maximum: 1e6 } }, required: ["steps"], additionalProperties: false },
  fn: numa_scan_delay.name
});

// src/core/x86/mmu.ts
var RET_PF_CONTINUE = 0;
var RET_PF_RETRY = 1;
var RET_PF_FIXED = 4;
var RET_PF_SPURIOUS = 5;
var EXIT_EPT_VIOLATION = "ept_violation";
var NO_RETRY_PRECHECK = define_variant({
  name: "mmu.no_retry_precheck",
  description: 'kvm_mmu_faultin_pfn() without its two mmu_invalidate_retry_gfn_unsafe() pre-checks (before and after __kvm_mmu_faultin_pfn()): a fault on a gfn under invalidation only finds out under mmu_lock, in is_page_fault_stale(), after contending for the lock the invalidation holds (and making tdp_mmu_zap_leafs() yield, flushing first). This is mainline between f00dfa90ceb1 "KVM: Use gfn instead of hva for mmu_notifier_retry" (v6.8-rc1) and d02c357e5bfa (late v6.8-rc): no final release shipped it; v6.7 had no pre-check either but tracked the invalidation by hva, which gives the same retry decisions when, as in every bundled scenario, one memslot maps the range',
  source: 'reverts d02c357e5bfa "KVM: x86/mmu: Retry fault before acquiring mmu_lock if mapping is changing" (v6.8)',
  breaks: "nothing; fault_retries.precheck drops to 0, fault_mmu_lock, fault_mmu_lock.during_invalidation and fault_retries.locked go up, and with every NUMA invalidation unmapping the zap yields to contending faults more (tdp_mmu_yields.contended, remote_tlb_flushes)",
  arch: "x86"
});
function no_retry_check(w) {
  return variant_on(w, "mmu.no_retry_check");
}
function prechecks_on(w) {
  return !variant_on(w, NO_RETRY_PRECHECK.name) && !no_retry_check(w);
}
define_op({
  name: "access_gpa",
  threads: ["vcpu"],
  arch: "x86",
  summary: "guest load or store to a guest-physical address: the TLB, else a walk of the SPTE (EPT violation into kvm_tdp_mmu_page_fault when the TDP MMU does not map it)",
  schema: { type: "object", properties: { gpa: S.addr, write: S.bool }, required: ["gpa"], additionalProperties: false },
  in_guest: (w, t2, args) => {
    const gpa = args["gpa"];
    const write = args["write"] === true;
    const gfn = Math.floor(gpa / PAGE_SIZE);
    const hit = tdp_tlb_lookup(w, t2.vcpu, gfn);
    if (hit && (!write || hit.writable)) {
      emit(w, t2, "guest.access", { ipa: gpa, write, pa: hit.pfn * PAGE_SIZE + gpa % PAGE_SIZE, via: "tlb" });
      return { done: true };
    }
    const spte = tdp_spte(w, gfn);
    if (spte && (!write || spte.writable)) {
      tdp_tlb_fill(w, t2.vcpu, gfn, spte.pfn, spte.writable);
      emit(w, t2, "guest.access", { ipa: gpa, write, pa: spte.pfn * PAGE_SIZE + gpa % PAGE_SIZE, via: "tdp" });
      return { done: true };
    }
    const vcpu = vcpu_of(w, t2.vcpu);
    vcpu.fault_ipa = gpa;
    vcpu.fault_write = write;
    return { exit: EXIT_EPT_VIOLATION };
  }
});
var handle_ept_violation = model_fn("handle_ept_violation", {
  fault: (w, t2) => {
    const vcpu = vcpu_of(w, t2.vcpu);
    emit(w, t2, "fault.start", { gpa: vcpu.fault_ipa, write: vcpu.fault_write, nested: false });
    metric_add(w, "faults");
    return call(kvm_tdp_mmu_page_fault, { gpa: vcpu.fault_ipa, write: vcpu.fault_write }, "done");
  },
  done: (_w, t2) => ret(t2, 1)
});
function fault_retry(w, t2, reason, site) {
  emit(w, t2, "fault.retry", { reason });
  metric_add(w, "fault_retries");
  metric_add(w, `fault_retries.${site}`);
  metric_add(w, `fault_retries.${reason}`);
}
var kvm_tdp_mmu_page_fault = model_fn("kvm_tdp_mmu_page_fault", {
  start: (w, t2, l2) => {
    l2.gfn = Math.floor(l2.gpa / PAGE_SIZE);
    const slot = gfn_to_memslot(w, l2.gfn);
    if (!slot) throw new Error(`${t2.name}: guest access to GPA 0x${l2.gpa.toString(16)} outside every memslot (MMIO is not modelled)`);
    l2.hva = gfn_to_hva(slot, l2.gfn);
    l2.r = RET_PF_RETRY;
    return "topup";
  },
  // mmu_topup_memory_caches(): may sleep, so before any lock.
  topup: (w, t2, l2) => {
    might_sleep(w, t2, "mmu_topup_memory_caches");
    return call(kvm_mmu_faultin_pfn, { gfn: l2.gfn, hva: l2.hva, write: l2.write }, "faulted_in");
  },
  faulted_in: (_w, t2, l2) => {
    const r2 = t2.retval;
    l2.mmu_seq = r2.mmu_seq;
    l2.pfn = r2.pfn;
    if (r2.r !== RET_PF_CONTINUE) return ret(t2, r2.r);
    return "lock";
  },
  lock: (w, t2) => lock_read(w, t2, "mmu_lock", "stale"),
  // is_page_fault_stale(): (obsolete roots are not modelled) then
  // fault->slot && mmu_invalidate_retry_gfn(kvm, fault->mmu_seq, fault->gfn).
  stale: (w, t2, l2) => {
    metric_add(w, "fault_mmu_lock");
    if (w.kvm.mmu_invalidate_in_progress) metric_add(w, "fault_mmu_lock.during_invalidation");
    if (no_retry_check(w)) return "map";
    const k = w.kvm;
    const reason = mmu_invalidate_retry_gfn(w, l2.mmu_seq, l2.gfn);
    emit(w, t2, "fault.check", {
      in_progress: k.mmu_invalidate_in_progress,
      seq_now: k.mmu_invalidate_seq,
      seq_snap: l2.mmu_seq,
      range: [k.mmu_invalidate_range_start, k.mmu_invalidate_range_end],
      retry: reason !== null
    });
    if (reason === null) return "map";
    fault_retry(w, t2, reason, "locked");
    return "unlock";
  },
  map: (w, t2, l2) => {
    const r2 = kvm_tdp_mmu_map(w, t2, l2.gfn, l2.pfn, l2.write);
    l2.r = r2 === "fixed" ? RET_PF_FIXED : RET_PF_SPURIOUS;
    if (r2 === "fixed") {
      emit(w, t2, "fault.map", { mmu: "tdp", ipa: l2.gfn * PAGE_SIZE, pa: l2.pfn * PAGE_SIZE, level: 1, prot: "RW" });
      metric_add(w, "faults_mapped");
    }
    return "unlock";
  },
  // read_unlock(&kvm->mmu_lock); kvm_mmu_finish_page_fault() (the pfn's reference is not modelled).
  unlock: (w, t2, l2) => {
    read_unlock(w, t2, "mmu_lock");
    return ret(t2, l2.r);
  }
});
function precheck(w, t2, l2, where) {
  const k = w.kvm;
  const reason = mmu_invalidate_retry_gfn_unsafe(w, l2.mmu_seq, l2.gfn);
  emit(w, t2, "fault.precheck", { where, gfn: l2.gfn, in_progress: k.mmu_invalidate_in_progress, seq_now: k.mmu_invalidate_seq, seq_snap: l2.mmu_seq, retry: reason !== null });
  if (reason !== null) fault_retry(w, t2, reason, "precheck");
  return reason;
}
var kvm_mmu_faultin_pfn = model_fn("kvm_mmu_faultin_pfn", {
  // fault->mmu_seq = vcpu->kvm->mmu_invalidate_seq; smp_rmb();
  snapshot: (w, t2, l2) => {
    l2.mmu_seq = w.kvm.mmu_invalidate_seq;
    l2.pfn = -1;
    emit(w, t2, "fault.seq_snapshot", { mmu_seq: l2.mmu_seq });
    return "precheck";
  },
  precheck: (w, t2, l2) => {
    if (prechecks_on(w) && precheck(w, t2, l2, "before_faultin")) return ret(t2, { r: RET_PF_RETRY, mmu_seq: l2.mmu_seq, pfn: -1 });
    return "faultin";
  },
  // __kvm_mmu_faultin_pfn() -> __gfn_to_pfn_memslot() -> GUP: may sleep;
  // a PROT_NONE NUMA-hinting PTE is made accessible again on the way.
  faultin: (w, t2, l2) => {
    might_sleep(w, t2, "__kvm_mmu_faultin_pfn");
    l2.pfn = host_faultin(w, l2.hva);
    emit(w, t2, "fault.faultin", { pfn: l2.pfn, slept: false });
    return "postcheck";
  },
  // "Check again ... purely to avoid contending mmu_lock."
  postcheck: (w, t2, l2) => {
    if (prechecks_on(w) && precheck(w, t2, l2, "after_faultin")) return ret(t2, { r: RET_PF_RETRY, mmu_seq: l2.mmu_seq, pfn: l2.pfn });
    return ret(t2, { r: RET_PF_CONTINUE, mmu_seq: l2.mmu_seq, pfn: l2.pfn });
  }
});
var kvm_unmap_gfn_range_x86 = model_fn("kvm_unmap_gfn_range_x86", {
  unmap: (_w, _t, l2) => call(kvm_tdp_mmu_unmap_gfn_range, { start: l2.start, end: l2.end, may_block: l2.may_block, flush: false }, "done"),
  done: (_w, t2) => ret(t2, t2.retval === true)
});
var hex6 = (n) => `0x${n.toString(16)}`;
function x86_stale_mapping_check(w, e) {
  if (e.kind === "fault.map") {
    if (e["mmu"] !== "tdp") return null;
    const t2 = w.threads.find((x) => x.name === e.thread);
    const frame = t2?.stack.find((f) => f.fn === kvm_tdp_mmu_page_fault.name);
    if (!frame) return null;
    const { hva, mmu_seq, pfn, gpa } = frame.locals;
    const pte = host_pte(w, hva);
    if (pte && pte.pfn === pfn && !pte.prot_none) return null;
    const now = !pte ? "nothing" : pte.pfn !== pfn ? `pfn ${hex6(pte.pfn)} (changed at step ${pte.changed_step})` : `the same pfn but PROT_NONE (a NUMA-hinting entry made at step ${pte.changed_step})`;
    return {
      thread: e.thread,
      message: `${e.thread} installed a SPTE for GPA ${hex6(e["ipa"])} -> PA ${hex6(pfn * PAGE_SIZE)}, but the host now maps hva ${hex6(hva)} to ${now}: the fault looked up its pfn before an invalidation of this gfn and mapped it after (mmu_seq snapshot ${mmu_seq}, now ${describe_invalidation(w)}); is_page_fault_stale() would have returned RET_PF_RETRY`,
      values: { gpa, pa: pfn * PAGE_SIZE, hva, host_pfn: pte?.pfn ?? null, prot_none: pte?.prot_none ?? null, mmu_seq, seq_now: w.kvm.mmu_invalidate_seq }
    };
  }
  if (e.kind === "mm.change_pte") {
    const old = e["old_pfn"];
    if (old === e["new_pfn"] && !e["prot_none"]) return null;
    const gfn = tdp_gfns_mapping(w, old)[0];
    if (gfn === void 0) return null;
    const s2 = tdp_spte(w, gfn);
    const what = old === e["new_pfn"] ? "made it PROT_NONE" : `moved it to pfn ${hex6(e["new_pfn"])}`;
    const k = w.kvm;
    const covered = k.mmu_invalidate_in_progress > 0 && gfn >= k.mmu_invalidate_range_start && gfn < k.mmu_invalidate_range_end;
    const why = covered ? `the invalidation of this gfn was in progress when the SPTE was installed or survived its unmap: a fault that installs a SPTE while mmu_invalidate_in_progress covers the gfn must see mmu_invalidate_retry_gfn() and retry` : `no invalidation covering this gfn is in progress: the primary MMU changed the PTE without invalidate_range_start() having zapped the SPTE`;
    return {
      thread: e.thread,
      message: `the TDP MMU still maps GPA ${hex6(gfn * PAGE_SIZE)} -> PA ${hex6(old * PAGE_SIZE)} (installed by vcpu${s2.vcpu} at step ${s2.step}) after the host ${what} (hva ${hex6(e["hva"])}): ${why} (${describe_invalidation(w)})`,
      values: { gpa: gfn * PAGE_SIZE, pa: old * PAGE_SIZE, old_pfn: old, new_pfn: e["new_pfn"], spte_step: s2.step }
    };
  }
  return null;
}
define_stale_mapping_check("x86", x86_stale_mapping_check);

// src/core/arch.ts
function arch_vcpu_root(arch) {
  if (arch === "arm64") return "kvm_arch_vcpu_ioctl_run";
  return X86_VCPU_ROOT;
}
function arch_init_vm(w, cfg, cpu) {
  if (cfg.arch === "arm64") kvm_arch_init_vm(w, cfg, cpu);
  else kvm_arch_init_vm_x86(w, cfg, cpu);
}

// src/core/world_init.ts
var DEFAULT_HVA_BASE = 139637976727552;
function world_base(arch, sched, cpus) {
  return {
    arch,
    step: 0,
    seq: 0,
    threads: [],
    sched,
    variants: {},
    events: [],
    metrics: {},
    violations: [],
    kvm: {
      vcpus: [],
      memslots: [],
      mmu_invalidate_seq: 0,
      mmu_invalidate_in_progress: 0,
      mmu_invalidate_range_start: INVALID_GPA,
      mmu_invalidate_range_end: INVALID_GPA,
      mn_active_invalidate_count: 0,
      vm_dead: false
    },
    cpus: Array.from({ length: cpus }, (_, id2) => ({ id: id2, ipi_pending: false })),
    locks: { mmu_lock: rwlock_init("mmu_lock") },
    mm: { ptes: {}, next_pfn: 65536 }
  };
}
function create_world(cfg) {
  for (const v of cfg.variants) if (!variant_named(v)) throw new Error(`unknown variant ${v}`);
  const w = world_base(cfg.arch, sched_init(cfg.sched.policy, cfg.sched.seed, cfg.sched.script ?? []), 0);
  w.variants = Object.fromEntries([...cfg.variants].sort().map((v) => [v, true]));
  let hva = DEFAULT_HVA_BASE;
  cfg.memslots.forEach((m, id2) => {
    const userspace_addr = m.hva ?? hva;
    w.kvm.memslots.push({ id: id2, base_gfn: m.gpa / PAGE_SIZE, npages: Math.ceil(m.size / PAGE_SIZE), userspace_addr });
    hva = Math.max(hva, userspace_addr + m.size);
  });
  const by_name = new Map(cfg.threads.map((t2) => [t2.name, t2]));
  for (let i = 0; i < cfg.vcpus; i++) {
    const name = `vcpu${i}`;
    const t2 = spawn_thread(w, name, "vcpu", { cpu: i, vcpu: i, root: arch_vcpu_root(cfg.arch), prog: by_name.get(name)?.prog ?? [] });
    w.kvm.vcpus.push({
      vcpu_id: i,
      thread: t2.id,
      requests: 0,
      mode: "OUTSIDE_GUEST_MODE",
      cpu: -1,
      scheduled_out: false,
      requests_at_mode_in: 0,
      exit_reason: "",
      fault_ipa: 0,
      fault_write: false
    });
  }
  let cpu = cfg.vcpus;
  for (const t2 of cfg.threads) {
    if (t2.kind === "vcpu") {
      if (!/^vcpu\d+$/.test(t2.name) || Number(t2.name.slice(4)) >= cfg.vcpus) throw new Error(`thread ${t2.name}: the VM has ${cfg.vcpus} vCPUs (vcpu0..vcpu${cfg.vcpus - 1})`);
      continue;
    }
    spawn_thread(w, t2.name, t2.kind, { cpu: cpu++, root: "host_thread_fn", prog: t2.prog });
  }
  srcu_init(w, KVM_SRCU);
  arch_init_vm(w, cfg, cpu);
  for (let c = 0; c < w.threads.reduce((m, t2) => Math.max(m, t2.cpu + 1), 0); c++) w.cpus.push({ id: c, ipi_pending: false });
  return w;
}

// src/scenario/bundled.ts
import { existsSync as existsSync2, readFileSync as readFileSync2, readdirSync } from "node:fs";
import { join as join2, basename } from "node:path";
import { parse } from "yaml";

// src/scenario/package.ts
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
var root = null;
function package_root() {
  if (root) return root;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (; ; ) {
    const pj = join(dir, "package.json");
    if (existsSync(pj)) {
      try {
        if (JSON.parse(readFileSync(pj, "utf8")).name === "kvmdbg") return root = dir;
      } catch {
      }
    }
    const up = dirname(dir);
    if (up === dir) throw new Error("cannot find the kvmdbg package root");
    dir = up;
  }
}

// src/scenario/bundled.ts
function bundled_dir() {
  return join2(package_root(), "scenarios");
}
function bundled_scenarios() {
  const dir = bundled_dir();
  if (!existsSync2(dir)) return [];
  return readdirSync(dir).filter((f) => f.endsWith(".yaml") || f.endsWith(".yml")).sort().map((f) => {
    const path = join2(dir, f);
    const id2 = basename(f).replace(/\.ya?ml$/, "");
    let head = {};
    try {
      const v = parse(readFileSync2(path, "utf8"));
      if (v && typeof v === "object") head = v;
    } catch {
    }
    const str = (x) => typeof x === "string" ? x : "";
    return { id: id2, path, name: str(head.name) || id2, summary: str(head.summary), arch: str(head.arch) };
  });
}

// src/scenario/load.ts
import { readFileSync as readFileSync3 } from "node:fs";
import { basename as basename2, extname } from "node:path";

// src/scenario/ajv.ts
import { createRequire } from "node:module";

// src/scenario/yaml_doc.ts
import { LineCounter, isAlias, isMap, isPair, isScalar, isSeq, parseDocument } from "yaml";

// src/scenario/errors.ts
var UserError = class extends Error {
  constructor(message) {
    super(message);
    this.name = "UserError";
  }
};
var ScenarioError = class extends UserError {
  constructor(file, line, col, what, expected = "") {
    super(`${file}:${line}:${col}: ${what}${expected ? `; expected ${expected}` : ""}`);
    this.file = file;
    this.line = line;
    this.col = col;
    this.what = what;
    this.expected = expected;
    this.name = "ScenarioError";
  }
  file;
  line;
  col;
  what;
  expected;
};
function one_line(s2) {
  return s2.replace(/\s*\n\s*/g, " ").trim();
}
function list_or(items, max = 40) {
  if (items.length === 0) return "nothing";
  const shown = items.length > max ? [...items.slice(0, max), `... (${items.length - max} more)`] : [...items];
  if (shown.length === 1) return shown[0];
  return `${shown.slice(0, -1).join(", ")} or ${shown[shown.length - 1]}`;
}

// src/scenario/numbers.ts
var LITERAL = /^([+-]?)(?:0[xX]([0-9a-fA-F]+(?:_[0-9a-fA-F]+)*)|0[bB]([01]+(?:_[01]+)*)|([0-9]+(?:_[0-9]+)*))([kKmMgGtT]?)$/;
var SUFFIX = { "": 1n, k: 1n << 10n, m: 1n << 20n, g: 1n << 30n, t: 1n << 40n };
var U64_MAX = (1n << 64n) - 1n;
function parse_int_literal(s2) {
  const m = LITERAL.exec(s2.trim());
  if (!m) return null;
  const [, sign, hex9, bin, dec, suffix] = m;
  let v;
  if (hex9 !== void 0) v = BigInt(`0x${hex9.replace(/_/g, "")}`);
  else if (bin !== void 0) v = BigInt(`0b${bin.replace(/_/g, "")}`);
  else v = BigInt(dec.replace(/_/g, ""));
  v *= SUFFIX[suffix.toLowerCase()];
  if (sign === "-") v = -v;
  return normalize_int(v);
}
function normalize_int(v) {
  return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
}
function is_int(v) {
  return typeof v === "bigint" || typeof v === "number" && Number.isInteger(v);
}

// src/scenario/yaml_doc.ts
var MAX_ALIAS_VALUES = 2e5;
var YamlFile = class {
  constructor(text, file) {
    this.text = text;
    this.file = file;
    this.doc = parseDocument(text, { lineCounter: this.lc, intAsBigInt: true, prettyErrors: true, uniqueKeys: true });
    const err = this.doc.errors[0];
    if (err) {
      const pos = err.linePos?.[0] ?? this.lc.linePos(err.pos[0]);
      const msg = one_line(err.message.replace(/ at line \d+, column \d+:[\s\S]*$/, ""));
      throw new ScenarioError(file, pos.line, pos.col, `invalid YAML: ${msg}`);
    }
  }
  text;
  file;
  doc;
  lc = new LineCounter();
  /** Values expanded through aliases so far, and each node's size with its aliases expanded. */
  aliased = 0;
  sizes = /* @__PURE__ */ new Map();
  /** 1-based line and column of a node (or of the document start). */
  pos(node) {
    const n = isPair(node) ? node.key : node;
    const off = n?.range?.[0] ?? 0;
    return this.lc.linePos(off);
  }
  error(node, what, expected = "") {
    const { line, col } = this.pos(node);
    return new ScenarioError(this.file, line, col, what, expected);
  }
  get root() {
    return this.doc.contents ?? null;
  }
  resolve(n) {
    if (isAlias(n)) return n.resolve(this.doc) ?? null;
    return n ?? null;
  }
  /** How many values `n` stands for with its aliases expanded (Infinity for an alias inside its own anchor). */
  size(n) {
    const node = this.resolve(n);
    if (node === null || isScalar(node)) return 1;
    const known = this.sizes.get(node);
    if (known !== void 0) return known;
    this.sizes.set(node, Infinity);
    let s2 = 1;
    if (isMap(node)) for (const p2 of node.items) s2 += 1 + this.size(p2.value);
    else if (isSeq(node)) for (const x of node.items) s2 += this.size(x);
    this.sizes.set(node, s2);
    return s2;
  }
  /** The plain value of a node, with integer literals converted. */
  to_js(n) {
    if (isAlias(n)) {
      this.aliased += this.size(n);
      if (this.aliased > MAX_ALIAS_VALUES) {
        const { line, col } = this.lc.linePos(n.range?.[0] ?? 0);
        throw new ScenarioError(this.file, line, col, `YAML aliases expand this file to more than ${MAX_ALIAS_VALUES} values (an alias of itself, or aliases of aliases)`, "fewer aliases, or aliases of smaller nodes");
      }
    }
    const node = this.resolve(n);
    if (node === null) return null;
    if (isScalar(node)) return scalar_value(node);
    if (isMap(node)) {
      const out = {};
      for (const p2 of node.items) out[key_of(p2)] = this.to_js(p2.value);
      return out;
    }
    if (isSeq(node)) return node.items.map((x) => this.to_js(x));
    return null;
  }
  /** The pair of map `m` with key `k`. */
  pair(m, k) {
    const node = this.resolve(m);
    if (!isMap(node)) return void 0;
    return node.items.find((p2) => key_of(p2) === k);
  }
  /** The node at `path` (JSON-pointer segments); the nearest existing ancestor if it is missing. */
  node_at(path, opts = {}) {
    let cur = this.root;
    let last_pair;
    for (const seg of path) {
      cur = this.resolve(cur);
      if (isMap(cur)) {
        const p2 = this.pair(cur, String(seg));
        if (!p2) return cur;
        last_pair = p2;
        cur = p2.value ?? null;
        if (cur === null) return p2;
      } else if (isSeq(cur)) {
        const item = cur.items[Number(seg)];
        if (!item) return cur;
        last_pair = void 0;
        cur = item;
      } else {
        return cur;
      }
    }
    if (opts.key && last_pair) return last_pair;
    return cur;
  }
};
function key_of(p2) {
  const k = p2.key;
  if (isScalar(k)) return String(k.source ?? k.value);
  return String(k);
}
function scalar_value(s2) {
  if (s2.type === "PLAIN" && typeof s2.source === "string") {
    const n = parse_int_literal(s2.source);
    if (n !== null) return n;
  }
  const v = s2.value;
  if (typeof v === "bigint") return normalize_int(v);
  return v;
}

// src/scenario/validators.ts
var PRECOMPILED = /* @__PURE__ */ new Map();

// src/scenario/ajv.ts
var AJV_OPTIONS = { allErrors: false, verbose: true, strict: false, useDefaults: true };
function schema_key(schema) {
  return JSON.stringify(schema);
}
var ajv = null;
var cache = /* @__PURE__ */ new WeakMap();
var compiled_here = 0;
function compile_now(schema) {
  compiled_here++;
  if (!ajv) {
    const load_cjs = createRequire(import.meta.url);
    const { Ajv2020 } = load_cjs("ajv/dist/2020.js");
    ajv = new Ajv2020(AJV_OPTIONS);
  }
  return ajv.compile(schema);
}
function compile(schema) {
  let v = cache.get(schema);
  if (!v) {
    v = (PRECOMPILED.size ? PRECOMPILED.get(schema_key(schema)) : void 0) ?? compile_now(schema);
    cache.set(schema, v);
  }
  return v;
}
function shadow(v) {
  if (typeof v === "bigint") return Number(v);
  if (Array.isArray(v)) return v.map(shadow);
  if (v && typeof v === "object") return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, shadow(x)]));
  return v;
}
function restore_bigints(orig, copy) {
  if (typeof orig === "bigint") return orig;
  if (Array.isArray(orig) && Array.isArray(copy)) return copy.map((x, i) => restore_bigints(orig[i], x));
  if (orig && typeof orig === "object" && copy && typeof copy === "object" && !Array.isArray(copy)) {
    const o = orig;
    const c = copy;
    for (const k of Object.keys(c)) if (k in o) c[k] = restore_bigints(o[k], c[k]);
    return c;
  }
  return copy;
}
function path_label(base, segs) {
  let s2 = base;
  for (const seg of segs) {
    if (typeof seg === "number" || /^\d+$/.test(seg)) s2 += `[${seg}]`;
    else s2 += s2 ? `.${seg}` : seg;
  }
  return s2;
}
function pointer_segments(p2) {
  if (!p2) return [];
  return p2.slice(1).split("/").map((s2) => s2.replace(/~1/g, "/").replace(/~0/g, "~"));
}
var TYPE_NAMES = {
  integer: "an integer",
  number: "a number",
  string: "a string",
  boolean: "true or false",
  object: "a mapping",
  array: "a list",
  null: "null"
};
function describe_type(t2) {
  const ts = Array.isArray(t2) ? t2 : [t2];
  return ts.map((x) => TYPE_NAMES[String(x)] ?? String(x)).join(" or ");
}
function describe_value(v, source) {
  if (source !== void 0 && (typeof v === "number" || typeof v === "bigint")) return source;
  if (v === null || v === void 0) return "empty";
  if (typeof v === "string") return `the string ${JSON.stringify(v)}`;
  if (typeof v === "number") return Number.isInteger(v) ? String(v) : `the number ${v}`;
  if (typeof v === "bigint") return `0x${v.toString(16)}`;
  if (typeof v === "boolean") return String(v);
  if (Array.isArray(v)) return "a list";
  return "a mapping";
}
function num(n, hexish) {
  return hexish ? `0x${n.toString(16)}` : String(n);
}
function size_name2(n) {
  for (const [s2, v] of [["G", 2 ** 30], ["M", 2 ** 20], ["K", 2 ** 10]]) if (n % v === 0 && n >= v) return `${n / v}${s2}`;
  return String(n);
}
function check_schema(yf, base, label, value, validate, root_desc) {
  const copy = shadow(value);
  if (validate(copy)) return restore_bigints(value, copy);
  throw schema_error(yf, base, label, validate.errors ?? [], root_desc);
}
function schema_error(yf, base, label, errors, root_desc) {
  let e = errors[0];
  const alt = errors.find((x) => (x.keyword === "anyOf" || x.keyword === "oneOf") && e.instancePath.startsWith(x.instancePath));
  const segs = [...base, ...pointer_segments((alt ?? e).instancePath)];
  const rel = pointer_segments((alt ?? e).instancePath);
  const where = path_label(label, rel) || "the scenario";
  const container = rel.length === 0 && root_desc ? root_desc : where;
  const node = yf.node_at(segs);
  const src = isScalar(node) && typeof node.source === "string" ? node.source : void 0;
  if (alt) {
    const forms = (alt.schema ?? []).map(branch_desc);
    return yf.error(node, `${where} is ${describe_value(alt.data, src)}, which matches none of its allowed forms`, forms.join(" or "));
  }
  const ps = e.parentSchema ?? {};
  const p2 = e.params;
  switch (e.keyword) {
    case "type":
      return yf.error(node, `wrong type: ${where} is ${describe_value(e.data, src)}`, describe_type(p2.type));
    case "additionalProperties": {
      const key = String(p2.additionalProperty);
      const knode = yf.node_at([...segs, key], { key: true });
      const allowed = Object.keys(ps.properties ?? {});
      const in_where = rel.length === 0 && label === "" ? "at the top level" : `in ${container}`;
      return yf.error(knode, `unknown key "${key}" ${in_where}`, allowed.length ? `one of: ${allowed.join(", ")}` : "no keys here");
    }
    case "required": {
      const allowed = Object.keys(ps.properties ?? {});
      const required = ps.required ?? [];
      const optional = allowed.filter((k) => !required.includes(k));
      const exp = `the required key${required.length === 1 ? "" : "s"} ${required.join(", ")}${optional.length ? `, and optionally ${optional.join(", ")}` : ""}`;
      return yf.error(node, `missing the required key "${String(p2.missingProperty)}" in ${container}`, exp);
    }
    case "enum":
      return yf.error(node, `${where} is ${describe_value(e.data, src)}`, `one of: ${p2.allowedValues.map(String).join(", ")}`);
    case "const":
      return yf.error(node, `${where} is ${describe_value(e.data, src)}`, String(p2.allowedValue));
    case "minimum":
    case "maximum":
    case "exclusiveMinimum":
    case "exclusiveMaximum": {
      const lo = ps.minimum ?? ps.exclusiveMinimum;
      const hi = ps.maximum ?? ps.exclusiveMaximum;
      const hexish = (hi ?? 0) >= 2 ** 32 || (src?.startsWith("0x") ?? false);
      const what = describe_type(ps.type ?? "number").replace(/^an? /, "");
      let range;
      if (lo !== void 0 && hi !== void 0) range = `${what} from ${num(lo, hexish)} to ${num(hi, hexish)}`;
      else if (lo !== void 0) range = `${what} >= ${num(lo, hexish)}`;
      else range = `${what} <= ${num(hi, hexish)}`;
      if (ps.exclusiveMinimum !== void 0 || ps.exclusiveMaximum !== void 0) range += " (exclusive)";
      return yf.error(node, `out of range: ${where} is ${describe_value(e.data, src)}`, `an ${range}`.replace(/^an ([^aeiou])/, "a $1"));
    }
    case "multipleOf": {
      const m = p2.multipleOf;
      return yf.error(node, `${where} is ${describe_value(e.data, src)}, not a multiple of ${num(m, m >= 4096)}`, `a multiple of ${size_name2(m)}`);
    }
    case "minLength":
      return yf.error(node, `${where} is too short`, `at least ${String(p2.limit)} characters`);
    case "maxLength":
      return yf.error(node, `${where} is too long`, `at most ${String(p2.limit)} characters`);
    case "minItems":
      return yf.error(node, `${where} has too few items`, `at least ${String(p2.limit)}`);
    case "maxItems":
      return yf.error(node, `${where} has too many items`, `at most ${String(p2.limit)}`);
    case "minProperties":
    case "maxProperties":
      return yf.error(node, `${where} ${e.message ?? "has the wrong number of keys"}`, "");
    case "pattern":
      return yf.error(node, `${where} is ${describe_value(e.data, src)}`, `a string matching ${String(p2.pattern)}`);
    default:
      return yf.error(node, `${where} ${e.message ?? "is invalid"}`, "");
  }
}
function branch_desc(b) {
  const s2 = b ?? {};
  if ("const" in s2) return JSON.stringify(s2.const);
  if (Array.isArray(s2.enum)) return `one of ${s2.enum.map(String).join("|")}`;
  if (s2.type === "object" && s2.properties) return `a mapping with keys ${Object.keys(s2.properties).join(", ")}`;
  if (s2.type !== void 0) return describe_type(s2.type);
  return "another form";
}

// src/scenario/schema.ts
var MAX_VCPUS = 64;
var MAX_MEMSLOTS = 32;
var MAX_NESTED_MMUS = 64;
var MAX_OPS = 1e5;
var PAGE2 = 4096;
var addr = { type: "integer", minimum: 0, maximum: 2 ** 52, multipleOf: PAGE2 };
var SCENARIO_SCHEMA = {
  type: "object",
  additionalProperties: false,
  required: ["arch", "vm", "threads"],
  properties: {
    name: { type: "string", minLength: 1 },
    summary: { type: "string" },
    source: { type: "string" },
    arch: { enum: ["arm64", "x86"] },
    vm: {
      type: "object",
      additionalProperties: false,
      required: ["vcpus"],
      properties: {
        vcpus: { type: "integer", minimum: 1, maximum: MAX_VCPUS },
        memslots: {
          type: "array",
          maxItems: MAX_MEMSLOTS,
          items: {
            type: "object",
            additionalProperties: false,
            required: ["gpa", "size"],
            properties: {
              gpa: addr,
              size: { ...addr, minimum: PAGE2 },
              hva: addr
            }
          }
        },
        nested_mmus: { type: "integer", minimum: 0, maximum: MAX_NESTED_MMUS },
        ipa_bits: { type: "integer", minimum: 32, maximum: 52 }
      }
    },
    variants: { type: "array", items: { type: "string" } },
    threads: {
      type: "object",
      additionalProperties: { type: "array", items: { type: ["object", "string"] } }
    },
    schedule: {
      type: "object",
      additionalProperties: false,
      properties: {
        policy: { enum: ["random", "rr", "script"] },
        seed: { type: "integer", minimum: 0, maximum: 2 ** 32 - 1 },
        script: { type: "array", items: { type: "string", minLength: 1 } }
      }
    },
    expect: {
      type: "object",
      additionalProperties: false,
      properties: {
        violation: { type: "string" }
      }
    }
  }
};
var REPEAT_SCHEMA = {
  type: "object",
  additionalProperties: false,
  required: ["times", "do"],
  properties: {
    times: { type: "integer", minimum: 0, maximum: MAX_OPS },
    do: { type: "array", items: { type: ["object", "string"] } }
  }
};

// src/scenario/threads.ts
var HOST_NAME = /^(mm|vmm)(\d+|[_-][A-Za-z0-9_-]+)?$/;
function thread_kind(name) {
  if (/^vcpu(0|[1-9]\d*)$/.test(name)) return "vcpu";
  const m = HOST_NAME.exec(name);
  if (m) return m[1] === "mm" ? "mm" : "vmm";
  return null;
}
function allowed_names(vcpus) {
  const v = vcpus === 1 ? "vcpu0" : `vcpu0..vcpu${vcpus - 1}`;
  return `${v}, mm or vmm (more host threads: mm_NAME, vmm_NAME, mm1, ...)`;
}
function ops_for(kind, arch) {
  return all_ops().filter((o) => o.threads.includes(kind) && (!o.arch || o.arch === arch));
}
var Counter = class {
  n = 0;
};
var op_paths = /* @__PURE__ */ new WeakMap();
function load_threads(yf, arch, vcpus) {
  const map = yf.resolve(yf.pair(yf.root, "threads")?.value);
  const out = [];
  if (!isMap(map)) return out;
  const count = new Counter();
  for (const pair of map.items) {
    const name = key_of(pair);
    const kind = thread_kind(name);
    if (!kind) throw yf.error(pair, `unknown thread "${name}"`, allowed_names(vcpus));
    if (kind === "vcpu" && Number(name.slice(4)) >= vcpus) {
      throw yf.error(pair, `thread "${name}" but the VM has ${vcpus} vCPU${vcpus === 1 ? "" : "s"} (vm.vcpus)`, allowed_names(vcpus));
    }
    const seq = yf.resolve(pair.value);
    const prog = [];
    if (seq !== null) load_ops(yf, { arch, kind, thread: name, count }, seq, ["threads", name], prog);
    out.push({ name, kind, prog });
  }
  return out;
}
function load_ops(yf, ctx2, seq, path, out) {
  if (!isSeq(seq)) throw yf.error(seq, `the program of ${ctx2.thread} must be a list of ops`, `a list like [{op_name: {args}}, ...]`);
  seq.items.forEach((raw, i) => {
    const item = yf.resolve(raw);
    const ipath = [...path, i];
    const allowed = () => `an op of a ${ctx2.kind} thread: ${list_or([...ops_for(ctx2.kind, ctx2.arch).map((o) => o.name), "repeat"])}`;
    let name;
    let key_node;
    let args_node;
    if (isScalar(item) && typeof item.value === "string") {
      name = item.value;
      key_node = item;
      args_node = null;
    } else if (isMap(item)) {
      const pairs = item.items;
      if (pairs.length !== 1) {
        throw yf.error(pairs[1] ?? item, `an op is a mapping with exactly one key, the op's name; this one has ${pairs.length}`, allowed());
      }
      name = key_of(pairs[0]);
      key_node = pairs[0];
      args_node = yf.resolve(pairs[0].value);
      if (isScalar(args_node) && args_node.value === null) args_node = null;
    } else {
      throw yf.error(item, `${path_label(ctx2.thread, [i])} is ${describe_value(yf.to_js(item))}, not an op`, allowed());
    }
    if (name === "repeat") {
      const r2 = check_schema(yf, [...ipath, "repeat"], "repeat", yf.to_js(args_node), compile(REPEAT_SCHEMA), "repeat");
      const body = [];
      const do_node = yf.resolve(yf.pair(args_node, "do")?.value);
      load_ops(yf, ctx2, do_node, [...ipath, "repeat", "do"], body);
      ctx2.count.n += body.length * (r2.times - 1);
      if (ctx2.count.n > MAX_OPS) throw yf.error(key_node, `repeat expands the scenario to more than ${MAX_OPS} ops`, `at most ${MAX_OPS} ops in all threads together`);
      for (let k = 0; k < r2.times; k++) {
        for (const op2 of body) {
          const copy = { op: op2.op, args: { ...op2.args } };
          const p2 = op_paths.get(op2);
          if (p2) op_paths.set(copy, p2);
          out.push(copy);
        }
      }
      return;
    }
    const def = op_named(name);
    if (!def) throw yf.error(key_node, `unknown op "${name}" in thread ${ctx2.thread}`, allowed());
    if (!def.threads.includes(ctx2.kind)) {
      throw yf.error(key_node, `op "${name}" runs on ${def.threads.join("/")} threads, not on ${ctx2.thread} (a ${ctx2.kind} thread)`, allowed());
    }
    if (def.arch && def.arch !== ctx2.arch) throw yf.error(key_node, `op "${name}" is ${def.arch}-only (this scenario is ${ctx2.arch})`, allowed());
    let args = {};
    const apath = [...ipath, name];
    if (args_node !== null) {
      if (!isMap(args_node)) {
        const keys = Object.keys(def.schema.properties ?? {});
        throw yf.error(args_node, `the arguments of op "${name}" must be a mapping, not ${describe_value(yf.to_js(args_node))}`, keys.length ? `a mapping with keys: ${keys.join(", ")}` : "an empty mapping {}");
      }
      args = yf.to_js(args_node);
    }
    const checked = check_schema(yf, apath, name, args, compile(def.schema), `the arguments of op ${name}`);
    const op = { op: name, args: fix_u64(yf, apath, name, checked, def.schema) };
    op_paths.set(op, apath);
    out.push(op);
    if (++ctx2.count.n > MAX_OPS) throw yf.error(key_node, `the scenario has more than ${MAX_OPS} ops`, `at most ${MAX_OPS} ops in all threads together`);
  });
}
function is_u64_schema(s2) {
  if (!s2 || typeof s2 !== "object") return false;
  const o = s2;
  if (o.format === "u64") return true;
  return Array.isArray(o.type) && o.type.includes("integer") && o.type.includes("string");
}
function fix_u64(yf, path, label, v, schema) {
  const s2 = schema ?? {};
  const where = () => path_label(label, path.slice(path.indexOf(label) + 1));
  const src = () => {
    const n = yf.node_at(path);
    return isScalar(n) ? String(n.source ?? n.value) : void 0;
  };
  if (is_u64_schema(s2)) {
    let x = v;
    if (typeof x === "string") {
      x = parse_int_literal(x);
      if (x === null) throw yf.error(yf.node_at(path), `wrong type: ${where()} is ${describe_value(v)}`, "an unsigned 64-bit integer (decimal or 0x-hex, _ separators allowed)");
    }
    if (!is_int(x)) return x;
    const b = BigInt(x);
    if (b < 0n || b > U64_MAX) throw yf.error(yf.node_at(path), `out of range: ${where()} is ${src() ?? String(x)}`, "an unsigned 64-bit integer, from 0 to 0xffff_ffff_ffff_ffff");
    return normalize_int(b);
  }
  if (typeof v === "bigint") throw yf.error(yf.node_at(path), `out of range: ${where()} is ${src() ?? `0x${v.toString(16)}`}`, "an integer below 2^53");
  if (Array.isArray(v)) return v.map((x, i) => fix_u64(yf, [...path, i], label, x, item_schema(s2, i)));
  if (v && typeof v === "object") {
    const props = s2.properties ?? {};
    const o = v;
    for (const k of Object.keys(o)) o[k] = fix_u64(yf, [...path, k], label, o[k], props[k] ?? (typeof s2.additionalProperties === "object" ? s2.additionalProperties : void 0));
    return o;
  }
  return v;
}
function item_schema(s2, i) {
  const prefix = s2.prefixItems;
  if (prefix && i < prefix.length) return prefix[i];
  return s2.items;
}

// src/scenario/check.ts
var NV_OPS = /* @__PURE__ */ new Set(["eret_l2", "exit_l2", "l1_map", "l1_unmap", "tlbi"]);
var VEL2_OPS = /* @__PURE__ */ new Set(["eret_l2", "l1_map", "l1_unmap", "tlbi"]);
var MAX_RANGE_PAGES = (31 + 1) * 2 ** (5 * 3 + 1);
var hex7 = (n) => `0x${n.toString(16)}`;
function check_programs(yf, threads, where, vm) {
  const slots = vm.memslots;
  const slot_of = (gpa) => slots.findIndex((s2) => gpa >= s2.gpa && gpa < s2.gpa + s2.size);
  const slot_list = () => slots.length ? slots.map((s2) => `[${hex7(s2.gpa)}, ${hex7(s2.gpa + s2.size)})`).join(", ") : "none: vm.memslots is empty";
  const at = (op, key) => {
    const p2 = where.get(op) ?? [];
    return yf.node_at(key === void 0 ? p2 : [...p2, key], { key: key === void 0 });
  };
  const num2 = (op, k, d = 0) => typeof op.args[k] === "number" ? op.args[k] : d;
  const in_memory = (op, key, what, size, whole) => {
    const gpa = num2(op, key);
    const i = slot_of(gpa);
    const j = slot_of(gpa + Math.max(1, size) - 1);
    if (i < 0) throw yf.error(at(op, key), `${op.op}: ${what} ${hex7(gpa)} is outside every memslot`, `an address in a memslot: ${slot_list()}`);
    if (whole && j !== i) throw yf.error(at(op, key), `${op.op}: ${what} range [${hex7(gpa)}, ${hex7(gpa + size)}) is not inside one memslot`, `a range inside one memslot: ${slot_list()}`);
  };
  for (const t2 of threads) {
    let l2 = null;
    for (const op of t2.prog) {
      const a = op.args;
      if (NV_OPS.has(op.op)) {
        if (!vm.nested_mmus) throw yf.error(at(op), `op "${op.op}" needs a VM with shadow stage-2 MMUs (NV), and vm.nested_mmus is not set`, "vm.nested_mmus in the scenario, or no NV ops");
        if (op.op === "exit_l2" && !l2) throw yf.error(at(op), `exit_l2 in ${t2.name}, which is not in an L2 guest here`, "an eret_l2 before it");
        if (VEL2_OPS.has(op.op) && l2) {
          const { line } = yf.pos(at(l2));
          throw yf.error(at(op), `${op.op} runs in vEL2 (the guest hypervisor), but ${t2.name} is in the L2 guest it entered at line ${line}`, "an exit_l2 before it");
        }
        if (op.op === "eret_l2") l2 = op;
        if (op.op === "exit_l2") l2 = null;
        if (op.op === "l1_map") in_memory(op, "ipa", "IPA", num2(op, "size", 4096), false);
        if (op.op === "tlbi" && a["op"] === "ripas2e1is" && a["operand"] === void 0 && num2(op, "pages", 1) > MAX_RANGE_PAGES) {
          throw yf.error(at(op, "pages"), `tlbi: ripas2e1is of ${num2(op, "pages")} pages is more than one range TLBI covers`, `at most ${MAX_RANGE_PAGES} pages (SCALE 3, NUM 31)`);
        }
        continue;
      }
      switch (op.op) {
        case "access":
        case "access_hugepage":
          if (!l2) in_memory(op, "ipa", "IPA", 1, false);
          break;
        case "access_gpa":
          in_memory(op, "gpa", "GPA", 1, false);
          break;
        case "invalidate":
          in_memory(op, "gpa", "GPA", num2(op, "size", 4096), false);
          break;
        case "dma_pin":
        case "numa_protect":
        case "numa_migrate":
          in_memory(op, "gpa", "GPA", num2(op, "size", 4096), true);
          break;
        case "request": {
          const reqs = kvm_requests(vm.arch);
          const name = String(a["req"]);
          const v = reqs[name];
          const known = Object.keys(reqs).filter((k) => !(reqs[k] & KVM_REQUEST_NO_ACTION));
          if (v === void 0 || v & KVM_REQUEST_NO_ACTION) throw yf.error(at(op, "req"), `request: ${v === void 0 ? "unknown request" : "a NO_ACTION request cannot be made"} "${name}" on ${vm.arch}`, `one of: ${list_or(known)}`);
          if (a["all"] === true) break;
          if (a["vcpu"] === void 0) throw yf.error(at(op), "request: which vCPU? (or all: true)", "vcpu: N, or all: true");
          if (num2(op, "vcpu") >= vm.vcpus) throw yf.error(at(op, "vcpu"), `request: vcpu ${num2(op, "vcpu")} but the VM has ${vm.vcpus} vCPU${vm.vcpus === 1 ? "" : "s"} (vm.vcpus)`, `a vCPU index from 0 to ${vm.vcpus - 1}`);
          break;
        }
        case "set_tlb_flush_inhibit":
          if (num2(op, "vcpu") >= vm.vcpus) throw yf.error(at(op, "vcpu"), `set_tlb_flush_inhibit: vcpu ${num2(op, "vcpu")} but the VM has ${vm.vcpus} vCPU${vm.vcpus === 1 ? "" : "s"} (vm.vcpus)`, `a vCPU index from 0 to ${vm.vcpus - 1}`);
          break;
      }
    }
  }
}

// src/scenario/load.ts
var DEFAULT_SEED = 1;
function load_scenario(path, overrides = {}) {
  let text;
  try {
    text = readFileSync3(path, "utf8");
  } catch (e) {
    const code = e.code;
    const why = code === "ENOENT" ? "no such file" : code === "EISDIR" ? "is a directory" : e.message ?? String(e);
    throw new UserError(`${path}: cannot read the scenario: ${why}`);
  }
  return parse_scenario(text, path, overrides);
}
function parse_scenario(text, file, overrides = {}) {
  const yf = new YamlFile(text, file);
  const root2 = yf.resolve(yf.root);
  const keys = Object.keys(SCENARIO_SCHEMA.properties).join(", ");
  if (root2 === null) throw new ScenarioError(file, 1, 1, "the scenario is empty", `a mapping with keys: ${keys}`);
  if (!isMap(root2)) throw yf.error(root2, "a scenario is a YAML mapping", `a mapping with keys: ${keys}`);
  const raw = check_schema(yf, [], "", yf.to_js(root2), compile(SCENARIO_SCHEMA));
  const arch = raw.arch;
  const vm = raw.vm;
  if (vm.nested_mmus !== void 0 && arch !== "arm64") {
    throw yf.error(yf.node_at(["vm", "nested_mmus"], { key: true }), `vm.nested_mmus is arm64-only (this scenario is ${arch})`, "no nested_mmus for x86");
  }
  if (vm.nested_mmus !== void 0 && vm.nested_mmus !== 0 && vm.nested_mmus !== 2 * vm.vcpus) {
    throw yf.error(
      yf.node_at(["vm", "nested_mmus"]),
      `vm.nested_mmus is ${vm.nested_mmus}, but kvm_vcpu_init_nested() gives an NV VM 2 shadow stage-2 MMUs per vCPU (S2_MMU_PER_VCPU)`,
      `${2 * vm.vcpus} for ${vm.vcpus} vCPU${vm.vcpus === 1 ? "" : "s"} (NV), or 0 (no NV)`
    );
  }
  const memslots = (vm.memslots ?? []).map((m) => ({ ...m }));
  memslots.forEach((m, i) => {
    const end = m.gpa + m.size;
    if (vm.ipa_bits !== void 0 && end > 2 ** vm.ipa_bits) {
      throw yf.error(yf.node_at(["vm", "memslots", i]), `memslot ${i} [0x${m.gpa.toString(16)}, 0x${end.toString(16)}) does not fit in ${vm.ipa_bits} IPA bits`, `an end at or below 0x${(2 ** vm.ipa_bits).toString(16)}`);
    }
    for (let j = 0; j < i; j++) {
      const o = memslots[j];
      if (m.gpa < o.gpa + o.size && o.gpa < end) {
        throw yf.error(
          yf.node_at(["vm", "memslots", i]),
          `memslot ${i} [0x${m.gpa.toString(16)}, 0x${end.toString(16)}) overlaps memslot ${j} [0x${o.gpa.toString(16)}, 0x${(o.gpa + o.size).toString(16)})`,
          "memslots that do not overlap"
        );
      }
    }
  });
  const variants2 = [];
  const known_variants = () => all_variants().filter((v) => !v.arch || v.arch === arch).map((v) => v.name);
  (raw.variants ?? []).forEach((name, i) => {
    const node = yf.node_at(["variants", i]);
    const v = variant_named(name);
    if (!v) throw yf.error(node, `unknown variant "${name}"`, `one of: ${list_or(known_variants())}`);
    if (v.arch && v.arch !== arch) throw yf.error(node, `variant "${name}" is ${v.arch}-only (this scenario is ${arch})`, `one of: ${list_or(known_variants())}`);
    if (!variants2.includes(name)) variants2.push(name);
  });
  for (const name of overrides.variants ?? []) {
    const v = variant_named(name);
    if (!v) throw new UserError(`--variant ${name}: unknown variant; expected one of: ${list_or(known_variants())}`);
    if (v.arch && v.arch !== arch) throw new UserError(`--variant ${name}: the variant is ${v.arch}-only and ${file} is ${arch}; expected one of: ${list_or(known_variants())}`);
    if (!variants2.includes(name)) variants2.push(name);
  }
  const threads = load_threads(yf, arch, vm.vcpus);
  check_programs(yf, threads, op_paths, { arch, vcpus: vm.vcpus, memslots, nested_mmus: vm.nested_mmus });
  const sch = raw.schedule ?? {};
  if (sch.script !== void 0 && sch.policy !== void 0 && sch.policy !== "script") {
    throw yf.error(yf.node_at(["schedule", "script"], { key: true }), `schedule.script is only read by the script policy (this schedule says policy: ${sch.policy})`, "policy: script, or no script");
  }
  const policy = sch.policy ?? (sch.script !== void 0 ? "script" : "random");
  if (policy === "script" && sch.script === void 0) {
    throw yf.error(yf.node_at(["schedule", "policy"]), "policy script needs a schedule.script", "a list of thread names and choice=value tokens");
  }
  const thread_names = [...Array.from({ length: vm.vcpus }, (_, i) => `vcpu${i}`), ...threads.filter((t2) => t2.kind !== "vcpu").map((t2) => t2.name)];
  (sch.script ?? []).forEach((tok, i) => {
    const node = yf.node_at(["schedule", "script", i]);
    const eq = tok.indexOf("=");
    if (eq < 0) {
      if (!thread_names.includes(tok) && !/^rcu/.test(tok)) throw yf.error(node, `schedule.script names an unknown thread "${tok}"`, `a thread (${list_or(thread_names)}) or a choice=value token`);
      return;
    }
    const name = tok.slice(0, eq);
    const kind = choice_kind(name);
    if (!kind) throw yf.error(node, `schedule.script: unknown choice "${name}" in "${tok}"`, `a thread (${list_or(thread_names)}) or a choice=value token naming a scheduler choice`);
    const v = parse_int_literal(tok.slice(eq + 1));
    if (typeof v !== "number" || v < 0 || v >= kind.n) {
      throw yf.error(node, `schedule.script: "${tok}" answers choice ${name} with "${tok.slice(eq + 1)}"`, `${name}=N with N from 0 to ${kind.n - 1} (${kind.description})`);
    }
  });
  const seed = overrides.seed ?? sch.seed ?? DEFAULT_SEED;
  let expect = null;
  if (raw.expect) {
    expect = { ...raw.expect };
    const want = raw.expect.violation;
    if (want !== void 0 && want !== "none" && !invariant_named(want)) {
      const names = ["none", ...all_invariants().filter((v) => !v.arch || v.arch === arch).map((v) => v.name)];
      throw yf.error(yf.node_at(["expect", "violation"]), `expect.violation names an unknown invariant "${want}"`, `one of: ${list_or(names)}`);
    }
  }
  const config = {
    arch,
    vcpus: vm.vcpus,
    memslots,
    threads,
    sched: { policy, seed, ...sch.script ? { script: [...sch.script] } : {} },
    variants: variants2
  };
  if (vm.nested_mmus !== void 0) config.nested_mmus = vm.nested_mmus;
  if (vm.ipa_bits !== void 0) config.ipa_bits = vm.ipa_bits;
  const meta = {
    name: raw.name ?? basename2(file, extname(file)),
    summary: raw.summary ?? "",
    source: raw.source ?? "",
    path: file,
    text,
    expect
  };
  return { meta, config };
}

// src/explore/explore.ts
import { availableParallelism } from "node:os";
import { join as join3 } from "node:path";
import { pathToFileURL } from "node:url";
import { Worker } from "node:worker_threads";

// src/explore/dfs.ts
import { getHeapStatistics } from "node:v8";

// src/explore/track.ts
var DEFAULT_DEPTH = 3;
var NOT_STATE2 = /* @__PURE__ */ new Set(["step", "seq", "events", "metrics", "sched", "violations"]);
var SEP = "";
function new_footprint() {
  return { r: /* @__PURE__ */ new Set(), w: /* @__PURE__ */ new Set(), clock: false };
}
function prefixes(loc, f) {
  let i = loc.indexOf(SEP);
  while (i >= 0) {
    if (f(loc.slice(0, i))) return true;
    i = loc.indexOf(SEP, i + 1);
  }
  return false;
}
function overlaps2(loc, set, set_prefixes) {
  if (set.has(loc) || set_prefixes.has(loc)) return true;
  return prefixes(loc, (p2) => set.has(p2));
}
function index_footprint(fp) {
  const rp = /* @__PURE__ */ new Set();
  const wp = /* @__PURE__ */ new Set();
  for (const l2 of fp.r) prefixes(l2, (p2) => (rp.add(p2), false));
  for (const l2 of fp.w) prefixes(l2, (p2) => (wp.add(p2), false));
  return { ...fp, rp, wp };
}
function dependent(a, b) {
  if (a.clock || b.clock) return true;
  for (const l2 of a.w) if (overlaps2(l2, b.w, b.wp) || overlaps2(l2, b.r, b.rp)) return true;
  for (const l2 of b.w) if (overlaps2(l2, a.w, a.wp) || overlaps2(l2, a.r, a.rp)) return true;
  return false;
}
function copy_plain(v) {
  if (v === null || typeof v !== "object") return v;
  if (ArrayBuffer.isView(v)) return v.slice();
  if (Array.isArray(v)) {
    const n = v.length;
    const out2 = new Array(n);
    for (let i = 0; i < n; i++) out2[i] = copy_plain(v[i]);
    return out2;
  }
  const out = {};
  for (const k in v) out[k] = copy_plain(v[k]);
  return out;
}
var mix = new Mixer();
mix.strings = /* @__PURE__ */ new Map();
function is_bookkeeping(path) {
  return path.startsWith("threads" + SEP) && path.endsWith(SEP + "steps") && depth_of(path) === 2;
}
function is_container(v, depth, K) {
  return v !== null && typeof v === "object" && depth < K && !ArrayBuffer.isView(v);
}
var path_seeds = /* @__PURE__ */ new Map();
function start(path, depth) {
  let seed = path_seeds.get(path);
  if (seed === void 0) {
    mix.reset(depth);
    mix.str(path);
    seed = [mix.a, mix.b];
    if (path_seeds.size > 1 << 20) path_seeds.clear();
    path_seeds.set(path, seed);
  }
  mix.a = seed[0];
  mix.b = seed[1];
}
var CANON = (k, v) => {
  const h = history_kind(k);
  return h === void 0 ? v : h === "stamp" ? stamp_class(v) : OMIT;
};
function build(path, v, depth, K, hist) {
  if (is_container(v, depth, K)) {
    const kids = /* @__PURE__ */ new Map();
    start(path, depth);
    mix.word(Array.isArray(v) ? 21 : 22);
    mix.fin();
    let a = mix.a;
    let b = mix.b;
    for (const k of Object.keys(v)) {
      if (depth === 2 && k === "steps" && is_bookkeeping(path + SEP + k)) continue;
      const h = hist ? history_kind(k) : void 0;
      if (h === "count" || h === "deadline") continue;
      const kid = h === "stamp" ? stamp_leaf(path + SEP + k, v[k], depth + 1) : build(path + SEP + k, v[k], depth + 1, K, hist);
      kids.set(k, kid);
      a = a + kid.a >>> 0;
      b = b + kid.b >>> 0;
    }
    return { a, b, kids };
  }
  start(path, depth);
  mix.value(v, hist ? CANON : void 0);
  mix.fin();
  return { a: mix.a, b: mix.b, kids: null };
}
function stamp_leaf(path, v, depth) {
  start(path, depth);
  mix.value(stamp_class(v));
  mix.fin();
  return { a: mix.a, b: mix.b, kids: null };
}
function restore_in_place(v, old) {
  if (ArrayBuffer.isView(v)) {
    v.set(old);
    return;
  }
  if (Array.isArray(v)) {
    v.length = 0;
    for (const x of old) v.push(x);
    return;
  }
  const o = v;
  for (const k of Object.keys(o)) delete o[k];
  Object.assign(o, old);
}
function same_plain(a, b) {
  if (a === b) return true;
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return typeof a === "number" && typeof b === "number" && Number.isNaN(a) && Number.isNaN(b);
  if (ArrayBuffer.isView(a)) {
    if (!ArrayBuffer.isView(b) || a.constructor !== b.constructor || a.byteLength !== b.byteLength) return false;
    const x = new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
    const y = new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
    for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return false;
    return true;
  }
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!same_plain(a[i], b[i])) return false;
    return true;
  }
  if (Array.isArray(b) || ArrayBuffer.isView(b)) return false;
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  if (ka.length !== kb.length) return false;
  for (const k of ka) {
    if (!Object.prototype.hasOwnProperty.call(b, k)) return false;
    if (!same_plain(a[k], b[k])) return false;
  }
  return true;
}
var DEFAULT_DEPTHS = { threads: 4, kvm: 4, arm64: 4, x86: 4 };
function key53_of(n) {
  return (n.a >>> 0) * 2097152 + (n.b >>> 11);
}
var Tracker = class {
  /** The World the proxy works on. */
  raw;
  /** What the Machine holds. */
  world;
  K;
  depths;
  logging;
  /** History fields count by their class in the key (core/machine/history.ts). */
  hist;
  /** The key tree is kept up to date (TrackOptions.key). */
  keyed;
  phase = 0 /* Idle */;
  fp = null;
  undo_log = [];
  dirty = /* @__PURE__ */ new Set();
  /** Raw leaves already copied for undo in this step. */
  saved = /* @__PURE__ */ new Set();
  cache = /* @__PURE__ */ new WeakMap();
  unwrap_map = /* @__PURE__ */ new WeakMap();
  shadow;
  // Clock pattern of emit(): get seq, set seq, get step.
  seq_read = false;
  seq_written = false;
  constructor(w, opts = {}) {
    this.raw = w;
    this.K = opts.depth ?? DEFAULT_DEPTH;
    this.depths = opts.depths ?? (opts.depth ? {} : { ...DEFAULT_DEPTHS });
    this.logging = opts.undo ?? true;
    this.hist = !(opts.exact_history ?? false);
    this.keyed = opts.key ?? true;
    this.shadow = this.fresh_shadow();
    this.world = this.make_root();
  }
  /** Start over on another World (a fresh copy of the initial one). */
  reset(w, shadow2) {
    this.raw = w;
    this.shadow = shadow2 ? copy_shadow(shadow2) : this.fresh_shadow();
    this.invalidate();
    this.undo_log = [];
    this.dirty.clear();
    this.saved.clear();
  }
  /** A copy of the current key tree (pass to reset() with a copy of this World). */
  snapshot_shadow() {
    return copy_shadow(this.shadow);
  }
  /** The state key: 16 hex digits. */
  key() {
    return hex8(this.shadow.a) + hex8(this.shadow.b);
  }
  /** 53 bits of the key, as a number (visited sets of numbers are compact). */
  key53() {
    return key53_of(this.shadow);
  }
  /** 53 bits of the key of the subtree `top`.`key` (a thread's own record: 'threads', id), or -1. */
  subtree_key53(top, key) {
    const n = this.shadow.kids?.get(top)?.kids?.get(key);
    return n ? key53_of(n) : -1;
  }
  /** The key computed from scratch (tests compare it with key()). */
  full_key() {
    const s2 = this.build_root();
    return hex8(s2.a) + hex8(s2.b);
  }
  /** Paths where the key tree and a fresh one differ (for tests and debugging). */
  diff_key() {
    const out = [];
    const walk = (a, b, path) => {
      if (a && b && a.a === b.a && a.b === b.b) return;
      if (!a || !b || !a.kids || !b.kids) {
        out.push(path.split(SEP).join(".") || "(root)");
        return;
      }
      for (const k of /* @__PURE__ */ new Set([...a.kids.keys(), ...b.kids.keys()])) walk(a.kids.get(k), b.kids.get(k), path ? path + SEP + k : k);
    };
    walk(this.shadow, this.build_root(), "");
    return out;
  }
  /** The key tree of the World as it is (an empty one when no key is kept). */
  fresh_shadow() {
    return this.keyed ? this.build_root() : { a: 0, b: 0, kids: /* @__PURE__ */ new Map() };
  }
  build_root() {
    const root2 = { a: 0, b: 0, kids: /* @__PURE__ */ new Map() };
    for (const k of Object.keys(this.raw)) {
      if (NOT_STATE2.has(k)) continue;
      const kid = build(k, this.raw[k], 1, this.depth_of_top(k), this.hist);
      root2.kids.set(k, kid);
      root2.a = root2.a + kid.a >>> 0;
      root2.b = root2.b + kid.b >>> 0;
    }
    return root2;
  }
  // -- steps ---------------------------------------------------------------
  /** Begin a step: footprint `fp` (or none) collects what it touches. */
  begin(fp) {
    this.fp = fp;
    this.undo_log = [];
    this.dirty = /* @__PURE__ */ new Set();
    this.saved.clear();
    this.leaves.length = 0;
    this.seq_read = this.seq_written = false;
  }
  /** Proxies carry their path: when objects move, the cached ones go. */
  invalidate() {
    this.cache = /* @__PURE__ */ new WeakMap();
  }
  /** Forget the cached proxies of `v` (at `depth` under `top`) and of the proxied objects below it. */
  forget(v, depth, K) {
    if (v === null || typeof v !== "object" || depth >= K || ArrayBuffer.isView(v)) return;
    this.cache.delete(v);
    if (depth + 1 >= K) return;
    if (Array.isArray(v)) for (const x of v) this.forget(x, depth + 1, K);
    else for (const k in v) this.forget(v[k], depth + 1, K);
  }
  /** The explorer is about to evaluate enabledness (reads count), then calls Machine.step. */
  enab() {
    this.phase = 1 /* Enab */;
  }
  /** Right before Machine.step(). */
  pre() {
    this.settle();
    this.phase = 2 /* Pre */;
  }
  /** End the step: update the key; returns how to undo it. */
  end() {
    this.settle();
    this.phase = 0 /* Idle */;
    if (this.leaves.length) {
      let dead = 0;
      for (const l2 of this.leaves) {
        if (same_plain(l2.old, l2.v)) {
          this.undo_log[l2.at].dead = true;
          dead++;
        } else this.mark(l2.loc, l2.top);
      }
      if (dead) this.undo_log = this.undo_log.filter((e) => !e.dead);
      this.leaves.length = 0;
    }
    this.fp = null;
    const keys = [];
    this.rehash([...this.dirty], this.logging ? keys : null);
    return { undo: this.undo_log, keys };
  }
  /** Undo a step (the most recent one not yet undone). */
  undo(log) {
    const u = log.undo;
    for (let i = u.length - 1; i >= 0; i--) {
      const e = u[i];
      if (e.k === 0) {
        if (e.d >= 0) {
          const K = this.depth_of_top(e.top);
          this.forget(e.obj[e.key], e.d, K);
          this.forget(e.old, e.d, K);
        }
        if (e.had) e.obj[e.key] = e.old;
        else delete e.obj[e.key];
      } else if (e.k === 2) restore_in_place(e.v, e.old);
      else e.arr.length = e.len;
    }
    this.raw.events = [];
    const ks = log.keys;
    for (let i = ks.length - 1; i >= 0; i--) {
      const c = ks[i];
      if (c.old) c.parent.kids.set(c.k, c.old);
      else c.parent.kids.delete(c.k);
      for (const n of c.chain) {
        n.a = n.a - c.da >>> 0;
        n.b = n.b - c.db >>> 0;
      }
    }
  }
  /** Bring the key tree up to date at the `dirty` paths, logging each change into `log`. */
  rehash(dirty, log) {
    if (dirty.length === 0 || !this.keyed) return;
    if (dirty.length > 1) dirty.sort((x, y) => depth_of(x) - depth_of(y));
    const done = /* @__PURE__ */ new Set();
    for (const p2 of dirty) {
      if (prefixes(p2, (q) => done.has(q)) || is_bookkeeping(p2)) continue;
      done.add(p2);
      this.rehash_path(p2, log);
    }
  }
  /** Where a dirty path is in the key tree, by path (paths recur: splitting them was a fifth of rehashing). */
  key_paths = /* @__PURE__ */ new Map();
  /**
   * The key-tree path of `path`: with history fields hashed by class, a
   * path below a history field is that field (one leaf of the key, a
   * stamp) or nowhere (null: a count or a deadline is not in the key).
   */
  key_path(path) {
    let at = this.key_paths.get(path);
    if (at !== void 0) return at;
    let parts = path.split(SEP);
    at = { path, parts, stamp: false };
    if (this.hist) {
      for (let i = 1; i < parts.length; i++) {
        const h = history_kind(parts[i]);
        if (h === void 0) continue;
        if (h !== "stamp") at = null;
        else {
          if (i < parts.length - 1) parts = parts.slice(0, i + 1);
          at = { path: parts.join(SEP), parts, stamp: true };
        }
        break;
      }
    }
    if (this.key_paths.size > 1 << 18) this.key_paths.clear();
    this.key_paths.set(path, at);
    return at;
  }
  /** Recompute the key subtree at `path` from the World and add the difference up the tree. */
  rehash_path(dirty, log) {
    const at = this.key_path(dirty);
    if (at === null) return;
    const { path, parts, stamp } = at;
    const chain = [this.shadow];
    let v = this.raw;
    let present = true;
    let node = this.shadow;
    for (let i = 0; i < parts.length; i++) {
      const k2 = parts[i];
      if (present) {
        if (v !== null && typeof v === "object" && Object.prototype.hasOwnProperty.call(v, k2)) v = v[k2];
        else present = false;
      }
      if (i < parts.length - 1) {
        node = node?.kids?.get(k2);
        if (!node) {
          if (!present) return;
          throw new Error(`explorer key tree out of step at ${path}`);
        }
        chain.push(node);
      }
    }
    const parent = chain[chain.length - 1];
    const k = parts[parts.length - 1];
    const old = parent.kids?.get(k);
    let da = 0;
    let db = 0;
    if (old) {
      da = -old.a;
      db = -old.b;
    }
    if (present) {
      if (!parent.kids) throw new Error(`explorer key tree: ${path} under a leaf`);
      const fresh = stamp ? stamp_leaf(path, v, parts.length) : build(path, v, parts.length, this.depth_of_top(parts[0]), this.hist);
      parent.kids.set(k, fresh);
      da += fresh.a;
      db += fresh.b;
    } else if (old) parent.kids.delete(k);
    else return;
    log?.push({ parent, k, old, chain, da, db });
    if (da === 0 && db === 0) return;
    for (const n of chain) {
      n.a = n.a + da >>> 0;
      n.b = n.b + db >>> 0;
    }
  }
  // -- the proxy -----------------------------------------------------------
  read(loc, top) {
    if (this.seq_read || this.seq_written) this.settle();
    const fp = this.fp;
    if (!fp || this.phase === 2 /* Pre */ || this.phase === 0 /* Idle */ || NOT_STATE2.has(top)) return;
    fp.r.add(loc);
  }
  /**
   * A write of `loc` (`keys`: of the key set of the object at `loc`). It
   * goes into the footprint; the key tree is rehashed there unless `rehash`
   * is false (the key set has no node of its own; a store of the value
   * already there changes nothing; an array's shape changed, and only the
   * elements that came or went need rehashing: rehash_at() names them).
   */
  write(loc, top, keys = false, rehash = !keys) {
    if (this.phase === 0 /* Idle */) throw new Error(`explorer: the World was changed between steps (${loc.split(SEP).join(".")})`);
    if (this.seq_read || this.seq_written) this.settle();
    if (!is_state(loc, top)) return;
    if (keys) loc = loc === "" ? "#keys" : loc + SEP + "#keys";
    if (rehash) this.dirty.add(loc);
    const fp = this.fp;
    if (fp && this.phase !== 2 /* Pre */) fp.w.add(loc);
  }
  /** Rehash `loc` at the end of the step, with no write of it in the footprint (an array element that came or went). */
  rehash_at(loc, top) {
    if (!is_state(loc, top)) return;
    this.dirty.add(loc);
  }
  /** A pending clock read that was not emit()'s numbering. */
  settle() {
    if (this.seq_read && this.fp && this.phase !== 2 /* Pre */) this.fp.clock = true;
    this.seq_read = this.seq_written = false;
  }
  clock_read() {
    if (this.fp && this.phase !== 2 /* Pre */ && this.phase !== 0 /* Idle */) this.fp.clock = true;
  }
  unwrap(v) {
    if (v === null || typeof v !== "object" || ArrayBuffer.isView(v)) return v;
    const raw = this.unwrap_map.get(v);
    if (raw) return raw;
    if (Array.isArray(v)) {
      for (let i = 0; i < v.length; i++) {
        const x = v[i];
        if (x !== null && typeof x === "object") {
          const y = this.unwrap(x);
          if (y !== x) v[i] = y;
        }
      }
    } else {
      const o = v;
      for (const k in o) {
        const x = o[k];
        if (x !== null && typeof x === "object") {
          const y = this.unwrap(x);
          if (y !== x) o[k] = y;
        }
      }
    }
    return v;
  }
  /** A raw object handed out at the cut: copy it once per step so undo can put it back. */
  /**
   * A raw object handed out at the cut. Looking (between steps, the
   * Machine's runnable(), the explorer's enabledness check) only reads it.
   * A step may change it: with an undo log it is copied, and end() sees
   * whether it changed (a write) or not (a read); without one it counts as
   * changed.
   */
  leaf(v, loc, top) {
    const ph = this.phase;
    if (ph === 0 /* Idle */ || ph === 2 /* Pre */) return;
    this.read(loc, top);
    if (ph === 1 /* Enab */) return;
    if (!this.logging) {
      this.write(loc, top);
      return;
    }
    if (this.saved.has(v)) return;
    this.saved.add(v);
    const old = copy_plain(v);
    this.leaves.push({ v, old, loc, top, at: this.undo_log.length });
    this.undo_log.push({ k: 2, v, old });
  }
  leaves = [];
  /** A write found at the end of the step (a leaf that changed). */
  mark(loc, top) {
    if (!is_state(loc, top)) return;
    this.dirty.add(loc);
    if (this.fp) this.fp.w.add(loc);
  }
  /**
   * Log how to undo obj[key] = value (value undefined for a delete); the
   * property's value sits at depth `d` under `top`. Objects that come or go
   * there lose their cached proxies (their paths change).
   */
  log_set(obj, key, value, d, top) {
    const K = this.depth_of_top(top);
    const old = obj[key];
    const moves = d < K && (is_obj(value) || is_obj(old));
    if (moves) {
      this.forget(old, d, K);
      this.forget(value, d, K);
    }
    if (!this.logging) return;
    if (Array.isArray(obj)) this.undo_log.push({ k: 1, arr: obj, len: obj.length, d: -1 });
    const had = Object.prototype.hasOwnProperty.call(obj, key);
    this.undo_log.push(moves ? { k: 0, obj, key, had, old: had ? old : void 0, d, top } : { k: 0, obj, key, had, old: had ? old : void 0, d: -1 });
  }
  make_root() {
    const t2 = this;
    const handler = {
      get(_target, key) {
        const raw = t2.raw;
        if (typeof key === "symbol") return Reflect.get(raw, key);
        const v = raw[key];
        if (key === "seq") {
          if (t2.phase >= 3 /* Exec */) {
            if (t2.seq_read || t2.seq_written) t2.settle();
            t2.seq_read = true;
          } else if (t2.phase === 1 /* Enab */) t2.clock_read();
          return v;
        }
        if (key === "step") {
          if (t2.seq_written) t2.seq_read = t2.seq_written = false;
          else if (t2.phase !== 2 /* Pre */) {
            if (t2.seq_read) t2.settle();
            t2.clock_read();
          }
          return v;
        }
        if (key === "events") return v;
        if (!Object.prototype.hasOwnProperty.call(raw, key)) {
          t2.read(key, key);
          return v;
        }
        if (v === null || typeof v !== "object") {
          t2.read(key, key);
          return v;
        }
        if (ArrayBuffer.isView(v) || 1 >= t2.depth_of_top(key)) {
          t2.leaf(v, key, key);
          return v;
        }
        return t2.proxy(v, key, 1, key);
      },
      set(_target, key, value) {
        const raw = t2.raw;
        if (typeof key === "symbol") return Reflect.set(raw, key, value);
        if (key === "seq") {
          if (t2.seq_read) {
            t2.seq_read = false;
            t2.seq_written = true;
          }
        } else if (key === "step") {
          if (t2.phase === 2 /* Pre */) t2.phase = 3 /* Exec */;
        } else if (key === "events") {
          if (t2.phase === 3 /* Exec */) {
            t2.settle();
            t2.phase = 4 /* Check */;
          }
          raw[key] = value;
          return true;
        }
        value = t2.unwrap(value);
        t2.log_set(raw, key, value, 1, key);
        if (!NOT_STATE2.has(key)) {
          if (!Object.prototype.hasOwnProperty.call(raw, key)) t2.write("", key, true);
          t2.write(key, key);
        }
        raw[key] = value;
        return true;
      },
      has(_target, key) {
        if (typeof key === "string") t2.read(key, key);
        return Reflect.has(t2.raw, key);
      },
      ownKeys() {
        t2.read("#keys", "#keys");
        return Reflect.ownKeys(t2.raw);
      },
      getOwnPropertyDescriptor(_target, key) {
        if (typeof key === "string") t2.read(key, key);
        const d = Reflect.getOwnPropertyDescriptor(t2.raw, key);
        if (d) d.configurable = true;
        return d;
      },
      deleteProperty(_target, key) {
        const raw = t2.raw;
        if (typeof key === "symbol") return Reflect.deleteProperty(raw, key);
        t2.log_set(raw, key, void 0, 1, key);
        t2.write("", key, true);
        t2.write(key, key);
        return delete raw[key];
      },
      defineProperty(_target, key, desc) {
        const raw = t2.raw;
        if (typeof key === "symbol" || !("value" in desc)) return Reflect.defineProperty(raw, key, desc);
        return handler.set(raw, key, desc.value, raw);
      }
    };
    return new Proxy({}, handler);
  }
  proxy(obj, path, depth, top) {
    const hit = this.cache.get(obj);
    if (hit) return hit;
    const p2 = new Proxy(obj, new Handler(this, path, depth, top, Array.isArray(obj)));
    this.cache.set(obj, p2);
    this.unwrap_map.set(p2, obj);
    return p2;
  }
  /** Whether reads are recorded now (a footprint is being collected outside the Machine's own look). */
  reading() {
    return this.fp !== null && this.phase !== 2 /* Pre */ && this.phase !== 0 /* Idle */;
  }
  /** Internal to Handler. */
  _read(loc, top) {
    this.read(loc, top);
  }
  _write(loc, top, keys = false, rehash = !keys) {
    this.write(loc, top, keys, rehash);
  }
  _rehash_at(loc, top) {
    this.rehash_at(loc, top);
  }
  _leaf(v, loc, top) {
    this.leaf(v, loc, top);
  }
  _log_set(obj, key, value, d, top) {
    this.log_set(obj, key, value, d, top);
  }
  _unwrap(v) {
    return this.unwrap(v);
  }
  _proxy(obj, path, depth, top) {
    return this.proxy(obj, path, depth, top);
  }
  _pending() {
    return this.seq_read || this.seq_written;
  }
  _settle() {
    this.settle();
  }
  /** Cut depth under top-level key `top`. */
  depth_of_top(top) {
    return this.depths[top] ?? this.K;
  }
};
var Handler = class {
  constructor(t2, path, depth, top, arr) {
    this.t = t2;
    this.path = path;
    this.depth = depth;
    this.top = top;
    this.arr = arr;
    this.K = t2.depth_of_top(top);
  }
  t;
  path;
  depth;
  top;
  arr;
  /** Cut depth under `top`. */
  K;
  /** Location strings by key, made once: a string used again keeps its hash, so the footprint sets stay cheap. */
  locs = /* @__PURE__ */ new Map();
  loc(key) {
    let l2 = this.locs.get(key);
    if (l2 === void 0) this.locs.set(key, l2 = this.path + SEP + key);
    return l2;
  }
  get(target, key, receiver) {
    if (typeof key === "symbol") return Reflect.get(target, key, receiver);
    const t2 = this.t;
    if (!Object.prototype.hasOwnProperty.call(target, key)) {
      const inherited = target[key];
      if (inherited !== void 0) return inherited;
      if (t2.reading()) t2._read(this.loc(key), this.top);
      else if (t2._pending()) t2._settle();
      return void 0;
    }
    const v = target[key];
    if (v === null || typeof v !== "object") {
      if (t2.reading()) t2._read(this.loc(key), this.top);
      else if (t2._pending()) t2._settle();
      return v;
    }
    if (ArrayBuffer.isView(v) || this.depth + 1 >= this.K) {
      t2._leaf(v, this.loc(key), this.top);
      return v;
    }
    return t2._proxy(v, this.loc(key), this.depth + 1, this.top);
  }
  put(target, key, value, define) {
    const t2 = this.t;
    value = t2._unwrap(value);
    const had = Object.prototype.hasOwnProperty.call(target, key);
    const old = target[key];
    if (had && define === null && Object.is(old, value) && (value === null || typeof value !== "object")) {
      t2._write(this.arr && key === "length" ? this.path : this.loc(key), this.top, false, false);
      return true;
    }
    t2._log_set(target, key, value, this.depth + 1, this.top);
    if (this.arr && (key === "length" || !had)) {
      t2._write(this.path, this.top, false, false);
      if (key !== "length") t2._rehash_at(this.loc(key), this.top);
      else for (let i = Number(value); i < old; i++) t2._rehash_at(this.path + SEP + i, this.top);
    } else {
      if (!had) t2._write(this.path, this.top, true);
      t2._write(this.loc(key), this.top);
    }
    if (define) return Reflect.defineProperty(target, key, { ...define, value });
    target[key] = value;
    return true;
  }
  set(target, key, value) {
    if (typeof key === "symbol") return Reflect.set(target, key, value);
    return this.put(target, key, value, null);
  }
  has(target, key) {
    if (typeof key === "string") this.t._read(this.arr && is_index(key) ? this.loc("length") : this.loc(key), this.top);
    return Reflect.has(target, key);
  }
  ownKeys(target) {
    this.t._read(this.arr ? this.loc("length") : this.loc("#keys"), this.top);
    return Reflect.ownKeys(target);
  }
  getOwnPropertyDescriptor(target, key) {
    if (typeof key === "string") this.t._read(this.loc(key), this.top);
    return Reflect.getOwnPropertyDescriptor(target, key);
  }
  deleteProperty(target, key) {
    if (typeof key === "symbol") return Reflect.deleteProperty(target, key);
    const t2 = this.t;
    t2._log_set(target, key, void 0, this.depth + 1, this.top);
    if (this.arr) {
      t2._write(this.path, this.top, false, false);
      t2._rehash_at(this.loc(key), this.top);
    } else {
      t2._write(this.path, this.top, true);
      t2._write(this.loc(key), this.top);
    }
    return delete target[key];
  }
  defineProperty(target, key, desc) {
    if (typeof key === "symbol" || !("value" in desc)) return Reflect.defineProperty(target, key, desc);
    return this.put(target, key, desc.value, desc);
  }
};
function is_index(key) {
  const c = key.charCodeAt(0);
  return c >= 48 && c <= 57 && String(Number(key)) === key;
}
function is_state(loc, top) {
  return !NOT_STATE2.has(top) && !(top === "threads" && loc.endsWith("steps") && is_bookkeeping(loc));
}
function is_obj(v) {
  return v !== null && typeof v === "object";
}
function depth_of(p2) {
  let n = 0;
  for (let i = p2.indexOf(SEP); i >= 0; i = p2.indexOf(SEP, i + 1)) n++;
  return n;
}
function hex8(x) {
  return (x >>> 0).toString(16).padStart(8, "0");
}
function copy_shadow(n) {
  if (!n.kids) return { a: n.a, b: n.b, kids: null };
  const kids = /* @__PURE__ */ new Map();
  for (const [k, v] of n.kids) kids.set(k, copy_shadow(v));
  return { a: n.a, b: n.b, kids };
}

// src/explore/local.ts
var SEP2 = "";
function constant(loc) {
  return loc === "arch" || loc === "variants" || loc.startsWith("variants" + SEP2);
}
function local_step(w, thread, fp, asked, before, facts = null) {
  if (fp.clock || asked !== 0) return false;
  const own = "threads" + SEP2 + thread + SEP2;
  for (const l2 of fp.r) if (!l2.startsWith(own) && !constant(l2) && !facts?.mine(thread, l2, false)) return false;
  const t2 = w.threads[thread];
  if (t2.done || t2.wait !== null) return false;
  const after = t2.stack;
  for (const l2 of fp.w) {
    if (!l2.startsWith(own)) {
      if (facts?.mine(thread, l2, true)) continue;
      return false;
    }
    const rest = l2.slice(own.length);
    if (rest === "retval" || rest === "wait") continue;
    if (facts?.mine(thread, l2, true)) continue;
    if (rest === "stack" || rest === "stack" + SEP2 + "#keys") {
      const top_before = before[before.length - 1];
      const top_after = after[after.length - 1]?.fn;
      if (top_before && frame_observed(top_before) || top_after && frame_observed(top_after)) return false;
      continue;
    }
    if (!rest.startsWith("stack" + SEP2)) return false;
    const i = Number(rest.slice(6).split(SEP2)[0]);
    const fn = after[i]?.fn ?? before[i];
    if (fn === void 0 || frame_observed(fn)) return false;
  }
  return true;
}
function not_local_by_record(thread, fp, facts) {
  if (!facts) return true;
  const own = "threads" + SEP2 + thread + SEP2;
  for (const l2 of fp.r) if (!l2.startsWith(own) && !constant(l2) && facts.mine(thread, l2, false)) return false;
  return true;
}
function frames_of(w, thread) {
  const s2 = w.threads[thread].stack;
  const out = new Array(s2.length);
  for (let i = 0; i < s2.length; i++) out[i] = s2[i].fn;
  return out;
}
function add_footprint(a, b) {
  for (const l2 of b.r) a.r.add(l2);
  for (const l2 of b.w) a.w.add(l2);
  if (b.clock) a.clock = true;
}

// src/explore/dfs.ts
function covers2(e, last, d, f, p2) {
  if (e.d < d || e.f < f) return false;
  return e.last === last || e.last === -1 ? e.p >= p2 : e.p >= p2 + 1;
}
var covers_budgets = (e, b) => covers2(e, b.last, b.d, b.f, b.p);
var move_id = (thread, answers) => `${thread}:${answers.join(",")}`;
function nonzero(a) {
  let n = 0;
  for (const x of a) if (x !== 0) n++;
  return n;
}
function matches(s2, thread, prefix) {
  if (s2.thread !== thread || s2.answers.length < prefix.length) return false;
  for (let i = 0; i < prefix.length; i++) if (s2.answers[i] !== prefix[i]) return false;
  for (let i = prefix.length; i < s2.answers.length; i++) if (s2.answers[i] !== 0) return false;
  return true;
}
var NONE = [];
var QUIET = 5e4;
var MAX_STATES = 16e6;
var HEAP_SHARE = 0.75;
var Dfs = class {
  constructor(sim, o) {
    this.sim = sim;
    this.o = o;
    this.por = o.por && o.preemptions === null;
    this.heap_limit = o.heap_limit ?? HEAP_SHARE * getHeapStatistics().heap_size_limit;
    this.facts = o.coarse ? o.facts ?? null : null;
    sim.restart();
    const root2 = this.node(0, 0, 0, -1, [], null, o.split === 0 ? 0 : -1);
    this.states.add(sim.key53());
    if (o.split === 0) {
      this.items = 1;
      if (!o.owns(0)) {
        this.status = "done";
        return;
      }
    }
    if (this.leaf(root2)) return;
    this.seen(root2, sim.key53(), o.split === 0 ? this.seen_below : this.seen_above);
    this.push(root2);
  }
  sim;
  o;
  states = /* @__PURE__ */ new Set();
  stats = { transitions: 0, merged: 0, schedules: 0, slept: 0, revisits: 0, max_depth: 0, cut: false };
  finding = null;
  /** The first deadlock met (every thread left blocked); the search goes on. */
  deadlock = null;
  status = "running";
  /** Items met so far (nodes at the split depth). */
  items = 0;
  /** The visited set reached MAX_STATES, or the heap HEAP_SHARE of its limit. */
  full = false;
  /** Heap bytes in use at which the search stops as full (DfsOptions.heap_limit). */
  heap_limit;
  /**
   * Every breach seen. After the first one the search proves nothing, but
   * it goes on, learning each breach into its copy of the facts, until
   * QUIET transitions (or as many as it ran before the first) bring no new
   * one: explore.ts then learns them all at once and starts again, instead
   * of once per breach. Violations and deadlocks met past a breach are not
   * reported (which one is met depends on what was learned on the way);
   * the search started again finds them.
   */
  breaches = [];
  /** Transitions run before the first breach, and the count at which the search stops learning. */
  quiet_from;
  quiet_until = Infinity;
  facts;
  stack = [];
  seen_above = /* @__PURE__ */ new Map();
  seen_below = /* @__PURE__ */ new Map();
  por;
  /**
   * Keys of thread records (Tracker.subtree_key53) whose next step was
   * not local. Up to its first access outside the thread's own record a
   * step depends on that record alone (and on constants; not on what the
   * facts give it: local.ts, not_local_by_record), so that first
   * access, which makes it not local, comes again whenever the record is
   * the same: the step need not be run to find out. (A false hit, two
   * records with one 53-bit key, only makes a local step a scheduling
   * point, which is always sound.)
   */
  not_local = [/* @__PURE__ */ new Set(), /* @__PURE__ */ new Set()];
  /** Depth of the path being explored. */
  get depth() {
    return this.stack.length;
  }
  node(depth, faults, pre, last, sleep, x, item) {
    if (this.facts) this.check_waits();
    const enabled = this.sim.runnable();
    const order = last >= 0 && enabled.includes(last) ? [last, ...enabled.filter((t2) => t2 !== last)] : enabled;
    return { depth, faults, pre, last, sleep, done: [], enabled, order, ti: 0, work: [[]], only: null, x, item };
  }
  /** Check what every waiting thread's wait predicate reads now against the facts. */
  check_waits() {
    const facts = this.facts;
    for (const t2 of this.sim.w.threads) {
      if (t2.done || t2.wait === null) continue;
      this.check_step(t2.id, this.sim.wait_reads(t2.id));
    }
  }
  /** Check a step's (or a wait predicate's) footprint against the facts; whether it broke them. */
  check_step(thread, fp) {
    const facts = this.facts;
    let broke = false;
    for (let b = facts.check(thread, fp), n = 0; b && n < fp.r.size + fp.w.size; b = facts.check(thread, fp), n++) {
      broke = true;
      this.breaches.push(b);
      facts.learn_breach(b);
      this.quiet_until = this.stats.transitions + Math.max(QUIET, this.quiet_from ??= this.stats.transitions);
    }
    return broke;
  }
  /** What first broke the learned facts (the search then ends with status 'breach'). */
  get breach() {
    return this.breaches[0] ?? null;
  }
  /** The visited set cannot grow (MAX_STATES, or the heap): end as 'budget', not exhaustive. */
  stop_full() {
    this.full = true;
    this.end("budget");
  }
  /** End the search: past a breach, whatever ends it, it proves nothing ('breach'). */
  end(status) {
    this.status = this.breach ? "breach" : status;
  }
  /** A node with nothing to explore below: the end, a deadlock, or the depth bound. Counts the schedule. */
  leaf(n) {
    if (n.enabled.length === 0) {
      this.o.collect?.end();
      const w = this.sim.w;
      const stuck = w.threads.filter((t2) => !t2.done && !t2.daemon);
      if (stuck.length) {
        const blocked = stuck.map((t2) => t2.name).join(", ");
        const v = {
          invariant: "deadlock",
          message: `every thread left is blocked: ${blocked}`,
          step: w.step,
          thread: stuck[0].name,
          values: { blocked: stuck.map((t2) => t2.name) }
        };
        if (!this.breach && (!this.deadlock || Math.max(0, n.item) < this.deadlock.item)) this.deadlock = this.finding_of([v], n.item);
        this.o.collect?.violation(["deadlock"]);
      }
      this.count_schedule(n);
      return true;
    }
    if (n.depth >= this.o.depth) {
      this.stats.cut = true;
      if (this.o.depth_blind && n.item >= 0 && this.status === "running") {
        this.status = "depth";
        this.o.visited?.set_depth_met();
      }
      this.count_schedule(n);
      return true;
    }
    return false;
  }
  count_schedule(n) {
    if (n.item < 0 && !this.o.first) return;
    this.stats.schedules++;
    if (this.stats.schedules >= this.o.budget && this.status === "running") this.end("budget");
  }
  finding_of(violations, item) {
    const s2 = this.sim.m.schedule;
    return {
      violation: violations[0],
      violations: [...violations],
      schedule: { picks: [...s2.picks], choices: [...s2.choices] },
      steps: s2.picks.length,
      item: Math.max(0, item)
    };
  }
  found(violations, item) {
    this.finding = this.finding_of(violations, item);
    this.status = "violation";
  }
  /**
   * Whether the visit (key, budgets, sleep set) is covered by an earlier
   * one: true when it is. When an earlier visit had at least these budgets
   * but slept on moves this one must take, only those moves are left to
   * take here (Godefroid's state caching with sleep sets): n.only is set
   * and false returned. Records the visit otherwise.
   */
  seen(n, key, map) {
    const o = this.o;
    const last = o.preemptions === null || !n.enabled.includes(n.last) ? -1 : n.last;
    const d = o.depth_blind && map === this.seen_below ? Infinity : o.depth - n.depth;
    const f = o.faults - n.faults;
    const p2 = o.preemptions === null ? 0 : o.preemptions - n.pre;
    const table = map === this.seen_below && !this.por ? this.o.visited : void 0;
    if (table) {
      const v = table.visit(key, { last, d, f, p: p2 }, n.item, o.depth_blind === true, covers_budgets);
      if (v !== "full") return v === "covered";
    }
    const sleep = n.sleep.map((s2) => s2.id);
    const list = map.get(key);
    if (!list) {
      map.set(key, [{ last, d, f, p: p2, sleep }]);
      return false;
    }
    let fewest = null;
    let missing = null;
    for (const e of list) {
      if (!covers2(e, last, d, f, p2)) continue;
      const m = e.sleep.filter((id2) => !sleep.includes(id2));
      if (m.length === 0) return true;
      if (!missing || m.length < missing.length) {
        missing = m;
        fewest = e;
      }
    }
    if (missing && fewest) {
      n.only = missing;
      const both = fewest.sleep.filter((id2) => sleep.includes(id2));
      if (fewest.d === d && fewest.f === f && fewest.p === p2) fewest.sleep = both;
      else list.push({ last, d, f, p: p2, sleep: both });
      return false;
    }
    const me = { last, d, f, p: p2, sleep };
    const keep = list.filter((e) => !(covers2(me, e.last, e.d, e.f, e.p) && sleep.every((id2) => e.sleep.includes(id2))));
    keep.push(me);
    map.set(key, keep);
    return false;
  }
  push(n) {
    if (n.only && n.order.length) n.work = this.work_for(n, n.order[0]);
    this.stack.push(n);
  }
  /** The answer prefixes to try for thread `t` at node `n`. */
  work_for(n, t2) {
    if (!n.only) return [[]];
    const out = [];
    for (const id2 of n.only) {
      const [th, a] = id2.split(":");
      if (Number(th) === t2) out.push(a ? a.split(",").map(Number) : []);
    }
    return out;
  }
  /** Explore until done, a violation, the budget, or `deadline` (performance.now() ms). */
  run(deadline = Infinity, check_every = 256) {
    const sim = this.sim;
    const o = this.o;
    let tick2 = 0;
    while (this.status === "running") {
      if (++tick2 >= check_every) {
        tick2 = 0;
        if (performance.now() >= deadline) return this.status;
        if (getHeapStatistics().used_heap_size >= this.heap_limit) {
          this.stop_full();
          break;
        }
        if (this.o.depth_blind && this.o.visited?.depth_met) {
          this.status = "depth";
          break;
        }
      }
      const n = this.stack[this.stack.length - 1];
      if (!n || this.stats.transitions >= this.quiet_until) {
        this.end("done");
        break;
      }
      if (o.item_limit !== void 0 && n.item >= o.item_limit) {
        this.status = "done";
        break;
      }
      let thread = -1;
      let prefix = null;
      while (n.ti < n.order.length) {
        if (n.work.length) {
          prefix = n.work.shift();
          thread = n.order[n.ti];
          break;
        }
        n.ti++;
        if (n.ti < n.order.length) n.work = this.work_for(n, n.order[n.ti]);
      }
      if (prefix === null) {
        this.stack.pop();
        if (n.x) this.undo(n.x);
        continue;
      }
      const preempts = n.last >= 0 && thread !== n.last && n.enabled.includes(n.last) ? 1 : 0;
      if (o.preemptions !== null && n.pre + preempts > o.preemptions) {
        n.work.length = 0;
        continue;
      }
      const used_faults = n.faults + nonzero(prefix);
      const asleep = this.por ? n.sleep.find((s2) => matches(s2, thread, prefix)) : void 0;
      if (asleep) {
        this.stats.slept++;
        if (!n.only) this.alternatives(n, prefix, asleep.asked, used_faults);
        continue;
      }
      const fp = this.por || this.facts ? new_footprint() : null;
      const x0 = sim.exec(thread, prefix, fp);
      this.stats.transitions++;
      if (this.facts) this.check_step(thread, fp);
      if (!n.only) this.alternatives(n, prefix, x0.asked, used_faults);
      const x = [x0];
      let violations = x0.result.violations;
      let depth = n.depth + 1;
      if (this.o.coarse && violations.length === 0) {
        const r2 = this.extend(thread, depth, fp, x, used_faults < o.faults);
        depth = r2.depth;
        violations = r2.violations;
      }
      let pre = n.pre + preempts;
      if (o.preemptions !== null) {
        if (sim.preempted(thread)) pre++;
        if (pre > o.preemptions) {
          this.undo(x);
          continue;
        }
      }
      const me = { id: move_id(thread, x0.answers), thread, answers: x0.answers, asked: x0.asked, fp: this.por ? index_footprint(fp) : null };
      if (depth > this.stats.max_depth) this.stats.max_depth = depth;
      const key = sim.key53();
      this.states.add(key);
      if (this.states.size >= MAX_STATES && this.status === "running") this.stop_full();
      if (violations.length) {
        if (this.o.collect) {
          this.o.collect.violation(violations.map((v) => v.invariant));
          this.undo(x);
          continue;
        }
        if (this.breach) {
          this.undo(x);
          continue;
        }
        this.found(violations, n.item);
        break;
      }
      let sleep = [];
      const enabled_after = this.por ? sim.runnable() : [];
      if (this.por) {
        for (const s2 of n.sleep) if (s2.thread !== thread && !dependent(s2.fp, me.fp) && enabled_after.includes(s2.thread)) sleep.push(s2);
        for (const s2 of n.done) if (s2.thread !== thread && !dependent(s2.fp, me.fp) && enabled_after.includes(s2.thread)) sleep.push(s2);
        n.done.push(me);
      }
      let item = n.item;
      const at_split = o.split > 0 && n.depth < o.split && depth >= o.split;
      if (at_split) item = -2;
      const child = this.node(depth, used_faults, pre, thread, sleep, x, item);
      if (at_split) {
        if (this.seen(child, key, this.seen_above)) {
          this.stats.revisits++;
          this.undo(x);
          continue;
        }
        const i = this.items++;
        child.item = i;
        if (!o.owns(i) || o.item_limit !== void 0 && i >= o.item_limit) {
          this.undo(x);
          continue;
        }
        if (this.leaf(child)) {
          this.undo(x);
          continue;
        }
        this.push(child);
        continue;
      }
      if (this.leaf(child)) {
        this.undo(x);
        continue;
      }
      if (this.seen(child, key, depth < o.split ? this.seen_above : this.seen_below)) {
        this.stats.revisits++;
        this.undo(x);
        continue;
      }
      this.push(child);
    }
    return this.status;
  }
  undo(xs) {
    for (let i = xs.length - 1; i >= 0; i--) this.sim.undo(xs[i]);
  }
  /**
   * Coarse transitions: after `thread`'s step, run its next steps while
   * they are local (local.ts), up to the depth bound; a step that is not
   * local is undone and left as the next scheduling point. The steps run
   * go into `xs`, their footprints into `fp`. With no fault left to
   * inject (`faults_left` false) a choice can only be answered 0, so a
   * step that asks one may still be local.
   */
  extend(thread, depth, fp, xs, faults_left) {
    const sim = this.sim;
    const w = sim.w;
    const not_local = this.not_local[faults_left ? 1 : 0];
    while (depth < this.o.depth) {
      const t2 = w.threads[thread];
      if (t2.done || t2.daemon || t2.wait !== null) break;
      const own = sim.tr.subtree_key53("threads", String(thread));
      if (not_local.has(own)) break;
      const before = frames_of(w, thread);
      const f = new_footprint();
      const y = sim.exec(thread, [], f);
      const b = this.facts !== null && this.check_step(thread, f);
      if (b || !local_step(sim.w, thread, f, faults_left ? y.asked.length : 0, before, this.facts)) {
        sim.undo(y);
        if (not_local.size >= 1 << 20) not_local.clear();
        if (!b && not_local_by_record(thread, f, this.facts)) not_local.add(own);
        break;
      }
      xs.push(y);
      depth++;
      this.stats.transitions++;
      this.stats.merged++;
      if (fp) add_footprint(fp, f);
      if (y.result.violations.length) return { depth, violations: y.result.violations };
    }
    return { depth, violations: NONE };
  }
  /** Queue the answer vectors that differ from this one first after `prefix`. */
  alternatives(n, prefix, asked, used_faults) {
    if (used_faults + 1 > this.o.faults) return;
    for (let j = prefix.length; j < asked.length; j++) {
      for (let v = 1; v < asked[j]; v++) {
        const p2 = prefix.slice();
        while (p2.length < j) p2.push(0);
        p2.push(v);
        n.work.push(p2);
      }
    }
  }
};
function split_depth(make, o, want) {
  if (want <= 1) return 0;
  let prev = -1;
  for (let d = 1; d <= Math.min(o.depth, 64); d++) {
    const dfs = new Dfs(make(), { ...o, budget: Infinity, split: d, owns: () => false, first: true, item_limit: 0 });
    dfs.run();
    if (dfs.items >= want) return d;
    if (dfs.items === prev && dfs.stats.max_depth < d) return d;
    prev = dfs.items;
  }
  return Math.min(o.depth, 64);
}

// src/explore/sim.ts
var Sim = class {
  constructor(config, opts = {}) {
    this.config = config;
    this.initial = create_world(config);
    this.key_counters = opts.key_counters ?? false;
    this.all_answers = opts.all_answers ?? false;
    this.tracker = opts.track === false ? null : new Tracker(copy_plain(this.initial), { undo: opts.undo ?? true, exact_history: opts.exact_history ?? false, key: opts.key ?? true, ...opts.depth ? { depth: opts.depth } : {} });
    this.initial_shadow = this.tracker ? this.tracker.snapshot_shadow() : null;
    this.m = new Machine(this.tracker ? this.tracker.world : copy_plain(this.initial), {
      ...opts.invariants === false ? { invariants: false } : {},
      chooser: (_w, _t, kind) => {
        const i = this.asked.length;
        this.asked.push(this.all_answers ? kind.n : kind.exhaustive ?? kind.n);
        const v = this.answer ? this.answer(kind) : i < this.prefix.length ? this.prefix[i] : 0;
        const a = v < kind.n ? v : 0;
        this.used.push(a);
        return a;
      }
    });
  }
  config;
  m;
  tracker;
  initial;
  initial_shadow;
  /** Answers choices instead of the prefix (random walks, PCT). */
  answer = null;
  prefix = [];
  asked = [];
  used = [];
  key_counters;
  all_answers;
  /** Back to the initial World (a fresh copy). */
  restart() {
    if (this.tracker) this.tracker.reset(copy_plain(this.initial), this.initial_shadow);
    else this.m.w = copy_plain(this.initial);
    this.m.schedule.picks.length = 0;
    this.m.schedule.choices.length = 0;
  }
  /** The tracker (a Sim made with track: false has none). */
  get tr() {
    if (!this.tracker) throw new Error("explorer: this Sim does not track the World");
    return this.tracker;
  }
  get tracked() {
    return this.tracker !== null;
  }
  /** The plain World (not the proxy). */
  get w() {
    return this.tracker ? this.tracker.raw : this.m.w;
  }
  /**
   * Thread ids that can run now, ascending: Machine.runnable()'s rule
   * (a thread not done whose wait holds; daemons only while a non-daemon
   * thread is left), evaluated on the plain World so that it costs no
   * proxy traps. The explorer only runs a thread this returned, so exec()
   * tells Machine.step() not to compute the set again.
   */
  runnable() {
    const w = this.w;
    const out = [];
    let workers = false;
    for (const t2 of w.threads) {
      if (t2.done) continue;
      if (!t2.daemon) workers = true;
      if (wait_holds(w, t2)) out.push(t2.id);
    }
    return workers ? out : [];
  }
  /** Whether `thread` is off its CPU by preemption (an injected PREEMPT, a cond_resched that scheduled it out). */
  preempted(thread) {
    return wait_preempted(this.w.threads[thread]);
  }
  /** The state key as a string; see key53(). */
  key() {
    return this.tr.key() + ":" + this.time_left().toString(16);
  }
  /**
   * The state key as a number (53 bits), for compact visited sets: the
   * tracker's key of the simulated state (without the step and event
   * counters), and the time left on the timed waits.
   *
   * The model stamps the counters into the World (a TLB entry's
   * fill_step, a PTE's changed_step, RCU's section_start, a freed table's
   * freed_seq...) and declares those fields as history
   * (core/machine/history.ts): nothing branches on them but on a stamp's
   * sign, so the tracker hashes a stamp by its sign, and two Worlds equal
   * but for the counters and the stamps have the same futures; a spin loop
   * that leaves nothing else behind comes back to a visited state. The
   * exception is a deadline: a timed wait (kvm_preempt's `preempted`,
   * numa_scan_delay) ends when the step counter reaches `until` (left out
   * of the tracker's key), so this key carries `until - step` for each.
   * test/explore/key.test.ts compares searches with and without the
   * counters and with the stamps by value; history.test.ts checks the
   * declarations.
   */
  key53() {
    const k = this.tr.key53();
    const w = this.w;
    const x = this.key_counters ? Math.imul(w.step, 668265261) ^ w.seq : this.time_left();
    let a = Math.imul(Math.floor(k / 2097152) ^ x, 2654435761);
    a ^= a >>> 13;
    let b = Math.imul(k % 2097152 ^ Math.imul(x, 2246822507), 3266489909);
    b ^= b >>> 15;
    return (a >>> 0) * 2097152 + (b >>> 0 & 2097151);
  }
  /** A hash of the steps left before each timed wait's deadline (0 with none pending). */
  time_left() {
    const w = this.w;
    let h = 0;
    for (const t2 of w.threads) {
      const u = t2.wait?.["until"] ?? t2.stack[t2.stack.length - 1]?.locals["until"];
      if (typeof u === "number" && u > w.step) h = Math.imul(h ^ t2.id + 1, 2654435761) + (u - w.step) | 0;
    }
    return h;
  }
  /**
   * Run `thread` for one step, answering its choices from `prefix` (then 0).
   * `fp` collects the step's footprint, including what decides whether the
   * thread can run at all.
   */
  exec(thread, prefix, fp) {
    const picks = this.m.schedule.picks.length;
    const choices = this.m.schedule.choices.length;
    this.prefix = prefix;
    this.asked = [];
    this.used = [];
    const tr = this.tracker;
    if (!tr) return { result: this.m.step(thread), answers: this.used, asked: this.asked, log: null, picks, choices };
    tr.begin(fp);
    if (fp) {
      tr.enab();
      const w = tr.world;
      const t2 = w.threads[thread];
      void t2.done;
      wait_holds(w, t2);
      if (t2.daemon) for (const o of w.threads) void (o.done || o.daemon);
    }
    tr.pre();
    let result;
    let log;
    try {
      result = this.m.step(thread, true);
    } finally {
      log = tr.end();
    }
    return { result, answers: this.used, asked: this.asked, log: tr.logging ? log : null, picks, choices };
  }
  /** What `thread`'s wait predicate reads now (its footprint; nothing runs). */
  wait_reads(thread) {
    const tr = this.tr;
    const fp = new_footprint();
    tr.begin(fp);
    tr.enab();
    let log;
    try {
      wait_holds(tr.world, tr.world.threads[thread]);
    } finally {
      log = tr.end();
    }
    if (tr.logging && log.undo.length) tr.undo(log);
    return fp;
  }
  undo(x) {
    if (!x.log) throw new Error("undo without an undo log");
    this.tr.undo(x.log);
    this.m.schedule.picks.length = x.picks;
    this.m.schedule.choices.length = x.choices;
  }
};

// src/explore/walks.ts
import { unsafeUniformIntDistribution as unsafeUniformIntDistribution2, xoroshiro128plus as xoroshiro128plus2 } from "pure-rand";
var SPIN_RUN = 2e3;
function schedule_rng(seed, i) {
  let h = Math.imul(seed ^ 2654435769, 2246822507) ^ Math.imul(i + 1, 3266489909);
  h = Math.imul(h ^ h >>> 16, 2146121005);
  h ^= h >>> 15;
  return xoroshiro128plus2(h | 0);
}
function rand(g, n) {
  return n <= 1 ? 0 : unsafeUniformIntDistribution2(0, n - 1, g);
}
function random_answer(g, kind) {
  if (kind.n <= 1) return 0;
  if (rand(g, 1024) >= Math.round(kind.p_random * 1024)) return 0;
  return 1 + rand(g, kind.n - 1);
}
function estimate_k(sim, seed, depth, runs = 4) {
  const w = new Walks(sim, { strategy: "random", seed: seed ^ 1554098974, pct_depth: 1, depth, faults: Infinity, budget: runs, owns: () => true, states: false });
  w.run();
  return Math.max(1, w.stats.max_depth);
}
var Walks = class {
  constructor(sim, o) {
    this.sim = sim;
    this.o = o;
  }
  sim;
  o;
  states = /* @__PURE__ */ new Set();
  stats = { transitions: 0, schedules: 0, max_depth: 0, cut: 0 };
  finding = null;
  /** The first deadlock met (every thread left blocked); the search goes on. */
  deadlock = null;
  status = "running";
  /** Next schedule index to consider. */
  next = 0;
  /** Run schedules until done, a violation, the budget, or `deadline` (performance.now() ms). */
  run(deadline = Infinity) {
    while (this.status === "running") {
      while (this.next < this.o.budget && !this.o.owns(this.next)) this.next++;
      if (this.next >= this.o.budget) {
        this.status = "budget";
        break;
      }
      if (this.o.item_limit !== void 0 && this.next >= this.o.item_limit) {
        this.status = "done";
        break;
      }
      const i = this.next++;
      this.one(i);
      if (performance.now() >= deadline) break;
    }
    return this.status;
  }
  /** Schedule `i`. */
  one(i) {
    const o = this.o;
    const sim = this.sim;
    const g = schedule_rng(o.seed, i);
    sim.restart();
    let faults = 0;
    sim.answer = (kind) => {
      if (faults >= o.faults) return 0;
      const a = random_answer(g, kind);
      if (a) faults++;
      return a;
    };
    const track = o.states !== false && sim.tracked;
    if (track) this.states.add(sim.key53());
    const pct = o.strategy === "pct" ? new Pct(g, sim.w.threads.length, o.pct_depth, o.k ?? 1e3) : null;
    const seen = pct && sim.tracked ? /* @__PURE__ */ new Set() : null;
    let run_of = 0;
    let last = -1;
    let steps = 0;
    try {
      for (; ; ) {
        const runnable = sim.runnable();
        if (runnable.length === 0) {
          const w = sim.w;
          const stuck = w.threads.filter((t2) => !t2.done && !t2.daemon);
          if (stuck.length) {
            const v = {
              invariant: "deadlock",
              message: `every thread left is blocked: ${stuck.map((t2) => t2.name).join(", ")}`,
              step: w.step,
              thread: stuck[0].name,
              values: { blocked: stuck.map((t2) => t2.name) }
            };
            if (!this.deadlock) this.deadlock = this.finding_of([v], i);
          }
          break;
        }
        if (steps >= o.depth) {
          this.stats.cut++;
          break;
        }
        const thread = pct ? pct.pick(runnable, steps) : runnable[rand(g, runnable.length)];
        const x = sim.exec(thread, [], null);
        steps++;
        this.stats.transitions++;
        if (pct && !seen) {
          run_of = thread === last ? run_of + 1 : 1;
          last = thread;
          if (run_of >= SPIN_RUN && runnable.length > 1) {
            pct.spinning(thread);
            run_of = 0;
          }
        }
        if (track && this.states.size < MAX_STATES) this.states.add(sim.key53());
        if (seen) {
          const k = sim.tr.key53();
          if (seen.has(k)) pct.spinning(thread);
          else seen.add(k);
        }
        if (x.result.violations.length) {
          this.found(x.result.violations, i);
          break;
        }
      }
    } finally {
      sim.answer = null;
    }
    if (steps > this.stats.max_depth) this.stats.max_depth = steps;
    this.stats.schedules++;
  }
  finding_of(violations, item) {
    const s2 = this.sim.m.schedule;
    return {
      violation: violations[0],
      violations: [...violations],
      schedule: { picks: [...s2.picks], choices: [...s2.choices] },
      steps: s2.picks.length,
      item
    };
  }
  found(violations, item) {
    this.finding = this.finding_of(violations, item);
    this.status = "violation";
  }
};
var Pct = class {
  prio;
  /** Step numbers (1-based) where the running thread drops, in order; the i-th drop goes to priority d-1-i. */
  change;
  low = 0;
  constructor(g, n, d, k) {
    const p2 = Array.from({ length: n }, (_, i) => d + i);
    for (let i = n - 1; i > 0; i--) {
      const j = rand(g, i + 1);
      [p2[i], p2[j]] = [p2[j], p2[i]];
    }
    this.prio = p2;
    this.change = /* @__PURE__ */ new Map();
    for (let i = 1; i < d; i++) this.change.set(1 + rand(g, k), i);
  }
  /** The runnable thread with the highest priority; at a change point the one about to run drops first. */
  pick(runnable, steps) {
    let best = this.best(runnable);
    const c = this.change.get(steps + 1);
    if (c !== void 0) {
      this.prio[best] = c;
      best = this.best(runnable);
    }
    return best;
  }
  /** `thread` spins: below everyone (and below the change-point priorities). */
  spinning(thread) {
    this.prio[thread] = --this.low;
  }
  best(runnable) {
    let best = runnable[0];
    for (const t2 of runnable) if (this.prio[t2] > this.prio[best]) best = t2;
    return best;
  }
};

// src/explore/facts.ts
var SEP3 = "";
var SHARED = -1;
var CONSTANT = -2;
function each_prefix(loc, f) {
  let i = loc.indexOf(SEP3);
  while (i >= 0) {
    f(loc.slice(0, i));
    i = loc.indexOf(SEP3, i + 1);
  }
}
var ANY = "*";
function any_element(loc) {
  const parts = loc.split(SEP3);
  for (let i = parts.length - 1; i >= 1; i--) {
    if (!is_index(parts[i])) continue;
    if (i === 1 && parts[0] === "threads") return null;
    parts[i] = ANY;
    return parts.slice(0, i + 1).join(SEP3);
  }
  return null;
}
function untracked(loc) {
  return loc === "arch" || loc === "variants" || loc.startsWith("variants" + SEP3);
}
var Ownership = class {
  who = /* @__PURE__ */ new Map();
  written = /* @__PURE__ */ new Set();
  /** Owners and writes of everything at or below a location (its prefixes index it). */
  below = /* @__PURE__ */ new Map();
  written_below = /* @__PURE__ */ new Set();
  cache = /* @__PURE__ */ new Map();
  /** Some location learned for any element of an array (learn_breach()). */
  wild = false;
  constructor(f = { who: [], written: [] }) {
    for (const [l2, t2] of f.who) {
      this.touch(l2, t2);
      if (l2.includes(SEP3 + ANY)) this.wild = true;
    }
    for (const l2 of f.written) this.write(l2);
  }
  get facts() {
    return { who: [...this.who].sort((a, b) => a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0), written: [...this.written].sort() };
  }
  touch(loc, t2) {
    const had = this.who.get(loc);
    if (had === t2 || had === SHARED) return;
    const merge = (m, k) => {
      const o = m.get(k);
      m.set(k, o === void 0 || o === t2 ? t2 : SHARED);
    };
    merge(this.who, loc);
    merge(this.below, loc);
    each_prefix(loc, (p2) => merge(this.below, p2));
    this.cache.clear();
  }
  write(loc) {
    if (this.written.has(loc)) return;
    this.written.add(loc);
    this.written_below.add(loc);
    each_prefix(loc, (p2) => this.written_below.add(p2));
    this.cache.clear();
  }
  /** Learn from a step (or a wait predicate) of `thread`. */
  learn(thread, fp) {
    for (const l2 of fp.r) if (!untracked(l2)) this.touch(l2, thread);
    for (const l2 of fp.w) {
      if (untracked(l2)) continue;
      this.touch(l2, thread);
      this.write(l2);
    }
  }
  /**
   * Learn what a breach showed: its thread touches (and maybe writes) that
   * location too, every element of that array (the next breach would be
   * the flush FIFO's next entry, or another field of it), and all of another
   * thread's stack when it looked at one of its frames.
   */
  learn_breach(b) {
    const locs = [b.loc];
    const p2 = b.loc.split(SEP3);
    if (p2[0] === "threads" && p2[2] === "stack" && p2.length > 3) locs.push(p2.slice(0, 3).join(SEP3));
    const w = any_element(b.loc);
    if (w !== null) {
      locs.push(w);
      this.wild = true;
    }
    this.learn(b.thread, { r: new Set(locs), w: new Set(b.write ? locs : []), clock: false });
  }
  /**
   * What the facts say of `loc`, over every learned location that overlaps
   * it: the one thread that touched them (some written), CONSTANT (none
   * written), or SHARED (several threads, or nothing learned).
   */
  class_of(loc) {
    const c = this.cache.get(loc);
    if (c !== void 0) return c;
    const none = [void 0, false];
    const any = this.wild ? any_element(loc) : null;
    const [owner2, written2] = this.overlapping(loc, any === null ? none : this.overlapping(any, none));
    const out = owner2 === void 0 ? SHARED : !written2 ? CONSTANT : owner2;
    if (this.cache.size > 1 << 16) this.cache.clear();
    this.cache.set(loc, out);
    return out;
  }
  /** The owner and whether written, over the learned locations overlapping `loc`, merged into `acc`. */
  overlapping(loc, acc) {
    let [owner2, written2] = acc;
    const merge = (o) => {
      if (o !== void 0) owner2 = owner2 === void 0 || owner2 === o ? o : SHARED;
    };
    merge(this.below.get(loc));
    if (this.written_below.has(loc)) written2 = true;
    each_prefix(loc, (p2) => {
      merge(this.who.get(p2));
      if (this.written.has(p2)) written2 = true;
    });
    return [owner2, written2];
  }
  /** The first location `thread`'s footprint touches against the facts, or null. */
  check(thread, fp) {
    for (const l2 of fp.w) {
      if (untracked(l2)) continue;
      const c = this.class_of(l2);
      if (c === CONSTANT || c >= 0 && c !== thread) return { thread, loc: l2, write: true, was: c };
    }
    for (const l2 of fp.r) {
      if (untracked(l2)) continue;
      const c = this.class_of(l2);
      if (c >= 0 && c !== thread) return { thread, loc: l2, write: false, was: c };
    }
    return null;
  }
  /** Whether `thread` may touch `loc` in a local step (reading: also a constant). */
  mine(thread, loc, write) {
    if (untracked(loc)) return false;
    const c = this.class_of(loc);
    return c === thread || !write && c === CONSTANT;
  }
};
function learn_facts(config, seed, depth, faults, runs = LEARN_RUNS) {
  return learn_from(new Sim(config, { undo: false, key: false }), seed, depth, faults, runs);
}
function learn_from(sim, seed, depth, faults, runs = LEARN_RUNS) {
  const own = new Ownership();
  for (let i = 0; i < runs; i++) {
    const g = schedule_rng(seed ^ 7842, i);
    sim.restart();
    let used = 0;
    sim.answer = (kind) => {
      if (used >= faults) return 0;
      const a = random_answer(g, kind);
      if (a) used++;
      return a;
    };
    try {
      for (let s2 = 0; s2 < depth; s2++) {
        for (const t3 of sim.w.threads) if (!t3.done && t3.wait !== null) own.learn(t3.id, sim.wait_reads(t3.id));
        const r2 = sim.runnable();
        if (r2.length === 0) break;
        const t2 = r2[rand(g, r2.length)];
        const fp = new_footprint();
        const x = sim.exec(t2, [], fp);
        own.learn(t2, fp);
        if (x.result.violations.length) break;
      }
    } finally {
      sim.answer = null;
    }
  }
  sim.restart();
  return own;
}
var LEARN_RUNS = 64;

// src/explore/visited.ts
var W = 6;
var H = 4;
var COUNT = 0;
var DEPTH_MET = 1;
var GEN = 2;
var TOUCHED = 3;
var GEN_SHIFT = 22;
var GENS = 1 << 9;
var WRITING = 1;
var INF = 2147483647;
var BLIND = 1 << 30;
var LAST_BITS = 12;
var LAST_MASK = (1 << LAST_BITS) - 1;
var PAGE3 = 1024;
var VISITED_SLOTS = 1 << 23;
var TOUCH_AT = 1 << 12;
function visited_buffer(slots = VISITED_SLOTS) {
  const buf = new SharedArrayBuffer(4 * (H + W * slots));
  new Int32Array(buf)[GEN] = 1;
  return buf;
}
var pooled = null;
function acquire_visited() {
  const buf = pooled;
  if (!buf) return visited_buffer();
  pooled = null;
  next_generation(buf);
  return buf;
}
function next_generation(buf) {
  const a = new Int32Array(buf);
  let gen = a[GEN] + 1;
  if (gen === GENS) {
    a.fill(0, H);
    gen = 1;
  }
  a[GEN] = gen;
  a[COUNT] = 0;
  a[DEPTH_MET] = 0;
}
function release_visited(buf) {
  if (buf.byteLength === 4 * (H + W * VISITED_SLOTS)) pooled = buf;
}
var VisitedTable = class {
  a;
  mask;
  limit;
  gen;
  /** A slot's budgets as read, for `covers` (one object, not one per visit). */
  e = { last: 0, d: 0, f: 0, p: 0 };
  constructor(buf) {
    this.a = new Int32Array(buf);
    const slots = (this.a.length - H) / W;
    if (!Number.isInteger(slots) || (slots & slots - 1) !== 0) throw new Error(`visited table: ${slots} slots is not a power of two`);
    this.mask = slots - 1;
    this.limit = Math.floor(slots * 0.7);
    this.gen = this.a[GEN];
    if (this.gen < 1 || this.gen >= GENS) throw new Error(`visited table: generation ${this.gen}, expected 1 to ${GENS - 1} (a buffer from visited_buffer())`);
  }
  get buffer() {
    return this.a.buffer;
  }
  /** Visits recorded by all workers. */
  get size() {
    return Atomics.load(this.a, COUNT);
  }
  /** Some depth-blind search met the depth bound: every depth-blind one must count depth. */
  get depth_met() {
    return Atomics.load(this.a, DEPTH_MET) !== 0;
  }
  set_depth_met() {
    Atomics.store(this.a, DEPTH_MET, 1);
  }
  /**
   * Whether a visit with budgets `b` at `key` under `item` is covered by an
   * earlier one (`covers` decides between two budgets); if not, record it
   * ('recorded'), or say the table is full ('full': the caller keeps it).
   */
  visit(key, b, item, blind, covers3) {
    const a = this.a;
    const hi = Math.floor(key / 4294967296);
    const lo = key | 0;
    const g = this.gen << GEN_SHIFT;
    const tag = g | hi + 2;
    const mode = blind ? BLIND : 0;
    const e = this.e;
    let i = (lo ^ Math.imul(hi, 2654435761)) & this.mask;
    for (; ; ) {
      const at = H + i * W;
      const t2 = Atomics.load(a, at);
      if (t2 >>> GEN_SHIFT !== this.gen) {
        if (Atomics.load(a, COUNT) >= this.limit) return "full";
        if (Atomics.compareExchange(a, at, t2, g | WRITING) !== t2) continue;
        a[at + 1] = lo;
        a[at + 2] = b.d === Infinity ? INF : b.d;
        a[at + 3] = item;
        a[at + 4] = b.last + 1 | b.p << LAST_BITS | mode;
        a[at + 5] = b.f === Infinity ? INF : b.f;
        Atomics.store(a, at, tag);
        if (Atomics.add(a, COUNT, 1) === TOUCH_AT) this.touch();
        return "recorded";
      }
      if (t2 === tag && a[at + 1] === lo && a[at + 3] <= item) {
        const x = a[at + 4];
        if ((x & BLIND) === mode) {
          const d = a[at + 2];
          const f = a[at + 5];
          e.last = (x & LAST_MASK) - 1;
          e.p = (x & ~BLIND) >>> LAST_BITS;
          e.d = d === INF ? Infinity : d;
          e.f = f === INF ? Infinity : f;
          if (covers3(e, b)) return "covered";
        }
      }
      i = i + 1 & this.mask;
    }
  }
  /** Map every page of the table in, in order, once per buffer (see "Memory"). */
  touch() {
    const a = this.a;
    if (Atomics.compareExchange(a, TOUCHED, 0, 1) !== 0) return;
    for (let i = H; i < a.length; i += PAGE3) Atomics.add(a, i, 0);
  }
};

// src/explore/part.ts
function owner(spec) {
  const { k, n, worker, workers, only } = spec;
  if (only !== void 0) return (i) => i === only;
  const mine = (i) => i % n === k - 1 && Math.floor(i / n) % workers === worker;
  if (!spec.claims || workers === 1) return mine;
  const claims = new Int32Array(spec.claims);
  return (i) => {
    if (i % n !== k - 1) return false;
    const j = Math.floor(i / n);
    if (j >= claims.length) return mine(i);
    const had = Atomics.compareExchange(claims, j, 0, worker + 1);
    return had === 0 || had === worker + 1;
  };
}
var CLAIMS = 1 << 16;
function part_index(spec) {
  return (spec.k - 1) * spec.workers + spec.worker;
}
function part_budget(budget, p2, parts) {
  if (!Number.isFinite(budget)) return Infinity;
  return Math.floor(budget / parts) + (p2 < budget % parts ? 1 : 0);
}
var Part = class {
  constructor(config, params, spec) {
    this.config = config;
    this.params = params;
    this.spec = spec;
    const p2 = params;
    if (p2.strategy === "dfs") {
      this.visited = new VisitedTable(spec.visited ?? visited_buffer());
      this.searcher = this.dfs(spec.blind !== false);
    } else {
      const sim = new Sim(config, { undo: false, track: p2.states });
      this.searcher = new Walks(sim, {
        strategy: p2.strategy,
        seed: p2.seed,
        pct_depth: p2.pct_depth,
        depth: p2.depth,
        faults: p2.faults,
        budget: p2.budget,
        owns: owner(spec),
        k: p2.k,
        states: p2.states
      });
    }
  }
  config;
  params;
  spec;
  searcher;
  stopped = null;
  /** Steps run by a depth-blind search that met the depth bound and was dropped (dfs.ts, "Depth"). */
  dropped = 0;
  /** Breaches seen by a dropped depth-blind search. */
  dropped_breaches = [];
  visited;
  /** This part's DFS, first with depth left out of covering, then (after it met the depth bound) with it. */
  dfs(depth_blind) {
    const p2 = this.params;
    const spec = this.spec;
    return new Dfs(new Sim(this.config, { undo: true }), {
      depth: p2.depth,
      preemptions: p2.preemptions,
      faults: p2.faults,
      por: p2.por,
      coarse: p2.coarse,
      facts: p2.facts ? new Ownership(p2.facts) : null,
      budget: part_budget(p2.budget, part_index(spec), spec.n * spec.workers),
      split: p2.split,
      owns: owner(spec),
      first: part_index(spec) === 0,
      depth_blind,
      visited: this.visited
    });
  }
  /** Items (dfs: split items; walks: schedule indices) at or above `i` are not explored. */
  limit(i) {
    const s2 = this.searcher;
    const cur = s2.o.item_limit;
    s2.o.item_limit = cur === void 0 ? i : Math.min(cur, i);
  }
  /** Stop at the next slice: the time budget ran out, the user interrupted, or another part broke the facts (it starts again). */
  stop(why) {
    this.stopped ??= why;
  }
  get finished() {
    return this.stopped !== null || this.searcher.status !== "running";
  }
  /** Run for about `slice_ms`; false when finished. */
  slice(slice_ms = 50) {
    if (this.finished) return false;
    const s2 = this.searcher;
    s2.run(performance.now() + slice_ms);
    if (s2.status === "depth") {
      this.dropped += s2.stats.transitions;
      if (s2 instanceof Dfs) this.dropped_breaches.push(...s2.breaches);
      const limit = s2.o.item_limit;
      this.searcher = this.dfs(false);
      if (limit !== void 0) this.limit(limit);
    }
    return !this.finished;
  }
  progress() {
    const s2 = this.searcher;
    return {
      transitions: s2.stats.transitions + this.dropped,
      schedules: s2.stats.schedules,
      distinct: s2.states.size,
      depth: s2.stats.max_depth,
      current: s2 instanceof Dfs ? s2.depth : 0
    };
  }
  result() {
    const s2 = this.searcher;
    const st = s2.status;
    const status = st === "violation" ? "violation" : st === "budget" ? "budget" : st === "done" ? "done" : st === "breach" ? "breach" : this.stopped ?? "interrupted";
    const dfs = s2 instanceof Dfs ? s2 : null;
    return {
      ...this.progress(),
      part: part_index(this.spec),
      status,
      complete: dfs !== null && status === "done" && s2.o.item_limit === void 0,
      cut: dfs ? dfs.stats.cut : s2.stats.cut > 0,
      items: dfs ? dfs.items : s2.next,
      finding: s2.finding,
      deadlock: s2.deadlock,
      keys: Float64Array.from(s2.states),
      full: dfs ? dfs.full : false,
      slept: dfs ? dfs.stats.slept : 0,
      revisits: dfs ? dfs.stats.revisits : 0,
      breach: dfs ? this.dropped_breaches[0] ?? dfs.breach : null,
      breaches: dfs ? [...this.dropped_breaches, ...dfs.breaches] : [],
      blind: dfs ? dfs.o.depth_blind === true : false
    };
  }
};

// src/explore/shrink.ts
function split_steps(config, s2) {
  const m = new Machine(create_world(config));
  m.replay = { s: s2, pick: 0, choice: 0 };
  const out = [];
  for (let i = 0; i < s2.picks.length; i++) {
    const c0 = m.schedule.choices.length;
    const r2 = m.step();
    if (r2.status !== "ok") break;
    out.push({ t: r2.thread.id, c: m.schedule.choices.slice(c0) });
  }
  return out;
}
function segments(steps) {
  const out = [];
  for (const s2 of steps) {
    const last = out[out.length - 1];
    if (last && last.t === s2.t) last.steps.push(s2);
    else out.push({ t: s2.t, steps: [s2] });
  }
  return out;
}
function measure(s2) {
  let switches = 0;
  for (let i = 1; i < s2.picks.length; i++) if (s2.picks[i] !== s2.picks[i - 1]) switches++;
  let faults = 0;
  for (const c of s2.choices) if (c !== 0) faults++;
  return { steps: s2.picks.length, switches, faults };
}
function better(a, b) {
  return a.steps <= b.steps && a.switches <= b.switches && a.faults <= b.faults && (a.steps < b.steps || a.switches < b.switches || a.faults < b.faults);
}
function shows(target, violations) {
  return violations.some((v) => v.invariant === target);
}
function deadlocked(w) {
  const stuck = w.threads.filter((t2) => !t2.done && !t2.daemon);
  if (!stuck.length) return null;
  return {
    invariant: "deadlock",
    message: `every thread left is blocked: ${stuck.map((t2) => t2.name).join(", ")}`,
    step: w.step,
    thread: stuck[0].name,
    values: { blocked: stuck.map((t2) => t2.name) }
  };
}
function attempt(config, segs, target, limit) {
  let answers = [];
  let ai = 0;
  const m = new Machine(create_world(config), {
    chooser: (_w, _t, kind) => {
      const v = ai < answers.length ? answers[ai] : 0;
      ai++;
      return v < kind.n ? v : 0;
    }
  });
  let si = 0;
  let sp = 0;
  let last = -1;
  const fail2 = () => ({ ok: false, schedule: m.schedule, violations: [], ...measure(m.schedule) });
  for (let n = 0; n < limit; n++) {
    const runnable = m.runnable();
    if (runnable.length === 0) {
      const d = target === "deadlock" ? deadlocked(m.w) : null;
      if (d) return { ok: true, schedule: m.schedule, violations: [d], ...measure(m.schedule) };
      return fail2();
    }
    while (si < segs.length && (sp >= segs[si].steps.length || !runnable.includes(segs[si].t))) {
      si++;
      sp = 0;
    }
    let t2;
    if (si < segs.length) {
      const st = segs[si].steps[sp++];
      t2 = st.t;
      answers = st.c;
    } else {
      t2 = runnable.includes(last) ? last : runnable[0];
      answers = [];
    }
    ai = 0;
    const r2 = m.step(t2);
    last = t2;
    if (r2.violations.length) {
      if (shows(target, r2.violations)) return { ok: true, schedule: m.schedule, violations: [...r2.violations], ...measure(m.schedule) };
      return fail2();
    }
  }
  if (target === "deadlock" && m.runnable().length === 0) {
    const d = deadlocked(m.w);
    if (d) return { ok: true, schedule: m.schedule, violations: [d], ...measure(m.schedule) };
  }
  return fail2();
}
function replay_violations(config, s2) {
  const m = new Machine(create_world(config));
  m.replay = { s: s2, pick: 0, choice: 0 };
  let last = [];
  for (let i = 0; i < s2.picks.length; i++) {
    const r2 = m.step();
    if (r2.status !== "ok") return [];
    last = r2.violations;
    if (last.length && i < s2.picks.length - 1) return [];
  }
  if (last.length) return [...last];
  if (m.runnable().length === 0) {
    const d = deadlocked(m.w);
    if (d) return [d];
  }
  return [];
}
function shrink(config, schedule, target, opts = {}) {
  const max = opts.max_replays ?? 2e3;
  const deadline = opts.deadline ?? Infinity;
  const original = measure(schedule);
  let replays = 0;
  let best = { ok: true, schedule, violations: replay_violations(config, schedule), ...original };
  let cur = segments(split_steps(config, schedule));
  const out_of_budget = () => replays >= max || performance.now() >= deadline;
  const tryit = (cand) => {
    if (out_of_budget()) return false;
    replays++;
    const r2 = attempt(config, cand, target, best.steps);
    if (r2.ok && better(r2, best)) {
      best = { ...r2, schedule: { picks: [...r2.schedule.picks], choices: [...r2.schedule.choices] } };
      cur = segments(split_steps(config, best.schedule));
      return true;
    }
    return false;
  };
  let progress = true;
  while (progress && !out_of_budget()) {
    progress = false;
    for (let size = Math.max(1, cur.length >> 1); size >= 1 && !out_of_budget(); size = size === 1 ? 0 : Math.max(1, size >> 1)) {
      for (let start2 = 0; start2 < cur.length && !out_of_budget(); ) {
        const cand = [...cur.slice(0, start2), ...cur.slice(start2 + size)];
        if (tryit(cand)) progress = true;
        else start2 += size;
      }
    }
    for (let si = 0; si < cur.length && !out_of_budget(); si++) {
      for (let k = 0; k < cur[si].steps.length && !out_of_budget(); k++) {
        const st = cur[si].steps[k];
        for (let j = 0; j < st.c.length; j++) {
          if (st.c[j] === 0) continue;
          const cand = cur.map((s2, i) => i !== si ? s2 : { t: s2.t, steps: s2.steps.map((x, kk) => kk !== k ? x : { t: x.t, c: x.c.map((v, jj) => jj === j ? 0 : v) }) });
          if (tryit(cand)) {
            progress = true;
            break;
          }
        }
      }
    }
    for (let si = 0; si < cur.length && !out_of_budget(); si++) {
      const t2 = cur[si].t;
      const sj = cur.findIndex((x, j) => j > si && x.t === t2);
      if (sj < 0) continue;
      const earlier = cur.map((x, i) => i === si ? { t: t2, steps: [...x.steps, ...cur[sj].steps] } : x).filter((_, i) => i !== sj);
      if (tryit(earlier)) {
        progress = true;
        continue;
      }
      const later = cur.map((x, i) => i === sj ? { t: t2, steps: [...cur[si].steps, ...x.steps] } : x).filter((_, i) => i !== si);
      if (tryit(later)) progress = true;
    }
    for (let si = 0; si < cur.length && !out_of_budget(); si++) {
      const s2 = cur[si];
      if (s2.steps.length < 2) continue;
      const cand = cur.map((x, i) => i !== si ? x : { t: x.t, steps: x.steps.slice(0, x.steps.length >> 1) });
      if (tryit(cand)) progress = true;
    }
  }
  const violations = replay_violations(config, best.schedule);
  if (!shows(target, violations)) throw new Error(`shrink: the shrunk schedule does not break ${target} when replayed`);
  const m = measure(best.schedule);
  return { schedule: best.schedule, violation: violations.find((v) => v.invariant === target), violations, original, replays, ...m };
}

// src/patch/scope.ts
var loaded = [];
function active_patches(origin) {
  return loaded.filter((p2) => origin === void 0 || p2.origin === origin).map((p2) => p2.source);
}

// src/explore/explore.ts
var DEFAULT_WALK_BUDGET = 1e3;
var DEFAULT_WALK_DEPTH = 1e5;
var DEFAULT_PCT_DEPTH = 3;
var DFS_DEPTH_FACTOR = 2;
var MAX_RESTARTS = 8;
var SPLIT_ITEMS = 32;
function search_params(loaded2, o, parts, shards) {
  const walks = o.strategy !== "dfs";
  const depth = o.depth ?? (walks ? DEFAULT_WALK_DEPTH : DFS_DEPTH_FACTOR * estimate_k(new Sim(loaded2.config, { undo: false, track: false }), o.seed ?? loaded2.config.sched.seed, DEFAULT_WALK_DEPTH));
  const base = {
    strategy: o.strategy,
    seed: o.seed ?? loaded2.config.sched.seed,
    budget: o.budget ?? (walks ? DEFAULT_WALK_BUDGET : Infinity),
    depth,
    faults: o.faults ?? Infinity,
    preemptions: o.strategy === "dfs" ? o.preemptions ?? null : null,
    por: o.strategy === "dfs" ? o.por ?? true : false,
    coarse: o.strategy === "dfs" ? o.coarse ?? true : false,
    facts: null,
    pct_depth: o.pct_depth ?? DEFAULT_PCT_DEPTH,
    split: 0,
    k: 1,
    states: o.states ?? false,
    depth_auto: o.depth === void 0 && !walks
  };
  if (base.coarse && (o.facts ?? true)) base.facts = learn_facts(loaded2.config, base.seed, depth, base.faults, o.learn_runs).facts;
  base.split = split_for(loaded2, base, parts, shards);
  if (o.strategy === "pct") base.k = estimate_k(new Sim(loaded2.config, { undo: false, track: false }), base.seed, depth);
  return base;
}
function split_for(loaded2, p2, parts, shards) {
  if (p2.strategy !== "dfs" || parts <= 1) return 0;
  const b = { ...p2, facts: p2.facts ? new Ownership(p2.facts) : null, owns: () => false, first: true };
  return split_depth(() => new Sim(loaded2.config, { undo: true }), b, SPLIT_ITEMS * shards);
}
var tick = () => new Promise((r2) => setImmediate(r2));
function worker_url() {
  const here = import.meta.url;
  if (here.endsWith(".js")) return new URL("./worker.js", here);
  return pathToFileURL(join3(package_root(), "dist", "src", "explore", "worker.js"));
}
async function explore(loaded2, overrides, o) {
  const t0 = performance.now();
  const shard = o.shard ?? { k: 1, n: 1 };
  const workers = Math.max(1, o.workers ?? availableParallelism());
  const parts = workers * shard.n;
  const target = o.strategy === "dfs" ? o.preemptions ?? null : null;
  const iterate = target !== null && target > 0 && o.iterate !== false && shard.n === 1 && o.budget === void 0;
  const bounds = iterate ? Array.from({ length: target + 1 }, (_, i) => i) : [target];
  let params = search_params(loaded2, { ...o, preemptions: bounds[0] }, parts, shard.n);
  const mine = Array.from({ length: workers }, (_, worker) => ({ k: shard.k, n: shard.n, worker, workers }));
  const deadline = o.time !== void 0 ? t0 + o.time * 1e3 : Infinity;
  const progress_ms = o.progress_ms ?? 250;
  const fraction = (p2) => {
    const f = [];
    if (Number.isFinite(params.budget)) f.push(p2.schedules / (params.budget / shard.n));
    if (o.time !== void 0) f.push((performance.now() - t0) / (o.time * 1e3));
    return f.length ? Math.min(1, Math.max(...f)) : null;
  };
  const earlier = { transitions: 0, schedules: 0, slept: 0, revisits: 0 };
  const report = (ps) => {
    if (!o.on_progress) return;
    const sum2 = {
      elapsed_ms: performance.now() - t0,
      transitions: earlier.transitions,
      schedules: earlier.schedules,
      distinct: 0,
      depth: 0,
      current: 0,
      fraction: null,
      preemptions: params.preemptions
    };
    for (const p2 of ps) {
      sum2.transitions += p2.transitions;
      sum2.schedules += p2.schedules;
      sum2.distinct += p2.distinct;
      sum2.depth = Math.max(sum2.depth, p2.depth);
      sum2.current = Math.max(sum2.current, p2.current);
    }
    sum2.fraction = fraction(sum2);
    o.on_progress(sum2);
  };
  const rounds = [];
  let results = [];
  let keys = new Float64Array(0);
  let restarts = 0;
  for (const bound of bounds) {
    const r0 = performance.now();
    for (const r2 of results) {
      earlier.transitions += r2.transitions;
      earlier.schedules += r2.schedules;
      earlier.slept += r2.slept;
      earlier.revisits += r2.revisits;
    }
    if (bound !== params.preemptions) {
      params = { ...params, preemptions: bound };
      params.split = split_for(loaded2, params, parts, shard.n);
    }
    const again = restarts;
    results = await search_learning(params);
    const out = outcome(results, results.some((r2) => r2.finding || r2.deadlock), params.strategy);
    keys = union(results.map((r2) => r2.keys));
    rounds.push({
      preemptions: bound,
      status: out.status,
      distinct: keys.length,
      transitions: results.reduce((a, r2) => a + r2.transitions, 0),
      time_ms: performance.now() - r0,
      restarts: restarts - again,
      cut: results.some((r2) => r2.cut)
    });
    if (out.status !== "complete") break;
  }
  async function search_learning(p2) {
    for (; ; ) {
      const results2 = await search(p2);
      const breaches = results2.flatMap((r2) => r2.breaches);
      const stopped = results2.some((r2) => r2.finding || r2.status === "time" || r2.status === "interrupted");
      if (breaches.length === 0 || stopped || shard.n > 1 || o.signal?.aborted || performance.now() >= deadline) return results2;
      restarts++;
      let facts = null;
      if (restarts <= MAX_RESTARTS) {
        const own = new Ownership(p2.facts);
        for (const b of breaches) own.learn_breach(b);
        facts = own.facts;
      }
      params = p2 = { ...p2, facts };
      p2.split = split_for(loaded2, p2, parts, shard.n);
    }
  }
  async function search(params2) {
    const one_table = params2.strategy === "dfs" && (workers === 1 || !Number.isFinite(params2.budget));
    if (!one_table) return workers === 1 ? search_here(params2, void 0) : run_workers(loaded2, overrides, params2, mine, deadline, progress_ms, o.signal, report);
    let visited = acquire_visited();
    try {
      if (workers === 1) return await search_here(params2, visited);
      const shared = (blind) => mine.map((m) => ({ ...m, claims: new SharedArrayBuffer(4 * CLAIMS), visited, blind }));
      const table = new VisitedTable(visited);
      const results2 = await run_workers(loaded2, overrides, params2, shared(true), deadline, progress_ms, o.signal, report);
      if (table.depth_met && results2.some((r2) => r2.blind)) {
        release_visited(visited);
        visited = acquire_visited();
        if (performance.now() < deadline && !o.signal?.aborted) return await run_workers(loaded2, overrides, params2, shared(false), deadline, progress_ms, o.signal, report);
        for (const r2 of results2) if (r2.blind && r2.status === "done") Object.assign(r2, { status: o.signal?.aborted ? "interrupted" : "time", complete: false });
      }
      return results2;
    } finally {
      release_visited(visited);
    }
  }
  async function search_here(params2, visited) {
    const part = new Part(loaded2.config, params2, { ...mine[0], visited });
    let last = performance.now();
    while (part.slice(50)) {
      if (o.signal?.aborted) part.stop("interrupted");
      else if (performance.now() >= deadline) part.stop("time");
      if (performance.now() - last >= progress_ms) {
        last = performance.now();
        report([part.progress()]);
      }
      await tick();
    }
    return [part.result()];
  }
  let search_ms = performance.now() - t0;
  const sum = (f) => results.reduce((a, r2) => a + f(r2), 0);
  const findings = results.filter((r2) => r2.finding).map((r2) => r2.finding);
  findings.sort((a, b) => a.item - b.item);
  const deadlocks = results.filter((r2) => r2.deadlock).map((r2) => r2.deadlock);
  deadlocks.sort((a, b) => a.item - b.item);
  let first = findings[0] ?? deadlocks[0];
  if (first && params.strategy === "dfs" && params.split > 0 && !Number.isFinite(params.budget)) {
    first = await refind(loaded2, params, first, !findings.length, deadline, o.signal) ?? first;
    search_ms = performance.now() - t0;
  }
  const breach = results.find((r2) => r2.breach)?.breach ?? null;
  const { status, complete } = outcome(results, first !== void 0, params.strategy);
  let violation = null;
  if (first) {
    let shrunk = null;
    if (o.shrink !== false) {
      shrunk = shrink(loaded2.config, first.schedule, first.violation.invariant, {
        max_replays: o.shrink_replays ?? 2e3,
        deadline: performance.now() + 3e4
      });
    }
    violation = { violation: first.violation, violations: first.violations, schedule: first.schedule, steps: first.steps, item: first.item, shrunk };
  }
  return {
    scenario: { name: loaded2.meta.name, path: loaded2.meta.path, arch: loaded2.config.arch },
    variants: [...loaded2.config.variants],
    params,
    workers,
    shard,
    parts,
    status,
    complete,
    cut: results.some((r2) => r2.cut),
    full: results.some((r2) => r2.full),
    transitions: earlier.transitions + sum((r2) => r2.transitions),
    schedules: earlier.schedules + sum((r2) => r2.schedules),
    distinct: keys.length,
    depth: Math.max(0, ...results.map((r2) => r2.depth)),
    time_ms: search_ms,
    shrink_ms: performance.now() - t0 - search_ms,
    items: Math.max(0, ...results.map((r2) => r2.items)),
    slept: earlier.slept + sum((r2) => r2.slept),
    revisits: earlier.revisits + sum((r2) => r2.revisits),
    violation,
    keys,
    restarts,
    breach,
    rounds,
    verified_preemptions: verified_round(rounds)?.preemptions ?? null
  };
}
function outcome(parts, found, strategy) {
  const statuses = new Set(parts.map((r2) => r2.status));
  const complete = !found && strategy === "dfs" && !parts.some((r2) => r2.breach) && parts.every((r2) => r2.complete);
  const status = found ? "violation" : statuses.has("interrupted") ? "interrupted" : statuses.has("time") ? "time" : statuses.has("budget") ? "budget" : complete ? "complete" : "done";
  return { status, complete };
}
function verified_round(rounds) {
  return rounds.filter((r2) => r2.status === "complete" && r2.preemptions !== null).at(-1) ?? null;
}
async function refind(loaded2, params, f, deadlock, deadline, signal) {
  const part = new Part(loaded2.config, params, { k: 1, n: 1, worker: 0, workers: 1, only: f.item });
  while (part.slice(50)) {
    if (deadlock && part.searcher.deadlock) return part.searcher.deadlock;
    if (signal?.aborted || performance.now() >= deadline) return null;
    await tick();
  }
  return deadlock ? part.searcher.deadlock : part.searcher.finding;
}
function union(sets) {
  const all = new Float64Array(sets.reduce((n2, a) => n2 + a.length, 0));
  let at = 0;
  for (const a of sets) {
    all.set(a, at);
    at += a.length;
  }
  all.sort();
  let n = 0;
  for (let i = 0; i < all.length; i++) if (n === 0 || all[i] !== all[n - 1]) all[n++] = all[i];
  return all.slice(0, n);
}
async function run_workers(loaded2, overrides, params, mine, deadline, progress_ms, signal, report) {
  const progress = mine.map(() => ({ transitions: 0, schedules: 0, distinct: 0, depth: 0, current: 0 }));
  const results = mine.map(() => null);
  const ws = [];
  let limit = Infinity;
  let failure = null;
  const send = (m) => {
    for (let i = 0; i < ws.length; i++) if (!results[i]) ws[i].postMessage(m);
  };
  const found = (item) => {
    if (item < limit) {
      limit = item;
      send({ limit: item });
    }
  };
  let stopped = false;
  const timer = setInterval(() => {
    if (!stopped && signal?.aborted) {
      stopped = true;
      send({ stop: "interrupted" });
    } else if (!stopped && performance.now() >= deadline) {
      stopped = true;
      send({ stop: "time" });
    }
    report(progress);
  }, Math.min(progress_ms, 100));
  try {
    await new Promise((resolve) => {
      let left = mine.length;
      const finish = () => {
        if (--left === 0) resolve();
      };
      mine.forEach((spec, i) => {
        const data = { text: loaded2.meta.text, file: loaded2.meta.path, overrides, params, spec, progress_ms, patches: active_patches() };
        const w = new Worker(worker_url(), { workerData: data });
        ws.push(w);
        let over = false;
        const end = () => {
          if (over) return;
          over = true;
          finish();
        };
        w.on("message", (m) => {
          if (m.progress) progress[i] = m.progress;
          if (m.found !== void 0) found(m.found);
          if (m.result) {
            results[i] = m.result;
            progress[i] = m.result;
            if (m.result.finding) found(m.result.finding.item);
            if (m.result.breach) send({ stop: "breach" });
            end();
          }
          if (m.error) {
            failure ??= m.error;
            end();
          }
        });
        w.on("error", (e) => {
          failure ??= e.stack ?? e.message;
          end();
        });
        w.on("exit", () => {
          if (!results[i]) failure ??= `worker ${spec.worker} exited without a result`;
          end();
        });
      });
    });
  } finally {
    clearInterval(timer);
  }
  await Promise.all(ws.map((w) => w.terminate()));
  if (failure) throw new Error(`explorer worker failed: ${failure}`);
  return results.map((r2) => {
    if (r2) r2.keys = new Float64Array(r2.keys);
    return r2;
  });
}

// ../../tmp/pdr/prof.ts
var id = process.argv[2];
var p = Number(process.argv[3]);
var t = Number(process.argv[4] ?? 30);
var s = bundled_scenarios().find((x) => x.id === id);
var l = load_scenario(s.path, { variants: [] });
var r = await explore(l, { variants: [] }, { strategy: "dfs", preemptions: p, workers: 1, time: t, iterate: false, shrink: false });
console.log(r.status, r.distinct, r.transitions, r.time_ms);
