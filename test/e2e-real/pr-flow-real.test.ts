/**
 * `advance --pull-request` against a real Gitea (test/e2e-real/gitea.ts): the example update runs
 * through pull requests that Gitea itself merges with each method, the phases are found on main
 * by their trailers, and each gate's verdict is a commit status Gitea holds. The cluster is a
 * snapshot that shows what main holds (as in test/advance/pull-request.test.ts); in
 * pr-flow-cluster-real.test.ts the real API server, operator and agent play it.
 *
 * The push authenticates through a global Git config file outside every repository (the tool's
 * sealed git keeps GIT_CONFIG_GLOBAL): the token is never in the repository's own config.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { pullRequestStep, type PullRequestStepOptions } from '../../src/advance/pull-request.js';
import { loadUpdate } from '../../src/cli/inputs.js';
import { createGiteaForge } from '../../src/forge/gitea.js';
import type { MergeMethod } from '../../src/forge/types.js';
import type { ClusterSnapshot } from '../../src/status/snapshot.js';
import { sh, TEST_DATE } from '../helpers/git-repo.js';
import { clusterAfterPhasesOn } from '../helpers/snapshots.js';
import { describeNeeding } from './describe-real.js';
import { GITEA_NEED, startGitea, type Gitea } from './gitea.js';

const io = { cwd: process.cwd(), stdout: () => {}, stderr: () => {}, color: false };
const update = loadUpdate({ example: true }, io);
const plan = update.plan;

/** Phase trailers on `ref` of `dir`, newest first. */
const phasesOn = (dir: string, ref: string) =>
  sh(dir, 'log', '--format=%(trailers:key=Osv-Update-Phase,valueonly)', ref)
    .split('\n')
    .map((s) => s.trim())
    .filter(Boolean);

/** The cluster once Gitea's main is applied: each phase merged there has run to its end. */
function clusterOf(work: string): ClusterSnapshot {
  sh(work, 'fetch', '--quiet', 'origin', 'main');
  const agentSha = sh(work, 'rev-parse', 'refs/remotes/origin/main').trim();
  return clusterAfterPhasesOn(plan, work, agentSha);
}

describeNeeding('advance --pull-request against a real Gitea', [GITEA_NEED], () => {
  let gitea: Gitea;
  let scratch: string;
  const timings: string[] = [];

  beforeAll(async () => {
    gitea = await startGitea();
    scratch = mkdtempSync(join(tmpdir(), 'osv-prflow-'));
    // the token for pushes, in a global config outside every repository
    const globalConfig = join(scratch, 'gitconfig');
    writeFileSync(globalConfig, `[http "${gitea.webUrl}"]\n\textraHeader = Authorization: token ${gitea.token}\n`, { mode: 0o600 });
    process.env['GIT_CONFIG_GLOBAL'] = globalConfig;
    process.env['GIT_AUTHOR_NAME'] = process.env['GIT_COMMITTER_NAME'] = 'osv-gitops test';
    process.env['GIT_AUTHOR_EMAIL'] = process.env['GIT_COMMITTER_EMAIL'] = 'test@osv-gitops.invalid';
  }, 300_000);

  afterAll(async () => {
    await gitea?.stop();
    if (scratch) rmSync(scratch, { recursive: true, force: true });
    console.log(timings.join('\n'));
  }, 60_000);

  async function setUp(method: MergeMethod) {
    const repo = await gitea.createRepo(`update-${method}`);
    const work = join(scratch, method);
    sh(scratch, 'init', '--quiet', '--initial-branch=main', work);
    writeFileSync(join(work, 'README.md'), 'gitops\n');
    sh(work, 'add', 'README.md');
    execFileSync('git', ['commit', '--quiet', '-m', 'init', '--date', TEST_DATE], { cwd: work, env: { ...process.env, GIT_COMMITTER_DATE: TEST_DATE } });
    sh(work, 'remote', 'add', 'origin', repo.cloneUrl);
    sh(work, 'push', '--quiet', 'origin', 'main');
    await gitea.waitForFirstPush(repo.name);
    const forge = createGiteaForge({ kind: 'gitea', apiUrl: gitea.apiUrl, repository: { owner: gitea.owner, name: repo.name }, token: gitea.token });
    const opts: PullRequestStepOptions = { repo: work, engine: 'flux', remote: 'origin', date: TEST_DATE, forge, readSnapshot: async () => clusterOf(work) };
    return { work, forge, opts };
  }

  for (const method of ['merge', 'squash', 'rebase'] as const) {
    it(`runs the whole example update through pull requests Gitea merges with ${method}`, async () => {
      const t0 = performance.now();
      const { work, forge, opts } = await setUp(method);
      const checkout = { head: sh(work, 'rev-parse', 'HEAD'), branches: sh(work, 'branch', '--list') };
      const opened: string[] = [];
      let last;
      for (let step = 0; step < 12; step++) {
        last = await pullRequestStep(update, opts);
        if (last.outcome !== 'waiting') break;
        const pr = last.pullRequest!;
        expect(pr.action).toBe('opened');
        expect(last.exitCode).toBe(3);
        // a second step while it is open: the same pull request, nothing pushed
        const again = await pullRequestStep(update, opts);
        expect(again.pullRequest).toMatchObject({ number: pr.number, action: 'unchanged' });
        expect(again.pushed).toBe(0);
        opened.push((await forge.getPullRequest(pr.number)).title);
        const merged = await forge.mergePullRequest(pr.number, method);
        expect(merged.state).toBe('merged');
      }
      expect(last!.outcome).toBe('done');
      expect(last!.exitCode).toBe(0);
      expect(opened).toEqual([
        `phase 1 of 5: ovn-controlplane (${plan.versions.deployed} -> ${plan.versions.target})`,
        `phase 2 of 5: ovn-dataplane (${plan.versions.deployed} -> ${plan.versions.target})`,
        `phase 4 of 5: dataplane (${plan.versions.deployed} -> ${plan.versions.target})`,
      ]);
      sh(work, 'fetch', '--quiet', 'origin', 'main');
      expect(phasesOn(work, 'refs/remotes/origin/main')).toEqual(['4 dataplane', '2 ovn-dataplane', '1 ovn-controlplane']);
      // each gate's verdict, held by Gitea, on the phase commit on main that started it
      const commitOf = (n: string) => sh(work, 'log', '--format=%H', '--grep', `Osv-Update-Phase: ${n}`, 'refs/remotes/origin/main').trim().split('\n')[0]!;
      const verdicts = async (n: string) => Object.fromEntries((await forge.listCommitStatuses(commitOf(n))).map((s) => [s.context, s.state]));
      expect(await verdicts('1 ovn-controlplane')).toEqual({ 'osv-gitops/ovn-controlplane': 'success' });
      expect(await verdicts('2 ovn-dataplane')).toEqual({ 'osv-gitops/ovn-dataplane': 'success', 'osv-gitops/controlplane': 'success' });
      expect(await verdicts('4 dataplane')).toEqual({ 'osv-gitops/dataplane': 'success', 'osv-gitops/complete': 'success' });
      // the user's checkout never moved, and its config never held the token
      expect(sh(work, 'rev-parse', 'HEAD')).toBe(checkout.head);
      expect(sh(work, 'branch', '--list')).toBe(checkout.branches);
      expect(sh(work, 'config', '--list', '--local')).not.toContain(gitea.token);
      timings.push(`${method}: ${Math.round(performance.now() - t0)} ms`);
    }, 300_000);
  }
});
