// `pt`: stage-2 page tables. walk and dump print; map, unmap and set are
// pokes (recorded in the history).
import { KVM_PGTABLE_PROT_R, KVM_PGTABLE_PROT_W, kvm_granule_size } from '../core/arm64/kvm_pgtable.js';
import { kvm_pgtable_leaves, kvm_pgtable_walk_levels } from '../core/arm64/pgtable.js';
import { kvm_pte_describe } from '../core/arm64/kvm_pgtable.js';
import { mmu_id, mmu_names, mmu_of, parse_perm } from '../debugger/pagetables.js';
import type { Session } from '../debugger/session.js';
import { usage, type Command, type Reply } from './command.js';
import { hex } from './format.js';
import { addr, nat, u64 } from './parse.js';
import { table } from './text.js';

const d64 = (v: bigint) => `0x${v.toString(16).padStart(16, '0')}`;

function walk(s: Session, mmu: string, ipa: number): Reply {
  const w = s.world;
  const id = mmu_id(w, mmu);
  const m = mmu_of(w, mmu);
  const { levels, pa } = kvm_pgtable_walk_levels(w, id, ipa);
  const head = `IPA ${hex(ipa)} in ${mmu} (vmid ${m.vmid}, ${m.pgt.ia_bits}-bit IPA, tables from level ${levels[0]?.level ?? '-'})`;
  const rows = levels.map((l) => [`L${l.level}`, String(l.index), `page ${l.page}`, d64(l.descriptor), l.text]);
  const text = [head, table(['LEVEL', 'INDEX', 'TABLE', 'DESCRIPTOR', 'DECODED'], rows), pa === null ? 'PA: not mapped' : `PA: ${hex(pa)}`].join('\n');
  return {
    json: { levels: levels.map((l) => ({ level: l.level, index: l.index, descriptor: hex(l.descriptor), type: l.type })), pa: pa === null ? null : hex(pa) },
    text,
  };
}

function dump(s: Session, mmu: string, start?: number, size?: number): Reply {
  const w = s.world;
  const leaves = kvm_pgtable_leaves(w, mmu_id(w, mmu), start ?? 0, size);
  const rows = leaves.map((l) => [hex(l.ipa), hex(l.ipa + kvm_granule_size(l.level)), hex(l.pa), `L${l.level}`, d64(l.pte), kvm_pte_describe(l.pte, l.level)]);
  return {
    json: { leaves: leaves.map((l) => ({ ipa: hex(l.ipa), size: hex(kvm_granule_size(l.level)), pa: hex(l.pa), level: l.level, descriptor: hex(l.pte) })) },
    text: leaves.length ? table(['IPA', 'END', 'PA', 'LEVEL', 'DESCRIPTOR', 'DECODED'], rows) : `No valid leaves in ${mmu}${start !== undefined ? ` from ${hex(start)}` : ''}.`,
  };
}

const complete_mmu = (s: Session, words: string[]) => (words.length === 0 ? mmu_names(s.world) : []);

const PT_SUB: Command[] = [
  {
    name: 'walk',
    usage: 'pt walk MMU IPA',
    summary: 'the walk for IPA, level by level: index, raw descriptor, decoded bits (crash vtop style)',
    complete: complete_mmu,
    run: (ctx, a) => {
      if (a.words.length !== 2) usage(PT_SUB[0]!);
      return walk(ctx.s, a.words[0]!, addr(a.words[1], 'IPA'));
    },
  },
  {
    name: 'dump',
    usage: 'pt dump MMU [IPA [SIZE]]',
    summary: 'the valid leaves (pages and blocks) in a range',
    complete: complete_mmu,
    run: (ctx, a) => {
      if (a.words.length < 1 || a.words.length > 3) usage(PT_SUB[1]!);
      const start = a.words[1] === undefined ? undefined : addr(a.words[1], 'IPA');
      const size = a.words[2] === undefined ? undefined : addr(a.words[2], 'size');
      return dump(ctx.s, a.words[0]!, start, start === undefined ? undefined : (size ?? 4096));
    },
  },
  {
    name: 'map',
    usage: 'pt map MMU IPA PA [SIZE] [PERM]',
    summary: 'install a mapping: 4K page, 2M or 1G block (PERM like rw, default rw)',
    complete: complete_mmu,
    run: (ctx, a) => {
      if (a.words.length < 3 || a.words.length > 5) usage(PT_SUB[2]!);
      const [mmu, ipa, pa, x, y] = a.words as [string, string, string, string?, string?];
      let size = 4096;
      let prot = KVM_PGTABLE_PROT_R | KVM_PGTABLE_PROT_W;
      for (const v of [x, y]) {
        if (v === undefined) continue;
        if (/^[rwx]+$/i.test(v)) prot = parse_perm(v);
        else size = addr(v, 'size');
      }
      const args = { mmu, ipa: addr(ipa, 'IPA'), pa: addr(pa, 'PA'), size, prot };
      ctx.s.poke('pt.map', args, a.line.trim());
      return { json: {}, text: `Mapped ${hex(args.ipa)}..${hex(args.ipa + size)} -> ${hex(args.pa)} in ${mmu}.` };
    },
  },
  {
    name: 'unmap',
    usage: 'pt unmap MMU IPA [SIZE]',
    summary: 'remove mappings (default 4K)',
    complete: complete_mmu,
    run: (ctx, a) => {
      if (a.words.length < 2 || a.words.length > 3) usage(PT_SUB[3]!);
      const args = { mmu: a.words[0]!, ipa: addr(a.words[1], 'IPA'), size: a.words[2] === undefined ? 4096 : addr(a.words[2], 'size') };
      ctx.s.poke('pt.unmap', args, a.line.trim());
      return { json: {}, text: `Unmapped ${hex(args.ipa)}..${hex(args.ipa + args.size)} in ${args.mmu}.` };
    },
  },
  {
    name: 'set',
    usage: 'pt set MMU IPA LEVEL RAW',
    summary: 'write a raw descriptor at LEVEL on the path of IPA',
    complete: complete_mmu,
    run: (ctx, a) => {
      if (a.words.length !== 4) usage(PT_SUB[4]!);
      const args = { mmu: a.words[0]!, ipa: addr(a.words[1], 'IPA'), level: nat(a.words[2], 'LEVEL'), raw: u64(a.words[3], 'RAW') };
      ctx.s.poke('pt.set', args, a.line.trim());
      return { json: {}, text: `Level ${args.level} entry for ${hex(args.ipa)} in ${args.mmu} = ${d64(args.raw)} (${kvm_pte_describe(args.raw, args.level)}).` };
    },
  },
];

export const PT_COMMAND: Command = {
  name: 'pt',
  usage: 'pt walk|dump|map|unmap|set ...',
  summary: 'stage-2 page tables of s2 (kvm->arch.mmu) and nested[I]',
  sub: PT_SUB,
};
