// Public API of the maple-tree model (lib/maple_tree.c,
// include/linux/maple_tree.h). See the file headers for what each part
// models and leaves out.

export * from './constants.js';
export {
  ul,
  ul_of_big,
  ul_or_throw,
  ul_big,
  ul_inc,
  ul_dec,
  ul_add,
  ul_sub,
  ul_hex,
  ul_arg,
} from './ulong.js';
export {
  type MapleTree,
  mt_init_flags,
  mt_init,
  mt_height,
  mt_is_alloc,
  mt_in_rcu,
  mt_set_in_rcu,
  mt_clear_in_rcu,
  mtree_empty,
  mtree_destroy,
  mt_clone,
  mt_nr_nodes,
} from './tree.js';
export { mtree_load } from './walk.js';
export {
  type IndexRef,
  MT_FOUND,
  mtree_store_range,
  mtree_store,
  mtree_insert_range,
  mtree_insert,
  mtree_erase,
  mtree_alloc_range,
  mtree_alloc_rrange,
  mt_find,
  mt_find_after,
  mt_for_each,
  mt_entries,
  mt_next,
  mt_prev,
  MT_NEAR,
  __mt_dup,
  mtree_dup,
} from './api.js';
export {
  type MaState,
  type MaStatus,
  MA_STATE,
  mas_reset,
  mas_set,
  mas_set_range,
  mas_is_err,
  mas_pause,
  mas_walk,
  mas_find,
  mas_find_range,
  mas_find_rev,
  mas_find_range_rev,
  mas_next,
  mas_next_range,
  mas_prev,
  mas_prev_range,
  mas_store,
  mas_store_gfp,
  mas_insert,
  mas_erase,
} from './state.js';
export { mas_empty_area, mas_empty_area_rev } from './gap.js';
export { type MtDumpFormat, mt_dump, mt_node_addr, mt_tree_addr } from './dump.js';
export { mt_validate } from './validate.js';
export {
  type AllocFailHook,
  type MapleTraceEvent,
  type TraceHook,
  mt_set_alloc_fail_hook,
  mt_set_trace_hook,
} from './hooks.js';
