/**
 * Goldens for every fixture case that plans successfully: the commits mode (`git log` with messages
 * and the final tree, in a real repository with fixed dates) and the directories mode in all three
 * engines. `UPDATE_GOLDEN=1` rewrites them, as for the plan goldens in test/fixtures.test.ts.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { runCli } from '../helpers/cli.js';

const fixtures = join(import.meta.dirname, '..', '..', 'fixtures');
const DATE = '2026-11-25T08:00:00Z';

interface CaseSpec {
  readonly args: string[];
  readonly expect: { readonly exitCode: number; readonly errorCode?: string };
}

/** Cases whose plan succeeds; the others expect an error and have nothing to commit or render. */
const cases = readdirSync(fixtures)
  .filter((d) => existsSync(join(fixtures, d, 'case.yaml')))
  .map((name) => ({ name, spec: parse(readFileSync(join(fixtures, name, 'case.yaml'), 'utf8')) as CaseSpec }))
  .filter((c) => c.spec.expect.exitCode === 0 && c.spec.expect.errorCode === undefined)
  .sort((a, b) => a.name.localeCompare(b.name));

function golden(file: string, actual: string): void {
  if (process.env['UPDATE_GOLDEN'] === '1' || !existsSync(file)) {
    if (process.env['CI'] && process.env['UPDATE_GOLDEN'] !== '1') throw new Error(`missing golden ${file}; run UPDATE_GOLDEN=1 npm test`);
    mkdirSync(join(file, '..'), { recursive: true });
    writeFileSync(file, actual);
  }
  expect(actual).toBe(readFileSync(file, 'utf8'));
}

function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', args, { cwd, encoding: 'utf8' });
}

describe('commits-mode goldens', () => {
  beforeAll(() => {
    // every git here and in the tool: no user or system config, one identity, one date
    process.env['GIT_CONFIG_GLOBAL'] = '/dev/null';
    process.env['GIT_CONFIG_NOSYSTEM'] = '1';
    process.env['GIT_AUTHOR_NAME'] = process.env['GIT_COMMITTER_NAME'] = 'osv-gitops test';
    process.env['GIT_AUTHOR_EMAIL'] = process.env['GIT_COMMITTER_EMAIL'] = 'test@osv-gitops.invalid';
    process.env['GIT_AUTHOR_DATE'] = process.env['GIT_COMMITTER_DATE'] = DATE;
  });

  it('covers the example and more', () => {
    expect(cases.map((c) => c.name)).toContain('example');
    expect(cases.length).toBeGreaterThan(5);
  });

  for (const { name, spec } of cases) {
    it(name, async () => {
      const work = join(mkdtempSync(join(tmpdir(), 'osv-golden-')), 'work');
      git(tmpdir(), 'init', '--quiet', '--initial-branch=main', work);
      writeFileSync(join(work, 'README.md'), 'gitops\n');
      git(work, 'add', 'README.md');
      git(work, 'commit', '--quiet', '-m', 'init');
      const res = await runCli(['commit', ...spec.args, '--repo', work, '--all', '--date', DATE], join(fixtures, name));
      expect(res.exitCode, res.stderr).toBe(0);
      const text = `# git log --format=%H%n%B\n${git(work, 'log', '--format=%H%n%B')}# git ls-tree -r HEAD\n${git(work, 'ls-tree', '-r', 'HEAD')}`;
      golden(join(fixtures, name, 'expected', 'commits.txt'), text);
    });
  }
});

describe('directories-mode goldens', () => {
  for (const { name, spec } of cases) {
    for (const engine of ['flux', 'argocd', 'plain'] as const) {
      it(`${name} / ${engine}`, async () => {
        const out = mkdtempSync(join(tmpdir(), `osv-golden-${engine}-`));
        const res = await runCli(['render', ...spec.args, '--mode', 'directories', '--engine', engine, ...(engine === 'argocd' ? ['--repo-url', 'https://git.example.com/ops/openstack.git'] : []), '--out', out, '--json'], join(fixtures, name));
        expect(res.exitCode, res.stderr).toBe(0);
        const files = (JSON.parse(res.stdout) as { files: string[] }).files;
        // the same layout as the example golden of test/render/render.test.ts
        const text = files.map((f) => `# ${f}\n${readFileSync(join(out, f), 'utf8')}`).join('---\n');
        golden(join(fixtures, name, 'expected', `render-${engine}.yaml`), text);
      });
    }
  }
});
