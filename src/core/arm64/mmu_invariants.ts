// The stale-mapping property (shared/docs/kernel-model.md section 5) for
// arm64: a fault whose pfn lookup raced with an invalidation of its gfn
// never installs its mapping, and no stage-2 (canonical or shadow) still
// maps a page after the primary MMU moved it. Pages and blocks alike: a
// block maps a run of host pfns, and is stale as soon as any of them no
// longer backs its hva.
import type { World } from '../machine/world.js';
import { define_stale_mapping_check } from '../kvm/stale_mapping.js';
import { PAGE_SIZE } from '../kvm/kvm_host.js';
import { host_huge, host_pte, type HostPte } from '../kvm/host_mm.js';
import { describe_invalidation } from '../kvm/mmu_invalidate.js';
import { arm64, mmu_name } from './kvm_host.js';
import { kvm_pgtable_leaves } from './pgtable.js';

const hex = (n: number) => `0x${n.toString(16)}`;
const size_name = (n: number) => (n >= 2 ** 30 ? `${n / 2 ** 30}G` : n >= 2 ** 20 ? `${n / 2 ** 20}M` : `${n / 1024}K`);

/** The first page of [hva, hva+size) whose host pfn is not pfn + its index, or null when the host maps the run as expected. */
function first_moved(w: World, hva: number, pfn: number, size: number): { hva: number; want: number; pte: HostPte | undefined } | null {
  const h = host_huge(w, hva);
  // One huge mapping covering the whole run: one comparison.
  if (h && h.base <= hva && hva + size <= h.base + h.size && h.pfn + (hva - h.base) / PAGE_SIZE === pfn) return null;
  for (let i = 0; i < size / PAGE_SIZE; i++) {
    const a = hva + i * PAGE_SIZE;
    const pte = host_pte(w, a);
    if (!pte || pte.pfn !== pfn + i) return { hva: a, want: pfn + i, pte };
  }
  return null;
}

define_stale_mapping_check('arm64', (w, e) => {
  if (e.kind === 'fault.map') {
    const t = w.threads.find((x) => x.name === e.thread)!;
    const frame = t.stack.find((f) => f.fn === 'user_mem_abort');
    if (!frame) return null;
    const { hva, mmu_seq, pfn, vma_pagesize } = frame.locals as { hva: number; mmu_seq: number; pfn: number; vma_pagesize: number };
    const size = vma_pagesize ?? PAGE_SIZE;
    const base = hva - (hva % size);
    const moved = first_moved(w, base, pfn, size);
    if (!moved) return null;
    const what = size === PAGE_SIZE ? `hva ${hex(moved.hva)}` : `hva ${hex(moved.hva)} (in the ${size_name(size)} block at hva ${hex(base)})`;
    return {
      thread: e.thread,
      message:
        `${e.thread} installed IPA ${hex(e['ipa'] as number)} -> PA ${hex(pfn * PAGE_SIZE)}${size === PAGE_SIZE ? '' : ` (${size_name(size)} block)`} in ${e['mmu']}, ` +
        `but the host now maps ${what} to ${moved.pte ? `pfn ${hex(moved.pte.pfn)} (changed at step ${moved.pte.changed_step})` : 'nothing'}${size === PAGE_SIZE ? '' : `, not pfn ${hex(moved.want)}`}: ` +
        `the fault looked up its pfn before an invalidation of this gfn and mapped it after (mmu_seq snapshot ${mmu_seq}, now ${describe_invalidation(w)}); ` +
        `mmu_invalidate_retry() would have sent it back to the guest`,
      values: { ipa: e['ipa'], pa: pfn * PAGE_SIZE, size, hva: moved.hva, host_pfn: moved.pte?.pfn ?? null, mmu_seq, seq_now: w.kvm.mmu_invalidate_seq },
    };
  }
  const old = e['old_pfn'] as number;
  if (old === e['new_pfn']) return null;
  const pages = (e['pages'] as number | undefined) ?? 1;
  const a = arm64(w);
  for (const id of [-1, ...a.nested_mmus.map((m) => m.index)]) {
    for (const leaf of kvm_pgtable_leaves(w, id)) {
      const first = leaf.pa / PAGE_SIZE;
      const n = 2 ** (9 * (3 - leaf.level));
      if (first >= old + pages || old >= first + n) continue;
      const moved = pages === 1 ? `hva ${hex(e['hva'] as number)}` : `the ${size_name(pages * PAGE_SIZE)} page at hva ${hex(e['hva'] as number)}`;
      return {
        thread: e.thread,
        message:
          `${mmu_name(id)} still maps IPA ${hex(leaf.ipa)} -> PA ${hex(leaf.pa)}${n === 1 ? '' : ` (${size_name(n * PAGE_SIZE)} block)`} after the host moved ${moved} from pfn ${hex(old)} ` +
          `to ${hex(e['new_pfn'] as number)}: the invalidation should have unmapped it (${describe_invalidation(w)})`,
        values: { mmu: mmu_name(id), ipa: leaf.ipa, pa: leaf.pa, old_pfn: old, new_pfn: e['new_pfn'], pages },
      };
    }
  }
  return null;
});
