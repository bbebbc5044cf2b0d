/**
 * The Git layer's promises, against real repositories: commits hold our files only, the user's
 * index and other branches are left alone, the user's hooks judge what we commit, and a run killed
 * after the branch moved is caught up by the next one.
 */
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { newRepo, sealGitEnv, sh, TEST_DATE as DATE } from '../helpers/git-repo.js';

const commit = (work: string, ...extra: string[]) => runCli(['commit', '--example', '--repo', work, '--date', DATE, ...extra], work);
const filesOf = (work: string, rev: string) => sh(work, 'ls-tree', '-r', '--name-only', rev).trim().split('\n');

/** A hook script in a work tree's `.git/hooks`, or (`bare`) in a bare repository's `hooks`. */
function hook(repo: string, name: string, body: string, bare = false): void {
  const file = bare ? join(repo, 'hooks', name) : join(repo, '.git', 'hooks', name);
  writeFileSync(file, `#!/bin/sh\n${body}\n`);
  chmodSync(file, 0o755);
}

describe('landing commits', () => {
  beforeAll(sealGitEnv);

  it('never commits what the user staged, and leaves it staged', async () => {
    const { work } = newRepo({ push: false });
    writeFileSync(join(work, 'secret.yaml'), 'apiVersion: v1\nkind: Secret\nmetadata: {name: db}\nstringData: {password: hunter2}\n');
    writeFileSync(join(work, 'README.md'), 'edited by the user\n');
    sh(work, 'add', 'secret.yaml', 'README.md');
    const res = await commit(work);
    expect(res.exitCode, res.stderr).toBe(0);
    const files = filesOf(work, 'HEAD');
    expect(files).not.toContain('secret.yaml');
    expect(sh(work, 'show', 'HEAD:README.md')).toBe('gitops\n');
    expect(files.some((f) => f.startsWith('openstack-update/'))).toBe(true);
    // the user's staged changes are still staged, our folder is clean
    expect(sh(work, 'status', '--porcelain').split('\n').filter(Boolean).sort()).toEqual(['A  secret.yaml', 'M  README.md']);
  });

  it('--branch other moves only that ref: no checkout, the work tree is not touched', async () => {
    const { work } = newRepo({ push: false });
    mkdirSync(join(work, 'openstack-update'));
    writeFileSync(join(work, 'openstack-update', 'mine.yaml'), 'a user file\n');
    const res = await commit(work, '--branch', 'update');
    expect(res.exitCode, res.stderr).toBe(0);
    expect(res.stdout).toContain('not checked out');
    expect(sh(work, 'symbolic-ref', '--short', 'HEAD').trim()).toBe('main');
    expect(readFileSync(join(work, 'openstack-update', 'mine.yaml'), 'utf8')).toBe('a user file\n');
    expect(sh(work, 'log', '-1', '--format=%s', 'update')).toMatch(/ovn-controlplane/);
    expect(sh(work, 'rev-list', '--count', 'main').trim()).toBe('1');
  });

  it("runs the user's pre-commit hook on exactly the new tree, and a refusal changes nothing", async () => {
    const { work } = newRepo({ push: false });
    // a secret scanner stand-in: it reads the staged content the way real ones do
    hook(work, 'pre-commit', 'git diff --cached --name-only | grep -q openstackversion && { echo "scanner: found openstackversion" >&2; exit 1; }; exit 0');
    const before = sh(work, 'rev-parse', 'HEAD');
    const refused = await commit(work, '--json');
    expect(refused.exitCode).toBe(1);
    expect(JSON.parse(refused.stdout).error.code).toBe('GIT_HOOK_REJECTED');
    expect(refused.stderr).toContain('scanner: found openstackversion');
    expect(sh(work, 'rev-parse', 'HEAD')).toBe(before);
    expect(sh(work, 'status', '--porcelain', '--untracked-files=all')).toBe('');
    expect(sh(work, 'for-each-ref', '--format=%(refname)')).not.toContain('osv-gitops');
    const skipped = await commit(work, '--no-verify');
    expect(skipped.exitCode, skipped.stderr).toBe(0);
    expect(skipped.stderr).toContain('--no-verify');
  });

  it('gives the commit-msg hook each message, and says which hooks passed', async () => {
    const { work } = newRepo({ push: false });
    const seen = join(work, '..', 'messages.txt');
    hook(work, 'commit-msg', `cat "$1" >> "${seen}"; exit 0`);
    hook(work, 'pre-commit', 'exit 0');
    const res = await commit(work, '--all');
    expect(res.exitCode, res.stderr).toBe(0);
    expect(res.stdout).toContain('pre-commit and commit-msg hooks passed');
    const messages = readFileSync(seen, 'utf8');
    expect(messages.match(/^Osv-Update-Phase: /gm)).toHaveLength(3);
  });

  it('catches up a work tree left behind by a run killed after the branch moved, without a second commit', async () => {
    const { work } = newRepo({ push: false });
    expect((await commit(work)).exitCode).toBe(0);
    expect((await commit(work)).exitCode).toBe(0);
    // what a kill between the ref update and the sync leaves: our paths as the commit before
    sh(work, 'restore', '--source=HEAD~1', '--staged', '--worktree', '--', 'openstack-update');
    expect(sh(work, 'status', '--porcelain')).not.toBe('');
    const res = await commit(work, '--json');
    expect(res.exitCode, res.stderr).toBe(0);
    const out = JSON.parse(res.stdout) as { recovered: boolean; committed: { phase: string }[] };
    expect(out.recovered).toBe(true);
    expect(out.committed.map((c) => c.phase)).toEqual(['dataplane']);
    expect(sh(work, 'status', '--porcelain', '--untracked-files=all')).toBe('');
    expect(sh(work, 'log', '--format=%(trailers:key=Osv-Update-Phase,valueonly)').trim().split(/\n+/)).toHaveLength(3);
  });

  it('a stale .git/index.lock stops it before the branch moves', async () => {
    const { work } = newRepo({ push: false });
    writeFileSync(join(work, '.git', 'index.lock'), '');
    const res = await commit(work);
    expect(res.exitCode).toBe(1);
    expect(res.stderr).toContain('GIT_LOCKED');
    expect(sh(work, 'rev-list', '--count', 'HEAD').trim()).toBe('1');
    expect(existsSync(join(work, 'openstack-update'))).toBe(false);
  });

  it('still refuses a real edit of our folder, naming the file', async () => {
    const { work } = newRepo({ push: false });
    expect((await commit(work)).exitCode).toBe(0);
    writeFileSync(join(work, 'openstack-update', 'kustomization.yaml'), 'resources: [evil.yaml]\n');
    const res = await commit(work);
    expect(res.exitCode).toBe(1);
    expect(res.stderr).toContain('GIT_DIRTY');
    expect(res.stderr).toContain('openstack-update/kustomization.yaml (modified)');
  });

  it('a push refused by the remote policy or to a missing remote leaves the branch as it was', async () => {
    const { work, bare } = newRepo();
    hook(bare, 'pre-receive', 'echo "policy: pushes to main need a pull request" >&2; exit 1', true);
    const before = sh(work, 'rev-parse', 'HEAD');
    const refused = await commit(work, '--push');
    expect(refused.exitCode).toBe(1);
    expect(refused.stderr).toContain('GIT_PUSH_REFUSED');
    expect(refused.stderr).toContain('policy: pushes to main need a pull request');
    expect(sh(work, 'rev-parse', 'HEAD')).toBe(before);
    expect(sh(work, 'status', '--porcelain', '--untracked-files=all')).toBe('');
    const missing = await commit(work, '--push', 'nowhere');
    expect(missing.exitCode).toBe(2);
    expect(missing.stderr).toContain('GIT_REMOTE_INVALID');
    expect(sh(work, 'rev-parse', 'HEAD')).toBe(before);
  });
});
