import { it } from 'vitest';
import { all_variants } from '../../src/core/machine/variants.js';
import { trace_history, schedule_history } from '../../src/explain/trace.js';
import { slice } from '../../src/explain/slice.js';
import { diagram } from '../../src/explain/diagram.js';
import { CASES, breaks, violating } from './cases.js';
for (const c of CASES.filter((c) => !process.env.V || c.variant === process.env.V)) it(c.variant + ' ' + c.scenario, async () => {
  const inv = breaks(all_variants().find((v) => v.name === c.variant)!)!;
  const f = await violating(c, inv);
  const tr = trace_history(f!.l.config, schedule_history(f!.schedule));
  const sl = slice(tr, tr.steps.length);
  const d = diagram(tr, sl);
  console.log(`== ${c.variant} on ${c.scenario}: slice ${sl.steps.length} of ${tr.steps.length}, ${d.lines.length} lines\n` + d.lines.join('\n'));
}, 120000);
