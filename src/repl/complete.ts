// Tab completion: command names, subcommands, and per command its
// arguments (threads, MMU and tree names, event kinds and fields,
// variants, breakpoint ids). Returns readline's [candidates, word].
import type { Session } from '../debugger/session.js';
import { resolve, type Command } from './command.js';
import { split_words } from './parse.js';

export function complete(table: readonly Command[], s: Session, line: string): [string[], string] {
  let words: string[];
  try {
    words = split_words(line).map((w) => w.text);
  } catch {
    return [[], ''];
  }
  const partial = /\s$/.test(line) || words.length === 0 ? '' : words.pop()!;
  const pick = (cands: Iterable<string>) => [[...new Set(cands)].filter((c) => c.startsWith(partial)).sort(), partial] as [string[], string];
  if (words.length === 0) return pick(table.map((c) => c.name));
  let cmd: Command;
  try {
    cmd = resolve(table, words[0]!);
  } catch {
    return [[], partial];
  }
  if (cmd.name === 'help') {
    if (words.length === 1) return pick(table.map((c) => c.name));
    try {
      return pick(resolve(table, words[1]!).sub?.map((c) => c.name) ?? []);
    } catch {
      return [[], partial];
    }
  }
  let args = words.slice(1);
  if (cmd.sub) {
    if (args.length === 0) return pick(cmd.sub.map((c) => c.name));
    try {
      cmd = resolve(cmd.sub, args[0]!);
    } catch {
      return [[], partial];
    }
    args = args.slice(1);
  }
  if (!cmd.complete) return [[], partial];
  try {
    return pick(cmd.complete(s, args));
  } catch {
    return [[], partial];
  }
}
