// The README's "Explaining a counterexample" shows what the tool prints:
// its commands run as written, and the diagram is explain's output.
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ROOT, ensure_built, kvmdbg } from '../cli/helpers.js';

beforeAll(() => ensure_built(), 300_000);

const README = readFileSync(join(ROOT, 'README.md'), 'utf8');

function blocks(title: string): string[] {
  const at = README.indexOf(`\n## ${title}\n`);
  expect(at, `the README has a section "## ${title}"`).toBeGreaterThanOrEqual(0);
  const end = README.indexOf('\n## ', at + 1);
  return [...README.slice(at, end < 0 ? undefined : end).matchAll(/```[a-z]*\n([\s\S]*?)```/g)].map((m) => m[1]!);
}

describe('README: Explaining a counterexample', () => {
  it('the diagram is what `kvmdbg explain` prints for the recording the section makes', () => {
    const [cmds, diagram] = blocks('Explaining a counterexample');
    const lines = cmds!.split('\n').filter((l) => l.trim()).map((l) => l.replace(/\s+#.*$/, '').trim().split(/\s+/).slice(1));
    expect(lines.map((l) => l[0])).toEqual(['run', 'explain']);
    const dir = mkdtempSync(join(tmpdir(), 'kvmdbg-readme-explain-'));
    expect(kvmdbg(lines[0]!, { cwd: dir }).code).toBe(1);
    const r = kvmdbg(lines[1]!, { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    expect(diagram).toBe(r.stdout);
    for (const l of diagram!.trimEnd().split('\n')) expect(l.length).toBeLessThanOrEqual(80);
  });
});
