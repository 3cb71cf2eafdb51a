// PLACEHOLDER until the stage-2 page-table work lands (being written now).
export interface kvm_pgtable {
  ia_bits: number;
}
