/**
 * advance with phase 0, against a real repository and scripted snapshots: the Subscription commit
 * first, then `--approve-installplan` approving exactly the plan's InstallPlan (once, and never
 * one that bundles another CSV), and the first phase after it carrying the InstallPlan's name.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { advanceOnce } from '../../src/advance/advance.js';
import { loadUpdate } from '../../src/cli/inputs.js';
import { OsvError } from '../../src/errors.js';
import type { InstallPlanSummary } from '../../src/olm/gate.js';
import type { ClusterSnapshot } from '../../src/status/snapshot.js';
import { newRepo, sealGitEnv, sh, TEST_DATE } from '../helpers/git-repo.js';
import { clusterAt } from '../helpers/snapshots.js';
import { SUBSCRIPTION } from './phase0-fixtures.js';

const io = { cwd: process.cwd(), stdout: () => {}, stderr: () => {}, color: false };
const csvObject = parse(readFileSync('fixtures/example/csv.yaml', 'utf8')) as Record<string, unknown>;

function setup() {
  const r = newRepo();
  mkdirSync(join(r.work, 'operators'));
  writeFileSync(join(r.work, 'operators', 'subscription.yaml'), SUBSCRIPTION);
  sh(r.work, 'add', 'operators/subscription.yaml');
  sh(r.work, '-c', 'user.name=t', '-c', 'user.email=t@example.invalid', 'commit', '--quiet', '-m', 'the operator');
  sh(r.work, 'push', '--quiet', 'origin', 'main');
  const update = loadUpdate({ example: true, subscription: join(r.work, 'operators', 'subscription.yaml') }, io);
  return { r, update, plan: update.plan };
}

const installPlan = (csvs: string[], approved: boolean) => ({
  metadata: { name: 'install-q7x2k', namespace: 'openstack-operators', resourceVersion: '41', creationTimestamp: '2026-11-25T08:00:30Z' },
  spec: { clusterServiceVersionNames: csvs, approval: 'Manual', approved },
  status: { phase: approved ? 'Complete' : 'RequiresApproval' },
});

/** The cluster in phase 0: the old operator announces the deployed version until OLM installed the CSV. */
function olmAt(plan: ReturnType<typeof setup>['plan'], agentSha: string, ip: ReturnType<typeof installPlan>, installed: boolean): ClusterSnapshot {
  const base = clusterAt(plan, { targetApplied: false, trueConditions: [], agentSha });
  const osv = base.openStackVersions[0]!;
  const available = installed ? plan.versions.target : plan.versions.deployed;
  return {
    ...base,
    openStackVersions: [{ ...osv, status: { ...(osv['status'] as object), availableVersion: available } }],
    csvs: installed ? [{ ...csvObject, status: { phase: 'Succeeded' } }] : [],
    installPlans: [ip],
  };
}

const trailer = (dir: string, key: string) => sh(dir, 'log', '-1', `--format=%(trailers:key=${key},valueonly)`).trim();

describe('advance --approve-installplan', () => {
  beforeAll(sealGitEnv);

  it('commits phase 0, approves exactly its InstallPlan once, and names it on the next phase commit', async () => {
    const { r, update, plan } = setup();
    const approvals: InstallPlanSummary[] = [];
    const approveInstallPlan = async (ip: InstallPlanSummary) => void approvals.push(ip);
    const common = { repo: r.work, engine: 'flux' as const, remote: 'origin', date: TEST_DATE, approveInstallPlan };

    const first = await advanceOnce(update, { ...common, readSnapshot: async () => clusterAt(plan, { targetApplied: false, trueConditions: [] }) });
    expect(first.committed?.phase).toBe('operator');
    const sha = sh(r.work, 'rev-parse', 'HEAD').trim();

    const pending = installPlan(['openstack-operator.v18.0.4'], false);
    const waiting = await advanceOnce(update, { ...common, readSnapshot: async () => olmAt(plan, sha, pending, false) });
    expect(waiting.outcome).toBe('waiting');
    expect(waiting.approvedInstallPlan).toEqual({ name: 'install-q7x2k', namespace: 'openstack-operators', csvs: ['openstack-operator.v18.0.4'] });
    expect(approvals.map((a) => [a.name, a.resourceVersion])).toEqual([['install-q7x2k', '41']]);

    const done = await advanceOnce(update, { ...common, readSnapshot: async () => olmAt(plan, sha, installPlan(['openstack-operator.v18.0.4'], true), true) });
    expect(done.outcome, done.status.reason).toBe('advanced');
    expect(done.committed?.phase).toBe('ovn-controlplane');
    expect(trailer(r.work, 'Osv-Update-Approved-InstallPlan')).toBe('install-q7x2k');
    expect(trailer(r.work, 'Osv-Update-Phase')).toBe('2 ovn-controlplane');
    expect(approvals).toHaveLength(1);
  });

  it('never calls the approval for a plan bundling another CSV, and waits when the plan changed under it', async () => {
    const { r, update, plan } = setup();
    let calls = 0;
    const common = { repo: r.work, engine: 'flux' as const, remote: 'origin', date: TEST_DATE };
    await advanceOnce(update, { ...common, readSnapshot: async () => clusterAt(plan, { targetApplied: false, trueConditions: [] }) });
    const sha = sh(r.work, 'rev-parse', 'HEAD').trim();
    const bundled = await advanceOnce(update, {
      ...common,
      approveInstallPlan: async () => void calls++,
      readSnapshot: async () => olmAt(plan, sha, installPlan(['openstack-operator.v18.0.4', 'metallb-operator.v4.18.0'], false), false),
    });
    expect(bundled.outcome).toBe('waiting');
    expect(calls).toBe(0);
    expect(bundled.status.reason).toMatch(/would also install metallb-operator\.v4\.18\.0/);

    const changed = await advanceOnce(update, {
      ...common,
      approveInstallPlan: () => Promise.reject(new OsvError('CLUSTER_UNAVAILABLE', 'InstallPlan install-q7x2k changed since it was read (test failed); nothing was approved')),
      readSnapshot: async () => olmAt(plan, sha, installPlan(['openstack-operator.v18.0.4'], false), false),
    });
    expect(changed.outcome).toBe('waiting');
    expect(changed.approvedInstallPlan).toBeUndefined();
  });
});
