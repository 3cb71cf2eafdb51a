import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Interpreter, type Outcome } from '../../src/repl/interpreter.js';
import { scenario_interp, small_interp } from './helpers.js';

// `save` writes files: run in a scratch directory.
let dir = '';
let cwd = '';
beforeAll(() => {
  cwd = process.cwd();
  dir = mkdtempSync(join(tmpdir(), 'kvmdbg-fuzz-'));
});
afterAll(() => {
  process.chdir(cwd);
  rmSync(dir, { recursive: true, force: true });
});

const VALID = [
  'step',
  'step 3',
  'step t1 2',
  'step vcpu0',
  'continue',
  'continue 10',
  'reverse-step 2',
  'reverse-continue',
  'goto 5',
  'checkpoint',
  'restart 1',
  'where',
  'where t0',
  'info threads',
  'info locks',
  'info mmus',
  'info breakpoints',
  'events --last 5 lock',
  'check',
  'break request.make req=NESTED_S2_UNMAP vcpu=1',
  'break retry if e.reason === "seq"',
  'tbreak lock.acquire mode=write',
  'watch w.kvm.mmu_invalidate_seq',
  'catch violation',
  'dprintf lock.release, "released %s", e.lock',
  'delete 1',
  'disable 2',
  'enable',
  'ignore 1 3',
  'condition 2 e.step > 3',
  'commands 1',
  'end',
  'print w.threads[0].name',
  'print hex(255)',
  'assert w.step >= 0 "fine"',
  'pt walk s2 0x80000000',
  'pt map s2 0x80200000 0x40000000 2M rw',
  'pt unmap s2 0x80200000 2M',
  'pt set s2 0x80000000 3 0x0',
  'pt dump s2 0x80000000 2M',
  'mt new t',
  'mt store t 0x10 0x1f 0x41',
  'mt insert t 0x20 0x2f 0x45',
  'mt load t 0x18',
  'mt erase t 0x18',
  'mt find t 0 0xffff',
  'mt empty-area t 0 0xffff 0x10 --rev',
  'mt dump t',
  'mt list',
  'variant',
  'variant dbg.quiet on',
  'seed 3',
  'reset',
  'save saved.kvm',
  'source saved.kvm',
  'help',
  'help mt store',
];

const NOISE = [' ', '=', '"', "'", '\\', '[', ']', '(', ')', '-', '0x', '_', 'K', '1G', '--rev', 'if', ',', ';', '#', '\t', '\u00e9', '0xffffffffffffffffffff', '-1', '1e9', 'nested[99]', '%s'];

const mutation = fc.oneof(
  fc.record({ kind: fc.constant('cut' as const), at: fc.nat(), len: fc.nat(12) }),
  fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), text: fc.oneof(fc.constantFrom(...NOISE), fc.string({ maxLength: 6 })) }),
  fc.record({ kind: fc.constant('swap' as const), a: fc.nat(), b: fc.nat() }),
  fc.record({ kind: fc.constant('number' as const), at: fc.nat(), n: fc.oneof(fc.bigInt({ min: -(1n << 70n), max: 1n << 70n }), fc.integer()) }),
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
);

type Mutation = { kind: string; [k: string]: unknown };

function mutate(line: string, ms: Mutation[]): string {
  let s = line;
  for (const m of ms) {
    const at = (n: unknown) => (s.length ? Number(n) % (s.length + 1) : 0);
    switch (m.kind) {
      case 'cut': {
        const i = at(m['at']);
        s = s.slice(0, i) + s.slice(i + Number(m['len']));
        break;
      }
      case 'insert': {
        const i = at(m['at']);
        s = s.slice(0, i) + String(m['text']) + s.slice(i);
        break;
      }
      case 'swap': {
        const w = s.split(' ');
        const a = Number(m['a']) % w.length;
        const b = Number(m['b']) % w.length;
        [w[a], w[b]] = [w[b]!, w[a]!];
        s = w.join(' ');
        break;
      }
      case 'number': {
        const w = s.split(' ');
        const i = Number(m['at']) % w.length;
        const n = m['n'] as bigint | number;
        w[i] = typeof n === 'bigint' && n >= 0n && Number(m['at']) % 2 ? `0x${n.toString(16)}` : String(n);
        s = w.join(' ');
        break;
      }
      case 'truncate':
        s = s.slice(0, at(m['at']));
        break;
    }
  }
  return s;
}

const tally = { ok: 0, failed: 0, silent: 0 };

function well_formed(o: Outcome | null): void {
  if (!o) {
    tally.silent++;
    return;
  }
  tally[o.ok ? 'ok' : 'failed']++;
  const j = JSON.parse(Interpreter.json_line(o)) as { ok: boolean; error?: { code: string; message: string } };
  expect(j.ok).toBe(o.ok);
  if (!o.ok) {
    expect(o.text).not.toMatch(/\n/);
    expect(o.text).toMatch(/^E[A-Z]+: /);
    expect(j.error!.code).toMatch(/^E[A-Z]+$/);
    expect(j.error!.message).not.toMatch(/\n/);
    // Internal errors would mean a bug in kvmdbg, not in the input.
    expect(j.error!.code, o.text).not.toBe('EFAULT');
  }
}

describe('fuzzing the command line', () => {
  it('random strings never escape as exceptions; failures are one line with a code', () => {
    process.chdir(dir);
    const i = small_interp({ json: true });
    fc.assert(
      fc.property(fc.oneof(fc.string({ maxLength: 40 }), fc.string({ unit: 'binary', maxLength: 40 }), fc.string({ unit: 'grapheme-ascii', maxLength: 40 })), (line) => {
        well_formed(i.exec(line));
      }),
      { numRuns: 3000 },
    );
  });

  it('mutations of valid commands never escape as exceptions (test workers)', () => {
    process.chdir(dir);
    const i = small_interp({ json: true }, 2, 4);
    Object.assign(tally, { ok: 0, failed: 0, silent: 0 });
    fc.assert(
      fc.property(fc.constantFrom(...VALID), fc.array(mutation, { maxLength: 4 }), (line, ms) => {
        well_formed(i.exec(mutate(line, ms as Mutation[])));
      }),
      { numRuns: 3000, seed: 20261202 },
    );
    i.finish();
    // The mix exercises both paths.
    expect(tally.ok).toBeGreaterThan(300);
    expect(tally.failed).toBeGreaterThan(300);
  });

  it('mutations of valid commands never escape as exceptions (arm64 stack)', () => {
    process.chdir(dir);
    const i = scenario_interp(join(cwd, 'scenarios/fault-vs-invalidate.yaml'), { json: true });
    fc.assert(
      fc.property(fc.constantFrom(...VALID), fc.array(mutation, { maxLength: 3 }), (line, ms) => {
        well_formed(i.exec(mutate(line, ms as Mutation[])));
      }),
      { numRuns: 1500 },
    );
  });
});
