import { describe, expect, it } from 'vitest';
import type { Event } from '../../src/core/machine/events.js';
import { event_to_json, format_event, format_value, hex, to_json } from '../../src/repl/format.js';

const ev = (kind: string, fields: Record<string, unknown>, step = 12, thread = 'vcpu0'): Event =>
  ({ seq: 40, step, thread, cpu: 0, vcpu: thread.startsWith('vcpu') ? Number(thread.slice(4)) : null, kind, ...fields }) as Event;

describe('event and value formatting', () => {
  it('hex', () => {
    expect(hex(0)).toBe('0x0');
    expect(hex(4096)).toBe('0x1000');
    expect(hex(0xffff_0000_4000_0000n)).toBe('0xffff000040000000');
    expect(hex(-1)).toBe('-0x1');
  });

  it('one aligned line per event: step, thread, kind, key=value with addresses in hex', () => {
    const a = format_event(ev('fault.start', { gpa: 0x8000_1000, write: true, nested: false }));
    const b = format_event(ev('invalidate.begin', { in_progress: 1 }, 1234, 'mm'));
    expect(a).toBe('    12  vcpu0   fault.start           gpa=0x80001000 write=true nested=false');
    expect(b).toBe('  1234  mm      invalidate.begin      in_progress=1');
    expect(a.indexOf('gpa=')).toBe(b.indexOf('in_progress='));
    expect(format_event(ev('thread.exit', {}))).toBe('    12  vcpu0   thread.exit');
  });

  it('u64 fields print in hex, bigints too; strings with spaces are quoted; no colour codes unless asked', () => {
    const l = format_event(ev('s2mmu.lookup', { vttbr: 0xffff_0000_4000_0000n, vtcr: 0x80000000, s2_enabled: true, hit: -1 }));
    expect(l).toContain('vttbr=0xffff000040000000 vtcr=0x80000000 s2_enabled=true hit=-1');
    expect(l).not.toContain('\x1b[');
    expect(format_value('rwlock mmu_lock')).toBe('"rwlock mmu_lock"');
    expect(format_value([1, 2n])).toBe('[1,0x2]');
    expect(format_event(ev('vcpu.exit', { reason: 'irq' }), { color: true })).toContain('\x1b[');
  });

  it('JSON: addresses and u64 as "0x..." strings, other integers as numbers', () => {
    const j = event_to_json(ev('s2mmu.lookup', { vttbr: 0xffff_0000_4000_0000n, vtcr: 0x80000000, s2_enabled: true, hit: 1 }));
    expect(j).toEqual({ seq: 40, step: 12, thread: 'vcpu0', cpu: 0, vcpu: 0, kind: 's2mmu.lookup', vttbr: '0xffff000040000000', vtcr: '0x80000000', s2_enabled: true, hit: 1 });
    expect(JSON.parse(to_json(j))).toEqual(j);
    expect(to_json({ v: 5n })).toBe('{"v":"0x5"}');
  });
});

describe('event_filter', () => {
  it('matches kinds and families, and names unknown kinds', async () => {
    const { event_filter } = await import('../../src/repl/format.js');
    expect(event_filter(undefined)).toBeNull();
    const f = event_filter('request, fault.retry,tlbi')!;
    expect(['request.make', 'request.check', 'fault.retry', 'tlbi', 'tlbi.target'].every(f)).toBe(true);
    expect(['fault.start', 'vcpu.kick', 'requests'].some(f)).toBe(false);
    expect(() => event_filter('request,bogus')).toThrow(/^unknown event kind "bogus"; expected event kinds \(such as request.make\) or families: request, vcpu/);
    expect(() => event_filter(' , ')).toThrow(/no event kinds/);
  });
});
