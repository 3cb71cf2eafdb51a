// The whole command table, in the order `help` lists it.
import type { Command } from './command.js';
import { BREAK_COMMANDS } from './cmd_break.js';
import { EXEC_COMMANDS } from './cmd_exec.js';
import { EXPLAIN } from './cmd_explain.js';
import { HITS } from './cmd_hits.js';
import { LAST_WRITE } from './cmd_last_write.js';
import { WHY_NOT } from './cmd_why_not.js';
import { INFO_COMMAND } from './cmd_info.js';
import { INSPECT_COMMANDS } from './cmd_inspect.js';
import { MT_COMMAND } from './cmd_mt.js';
import { PT_COMMAND } from './cmd_pt.js';
import { SESSION_COMMANDS } from './cmd_session.js';

export const COMMANDS: readonly Command[] = [...EXEC_COMMANDS, ...INSPECT_COMMANDS, INFO_COMMAND, ...BREAK_COMMANDS, EXPLAIN, HITS, WHY_NOT, LAST_WRITE, PT_COMMAND, MT_COMMAND, ...SESSION_COMMANDS];
