// The whole command table, in the order `help` lists it.
import type { Command } from './command.js';
import { BREAK_COMMANDS } from './cmd_break.js';
import { EXEC_COMMANDS } from './cmd_exec.js';
import { EXPLAIN_COMMANDS } from './cmd_explain.js';
import { INFO_COMMAND } from './cmd_info.js';
import { INSPECT_COMMANDS } from './cmd_inspect.js';
import { MT_COMMAND } from './cmd_mt.js';
import { PT_COMMAND } from './cmd_pt.js';
import { SESSION_COMMANDS } from './cmd_session.js';

export const COMMANDS: readonly Command[] = [...EXEC_COMMANDS, ...INSPECT_COMMANDS, INFO_COMMAND, ...BREAK_COMMANDS, ...EXPLAIN_COMMANDS, PT_COMMAND, MT_COMMAND, ...SESSION_COMMANDS];
