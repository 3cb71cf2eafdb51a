import { it } from 'vitest';
import { Session } from '../../src/debugger/session.js';
import { Interpreter } from '../../src/repl/interpreter.js';
import { load_world } from '../../src/repl/main.js';

it('scratch arm64', () => {
  const lw = load_world('scenarios/fault-vs-invalidate.yaml', {});
  const s = new Session({ world: lw.world });
  const i = new Interpreter({ session: s, load: (p) => load_world(p, {}), scenario: { name: lw.name, path: lw.path } });
  const lines = [
    'info threads', 'info vcpus', 'info mmus', 'info memslots', 'break retry', 'break request', 'continue', 'where', 'info invalidation', 'c', 'where vcpu1', 'rs 5', 'info tlb', 'info rcu', 'info locks', 'info hyperv',
    'goto 1000000', 'info mmus', 'pt dump s2', 'pt walk s2 0x80000000', 'pt walk s2 0x80005000', 'pt map s2 0x80200000 0x40000000 2M', 'pt walk s2 0x80201000', 'pt set s2 0x80201000 2 0', 'pt walk s2 0x80201000',
    'pt unmap s2 0x80000000', 'pt dump s2', 'info pokes', 'events --last 8', 'info checkpoints', 'info variants', 'info requests', 'check', 'save /tmp/kvmdbg_save.kvm',
  ];
  for (const l of lines) {
    const o = i.exec(l);
    console.log(`>>> ${l}\n${o ? o.text : '(nothing)'}\n${o ? Interpreter.json_line(o).slice(0, 400) : ''}`);
  }
});
