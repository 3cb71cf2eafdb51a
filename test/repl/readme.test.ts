// The README's examples do what the README says (issue 14, item 8). The
// REPL walkthrough runs command by command, and the step in each prompt
// must be the step the session is at; the explorer's examples must find
// the violation they are there to show. When the model moves a step, this
// fails until the README says what the tool prints.
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ROOT, ensure_built, kvmdbg } from '../cli/helpers.js';

beforeAll(() => ensure_built(), 300_000);

const README = readFileSync(join(ROOT, 'README.md'), 'utf8');

/** The code blocks of the README section titled `title`. */
function blocks(title: string): string[][] {
  const at = README.indexOf(`\n## ${title}\n`);
  expect(at, `the README has a section "## ${title}"`).toBeGreaterThanOrEqual(0);
  const end = README.indexOf('\n## ', at + 1);
  const section = README.slice(at, end < 0 ? undefined : end);
  return [...section.matchAll(/```[a-z]*\n([\s\S]*?)```/g)].map((m) => m[1]!.split('\n').filter((l) => l.trim()));
}

/** `kvmdbg repl nv-s2-recycle --variant X` -> the arguments after `kvmdbg`. */
function args_of(line: string): string[] {
  return line.replace(/^\$\s*/, '').replace(/\s+#.*$/, '').trim().split(/\s+/).slice(1);
}

describe('the README', () => {
  it('REPL walkthrough: every command succeeds and every prompt shows the step the session is at', () => {
    const [block] = blocks('The REPL');
    expect(block![0]).toMatch(/^\$ kvmdbg repl /);
    const steps: { want: number; cmd: string; line: string }[] = [];
    for (const line of block!.slice(1)) {
      const m = /^kvmdbg\[(\d+)\]> (.+)$/.exec(line);
      expect(m, `a README line that is not a prompt: ${line}`).not.toBeNull();
      steps.push({ want: Number(m![1]), cmd: m![2]!.trim(), line });
    }
    const e: string[] = [];
    for (const s of steps) e.push('-e', 'print w.step', '-e', s.cmd);
    e.push('-e', 'print w.step');
    const r = kvmdbg([...args_of(block![0]!), '--json', '--keep-going', ...e]);
    const out = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as { cmd: string; ok: boolean; result?: { value?: number }; error?: { message: string } });
    expect(out, r.stderr).toHaveLength(2 * steps.length + 1);
    steps.forEach((s, i) => {
      const at = out[2 * i]!.result!.value;
      expect(at, `README: "${s.line}": the session is at step ${at} before this command`).toBe(s.want);
      const o = out[2 * i + 1]!;
      expect(o.ok, `README: "${s.line}" failed: ${o.error?.message}`).toBe(true);
    });
  });

  it("explorer: each example finds a violation (exit 1)", () => {
    const dir = mkdtempSync(join(tmpdir(), 'kvmdbg-readme-'));
    const [block] = blocks('The explorer');
    const runs = block!.filter((l) => /^kvmdbg explore /.test(l));
    expect(runs.length).toBeGreaterThan(0);
    runs.forEach((line, i) => {
      const r = kvmdbg([...args_of(`$ ${line}`), '--out', join(dir, `${i}.rec`)], { cwd: dir });
      expect(r.code, `README: "${line}" exited ${r.code}: ${r.stdout.slice(-300)}${r.stderr}`).toBe(1);
    });
  }, 240_000);
});

describe('the README scenario op table', () => {
  it('lists every op the scenario loader accepts, with its arch', async () => {
    await import('../../src/core/world_init.js');
    const { all_ops } = await import('../../src/core/machine/ops.js');
    for (const o of all_ops()) {
      expect(README, `README op table: ${o.name}`).toContain(`| \`${o.name}\` | ${o.threads.join(', ')} | ${o.arch ?? 'any'} |`);
    }
  });
});

describe('the README event kinds', () => {
  it('lists every event kind', async () => {
    const { EVENT_KINDS } = await import('../../src/core/machine/events.js');
    const at = README.indexOf('Every event kind');
    expect(at).toBeGreaterThan(0);
    const para = README.slice(at, README.indexOf('\n\n', at));
    for (const k of EVENT_KINDS) expect(para, `README event kinds: ${k}`).toContain(`\`${k}\``);
  });
});
