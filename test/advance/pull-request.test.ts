/**
 * The pull-request flow against real repositories (a bare "remote" and a clone) and the GitHub
 * stand-in whose every request and response is checked against GitHub's OpenAPI description. The
 * stand-in merges as GitHub does (merge commit, squash with the description, rebase with new SHAs)
 * by moving the bare repository's main; the cluster is a snapshot that shows what main holds.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { pullRequestStep, type PullRequestStepOptions } from '../../src/advance/pull-request.js';
import { watchUpdate } from '../../src/advance/watch.js';
import { pullRequestOptions } from '../../src/cli/advance.js';
import { loadUpdate } from '../../src/cli/inputs.js';
import { createGitHubForge } from '../../src/forge/github.js';
import type { MergeMethod } from '../../src/forge/types.js';
import type { InstallPlanSummary } from '../../src/olm/gate.js';
import type { ClusterSnapshot } from '../../src/status/snapshot.js';
import { GitHubStandIn } from '../forge/github-standin.js';
import { newRepo, sealGitEnv, sh, TEST_DATE, type TestRepo } from '../helpers/git-repo.js';
import { clusterAfterPhasesOn } from '../helpers/snapshots.js';
import { SUBSCRIPTION } from '../olm/phase0-fixtures.js';

const io = { cwd: process.cwd(), stdout: () => {}, stderr: () => {}, color: false };
const update = loadUpdate({ example: true }, io);
const plan = update.plan;
const TOKEN = 'ghp_prflow_test_token_0123456789';

/** Phase ids committed on the bare repository's main, newest first. */
const phasesOn = (dir: string, ref = 'main') =>
  sh(dir, 'log', '--format=%(trailers:key=Osv-Update-Phase,valueonly)', ref)
    .split('\n')
    .map((s) => s.trim())
    .filter(Boolean);

/**
 * The cluster as the agent and the operator leave it once main is applied: each phase merged on
 * main has run to its end. `appliedSha` stands for an agent that has not caught up yet.
 */
function clusterOf(r: TestRepo, appliedSha?: string): ClusterSnapshot {
  const agentSha = appliedSha ?? sh(r.bare, 'rev-parse', 'main').trim();
  return clusterAfterPhasesOn(plan, r.bare, agentSha);
}

function isAncestor(dir: string, sha: string, ref: string): boolean {
  try {
    sh(dir, 'merge-base', '--is-ancestor', sha, ref);
    return true;
  } catch {
    return false;
  }
}

const hubs: GitHubStandIn[] = [];
afterEach(async () => {
  for (const h of hubs.splice(0)) {
    expect(h.violations).toEqual([]);
    await h.stop();
  }
});

async function setUp() {
  const r = newRepo();
  const hub = await new GitHubStandIn(r.bare, 'acme', 'gitops', TOKEN).start();
  hubs.push(hub);
  const forge = createGitHubForge({ kind: 'github', apiUrl: hub.url, repository: { owner: 'acme', name: 'gitops' }, token: TOKEN });
  const lines: string[] = [];
  const opts = (extra: Partial<PullRequestStepOptions> = {}): PullRequestStepOptions => ({
    repo: r.work,
    engine: 'flux',
    remote: 'origin',
    date: TEST_DATE,
    forge,
    log: (l) => lines.push(l),
    readSnapshot: async () => clusterOf(r),
    ...extra,
  });
  return { r, hub, forge, opts, lines };
}

describe('advance --pull-request', () => {
  beforeAll(sealGitEnv);

  for (const method of ['merge', 'squash', 'rebase'] as const satisfies readonly MergeMethod[]) {
    it(`runs the whole example update through pull requests merged with ${method}`, async () => {
      const { r, hub, opts } = await setUp();
      const checkout = { head: sh(r.work, 'rev-parse', 'HEAD'), branches: sh(r.work, 'branch', '--list') };
      const opened: string[] = [];
      let last;
      for (let step = 0; step < 12; step++) {
        last = await pullRequestStep(update, opts());
        if (last.outcome !== 'waiting') break;
        const pr = last.pullRequest!;
        expect(pr.action).toBe('opened');
        expect(last.exitCode).toBe(3);
        expect(last.status.reason).toBe(`waiting for pull request #${pr.number} to be merged (${pr.url})`);
        // a second step while it is open: the same pull request, nothing pushed
        const again = await pullRequestStep(update, opts());
        expect(again.pullRequest).toMatchObject({ number: pr.number, action: 'unchanged' });
        expect(again.pushed).toBe(0);
        opened.push(`${hub.pull(pr.number)!.title}`);
        const headSha = sh(r.bare, 'rev-parse', pr.branch).trim();
        const tip = hub.merge(pr.number, method);
        // squash and rebase leave the pull request's own commit off main: only the trailers lead to the phase
        expect(isAncestor(r.bare, headSha, 'main')).toBe(method === 'merge');
        if (method === 'squash') expect(sh(r.bare, 'log', '-1', '--format=%s', tip).trim()).toMatch(/\(#\d+\)$/);
      }
      expect(last!.outcome).toBe('done');
      expect(last!.exitCode).toBe(0);
      expect(opened).toEqual([
        `phase 1 of 5: ovn-controlplane (${plan.versions.deployed} -> ${plan.versions.target})`,
        `phase 2 of 5: ovn-dataplane (${plan.versions.deployed} -> ${plan.versions.target})`,
        `phase 4 of 5: dataplane (${plan.versions.deployed} -> ${plan.versions.target})`,
      ]);
      expect(hub.pullCount).toBe(3);
      expect(phasesOn(r.bare)).toEqual(['4 dataplane', '2 ovn-dataplane', '1 ovn-controlplane']);
      // each gate's verdict on the phase commit on main that started it
      const commitOf = (n: string) => sh(r.bare, 'log', '--format=%H', '--grep', `Osv-Update-Phase: ${n}`, 'main').trim().split('\n')[0]!;
      const verdicts = (sha: string) => Object.fromEntries(hub.statusesOf(sha).map((s) => [s.context, s.state]));
      expect(verdicts(commitOf('1 ovn-controlplane'))).toEqual({ 'osv-gitops/ovn-controlplane': 'success' });
      expect(verdicts(commitOf('2 ovn-dataplane'))).toEqual({ 'osv-gitops/ovn-dataplane': 'success', 'osv-gitops/controlplane': 'success' });
      expect(verdicts(commitOf('4 dataplane'))).toEqual({ 'osv-gitops/dataplane': 'success', 'osv-gitops/complete': 'success' });
      // the user's checkout never moved
      expect(sh(r.work, 'rev-parse', 'HEAD')).toBe(checkout.head);
      expect(sh(r.work, 'branch', '--list')).toBe(checkout.branches);
      expect(sh(r.work, 'status', '--porcelain')).toBe('');
    }, 120_000);
  }

  it('waits for the agent to apply the merged commit before the next pull request, and posts the wait', async () => {
    const { r, hub, opts } = await setUp();
    const first = await pullRequestStep(update, opts());
    const before = sh(r.bare, 'rev-parse', 'main').trim();
    hub.merge(first.pullRequest!.number, 'squash');
    const waiting = await pullRequestStep(update, opts({ readSnapshot: async () => clusterOf(r, before) }));
    expect(waiting.outcome).toBe('waiting');
    expect(waiting.pullRequest).toBeUndefined();
    expect(waiting.status.reason).toContain("the agent's applied revision");
    const merged = sh(r.bare, 'rev-parse', 'main').trim();
    expect(hub.statusesOf(merged).map((s) => [s.context, s.state])).toEqual([['osv-gitops/ovn-controlplane', 'pending']]);
    // the same verdict again is not posted twice
    await pullRequestStep(update, opts({ readSnapshot: async () => clusterOf(r, before) }));
    expect(hub.statusesOf(merged)).toHaveLength(1);
    const next = await pullRequestStep(update, opts());
    expect(next.pullRequest).toMatchObject({ phase: 'ovn-dataplane', action: 'opened' });
    expect(hub.statusesOf(merged).map((s) => s.state)).toEqual(['pending', 'success']);
  }, 60_000);

  it('a failed gate stops the update (exit 1) and is posted as a failure on its phase commit', async () => {
    const { r, hub, opts } = await setUp();
    const first = await pullRequestStep(update, opts());
    const tip = hub.merge(first.pullRequest!.number, 'merge');
    const failing = () => {
      const snap = clusterOf(r);
      const conditions = (snap.openStackVersions[0]!['status'] as { conditions: Record<string, string>[] }).conditions;
      Object.assign(conditions.find((c) => c['type'] === 'MinorUpdateOVNControlplane')!, { status: 'False', reason: 'Error', message: 'OVN controller images do not match' });
      return snap;
    };
    const stopped = await pullRequestStep(update, opts({ readSnapshot: async () => failing() }));
    expect(stopped.outcome).toBe('failed');
    expect(stopped.exitCode).toBe(1);
    const phaseCommit = sh(r.bare, 'log', '--format=%H', '--grep', 'Osv-Update-Phase: 1 ovn-controlplane', tip).trim();
    expect(hub.statusesOf(phaseCommit).map((s) => [s.context, s.state])).toEqual([['osv-gitops/ovn-controlplane', 'failure']]);
    const description = hub.statusesOf(phaseCommit)[0]!.description!;
    expect(description).toMatch(/^phase 1 of 5 ovn-controlplane: .*MinorUpdateOVNControlplane=False \(Error\)/);
    expect(description.length).toBeLessThanOrEqual(140);
    expect(hub.pullCount).toBe(1);
  }, 60_000);

  it('a pull request closed without merging stops the update (exit 1), and no second one is opened', async () => {
    const { hub, opts } = await setUp();
    const first = await pullRequestStep(update, opts());
    hub.close(first.pullRequest!.number);
    const stopped = await pullRequestStep(update, opts());
    expect(stopped.outcome).toBe('failed');
    expect(stopped.exitCode).toBe(1);
    expect(stopped.status.reason).toBe(`pull request #${first.pullRequest!.number} of ovn-controlplane was closed without merging: the update stops here (reopen it to go on)`);
    expect(stopped.pullRequest).toMatchObject({ state: 'closed', action: 'closed' });
    expect(hub.pullCount).toBe(1);
  }, 60_000);

  it('watch with the pull-request step follows each merge to the end of the update', async () => {
    const { r, hub, forge } = await setUp();
    let waits = 0;
    const result = await watchUpdate(update, {
      repo: r.work,
      engine: 'flux',
      remote: 'origin',
      date: TEST_DATE,
      readSnapshot: async () => clusterOf(r),
      step: (inputs, o) => pullRequestStep(inputs, pullRequestOptions(o, forge)),
      // a person reviewing: each wake-up merges the pull request that is open
      nextChange: async () => {
        waits++;
        const open = hub.pull(hub.pullCount);
        if (open?.state === 'open') hub.merge(open.number, 'rebase');
      },
      idleMs: 1,
      timeoutMs: 100_000,
    });
    expect(result.end).toBe('done');
    expect(result.exitCode).toBe(0);
    expect(result.commits).toEqual([]); // nothing was committed to main by osv-gitops itself
    expect(hub.pullCount).toBe(3);
    expect(waits).toBe(3);
    expect(phasesOn(r.bare)).toEqual(['4 dataplane', '2 ovn-dataplane', '1 ovn-controlplane']);
  }, 120_000);

  it('a squash that dropped the trailers stops the update and says how to merge', async () => {
    const { hub, opts } = await setUp();
    const first = await pullRequestStep(update, opts());
    hub.merge(first.pullRequest!.number, 'squash', `${hub.pull(1)!.title} (#1)`);
    const stopped = await pullRequestStep(update, opts());
    expect(stopped.outcome).toBe('failed');
    expect(stopped.status.reason).toMatch(/^pull request #1 of ovn-controlplane was merged, but no commit on main carries its trailers .*merge it keeping the description/);
    expect(hub.pullCount).toBe(1);
  }, 60_000);

  it('after a crash between the push and the pull request, the next step opens it once', async () => {
    const { r, hub, opts } = await setUp();
    await expect(pullRequestStep(update, opts({ afterPush: () => Promise.reject(new Error('killed')) }))).rejects.toThrow('killed');
    const pushed = sh(r.bare, 'rev-parse', 'refs/heads/osv-update/' + plan.versions.target + '/01-ovn-controlplane').trim();
    expect(hub.pullCount).toBe(0);
    // a later run, another commit date: the same tree on the same parent is not pushed again
    const resumed = await pullRequestStep(update, opts({ date: '2026-11-25T09:00:00Z' }));
    expect(resumed.pushed).toBe(0);
    expect(resumed.pullRequest).toMatchObject({ number: 1, action: 'opened' });
    expect(sh(r.bare, 'rev-parse', 'refs/heads/osv-update/' + plan.versions.target + '/01-ovn-controlplane').trim()).toBe(pushed);
    await pullRequestStep(update, opts());
    expect(hub.pullCount).toBe(1);
    // that phase's images, the gate it waits for and how to check it, how to stop, the trailers last
    const body = hub.pull(1)!.body;
    const phase = plan.phases.find((p) => p.id === 'ovn-controlplane')!;
    expect(body).toContain('## Images rolling out in this phase');
    expect(body).toContain(`osv-gitops waits for: ${phase.gate.summary}`);
    expect(body).toMatch(/Check it on the cluster:\n```sh\n.*oc /s);
    expect(body).toContain('## How to stop');
    expect(body).toContain(`osv-gitops opens the pull request of \`osv-update/${plan.versions.target}/02-ovn-dataplane\` itself`);
    expect(body.trimEnd().split('\n\n').at(-1)).toBe(`Osv-Update-Target: ${plan.versions.target}\nOsv-Update-Phase: 1 ovn-controlplane\nOsv-Update-Plan: ${plan.id}`);
  }, 60_000);

  it('when the base moves under an open pull request, its branch is rebuilt on the new tip (forced with a lease) and the same pull request kept', async () => {
    const { r, hub, opts } = await setUp();
    const first = await pullRequestStep(update, opts());
    const branch = first.pullRequest!.branch;
    const old = sh(r.bare, 'rev-parse', branch).trim();
    sh(r.work, '-c', 'user.name=o', '-c', 'user.email=o@example.invalid', 'commit', '--quiet', '--allow-empty', '-m', 'someone else');
    sh(r.work, 'push', '--quiet', 'origin', 'main');
    const again = await pullRequestStep(update, opts());
    expect(again.pushed).toBe(1);
    expect(again.pullRequest).toMatchObject({ number: first.pullRequest!.number });
    expect(sh(r.bare, 'rev-parse', `${branch}^`).trim()).toBe(sh(r.bare, 'rev-parse', 'main').trim());
    expect(sh(r.bare, 'rev-parse', branch).trim()).not.toBe(old);
    expect(hub.pullCount).toBe(1);
  }, 60_000);

  it('a commit status the forge refuses is reported and does not stop a correct step', async () => {
    const { r, hub, opts, lines } = await setUp();
    const first = await pullRequestStep(update, opts());
    hub.merge(first.pullRequest!.number, 'merge');
    hub.failNext = { method: 'POST', path: /\/statuses\//, status: 422, times: 1 };
    const next = await pullRequestStep(update, opts());
    expect(next.statusErrors).toHaveLength(1);
    expect(next.statusErrors[0]).toMatch(/HTTP 422/);
    expect(lines.join('\n')).toMatch(/could not post the gate status/);
    expect(next.pullRequest).toMatchObject({ phase: 'ovn-dataplane', action: 'opened' });
    expect(phasesOn(r.bare)).toEqual(['1 ovn-controlplane']);
  }, 60_000);
});

describe('advance --pull-request --approve-installplan (phase 0)', () => {
  beforeAll(sealGitEnv);

  const CSV = parse(readFileSync('fixtures/example/csv.yaml', 'utf8')) as Record<string, unknown>;
  const PENDING = { metadata: { name: 'install-q7x2k', namespace: 'openstack-operators', resourceVersion: '41' }, spec: { clusterServiceVersionNames: ['openstack-operator.v18.0.4'], approval: 'Manual', approved: false }, status: { phase: 'RequiresApproval' } };

  /** A repository holding the user's Subscription, and the example's plan from phase 0. */
  async function setUpPhase0() {
    const s = await setUp();
    mkdirSync(join(s.r.work, 'operators'));
    writeFileSync(join(s.r.work, 'operators', 'subscription.yaml'), SUBSCRIPTION);
    sh(s.r.work, 'add', 'operators/subscription.yaml');
    sh(s.r.work, '-c', 'user.name=t', '-c', 'user.email=t@example.invalid', 'commit', '--quiet', '-m', 'the operator');
    sh(s.r.work, 'push', '--quiet', 'origin', 'main');
    const op = loadUpdate({ example: true, subscription: join(s.r.work, 'operators', 'subscription.yaml') }, io);
    // OLM as the agent leaves it: an InstallPlan for the target CSV once phase 0's pin is applied,
    // and the new operator announcing the target once the plan is approved
    const approvals: string[] = [];
    const cluster = (): ClusterSnapshot => {
      const main = sh(s.r.bare, 'rev-parse', 'main').trim();
      const base = clusterAfterPhasesOn(op.plan, s.r.bare, main);
      if (!phasesOn(s.r.bare).includes('0 operator')) return { ...base, installPlans: [] };
      if (approvals.length) return { ...base, csvs: [{ ...CSV, status: { phase: 'Succeeded' } }], installPlans: [{ ...PENDING, spec: { ...PENDING.spec, approved: true }, status: { phase: 'Complete' } }] };
      const osv = base.openStackVersions[0]!;
      return { ...base, openStackVersions: [{ ...osv, status: { ...(osv['status'] as object), availableVersion: op.plan.versions.deployed } }], csvs: [], installPlans: [PENDING] };
    };
    const approveInstallPlan = async (ip: InstallPlanSummary) => void approvals.push(`${ip.name}@${ip.resourceVersion}: ${ip.csvs.join(',')}`);
    return { ...s, op, approvals, cluster, approveInstallPlan };
  }

  it('after phase 0 is merged and applied, approves exactly its InstallPlan once and names it on the next pull request (squash keeps it)', async () => {
    const { r, hub, opts, op, approvals, cluster, approveInstallPlan } = await setUpPhase0();
    const step = () => pullRequestStep(op, opts({ readSnapshot: async () => cluster(), approveInstallPlan }));
    const first = await step();
    expect(first.pullRequest).toMatchObject({ phase: 'operator', action: 'opened' });
    expect(approvals).toEqual([]);
    hub.merge(first.pullRequest!.number, 'squash');

    const second = await step();
    expect(approvals).toEqual(['install-q7x2k@41: openstack-operator.v18.0.4']);
    expect(second.approvedInstallPlan).toEqual({ name: 'install-q7x2k', namespace: 'openstack-operators', csvs: ['openstack-operator.v18.0.4'] });
    // the gate passed on the approved plan in the same step: the next phase's pull request carries it
    expect(second.pullRequest, second.status.reason).toMatchObject({ phase: 'ovn-controlplane', action: 'opened' });
    expect(hub.pull(second.pullRequest!.number)!.body.trimEnd().split('\n\n').at(-1)).toMatch(/^Osv-Update-Approved-InstallPlan: install-q7x2k$/m);
    hub.merge(second.pullRequest!.number, 'squash');
    const onMain = sh(r.bare, 'log', '-1', '--format=%(trailers:key=Osv-Update-Approved-InstallPlan,valueonly)', 'main').trim();
    expect(onMain).toBe('install-q7x2k');

    let last = await step();
    for (let i = 0; i < 6 && last.outcome === 'waiting'; i++) {
      hub.merge(last.pullRequest!.number, 'squash');
      last = await step();
    }
    expect(last.outcome, last.status.reason).toBe('done');
    expect(approvals).toHaveLength(1);
    expect(phasesOn(r.bare)).toEqual(['5 dataplane', '3 ovn-dataplane', '2 ovn-controlplane', '0 operator']);
  }, 120_000);

  it('without --approve-installplan, and for a plan bundling another CSV, nothing is approved: phase 0 waits with the reason', async () => {
    const { hub, opts, op, approvals, cluster, approveInstallPlan } = await setUpPhase0();
    const first = await pullRequestStep(op, opts({ readSnapshot: async () => cluster() }));
    hub.merge(first.pullRequest!.number, 'merge');
    const waiting = await pullRequestStep(op, opts({ readSnapshot: async () => cluster() }));
    expect(waiting.outcome).toBe('waiting');
    expect(waiting.status.phase).toBe('operator');
    expect(waiting.pullRequest).toBeUndefined();
    const bundled = (): ClusterSnapshot => ({ ...cluster(), installPlans: [{ ...PENDING, spec: { ...PENDING.spec, clusterServiceVersionNames: ['openstack-operator.v18.0.4', 'metallb-operator.v4.18.0'] } }] });
    const refused = await pullRequestStep(op, opts({ readSnapshot: async () => bundled(), approveInstallPlan }));
    expect(refused.outcome).toBe('waiting');
    expect(refused.status.reason).toMatch(/would also install metallb-operator\.v4\.18\.0/);
    expect(approvals).toEqual([]);
    expect(refused.approvedInstallPlan).toBeUndefined();
    expect(hub.pullCount).toBe(1);
  }, 60_000);
});
