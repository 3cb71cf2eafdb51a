/*
 * The fault-versus-invalidation retry race (scenarios/fault-vs-invalidate.yaml)
 * in Promela, for SPIN: two vCPUs fault pages in while the host mm migrates
 * them under MMU-notifier invalidations. A stage-2 fault snapshots
 * mmu_invalidate_seq, looks the pfn up without mmu_lock, then takes
 * mmu_lock (read) and maps the pfn unless mmu_invalidate_retry() says an
 * invalidation ran or is running; then it goes back to the guest, which
 * faults again. An invalidation takes mmu_lock (write), raises
 * mmu_invalidate_in_progress and unmaps, the host changes the page, then
 * invalidate_end bumps mmu_invalidate_seq and lowers in_progress.
 *
 * Safety: stage-2 never maps a pfn the host no longer maps at that page.
 * Build with -DNO_RETRY for the variant without the retry check
 * (mmu.no_retry_check): SPIN finds the stale mapping.
 *
 *   spin -a [-DNO_RETRY] fault_retry.pml && cc -O2 -DSAFETY -o pan pan.c && ./pan
 */
#define PAGES 2

byte seq = 0;              /* kvm->mmu_invalidate_seq */
byte in_progress = 0;      /* kvm->mmu_invalidate_in_progress */
byte host[PAGES];          /* the host pte: pfn of each page (0: not present) */
byte s2[PAGES];            /* stage-2: pfn mapped at each page (0: none) */
byte readers = 0;          /* mmu_lock: readers */
bool writer = false;       /*           and a writer */
byte next_pfn = 3;

#define stale(p) (s2[p] != 0 && s2[p] != host[p])

inline read_lock()    { atomic { !writer -> readers++ } }
inline read_unlock()  { readers-- }
inline write_lock()   { atomic { !writer && readers == 0 -> writer = true } }
inline write_unlock() { writer = false }

/* A guest access to page p: fault it in (and retry) until stage-2 maps it. */
inline access(p) {
  byte mmu_seq, pfn;
  do
  :: s2[p] != 0 -> break                       /* mapped: the access completes */
  :: else ->
       mmu_seq = seq;                          /* mmu_seq = kvm->mmu_invalidate_seq; smp_rmb() */
       atomic {                                /* __gfn_to_pfn_memslot(): fault the page in (under the */
         if                                    /* page-table lock: the first one allocates it)         */
         :: host[p] == 0 -> host[p] = next_pfn; next_pfn++
         :: else -> skip
         fi;
         pfn = host[p]
       };
       read_lock();
#ifdef NO_RETRY
       skip;
#else
       if
       :: in_progress > 0 || seq != mmu_seq -> read_unlock(); goto again   /* mmu_invalidate_retry() */
       :: else -> skip
       fi;
#endif
       s2[p] = pfn;                            /* kvm_pgtable_stage2_map() */
       read_unlock();
again: skip
  od
}

/* The mm migrates page p: an MMU-notifier invalidation around the change. */
inline invalidate(p) {
  write_lock();
  in_progress++;                               /* kvm_mmu_invalidate_begin() */
  s2[p] = 0;                                   /* kvm_unmap_gfn_range() */
  write_unlock();
  atomic { if :: host[p] != 0 -> host[p] = next_pfn; next_pfn++ :: else -> skip fi }  /* migrate */
  write_lock();
  seq++;                                       /* kvm_mmu_invalidate_end() */
  in_progress--;
  write_unlock()
}

active proctype vcpu0() { access(0); access(1); access(0) }
active proctype vcpu1() { access(1); access(0) }
active proctype mm()    { invalidate(0); invalidate(1) }

/* Checked between every two steps of the others. */
active proctype monitor() { end: atomic { stale(0) || stale(1) -> assert(false) } }
