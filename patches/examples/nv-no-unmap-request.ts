// The bundled variant nv.no_unmap_request, written as a patch.
//
//   kvmdbg run nv-s2-recycle --patch patches/examples/nv-no-unmap-request.ts
//
// arch/arm64/kvm/nested.c, get_s2_mmu_nested(), at its `out:` label: every
// vCPU that takes a shadow stage-2 MMU still marked pending_unmap makes a
// KVM_REQ_NESTED_S2_UNMAP request for itself, so that it unmaps the MMU
// before it enters the guest on it (c268f204f7c5 "KVM: arm64: nv: Punt
// stage-2 recycling to a vCPU request", v6.12). This patch drops that
// request. Hypothetical (never posted): it shows what the request
// guarantees, and the run ends in nv.entry_with_pending_unmap.
import { emit, mmu_by_id, patch_fn, ret } from 'kvmdbg/model';

patch_fn<{ mmu: number }>('get_s2_mmu_nested', {
  // Upstream: refcnt++, then kvm_make_request(KVM_REQ_NESTED_S2_UNMAP) if pending_unmap.
  out: (w, t, l) => {
    const mmu = mmu_by_id(w, l.mmu);
    mmu.refcnt++;
    emit(w, t, 's2mmu.ref', { index: mmu.index, refcnt: mmu.refcnt });
    // The request is gone: nobody unmaps a recycled MMU before entering the guest on it.
    return ret(t, mmu.index);
  },
});
