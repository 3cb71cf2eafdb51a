import { it } from 'vitest';
import { Session } from '../../src/debugger/session.js';
import { Interpreter } from '../../src/repl/interpreter.js';
import { small_world } from '../debugger/worlds.js';

it('scratch', () => {
  const s = new Session({ world: () => small_world(1, 5) });
  const i = new Interpreter({ session: s });
  const lines = [
    'help', 'help info', 'info threads', 'step', 's 3', 'step t1 2', 'where', 'where t0', 'info locks', 'info vcpus', 'info mmus', 'info invalidation',
    'break request NESTED_S2_UNMAP', 'break retry if e.reason == "seq"', 'tbreak fault.retry', 'watch w.kvm.mmu_invalidate_seq', 'info breakpoints',
    'continue', 'continue', 'c', 'reverse-continue', 'rs 2', 'print w.threads.map(t => t.name)', 'p 1n << 60n', 'print w.kvm', 'events --last 5', 'events request',
    'check', 'assert w.step > 0 "moved"', 'assert w.step == 0 "not moved"', 'bogus', 's', 'rev', 'info', 'mt new t', 'mt store t 0x1000 0x1fff 0x42', 'mt load t 0x1800',
    'mt dump t', 'mt list', 'mt find t 0', 'mt empty-area t 0 0xffff 0x100', 'pt walk s2 0x1000', 'variant', 'variant dbg.quiet on', 'info pokes', 'goto 3', 'info checkpoints',
    'commands 1', 'print "hit"', 'end', 'delete 2 3 4', 'continue', 'dprintf request.make, "req %s", e.req', 'disable 1', 'continue 30', 'quit',
  ];
  for (const l of lines) {
    const o = i.exec(l);
    console.log(`>>> ${l}\n${o ? o.text : '(nothing)'}\n${o ? Interpreter.json_line(o).slice(0, 300) : ''}`);
  }
});
