/**
 * Phase 0 `operator` in the plan: opt-in with --subscription. With it the plan starts with the OLM
 * upgrade of the operator and every other phase moves down one place in the one numbering;
 * without it the plan is what it always was.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { evaluateGate } from '../../src/status/gates.js';
import { clusterEvidence, updateStatus } from '../../src/status/update-status.js';
import type { ClusterSnapshot } from '../../src/status/snapshot.js';
import { runCli } from '../helpers/cli.js';
import type { UpdatePlan } from '../../src/plan/types.js';
import { SUBSCRIPTION } from './phase0-fixtures.js';


function subscriptionFile(text = SUBSCRIPTION): string {
  const dir = mkdtempSync(join(tmpdir(), 'osv-phase0-'));
  writeFileSync(join(dir, 'subscription.yaml'), text);
  return join(dir, 'subscription.yaml');
}

async function planJson(args: string[]): Promise<UpdatePlan> {
  const r = await runCli(['plan', '--example', '--json', ...args], process.cwd());
  expect(r.exitCode, r.stderr + r.stdout).toBe(0);
  return JSON.parse(r.stdout) as UpdatePlan;
}

describe('plan --subscription: phase 0 operator', () => {
  it('starts the plan with the operator phase, and numbers every later phase one higher', async () => {
    const without = await planJson([]);
    const withSub = await planJson(['--subscription', subscriptionFile()]);
    expect(without.operatorUpgrade).toBeUndefined();
    expect(without.phases[0]!.id).toBe('preflight');
    expect(withSub.phases.map((p) => p.id)).toEqual(['operator', ...without.phases.map((p) => p.id)]);
    expect(withSub.phases.map((p) => p.index)).toEqual(withSub.phases.map((_, i) => i));
    expect(withSub.operatorUpgrade).toEqual({ csv: 'openstack-operator.v18.0.4', channel: 'stable-v1.0', subscription: 'openstack-operator', operatorNamespace: 'openstack-operators', fromCsv: 'openstack-operator.v18.0.3' });
    const op = withSub.phases[0]!;
    expect(op.git.changes).toBe(true);
    expect(op.gate.checks.map((c) => c.kind)).toEqual(['agent-applied', 'olm-upgrade', 'field']);
    expect(op.gate.checks[2]).toMatchObject({ path: 'status.availableVersion', value: withSub.versions.target });
    // the rest of the plan is the same phases, the same gates
    expect(withSub.phases.slice(1).map(({ index: _i, ...p }) => p)).toEqual(without.phases.map(({ index: _i, ...p }) => p));
    expect(withSub.id).not.toBe(without.id);
  });

  it('shows the phase table with operator as phase 0', async () => {
    const r = await runCli(['plan', '--example', '--subscription', subscriptionFile()], process.cwd());
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^00 {2}operator /m);
    expect(r.stdout).toMatch(/^01 {2}preflight /m);
  });

  it('a saved plan with phase 0 reads back, and needs its --subscription', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'osv-phase0-plan-'));
    const sub = subscriptionFile();
    const saved = join(dir, 'plan.json');
    const w = await runCli(['plan', '--example', '--subscription', sub, '--output', saved], process.cwd());
    expect(w.exitCode, w.stderr).toBe(0);
    // read back and checked; directories mode renders phase 0 only for an agent that can wait on it
    const r = await runCli(['render', '--plan', saved, '--subscription', sub, '--out', join(dir, 'out'), '--engine', 'plain'], process.cwd());
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toMatch(/directories mode renders phase 0 operator for Argo CD and Flux only; plain has nothing to wait on it/);
    const missing = await runCli(['render', '--plan', saved, '--out', join(dir, 'out2'), '--engine', 'plain'], process.cwd());
    expect(missing.exitCode).toBe(2);
    expect(missing.stderr).toMatch(/--subscription/);
  });

  it('refuses --subscription without the target CSV when no cluster can give it, or a Subscription of another package', async () => {
    // without --csv the CSV comes from the cluster's InstallPlan (test/olm/installplan-csv.test.ts); here there is no kubeconfig
    const osvOnly = await runCli(['plan', '--openstack-version', 'fixtures/example/openstackversion.yaml', '--subscription', subscriptionFile(), '--kubeconfig', 'no-such-kubeconfig'], process.cwd());
    expect(osvOnly.exitCode).toBe(2);
    expect(osvOnly.stderr).toMatch(/--subscription without --csv reads the target CSV from OLM's InstallPlan on the cluster: cannot load the kubeconfig/);
    expect(osvOnly.stderr).toMatch(/--csv FILE \(or --installplan FILE\)/);
    const other = await runCli(['plan', '--example', '--subscription', subscriptionFile(SUBSCRIPTION.replace('  name: openstack-operator\n  channel', '  name: cinder-operator\n  channel'))], process.cwd());
    expect(other.exitCode).toBe(2);
    expect(other.stderr).toMatch(/INPUT_INVALID.*no Subscription of the openstack-operator package/);
  });
});

describe('the phase 0 gate, judged from a snapshot', () => {
  const csvObject = parse(readFileSync('fixtures/example/csv.yaml', 'utf8')) as Record<string, unknown>;
  const installPlan = (csvs: string[], approved: boolean, phase: string) => ({
    apiVersion: 'operators.coreos.com/v1alpha1',
    kind: 'InstallPlan',
    metadata: { name: 'install-abcde', namespace: 'openstack-operators', resourceVersion: '7', creationTimestamp: '2026-11-25T08:00:00Z' },
    spec: { clusterServiceVersionNames: csvs, approval: 'Manual', approved },
    status: { phase },
  });
  const osv = (available: string) => ({ metadata: { name: 'openstack', generation: 1 }, spec: { targetVersion: '18.0.3-1761036417' }, status: { observedGeneration: 1, availableVersion: available } });

  async function judge(snapshot: Partial<ClusterSnapshot>) {
    const plan = await planJson(['--subscription', subscriptionFile()]);
    const phase = plan.phases[0]!;
    const full: ClusterSnapshot = { readAt: '2026-11-25T09:00:00Z', namespace: 'openstack', source: 'test', openStackVersions: [], controlPlanes: [], nodeSets: [], deployments: [], csvs: [], agent: undefined, agentNone: true, unread: [], ...snapshot };
    return evaluateGate({ snapshot: full, git: { commits: { operator: { sha: 'a'.repeat(40), date: '2026-11-25T08:30:00Z' } }, ancestry: {} }, target: plan.versions.target, phase });
  }

  it('is not checked when the InstallPlans were not read, never passed', async () => {
    const v = await judge({ openStackVersions: [osv('18.0.4-1764633600')] });
    expect(v.verdict).toBe('waiting');
    expect(v.reason).toMatch(/^not checked: .*InstallPlan not read/);
  });

  it('waits, naming the other CSV, when the InstallPlan also installs another operator', async () => {
    const v = await judge({ installPlans: [installPlan(['openstack-operator.v18.0.4', 'metallb-operator.v4.18.0'], false, 'RequiresApproval')], openStackVersions: [osv('18.0.3-1761036417')] });
    expect(v.verdict).toBe('waiting');
    expect(v.reason).toMatch(/would also install metallb-operator\.v4\.18\.0/);
  });

  it('asks for advance --approve-installplan when the plan holds exactly the CSV', async () => {
    const v = await judge({ installPlans: [installPlan(['openstack-operator.v18.0.4'], false, 'RequiresApproval')], openStackVersions: [osv('18.0.3-1761036417')] });
    expect(v.verdict).toBe('waiting');
    expect(v.reason).toMatch(/needs-approval: .*advance --approve-installplan/);
  });

  it('passes once approved, the CSV Succeeded and availableVersion is the target; fails on a failed CSV', async () => {
    const succeeded = { ...csvObject, status: { phase: 'Succeeded' } };
    const plans = [installPlan(['openstack-operator.v18.0.4'], true, 'Complete')];
    const lagging = await judge({ installPlans: plans, csvs: [succeeded], openStackVersions: [osv('18.0.3-1761036417')] });
    expect(lagging.verdict).toBe('waiting');
    expect(lagging.reason).toMatch(/available-version-lags/);
    const passed = await judge({ installPlans: plans, csvs: [succeeded], openStackVersions: [osv('18.0.4-1764633600')] });
    expect(passed.verdict, passed.reason).toBe('passed');
    const failed = await judge({ installPlans: plans, csvs: [{ ...csvObject, status: { phase: 'Failed', message: 'install timeout' } }], openStackVersions: [osv('18.0.3-1761036417')] });
    expect(failed.verdict).toBe('failed');
    expect(failed.reason).toMatch(/install timeout/);
  });
});

describe('status --subscription', () => {
  it('starts at phase 0, "phase 0 of N", with InstallPlans among the kinds read', async () => {
    const r = await runCli(['status', '--example', '--subscription', subscriptionFile(), '--from-files', 'fixtures/example', '--json'], process.cwd());
    expect(r.exitCode, r.stderr).toBe(0);
    const s = JSON.parse(r.stdout) as { phase: string; phaseNumber: number; reason: string; unread: string[]; gates: { id: string; verdict: string }[] };
    expect(s.gates[0]!.id).toBe('operator');
    expect(s.phase).toBe('operator');
    expect(s.phaseNumber).toBe(0);
    // without a repository nothing in the dump does phase 0 yet: it is the next step
    expect(s.reason).toBe('phase operator is ready to start (Subscription/openstack-operator startingCSV: openstack-operator.v18.0.4, channel: stable-v1.0, installPlanApproval: Manual)');
    expect(s.unread).not.toContain('InstallPlan');
  });

  it('read from the cluster, an InstallPlan for the target CSV shows phase 0 under way: its gate is shown, not "ready to start"', async () => {
    const plan = await planJson(['--subscription', subscriptionFile()]);
    const snapshot = (installPlans: unknown[]): ClusterSnapshot => ({
      readAt: '2026-11-25T09:00:00Z',
      namespace: 'openstack',
      source: 'cluster test',
      openStackVersions: [{ metadata: { name: 'openstack', generation: 1 }, spec: { targetVersion: '18.0.3-1761036417' }, status: { observedGeneration: 1, availableVersion: '18.0.3-1761036417' } }],
      controlPlanes: [],
      nodeSets: [],
      deployments: [],
      csvs: [],
      installPlans: installPlans as ClusterSnapshot['installPlans'],
      agent: undefined,
      agentNone: true,
      unread: [],
    });
    const forTarget = { metadata: { name: 'install-abcde', namespace: 'openstack-operators', creationTimestamp: '2026-11-25T08:00:00Z' }, spec: { clusterServiceVersionNames: ['openstack-operator.v18.0.4'], approval: 'Manual', approved: false }, status: { phase: 'RequiresApproval' } };
    const forOther = { ...forTarget, metadata: { ...forTarget.metadata, name: 'install-older' }, spec: { ...forTarget.spec, clusterServiceVersionNames: ['openstack-operator.v18.0.3'] } };
    const before = snapshot([forOther]);
    expect(clusterEvidence(plan, before).commits['operator']).toBeUndefined();
    expect(updateStatus(plan, before, clusterEvidence(plan, before), 'cluster').reason).toMatch(/^phase operator is ready to start/);
    const under = snapshot([forOther, forTarget]);
    expect(clusterEvidence(plan, under).commits['operator']).toEqual({ sha: 'cluster:operator', date: '2026-11-25T08:00:00.000Z' });
    const s = updateStatus(plan, under, clusterEvidence(plan, under), 'cluster');
    expect(s.phase).toBe('operator');
    expect(s.reason).toMatch(/needs-approval/);
  });
});
