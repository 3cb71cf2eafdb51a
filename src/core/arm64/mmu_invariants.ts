// The stale-mapping property (shared/docs/kernel-model.md section 5): a
// fault whose pfn lookup raced with an invalidation of its gfn never
// installs its mapping, and no stage-2 (canonical or shadow) still maps a
// page after the primary MMU moved it.
import type { Event } from '../machine/events.js';
import { define_stale_mapping_check } from '../kvm/stale_mapping.js';
import { PAGE_SIZE } from '../kvm/kvm_host.js';
import { host_pte } from '../kvm/host_mm.js';
import { describe_invalidation } from '../kvm/mmu_invalidate.js';
import { arm64, mmu_name } from './kvm_host.js';
import { kvm_pgtable_leaves } from './pgtable.js';

const hex = (n: number) => `0x${n.toString(16)}`;

define_stale_mapping_check('arm64', (w, e) => {
  {
    if (e.kind === 'fault.map') {
      const t = w.threads.find((x) => x.name === e.thread)!;
      const frame = t.stack.find((f) => f.fn === 'user_mem_abort');
      if (!frame) return null;
      const { hva, mmu_seq, pfn } = frame.locals as { hva: number; mmu_seq: number; pfn: number };
      const pte = host_pte(w, hva);
      if (pte && pte.pfn === pfn) return null;
      return {
        thread: e.thread,
        message:
          `${e.thread} installed IPA ${hex(e['ipa'] as number)} -> PA ${hex(pfn * PAGE_SIZE)} in ${e['mmu']}, but the host now maps hva ${hex(hva)} ` +
          `to ${pte ? `pfn ${hex(pte.pfn)} (changed at step ${pte.changed_step})` : 'nothing'}: the fault looked up its pfn before an invalidation ` +
          `of this gfn and mapped it after (mmu_seq snapshot ${mmu_seq}, now ${describe_invalidation(w)}); mmu_invalidate_retry() would have sent it back to the guest`,
        values: { ipa: e['ipa'], pa: pfn * PAGE_SIZE, hva, host_pfn: pte?.pfn ?? null, mmu_seq, seq_now: w.kvm.mmu_invalidate_seq },
      };
    }
    const old = e['old_pfn'] as number;
    if (old === e['new_pfn']) return null;
    const a = arm64(w);
    for (const id of [-1, ...a.nested_mmus.map((m) => m.index)]) {
      for (const leaf of kvm_pgtable_leaves(w, id)) {
        const first = leaf.pa / PAGE_SIZE;
        const pages = 2 ** (9 * (3 - leaf.level));
        if (old < first || old >= first + pages) continue;
        return {
          thread: e.thread,
          message:
            `${mmu_name(id)} still maps IPA ${hex(leaf.ipa)} -> PA ${hex(leaf.pa)} after the host moved hva ${hex(e['hva'] as number)} from pfn ${hex(old)} ` +
            `to ${hex(e['new_pfn'] as number)}: the invalidation should have unmapped it (${describe_invalidation(w)})`,
          values: { mmu: mmu_name(id), ipa: leaf.ipa, pa: leaf.pa, old_pfn: old, new_pfn: e['new_pfn'] },
        };
      }
    }
    return null;
  }
});
