/**
 * `render` into a folder that already holds exactly what it renders writes nothing: every file
 * keeps its inode and time. Anything else in the version folder (a changed byte, a file more or
 * less, a link, an executable bit, an empty folder) makes it replace the folder whole, as always.
 */
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';

const VERSION_DIR = join('updates', '18.0.4-1764633600');

async function render(cwd: string): Promise<{ unchanged: boolean; files: string[]; stdout: string }> {
  const res = await runCli(['render', '--example', '--engine', 'argocd', '--repo-url', 'https://git.example.com/ops/openstack.git', '--repo-path', '.', '--out', 'out', '--json'], cwd);
  expect(res.exitCode, res.stderr).toBe(0);
  return { ...(JSON.parse(res.stdout) as { unchanged: boolean; files: string[] }), stdout: res.stdout };
}

/** Every file under `dir` with its inode number, by path. */
function inodes(dir: string, base = ''): Map<string, number> {
  const out = new Map<string, number>();
  for (const e of readdirSync(join(dir, base), { withFileTypes: true })) {
    const rel = join(base, e.name);
    if (e.isDirectory()) for (const [k, v] of inodes(dir, rel)) out.set(k, v);
    else out.set(rel, statSync(join(dir, rel)).ino);
  }
  return out;
}

describe('render into a folder that already holds the render', () => {
  it('writes nothing and says so; the text output says so too', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'osv-rerender-'));
    const first = await render(cwd);
    expect(first.unchanged).toBe(false);
    const version = join(cwd, 'out', VERSION_DIR);
    const before = inodes(version);
    expect(before.size).toBe(first.files.length);
    const again = await render(cwd);
    expect(again.unchanged).toBe(true);
    expect(again.files).toEqual(first.files);
    expect(inodes(version)).toEqual(before);
    const text = await runCli(['render', '--example', '--engine', 'argocd', '--repo-url', 'https://git.example.com/ops/openstack.git', '--repo-path', '.', '--out', 'out'], cwd);
    expect(text.stdout).toBe(`out/${VERSION_DIR} already holds these ${first.files.length} files: nothing written (engine argocd, plan ${JSON.parse(first.stdout).plan as string})\n`);
  });

  // each change to the folder the render owns, and whether the file it touches is written anew
  const changes: [name: string, change: (version: string, file: string) => void][] = [
    ['a byte changed', (v, f) => writeFileSync(join(v, f), readFileSync(join(v, f), 'utf8').replace('apiVersion', 'apiversion'))],
    ['a file of the same length, other bytes', (v, f) => writeFileSync(join(v, f), readFileSync(join(v, f), 'utf8').replace(/a/, 'b'))],
    ['a file removed', (v, f) => rmSync(join(v, f))],
    ['a file added', (v) => writeFileSync(join(v, 'extra.yaml'), 'kind: ConfigMap\n')],
    ['an empty folder added', (v) => mkdirSync(join(v, 'empty'))],
    ['an executable bit set', (v, f) => chmodSync(join(v, f), 0o755)],
    [
      'a file replaced by a link to a file of the same bytes',
      (v, f) => {
        const copy = join(v, '..', 'copy.yaml');
        writeFileSync(copy, readFileSync(join(v, f)));
        rmSync(join(v, f));
        symlinkSync(copy, join(v, f));
      },
    ],
  ];
  for (const [name, change] of changes) {
    it(`replaces the folder whole when ${name}`, async () => {
      const cwd = mkdtempSync(join(tmpdir(), 'osv-rerender-'));
      const first = await render(cwd);
      const version = join(cwd, 'out', VERSION_DIR);
      const file = first.files.find((f) => f.includes('kustomization.yaml'))!.slice(VERSION_DIR.length + 1);
      const expected = readFileSync(join(version, file), 'utf8');
      const before = inodes(version);
      change(version, file);
      const again = await render(cwd);
      expect(again.unchanged, name).toBe(false);
      // the folder holds the render again, every file of it written anew
      const after = inodes(version);
      expect([...after.keys()].sort()).toEqual([...before.keys()].sort());
      // (the changed file's own number may be reused once it is freed)
      for (const [path, ino] of after) if (path !== file) expect(ino, path).not.toBe(before.get(path));
      expect(readFileSync(join(version, file), 'utf8')).toBe(expected);
      expect(statSync(join(version, file)).mode & 0o111).toBe(0);
      expect(statSync(join(version, file)).isFile()).toBe(true);
      expect(await render(cwd)).toMatchObject({ unchanged: true });
    });
  }
});
