// `explain [STEP]`: the race diagram of the first violation in the
// session's history (or of STEP), from its causal slice (src/explain).
import { apply_poke } from '../debugger/pokes.js';
import { DebugError } from '../debugger/errors.js';
import { explain, to_json, to_markdown } from '../explain/index.js';
import { UserError } from '../scenario/errors.js';
import { usage, type Command } from './command.js';
import { session_source } from './history_source.js';
import { nat } from './parse.js';

export const EXPLAIN: Command = {
  name: 'explain',
  usage: 'explain [STEP] [--markdown] [--width N]',
  summary: 'the race diagram of the first violation in the history (or of STEP): its causal slice, one column per thread',
  help: [
    'A step is in the causal slice when it wrote something the step explained read, transitively, across threads.',
    'The diagram shows the slice steps nearest the target, and the locks, requests and TLBIs of the threads shown,',
    'within 80 columns (or --width N, from 40 to 200) and 40 lines. Without a violation in the history and without STEP, the current step.',
    'JSON: {target, violation, columns, steps: [{step, thread, fn, lines, slice}], slice, text}.',
  ].join('\n'),
  run: (ctx, a) => {
    let step: number | undefined;
    let markdown = false;
    let width: number | undefined;
    for (let k = 0; k < a.words.length; k++) {
      const w = a.words[k]!;
      if (w === '--markdown') markdown = true;
      else if (w === '--width') {
        width = nat(a.words[++k], 'the width');
        if (width < 40 || width > 200) usage(EXPLAIN, '--width: expected 40 to 200 columns');
      }
      else if (step === undefined && /^[0-9]/.test(w)) step = nat(w, 'the step');
      else usage(EXPLAIN);
    }
    const src = session_source(ctx.s);
    const fallback = ctx.s.step_no > 0 ? ctx.s.step_no : undefined;
    let d;
    try {
      d = explain(src.world, src.h, { apply_poke, what: 'this session', ...(width !== undefined ? { width } : {}), ...(step !== undefined ? { step } : {}), ...(fallback !== undefined ? { fallback } : {}) });
    } catch (e) {
      if (e instanceof UserError) throw new DebugError('EINVAL', e.message.replace(/expected --step N/, 'expected explain STEP'));
      throw e;
    }
    return { json: to_json(d), text: markdown ? to_markdown(d).trimEnd() : d.lines.join('\n') };
  },
};
