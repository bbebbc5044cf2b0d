/** The agent's Git source against a real temporary bare repository. */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { GitSource } from '../../src/simulate/agent/git-source.js';

function sh(cwd: string, ...args: string[]): string {
  return execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.invalid', ...args], { cwd, encoding: 'utf8' }).trim();
}

describe('GitSource', () => {
  it('follows the branch head and checks out each revision into its own folder', async () => {
    const base = mkdtempSync(join(tmpdir(), 'osv-agent-git-test-'));
    const bare = join(base, 'remote.git');
    const work = join(base, 'work');
    sh(base, 'init', '--quiet', '--bare', '--initial-branch=main', bare);
    sh(base, 'init', '--quiet', '--initial-branch=main', work);
    sh(work, 'remote', 'add', 'origin', `file://${bare}`);

    const source = await GitSource.open(`file://${bare}`, 'main');
    try {
      expect(await source.head()).toBeUndefined(); // no branch yet

      writeFileSync(join(work, 'a.yaml'), 'one\n');
      sh(work, 'add', '.');
      sh(work, 'commit', '--quiet', '-m', 'one');
      sh(work, 'push', '--quiet', 'origin', 'main');
      const first = sh(work, 'rev-parse', 'HEAD');
      expect(await source.head()).toBe(first);
      const c1 = await source.checkout(first);
      expect(readFileSync(join(c1.dir, 'a.yaml'), 'utf8')).toBe('one\n');

      writeFileSync(join(work, 'a.yaml'), 'two\n');
      writeFileSync(join(work, 'b.yaml'), 'new\n');
      sh(work, 'add', '.');
      sh(work, 'commit', '--quiet', '-m', 'two');
      sh(work, 'push', '--quiet', 'origin', 'main');
      const second = sh(work, 'rev-parse', 'HEAD');
      expect(await source.head()).toBe(second);
      const c2 = await source.checkout(second);
      expect(c2.dir).not.toBe(c1.dir);
      expect(readFileSync(join(c2.dir, 'a.yaml'), 'utf8')).toBe('two\n');
      expect(readFileSync(join(c1.dir, 'a.yaml'), 'utf8')).toBe('one\n'); // the old tree is untouched
      expect(existsSync(join(c1.dir, 'b.yaml'))).toBe(false);
      expect(await source.contains(second, first)).toBe(true);
      expect(await source.contains(first, second)).toBe(false);
      // the user's work tree and repository were never touched by the source
      expect(sh(work, 'status', '--porcelain')).toBe('');
    } finally {
      source.close();
    }
  });

  it('reports an unreachable repository as GIT_FAILED', async () => {
    const source = await GitSource.open(join(tmpdir(), 'osv-no-such-repo.git'), 'main');
    try {
      await expect(source.head()).rejects.toMatchObject({ code: 'GIT_FAILED' });
    } finally {
      source.close();
    }
  });
});
