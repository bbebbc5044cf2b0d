/** Real temporary Git repositories for tests: a work tree with one commit and a bare remote over file://. */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const TEST_DATE = '2026-11-25T08:00:00Z';

export function sh(cwd: string, ...args: string[]): string {
  return execFileSync('git', args, { cwd, encoding: 'utf8', env: { ...process.env, GIT_CONFIG_NOSYSTEM: '1' } });
}

/** A sealed identity for every git the tool starts; no user config leaks into commits. */
export function sealGitEnv(): void {
  process.env['GIT_CONFIG_GLOBAL'] = '/dev/null';
  process.env['GIT_AUTHOR_NAME'] = process.env['GIT_COMMITTER_NAME'] = 'osv-gitops test';
  process.env['GIT_AUTHOR_EMAIL'] = process.env['GIT_COMMITTER_EMAIL'] = 'test@osv-gitops.invalid';
}

export interface TestRepo {
  readonly base: string;
  readonly work: string;
  readonly bare: string;
}

/** A work tree with an initial commit and a bare `origin` (the commit pushed unless `push: false`). */
export function newRepo(opts: { push?: boolean } = {}): TestRepo {
  const base = mkdtempSync(join(tmpdir(), 'osv-git-'));
  const bare = join(base, 'remote.git');
  const work = join(base, 'work');
  sh(base, 'init', '--quiet', '--bare', '--initial-branch=main', bare);
  sh(base, 'init', '--quiet', '--initial-branch=main', work);
  writeFileSync(join(work, 'README.md'), 'gitops\n');
  sh(work, 'add', 'README.md');
  // both dates fixed: two repositories made a second apart must start from the same commit
  execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.invalid', 'commit', '--quiet', '-m', 'init', '--date', TEST_DATE], {
    cwd: work,
    env: { ...process.env, GIT_CONFIG_NOSYSTEM: '1', GIT_COMMITTER_DATE: TEST_DATE },
  });
  sh(work, 'remote', 'add', 'origin', `file://${bare}`);
  if (opts.push !== false) sh(work, 'push', '--quiet', 'origin', 'main');
  return { base, work, bare };
}

/** A second clone of the remote, as another person or another advance would have. */
export function otherClone(repo: TestRepo, name = 'other'): string {
  const dir = join(repo.base, name);
  sh(repo.base, 'clone', '--quiet', `file://${repo.bare}`, dir);
  return dir;
}
