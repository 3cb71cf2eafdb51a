// Mistakes in thread programs that the schema cannot see, found when the
// scenario loads (with the file, line and column of the op) instead of as
// a model error in the middle of a run: a guest access, an invalidation,
// a pin or a NUMA change outside the memslots; a request the arch does not
// have, or for a vCPU the VM does not have; NV ops in a VM without shadow
// stage-2 MMUs, or in the wrong context (an L2 guest's op in vEL2, or the
// other way round). The contexts follow each vCPU's program the way the
// run will: it starts in vEL2, `eret_l2` enters L2, `exit_l2` leaves it.
import { KVM_REQUEST_NO_ACTION, kvm_requests } from '../core/kvm/kvm_host.js';
import type { Op } from '../core/machine/world.js';
import { list_or } from './errors.js';
import type { ThreadSpec } from './threads.js';
import type { Path, YamlFile } from './yaml_doc.js';

export interface VmShape {
  arch: 'arm64' | 'x86';
  vcpus: number;
  memslots: { gpa: number; size: number }[];
  /** vm.nested_mmus as written (absent: no NV). */
  nested_mmus?: number | undefined;
}

/** The ops of arm64's NV: they need shadow stage-2 MMUs. */
const NV_OPS = new Set(['eret_l2', 'exit_l2', 'l1_map', 'l1_unmap', 'tlbi']);
/** Ops the guest hypervisor runs (vEL2), and the L2 guest's. */
const VEL2_OPS = new Set(['eret_l2', 'l1_map', 'l1_unmap', 'tlbi']);

/** __TLBI_RANGE_PAGES(31, 3): the most pages one TLBI RIPAS2E1IS (4K granule) covers. */
const MAX_RANGE_PAGES = (31 + 1) * 2 ** (5 * 3 + 1);

const hex = (n: number) => `0x${n.toString(16)}`;

export function check_programs(yf: YamlFile, threads: ThreadSpec[], where: WeakMap<Op, Path>, vm: VmShape): void {
  const slots = vm.memslots;
  const slot_of = (gpa: number) => slots.findIndex((s) => gpa >= s.gpa && gpa < s.gpa + s.size);
  const slot_list = () => (slots.length ? slots.map((s) => `[${hex(s.gpa)}, ${hex(s.gpa + s.size)})`).join(', ') : 'none: vm.memslots is empty');
  const at = (op: Op, key?: string) => {
    const p = where.get(op) ?? [];
    return yf.node_at(key === undefined ? p : [...p, key], { key: key === undefined });
  };
  const num = (op: Op, k: string, d = 0) => (typeof op.args[k] === 'number' ? (op.args[k] as number) : d);

  /** [gpa, gpa+size) in memslots: its first page in one (`whole`: and its last page in the same one). */
  const in_memory = (op: Op, key: string, what: string, size: number, whole: boolean) => {
    const gpa = num(op, key);
    const i = slot_of(gpa);
    const j = slot_of(gpa + Math.max(1, size) - 1);
    if (i < 0) throw yf.error(at(op, key), `${op.op}: ${what} ${hex(gpa)} is outside every memslot`, `an address in a memslot: ${slot_list()}`);
    if (whole && j !== i) throw yf.error(at(op, key), `${op.op}: ${what} range [${hex(gpa)}, ${hex(gpa + size)}) is not inside one memslot`, `a range inside one memslot: ${slot_list()}`);
  };

  for (const t of threads) {
    let l2: Op | null = null;
    for (const op of t.prog) {
      const a = op.args;
      if (NV_OPS.has(op.op)) {
        if (!vm.nested_mmus) throw yf.error(at(op), `op "${op.op}" needs a VM with shadow stage-2 MMUs (NV), and vm.nested_mmus is not set`, 'vm.nested_mmus in the scenario, or no NV ops');
        if (op.op === 'exit_l2' && !l2) throw yf.error(at(op), `exit_l2 in ${t.name}, which is not in an L2 guest here`, 'an eret_l2 before it');
        if (VEL2_OPS.has(op.op) && l2) {
          const { line } = yf.pos(at(l2));
          throw yf.error(at(op), `${op.op} runs in vEL2 (the guest hypervisor), but ${t.name} is in the L2 guest it entered at line ${line}`, 'an exit_l2 before it');
        }
        if (op.op === 'eret_l2') l2 = op;
        if (op.op === 'exit_l2') l2 = null;
        // The canonical IPAs an L2 access reaches through the guest hypervisor's mapping.
        if (op.op === 'l1_map') in_memory(op, 'ipa', 'IPA', num(op, 'size', 4096), false);
        if (op.op === 'tlbi' && a['op'] === 'ripas2e1is' && a['operand'] === undefined && num(op, 'pages', 1) > MAX_RANGE_PAGES) {
          throw yf.error(at(op, 'pages'), `tlbi: ripas2e1is of ${num(op, 'pages')} pages is more than one range TLBI covers`, `at most ${MAX_RANGE_PAGES} pages (SCALE 3, NUM 31)`);
        }
        continue;
      }
      switch (op.op) {
        case 'access':
        case 'access_hugepage':
          // In an L2 guest the address is a nested IPA, translated by the guest hypervisor's l1_map.
          if (!l2) in_memory(op, 'ipa', 'IPA', 1, false);
          break;
        case 'access_gpa':
          in_memory(op, 'gpa', 'GPA', 1, false);
          break;
        case 'invalidate':
          in_memory(op, 'gpa', 'GPA', num(op, 'size', 4096), false);
          break;
        case 'dma_pin':
        case 'numa_protect':
        case 'numa_migrate':
          in_memory(op, 'gpa', 'GPA', num(op, 'size', 4096), true);
          break;
        case 'request': {
          const reqs = kvm_requests(vm.arch);
          const name = String(a['req']);
          const v = reqs[name];
          const known = Object.keys(reqs).filter((k) => !(reqs[k]! & KVM_REQUEST_NO_ACTION));
          if (v === undefined || v & KVM_REQUEST_NO_ACTION) throw yf.error(at(op, 'req'), `request: ${v === undefined ? 'unknown request' : 'a NO_ACTION request cannot be made'} "${name}" on ${vm.arch}`, `one of: ${list_or(known)}`);
          if (a['all'] === true) break;
          if (a['vcpu'] === undefined) throw yf.error(at(op), 'request: which vCPU? (or all: true)', 'vcpu: N, or all: true');
          if (num(op, 'vcpu') >= vm.vcpus) throw yf.error(at(op, 'vcpu'), `request: vcpu ${num(op, 'vcpu')} but the VM has ${vm.vcpus} vCPU${vm.vcpus === 1 ? '' : 's'} (vm.vcpus)`, `a vCPU index from 0 to ${vm.vcpus - 1}`);
          break;
        }
        case 'set_tlb_flush_inhibit':
          if (num(op, 'vcpu') >= vm.vcpus) throw yf.error(at(op, 'vcpu'), `set_tlb_flush_inhibit: vcpu ${num(op, 'vcpu')} but the VM has ${vm.vcpus} vCPU${vm.vcpus === 1 ? '' : 's'} (vm.vcpus)`, `a vCPU index from 0 to ${vm.vcpus - 1}`);
          break;
      }
    }
  }
}
