/**
 * `render` without --repo-path: the agent paths are the output folder's path inside the Git work
 * tree that holds it, wherever the command runs from; outside any work tree, the old guess with a
 * warning that says so.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, statSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { runCli } from '../helpers/cli.js';
import { newRepo, sealGitEnv } from '../helpers/git-repo.js';

const TARGET = '18.0.4-1764633600';

/** The `spec.path` of every Flux Kustomization that `render` wrote under `out`. */
function fluxPaths(out: string, files: readonly string[]): string[] {
  return files
    .filter((f) => f.endsWith('.yaml'))
    .flatMap((f) => parseAllDocuments(readFileSync(join(out, f), 'utf8')).map((d) => d.toJS() as { kind?: string; spec?: { path?: string } }))
    .filter((o) => o.kind === 'Kustomization' && o.spec?.path !== undefined)
    .map((o) => o.spec!.path!)
    .sort();
}

async function render(cwd: string, out: string, extra: readonly string[] = []) {
  const res = await runCli(['render', '--example', '--engine', 'flux', '--out', out, '--json', ...extra], cwd);
  expect(res.exitCode, res.stderr).toBe(0);
  const json = JSON.parse(res.stdout) as { files: string[]; warnings: string[] };
  return { ...json, stderr: res.stderr, paths: fluxPaths(resolve(cwd, out), json.files) };
}

describe('render --repo-path defaults to where --out sits in its Git work tree', () => {
  beforeAll(() => sealGitEnv());

  it('finds the repository root from outside it, for relative, absolute, nested and new --out folders', async () => {
    const { base, work } = newRepo({ push: false });
    // the cases: a relative --out run from outside the repository, and an absolute one
    const cases: [cwd: string, out: string, prefix: string][] = [
      [base, 'work/', './updates/'],
      [base, join(work, 'openstack'), './openstack/updates/'],
      [tmpdir(), join(work, 'clusters', 'prod', 'new'), './clusters/prod/new/updates/'],
      [join(work, 'openstack'), '.', './openstack/updates/'],
      [join(work, 'openstack'), '../gitops-r/', './gitops-r/updates/'],
    ];
    for (const [cwd, out, prefix] of cases) {
      const r = await render(cwd, out);
      expect(r.warnings, out).toEqual([]);
      expect(r.stderr, out).toBe('');
      expect(r.paths.length, out).toBeGreaterThan(2);
      for (const p of r.paths) expect(p.startsWith(`${prefix}${TARGET}/`), `${out}: ${p}`).toBe(true);
    }
  });

  it('follows a symlinked --out to the repository it lands in', async () => {
    const { base, work } = newRepo({ push: false });
    mkdirSync(join(work, 'gitops'));
    symlinkSync(join(work, 'gitops'), join(base, 'link'));
    const r = await render(base, 'link');
    expect(r.warnings).toEqual([]);
    for (const p of r.paths) expect(p.startsWith(`./gitops/updates/${TARGET}/`), p).toBe(true);
  });

  it('finds a linked work tree, whose .git is a file', async () => {
    const { base, work } = newRepo({ push: false });
    execFileSync('git', ['-C', work, 'worktree', 'add', '--quiet', '-b', 'update', join(base, 'linked')]);
    expect(statSync(join(base, 'linked', '.git')).isFile()).toBe(true);
    const r = await render(join(base, 'linked'), 'clusters/prod');
    expect(r.warnings).toEqual([]);
    for (const p of r.paths) expect(p.startsWith(`./clusters/prod/updates/${TARGET}/`), p).toBe(true);
  });

  it('keeps an explicit --repo-path as given', async () => {
    const { work } = newRepo({ push: false });
    const r = await render(work, 'openstack', ['--repo-path', 'elsewhere/openstack']);
    expect(r.warnings).toEqual([]);
    for (const p of r.paths) expect(p.startsWith(`./elsewhere/openstack/updates/${TARGET}/`), p).toBe(true);
  });

  it('outside any Git work tree keeps the old default and warns that it is a guess', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'osv-norepo-'));
    const rel = await render(dir, 'gitops-r/');
    expect(rel.warnings).toHaveLength(1);
    expect(rel.warnings[0]).toContain('is not inside a Git work tree');
    expect(rel.warnings[0]).toContain('pass --repo-path');
    expect(rel.stderr).toBe(`warning: ${rel.warnings[0]}\n`);
    for (const p of rel.paths) expect(p.startsWith(`./gitops-r/updates/${TARGET}/`), p).toBe(true);
    const abs = await render(dir, join(dir, 'abs'));
    expect(abs.warnings[0]).toContain('assume the folder is the repository root');
    for (const p of abs.paths) expect(p.startsWith(`./updates/${TARGET}/`), p).toBe(true);
  });
});
