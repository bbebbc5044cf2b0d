/**
 * buildCommits sends a file that later commits carry unchanged once, as a blob they name by its
 * mark: the trees are those of every file written out in every commit, and a secret in such a
 * file is refused with one finding per commit that carries it, as a scan of every file reports.
 */
import { describe, expect, it } from 'vitest';
import { OsvError } from '../../src/errors.js';
import { buildCommits, type CommitToBuild } from '../../src/git/land.js';
import { newRepo, sealGitEnv, sh } from '../helpers/git-repo.js';

const ident = { author: 't <t@example.invalid> 1700000000 +0000', committer: 't <t@example.invalid> 1700000000 +0000' };

describe('buildCommits: one blob per unchanged file', () => {
  it('builds the trees of every commit, unchanged and changed files alike', async () => {
    sealGitEnv();
    const { work } = newRepo();
    const start = sh(work, 'rev-parse', 'HEAD').trim();
    const same = 'kind: Same\n';
    const commits: CommitToBuild[] = [1, 2, 3].map((mark) => ({
      mark,
      from: mark === 1 ? start : `:${mark - 1}`,
      message: `phase ${mark}`,
      clear: ['u'],
      files: [
        { path: 'u/same.yaml', content: same },
        { path: 'u/phase.yaml', content: `phase: ${mark}\n` },
        ...(mark === 2 ? [{ path: 'u/only-two.yaml', content: 'two\n' }] : []),
      ],
    }));
    const ids = await buildCommits(work, commits, ident);
    expect([...ids.keys()]).toEqual([1, 2, 3]);
    const files = (mark: number) => sh(work, 'ls-tree', '-r', '--name-only', ids.get(mark)!).trim().split('\n');
    expect(files(1)).toEqual(['README.md', 'u/phase.yaml', 'u/same.yaml']);
    expect(files(2)).toEqual(['README.md', 'u/only-two.yaml', 'u/phase.yaml', 'u/same.yaml']);
    expect(files(3)).toEqual(['README.md', 'u/phase.yaml', 'u/same.yaml']);
    for (const mark of [1, 2, 3]) {
      expect(sh(work, 'show', `${ids.get(mark)!}:u/same.yaml`)).toBe(same);
      expect(sh(work, 'show', `${ids.get(mark)!}:u/phase.yaml`)).toBe(`phase: ${mark}\n`);
      expect(sh(work, 'rev-parse', `${ids.get(mark)!}^`).trim()).toBe(mark === 1 ? start : ids.get(mark - 1));
    }
  });

  it('refuses a secret in a file carried unchanged, once for each commit that carries it', async () => {
    sealGitEnv();
    const { work } = newRepo();
    const leaky = 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\ndata:\n  password: hunter2-literal\n';
    const commits: CommitToBuild[] = [1, 2].map((mark) => ({ mark, from: mark === 1 ? undefined : `:${mark - 1}`, message: `phase ${mark}`, clear: [], files: [{ path: 'u/c.yaml', content: leaky }] }));
    const err = await buildCommits(work, commits, ident).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(OsvError);
    expect((err as OsvError).code).toBe('SECRET_REFUSED');
    expect((err as OsvError).details).toHaveLength(2);
    expect(sh(work, 'for-each-ref', 'refs/osv-gitops/').trim()).toBe('');
  });
});
