/** Commits mode against real temporary repositories and a bare remote over file://. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { newRepo as newTestRepo, sh, TEST_DATE as DATE } from '../helpers/git-repo.js';

const newRepo = () => newTestRepo({ push: false });

describe('commit', () => {
  beforeAll(() => {
    // a sealed identity for every git the tool starts; no user config leaks into commits
    process.env['GIT_CONFIG_GLOBAL'] = '/dev/null';
    process.env['GIT_AUTHOR_NAME'] = process.env['GIT_COMMITTER_NAME'] = 'osv-gitops test';
    process.env['GIT_AUTHOR_EMAIL'] = process.env['GIT_COMMITTER_EMAIL'] = 'test@osv-gitops.invalid';
  });

  it('commits the next phase only, with trailers, and never twice', async () => {
    const { work } = newRepo();
    const first = await runCli(['commit', '--example', '--repo', work, '--date', DATE, '--json'], work);
    expect(first.exitCode, first.stderr).toBe(0);
    expect((JSON.parse(first.stdout) as { committed: { phase: string }[] }).committed.map((c) => c.phase)).toEqual(['ovn-controlplane']);
    const again = await runCli(['commit', '--example', '--repo', work, '--date', DATE, '--phase', '1', '--json'], work);
    expect((JSON.parse(again.stdout) as { committed: unknown[] }).committed).toEqual([]);
    const msg = sh(work, 'log', '-1', '--format=%B');
    expect(msg).toMatch(/^osv-gitops: phase 1 of 5 ovn-controlplane /);
    expect(sh(work, 'log', '-1', '--format=%(trailers:key=Osv-Update-Phase,valueonly)').trim()).toBe('1 ovn-controlplane');
    expect(sh(work, 'log', '-1', '--format=%(trailers:key=Osv-Update-Target,valueonly)').trim()).toBe('18.0.4-1764633600');
    expect(sh(work, 'rev-list', '--count', 'HEAD').trim()).toBe('2');
  });

  it('gives byte-identical commits for the same inputs and date, and pushes to a bare remote', async () => {
    const a = newRepo();
    const b = newRepo();
    for (const r of [a, b]) {
      const res = await runCli(['commit', '--example', '--repo', r.work, '--all', '--date', DATE, '--push'], r.work);
      expect(res.exitCode, res.stderr).toBe(0);
    }
    expect(sh(a.work, 'rev-parse', 'HEAD')).toBe(sh(b.work, 'rev-parse', 'HEAD'));
    expect(sh(a.bare, 'rev-parse', 'refs/heads/main')).toBe(sh(a.work, 'rev-parse', 'HEAD'));
    expect(sh(a.work, 'log', '--format=%s').trim().split('\n')).toHaveLength(4);
  });

  it('reports a push the remote rejected and leaves the branch, index and work tree as they were', async () => {
    const { work, bare } = newRepo();
    sh(work, 'push', '--quiet', 'origin', 'main');
    // someone else moves the remote first
    const other = join(mkdtempSync(join(tmpdir(), 'osv-other-')), 'w');
    sh(tmpdir(), 'clone', '--quiet', `file://${bare}`, other);
    writeFileSync(join(other, 'x.txt'), 'x\n');
    sh(other, 'add', 'x.txt');
    sh(other, '-c', 'user.name=o', '-c', 'user.email=o@example.invalid', 'commit', '--quiet', '-m', 'other');
    sh(other, 'push', '--quiet', 'origin', 'HEAD:main');
    const res = await runCli(['commit', '--example', '--repo', work, '--date', DATE, '--push'], work);
    expect(res.exitCode).toBe(1);
    expect(res.stderr).toContain('GIT_PUSH_REJECTED');
    expect(res.stderr).toContain('the remote moved');
    expect(sh(work, 'log', '-1', '--format=%s')).toBe('init\n');
    expect(sh(work, 'status', '--porcelain', '--untracked-files=all')).toBe('');
    // once the user has pulled, the same command lands the phase
    sh(work, 'pull', '--quiet', '--ff-only', 'origin', 'main');
    const again = await runCli(['commit', '--example', '--repo', work, '--date', DATE, '--push'], work);
    expect(again.exitCode, again.stderr).toBe(0);
    expect(sh(bare, 'log', '-1', '--format=%s', 'main')).toContain('ovn-controlplane');
  });

  it('refuses a dirty owned folder and writes nothing', async () => {
    const { work } = newRepo();
    await runCli(['commit', '--example', '--repo', work, '--date', DATE], work);
    writeFileSync(join(work, 'openstack-update', 'openstackversion-openstack.yaml'), 'edited\n');
    const res = await runCli(['commit', '--example', '--repo', work, '--date', DATE], work);
    expect(res.exitCode).toBe(1);
    expect(res.stderr).toContain('GIT_DIRTY');
    expect(sh(work, 'rev-list', '--count', 'HEAD').trim()).toBe('2');
  });
});
