import { describe, expect, it } from 'vitest';
import { Interpreter, type Outcome } from '../../src/repl/interpreter.js';
import { scenario_interp } from './helpers.js';

const HEX = /^0x[0-9a-f]+$/;

/** Parse a JSON line and check the envelope CONTRACT.md fixes. */
function envelope(o: Outcome): { cmd: string; ok: boolean; result?: unknown; error?: { code: string; message: string } } {
  const line = Interpreter.json_line(o);
  expect(line).not.toContain('\n');
  const j = JSON.parse(line) as Record<string, unknown>;
  expect(j['cmd']).toBe(o.cmd);
  if (j['ok'] === true) {
    expect(Object.keys(j).sort()).toEqual(['cmd', 'ok', 'result']);
  } else {
    expect(j['ok']).toBe(false);
    expect(Object.keys(j).sort()).toEqual(['cmd', 'error', 'ok']);
    const e = j['error'] as Record<string, unknown>;
    expect(Object.keys(e).sort()).toEqual(['code', 'message']);
    expect(e['code']).toMatch(/^E[A-Z]+$/);
    expect(typeof e['message']).toBe('string');
  }
  return j as never;
}

function stop_shape(r: unknown): void {
  const x = r as { step: number; stopped: { reason: string; breakpoint?: number; event?: Record<string, unknown>; violation?: Record<string, unknown> } };
  expect(Number.isInteger(x.step)).toBe(true);
  expect(['breakpoint', 'watchpoint', 'violation', 'end', 'deadlock', 'blocked', 'limit', 'start', 'interrupted', 'error']).toContain(x.stopped.reason);
  if (x.stopped.breakpoint !== undefined) expect(Number.isInteger(x.stopped.breakpoint)).toBe(true);
  if (x.stopped.event) {
    expect(typeof x.stopped.event['kind']).toBe('string');
    // Addresses and u64s are hex strings in JSON.
    for (const [k, v] of Object.entries(x.stopped.event)) if (['ipa', 'gpa', 'pa', 'hva_start', 'hva_end', 'operand'].includes(k)) expect(v).toMatch(HEX);
  }
  if (x.stopped.violation) expect(typeof x.stopped.violation['invariant']).toBe('string');
}

describe('JSON mode', () => {
  it('every command prints one line that parses and follows CONTRACT.md', () => {
    const i = scenario_interp('scenarios/fault-vs-invalidate.yaml', { json: true });
    const script: [string, ((r: unknown) => void)?][] = [
      ['help'],
      ['help pt'],
      ['info threads'],
      ['info vcpus'],
      ['info mmus'],
      ['info locks'],
      ['info memslots'],
      ['info requests'],
      ['info tlb'],
      ['info invalidation'],
      ['info rcu'],
      ['info hyperv'],
      ['break retry', (r) => expect(r).toMatchObject({ id: 1, type: 'breakpoint', kind: 'fault.retry' })],
      ['break request'],
      ['tbreak tlbi vmid=1'],
      ['break pending_unmap mmu=1'],
      ['watch w.kvm.mmu_invalidate_seq'],
      ['catch violation'],
      ['dprintf fault.start, "fault %x", e.gpa'],
      ['condition 2 e.req !== "nope"'],
      ['ignore 2 0'],
      ['disable 3'],
      ['enable 3'],
      ['info breakpoints', (r) => expect((r as { breakpoints: unknown[] }).breakpoints).toHaveLength(7)],
      ['step', stop_shape],
      ['step vcpu0 2', stop_shape],
      ['continue', stop_shape],
      ['continue 5', stop_shape],
      ['reverse-step', stop_shape],
      ['reverse-continue', stop_shape],
      ['goto 40', stop_shape],
      ['checkpoint', (r) => expect(r).toMatchObject({ id: 1, step: 40 })],
      ['restart 1', stop_shape],
      ['where', (r) => expect((r as { frames: unknown[] }).frames.length).toBeGreaterThan(0)],
      ['where mm'],
      ['print w.arm64.mmu.tlb_vttbr', (r) => expect(r).toEqual({ value: '0x0' })],
      ['print 1 + 1', (r) => expect(r).toEqual({ value: 2 })],
      ['events --last 3', (r) => expect((r as { events: unknown[] }).events.length).toBeLessThanOrEqual(3)],
      ['events fault', (r) => (r as { events: { kind: string }[] }).events.forEach((e) => expect(e.kind).toMatch(/^fault\./))],
      ['check', (r) => expect(Array.isArray((r as { violations: unknown[] }).violations)).toBe(true)],
      ['assert w.step === 40'],
      ['delete 1 2 3 4 5 6 7'],
      ['goto 100000', stop_shape],
      [
        'pt walk s2 0x80000000',
        (r) => {
          const x = r as { levels: { level: number; index: number; descriptor: string; type: string }[]; pa: string | null };
          expect(x.levels.length).toBeGreaterThan(0);
          for (const l of x.levels) {
            expect(Object.keys(l).sort()).toEqual(['descriptor', 'index', 'level', 'type']);
            expect(l.descriptor).toMatch(HEX);
          }
          expect(x.pa === null || HEX.test(x.pa)).toBe(true);
        },
      ],
      ['pt dump s2'],
      ['pt map s2 0x80400000 0x40000000 2M', (r) => expect(r).toEqual({})],
      ['pt unmap s2 0x80400000 2M', (r) => expect(r).toEqual({})],
      ['pt set s2 0x80000000 3 0', (r) => expect(r).toEqual({})],
      ['mt new t --alloc', (r) => expect(r).toEqual({})],
      ['mt store t 0x1000 0x1fff 0x41', (r) => expect(r).toEqual({})],
      ['mt insert t 0x3000 0x3fff 0x81', (r) => expect(r).toEqual({})],
      ['mt load t 0x1800', (r) => expect(r).toEqual({ value: '0x41' })],
      ['mt load t 0x2800', (r) => expect(r).toEqual({ value: null })],
      ['mt find t 0x2000', (r) => expect(r).toEqual({ first: '0x3000', last: '0x3fff', value: '0x81' })],
      ['mt find t 0x4000', (r) => expect(r).toBeNull()],
      ['mt empty-area t 0 0xffff 0x1000', (r) => expect(r).toEqual({ first: '0x0', last: '0xfff' })],
      ['mt empty-area t 0 0xffff 0x1000 --rev', (r) => expect(r).toEqual({ first: '0xf000', last: '0xffff' })],
      ['mt erase t 0x3800', (r) => expect(r).toEqual({ value: '0x81' })],
      ['mt erase t 0x3800', (r) => expect(r).toEqual({ value: null })],
      ['mt dump t'],
      ['mt list'],
      ['variant'],
      ['variant mmu.no_retry_check on', (r) => expect(r).toEqual({ variant: 'mmu.no_retry_check', on: true })],
      ['info pokes'],
      ['info checkpoints'],
      ['info variants'],
      ['info invariants'],
      ['seed 7', (r) => expect(r).toMatchObject({ seed: 7, step: 0 })],
      ['reset', (r) => expect(r).toEqual({ step: 0 })],
      ['load scenarios/default.yaml', (r) => expect(r).toMatchObject({ scenario: 'default', step: 0 })],
    ];
    for (const [line, check] of script) {
      const o = i.exec(line)!;
      const j = envelope(o);
      expect(j.ok, `${line}: ${o.text}`).toBe(true);
      check?.(j.result);
    }
  });

  it('failures follow the contract: mt insert overlap is EEXIST, no gap is EBUSY, internal entries EINVAL', () => {
    const i = scenario_interp('scenarios/default.yaml', { json: true });
    const want: [string, string][] = [
      ['mt new t', ''],
      ['mt store t 10 20 0x41', ''],
      ['mt insert t 15 30 0x81', 'EEXIST'],
      ['mt store t 0x40 0x40 0x2', 'EINVAL'],
      ['mt store t 0x40 0x40 0x402', 'EINVAL'],
      ['mt store t 30 20 0x41', 'EINVAL'],
      ['mt store t 0 0xffffffffffffffff 0x41', ''],
      ['mt empty-area t 0 100 5', 'EBUSY'],
      ['mt load nope 1', 'ENOENT'],
      ['mt new t', 'EEXIST'],
      ['mt store t 1 2 0x1_0000_0000_0000_0000', 'EINVAL'],
      ['pt walk nested[3] 0', 'ENOENT'],
      ['pt walk bogus 0', 'EINVAL'],
      ['step nosuchthread', 'ENOENT'],
      ['assert false "never"', 'EASSERT'],
      ['restart 9', 'ENOENT'],
      ['delete 99', 'ENOENT'],
      ['break nope.kind', 'EINVAL'],
      ['source /nonexistent/file', 'ENOENT'],
      ['load /nonexistent.yaml', 'ENOENT'],
      ['record start /tmp/x', 'ENOSYS'],
      ['frobnicate', 'EINVAL'],
    ];
    for (const [line, code] of want) {
      const o = i.exec(line)!;
      const j = envelope(o);
      if (code === '') expect(j.ok, `${line}: ${o.text}`).toBe(true);
      else expect(j.error?.code, `${line}: ${o.text}`).toBe(code);
    }
  });
});
