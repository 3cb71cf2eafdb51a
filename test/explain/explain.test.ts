// `explain` on every bundled breaking variant: the diagram fits in 80x40
// and is plain ASCII, ends with the violation, and the causal slice holds
// the steps that race.
import { describe, expect, it } from 'vitest';
import { all_variants } from '../../src/core/machine/variants.js';
import { diagram, HEIGHT, WIDTH, to_json, to_markdown } from '../../src/explain/diagram.js';
import { slice } from '../../src/explain/slice.js';
import { schedule_history, trace_history, type Trace } from '../../src/explain/trace.js';
import { CASES, breaks, violating } from './cases.js';

async function traced(variant: string, scenario: string): Promise<Trace> {
  const c = CASES.find((x) => x.variant === variant && x.scenario === scenario)!;
  const inv = breaks(all_variants().find((v) => v.name === variant)!)!;
  const f = await violating(c, inv);
  expect(f, `${variant}: ${inv} not found on ${scenario}`).not.toBeNull();
  const tr = trace_history(f!.l.config, schedule_history(f!.schedule));
  // The traced replay stops where the explorer's run stopped, at the same violation.
  expect(tr.violation?.invariant).toBe(inv);
  expect(tr.violation?.step).toBe(tr.steps.length);
  expect(tr.violation?.message).toBe(f!.violation.message);
  return tr;
}

describe('explain: a diagram for every bundled breaking variant', () => {
  it('every breaking variant has a case (nv.put_drops_ref: put_drops_ref.test.ts, under the goal-directed schedule of test/arm64/nv.test.ts)', () => {
    for (const v of all_variants().filter((x) => breaks(x) !== null)) {
      if (v.name === 'nv.put_drops_ref') continue;
      expect(CASES.some((c) => c.variant === v.name), v.name).toBe(true);
    }
  });

  for (const c of CASES) {
    it(`${c.variant} on ${c.scenario}: within ${WIDTH}x${HEIGHT}, ASCII, the violation at the bottom`, async () => {
      const tr = await traced(c.variant, c.scenario);
      const sl = slice(tr, tr.steps.length);
      const d = diagram(tr, sl);
      const text = d.lines.join('\n');
      expect(d.lines.length, text).toBeLessThanOrEqual(HEIGHT);
      expect(d.lines.length, text).toBeGreaterThanOrEqual(6);
      for (const l of d.lines) expect(l.length, l).toBeLessThanOrEqual(WIDTH);
      expect(/^[\x20-\x7e\n]*$/.test(text), text).toBe(true);
      expect(d.lines[d.lines.length - 1]).toMatch(new RegExp(`^${tr.violation!.step} ${tr.violation!.invariant.replace('.', '\\.')}: `));
      // The target is shown, and every shown step is in the slice or is context on a thread shown.
      expect(d.shown.some((s) => s.step === sl.target)).toBe(true);
      const threads = new Set(d.columns.map((x) => x.thread));
      for (const s of d.shown) expect(threads.has(s.thread)).toBe(true);
      // Each column's header names its thread and CPU.
      for (const col of d.columns) expect(d.lines[0]).toContain(`${col.thread} (CPU ${col.cpu})`);
      // The other formats carry the same diagram and the whole message.
      expect(to_markdown(d)).toContain(text);
      expect(to_markdown(d)).toContain(tr.violation!.message);
      expect(JSON.parse(JSON.stringify(to_json(d))).text).toBe(text);
    }, 60_000);
  }
});

describe('explain: the slice holds the racing steps', () => {
  it('nv.no_unmap_request: the pending_unmap set in get_s2_mmu_nested, which the guest entry read', async () => {
    const tr = await traced('nv.no_unmap_request', 'nv-s2-recycle');
    const sl = slice(tr, tr.steps.length);
    const target = tr.steps[sl.target - 1]!;
    expect(target.events.map((e) => e.kind)).toContain('vcpu.enter');
    const set = sl.steps.map((n) => tr.steps[n - 1]!).filter((s) => s.fn === 'get_s2_mmu_nested' && s.events.some((e) => e.kind === 'pending_unmap.set'));
    expect(set.length).toBeGreaterThan(0);
    // The entry depends on that set directly, through the flag itself.
    const deps = sl.deps.get(sl.target)!;
    expect(deps.some((d) => d.from === set[set.length - 1]!.step && d.loc.endsWith('pending_unmap'))).toBe(true);
    // The other vCPU is in it too: it last held the MMU that was recycled (assigned it, or dropped its reference).
    const index = set[set.length - 1]!.events.find((e) => e.kind === 'pending_unmap.set')!['index'];
    const other = sl.steps.map((n) => tr.steps[n - 1]!).filter((s) => s.thread !== target.thread && s.vcpu >= 0 && s.events.some((e) => /^s2mmu\.(assign|ref|unref)$/.test(e.kind) && e['index'] === index));
    expect(other.length, 'a step of the other vCPU on the recycled MMU').toBeGreaterThan(0);
    // The diagram shows the set and the entry.
    const d = diagram(tr, sl);
    const shown = d.shown.map((s) => s.step);
    expect(shown).toContain(set[set.length - 1]!.step);
    const items = (n: number) => d.shown.find((s) => s.step === n)!.items;
    expect(items(set[set.length - 1]!.step)).toContain(`nested_mmus[${set[set.length - 1]!.events.find((e) => e.kind === 'pending_unmap.set')!['index']}].pending_unmap = true`);
    expect(items(sl.target).join(' ')).toMatch(/enter guest, hw_mmu = nested\[\d\]/);
  }, 60_000);

  for (const scenario of ['fault-vs-invalidate', 'numa-invalidate-retry', 'thp-fault-vs-migrate']) {
    it(`mmu.no_retry_check on ${scenario}: the invalidate_range_start and the fault's map`, async () => {
      const tr = await traced('mmu.no_retry_check', scenario);
      const sl = slice(tr, tr.steps.length);
      const steps = sl.steps.map((n) => tr.steps[n - 1]!);
      const inval = steps.filter((s) => s.vcpu < 0 && s.stack.includes('kvm_mmu_notifier_invalidate_range_start') && s.events.some((e) => e.kind.startsWith('invalidate.')));
      expect(inval.length, 'a step of kvm_mmu_notifier_invalidate_range_start').toBeGreaterThan(0);
      // The fault's map: the stage-2 / TDP entry written by the fault path.
      const map = steps.filter(
        (s) => s.vcpu >= 0 && (s.events.some((e) => e.kind === 'fault.map') || (s.stack.includes('user_mem_abort') && s.events.some((e) => e.kind === 'pte.store'))),
      );
      expect(map.length, "a step of the fault's map").toBeGreaterThan(0);
      // The fault maps after the invalidation began: that is the race.
      expect(Math.max(...map.map((s) => s.step))).toBeGreaterThan(Math.min(...inval.map((s) => s.step)));
    }, 60_000);
  }

  it('a slice is closed under its dependences and ordered', async () => {
    const tr = await traced('kvm.exit_request_before_mode', 'default');
    const sl = slice(tr, tr.steps.length);
    const inside = new Set(sl.steps);
    for (const n of sl.steps) for (const d of sl.deps.get(n)!) expect(inside.has(d.from)).toBe(true);
    expect([...sl.steps].sort((a, b) => a - b)).toEqual(sl.steps);
    // The request made by the other thread is in it: the entry read its bit.
    expect(sl.steps.some((n) => tr.steps[n - 1]!.events.some((e) => e.kind === 'request.make'))).toBe(true);
  }, 60_000);
});
