/**
 * Phase 0 in commits mode, in a real Git repository: the first commit is the user's Subscription
 * edited in place (comments kept) and pinned to the target CSV, nothing else; the later phases
 * write their folder and leave the Subscription pinned.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { newRepo, sealGitEnv, sh, TEST_DATE } from '../helpers/git-repo.js';
import { SUBSCRIPTION } from './phase0-fixtures.js';

function repoWithSubscription() {
  const repo = newRepo();
  mkdirSync(join(repo.work, 'operators'));
  writeFileSync(join(repo.work, 'operators', 'subscription.yaml'), SUBSCRIPTION);
  sh(repo.work, 'add', 'operators/subscription.yaml');
  sh(repo.work, '-c', 'user.name=t', '-c', 'user.email=t@example.invalid', 'commit', '--quiet', '-m', 'the operator');
  return repo;
}

describe('commit --subscription: phase 0 operator', () => {
  beforeAll(sealGitEnv);

  it('commits the pinned Subscription alone as phase 0, then the phases after it', async () => {
    const repo = repoWithSubscription();
    const sub = join(repo.work, 'operators', 'subscription.yaml');
    const first = await runCli(['commit', '--example', '--subscription', sub, '--repo', repo.work, '--date', TEST_DATE, '--json'], repo.work);
    expect(first.exitCode, first.stderr).toBe(0);
    expect((JSON.parse(first.stdout) as { committed: { phase: string }[] }).committed.map((c) => c.phase)).toEqual(['operator']);
    expect(sh(repo.work, 'show', '--name-only', '--format=', 'HEAD').trim()).toBe('operators/subscription.yaml');
    const message = sh(repo.work, 'log', '-1', '--format=%B');
    expect(message).toMatch(/^Osv-Update-Phase: 0 operator$/m);
    const pinned = readFileSync(sub, 'utf8');
    expect(pinned).toBe(
      SUBSCRIPTION.replace('startingCSV: openstack-operator.v18.0.3', 'startingCSV: openstack-operator.v18.0.4').replace('installPlanApproval: Automatic #', 'installPlanApproval: Manual #'),
    );
    // again: nothing to do
    const again = await runCli(['commit', '--example', '--subscription', sub, '--repo', repo.work, '--date', TEST_DATE, '--phase', '0'], repo.work);
    expect(again.exitCode, again.stderr).toBe(0);
    expect(again.stdout).toMatch(/nothing to commit/);

    const rest = await runCli(['commit', '--example', '--subscription', sub, '--repo', repo.work, '--date', TEST_DATE, '--all', '--json'], repo.work);
    expect(rest.exitCode, rest.stderr).toBe(0);
    const phases = sh(repo.work, 'log', '--format=%(trailers:key=Osv-Update-Phase,valueonly)').split('\n').map((l) => l.trim()).filter(Boolean).reverse();
    expect(phases).toEqual(['0 operator', '2 ovn-controlplane', '3 ovn-dataplane', '5 dataplane']);
    expect(readFileSync(sub, 'utf8')).toBe(pinned);
    expect(sh(repo.work, 'status', '--porcelain').trim()).toBe('');
  });

  it('refuses a Subscription outside the repository, writing nothing', async () => {
    const repo = repoWithSubscription();
    const outside = join(repo.base, 'subscription.yaml');
    writeFileSync(outside, SUBSCRIPTION);
    const head = sh(repo.work, 'rev-parse', 'HEAD');
    const r = await runCli(['commit', '--example', '--subscription', outside, '--repo', repo.work, '--date', TEST_DATE], repo.work);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toMatch(/not inside the repository/);
    expect(sh(repo.work, 'rev-parse', 'HEAD')).toBe(head);
  });
});

describe('commit --branch-per-phase --subscription', () => {
  beforeAll(sealGitEnv);

  it('makes phase 0 a branch holding only the pinned Subscription', async () => {
    const repo = repoWithSubscription();
    const sub = join(repo.work, 'operators', 'subscription.yaml');
    const r = await runCli(['commit', '--example', '--subscription', sub, '--repo', repo.work, '--date', TEST_DATE, '--branch-per-phase', '--all', '--json'], repo.work);
    expect(r.exitCode, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as { committed: { phase: string; branch: string }[] };
    expect(out.committed.map((c) => c.phase)).toEqual(['operator', 'ovn-controlplane', 'ovn-dataplane', 'dataplane']);
    const first = out.committed[0]!.branch;
    expect(sh(repo.work, 'diff', '--name-only', 'main', first).trim()).toBe('operators/subscription.yaml');
    expect(sh(repo.work, 'show', `${first}:operators/subscription.yaml`)).toMatch(/startingCSV: openstack-operator\.v18\.0\.4\n/);
    expect(sh(repo.work, 'show', `${out.committed[1]!.branch}:operators/subscription.yaml`)).toMatch(/installPlanApproval: Manual/);
  });
});
