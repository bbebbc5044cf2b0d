import { describe, expect, it } from 'vitest';
import { loadUpdate } from '../../src/cli/inputs.js';
import type { UpdatePlan } from '../../src/plan/types.js';
import { ancestryKey, evaluateGate, type GitView } from '../../src/status/gates.js';
import type { ClusterSnapshot, KubeObject } from '../../src/status/snapshot.js';
import { clusterEvidence, updateStatus } from '../../src/status/update-status.js';

const io = { cwd: process.cwd(), stdout: () => {}, stderr: () => {}, color: false };
const plan: UpdatePlan = loadUpdate({ example: true }, io).plan;
const T = plan.versions.target;
const OLD = plan.versions.deployed;
const phase = (id: string) => plan.phases.find((p) => p.id === id)!;

function cond(type: string, status: string, reason = status === 'True' ? 'Ready' : 'Requested', extra: Record<string, unknown> = {}) {
  return { type, status, reason, message: status === 'True' ? 'completed' : 'in progress', lastTransitionTime: '2026-11-25T10:00:00Z', ...extra };
}

function osv(opts: { target?: string; gen?: number; observed?: number; conditions?: object[]; deployed?: string } = {}): KubeObject {
  return {
    apiVersion: 'core.openstack.org/v1beta1',
    kind: 'OpenStackVersion',
    metadata: { name: plan.openStackVersion, namespace: plan.namespace, generation: opts.gen ?? 2 },
    spec: { targetVersion: opts.target ?? T },
    status: { observedGeneration: opts.observed ?? opts.gen ?? 2, availableVersion: T, deployedVersion: opts.deployed ?? OLD, conditions: opts.conditions ?? [] },
  };
}

function deployment(name: string, state: 'running' | 'deployed' | 'failed'): KubeObject {
  const ready =
    state === 'deployed' ? cond('Ready', 'True') : state === 'failed' ? cond('Ready', 'False', 'BackoffLimitExceeded', { severity: 'Error', message: 'job failed' }) : cond('Ready', 'False');
  const dr = state === 'failed' ? cond('DeploymentReady', 'False', 'BackoffLimitExceeded', { severity: 'Error', message: 'job failed' }) : { ...ready, type: 'DeploymentReady' };
  return {
    kind: 'OpenStackDataPlaneDeployment',
    metadata: { name, generation: 1, creationTimestamp: '2026-11-25T10:00:00Z' },
    status: { observedGeneration: 1, deployed: state === 'deployed', conditions: [ready, dr] },
  };
}

function nodeset(name: string, version: string, gen = 1, observed = 1): KubeObject {
  return { kind: 'OpenStackDataPlaneNodeSet', metadata: { name, generation: gen }, status: { observedGeneration: observed, deployedVersion: version, conditions: [cond('Ready', 'True')] } };
}

const SHA1 = 'a'.repeat(40);
const SHA2 = 'b'.repeat(40);

function flux(revision: string | undefined, readyGen = 1): ClusterSnapshot['agent'] {
  return {
    engine: 'flux',
    namespace: 'flux-system',
    name: 'openstack',
    object: {
      metadata: { name: 'openstack', generation: 1 },
      status: { observedGeneration: readyGen, ...(revision ? { lastAppliedRevision: `main@sha1:${revision}` } : {}), conditions: [{ type: 'Ready', status: 'True', reason: 'ReconciliationSucceeded', observedGeneration: readyGen }] },
    },
  };
}

function snap(parts: Partial<ClusterSnapshot>): ClusterSnapshot {
  return {
    readAt: '2026-11-25T10:05:00Z',
    namespace: plan.namespace,
    source: 'test',
    openStackVersions: [osv()],
    controlPlanes: [],
    nodeSets: plan.nodeSets.map((n) => nodeset(n.name, OLD)),
    deployments: [],
    csvs: undefined,
    agent: flux(SHA1),
    unread: [],
    ...parts,
  };
}

const committed = (ids: string[], ancestry: Record<string, boolean> = {}): GitView => ({
  commits: Object.fromEntries(ids.map((id, i) => [id, { sha: i === 0 ? SHA1 : `${String(i)}`.padStart(40, 'c'), date: '2026-11-25T10:00:00Z' }])),
  ancestry,
});

const ovnCp = phase('ovn-controlplane');

describe('a condition counts only on a fresh object that carries our target', () => {
  const git = committed(['ovn-controlplane']);
  it('passes on MinorUpdateOVNControlplane=True with our target and observedGeneration current', () => {
    const v = evaluateGate({ snapshot: snap({ openStackVersions: [osv({ conditions: [cond('MinorUpdateOVNControlplane', 'True')] })] }), git, target: T, phase: ovnCp });
    expect(v.verdict).toBe('passed');
  });
  it('waits when the True condition is left over from the last update (observedGeneration behind)', () => {
    const v = evaluateGate({ snapshot: snap({ openStackVersions: [osv({ gen: 3, observed: 2, conditions: [cond('MinorUpdateOVNControlplane', 'True')] })] }), git, target: T, phase: ovnCp });
    expect(v.verdict).toBe('waiting');
    expect(v.reason).toMatch(/generation is 3, but latest observed generation is 2/);
  });
  it('waits while the live spec still holds the old targetVersion', () => {
    const v = evaluateGate({ snapshot: snap({ openStackVersions: [osv({ target: OLD, conditions: [cond('MinorUpdateOVNControlplane', 'True')] })] }), git, target: T, phase: ovnCp });
    expect(v.verdict).toBe('waiting');
    expect(v.reason).toContain(`live spec.targetVersion is ${OLD}`);
  });
  it('waits on False/Requested and on a missing condition, fails on False/Error', () => {
    const requested = evaluateGate({ snapshot: snap({ openStackVersions: [osv({ conditions: [cond('MinorUpdateOVNControlplane', 'False')] })] }), git, target: T, phase: ovnCp });
    expect(requested.verdict).toBe('waiting');
    expect(requested.reason).toContain('in progress');
    const missing = evaluateGate({ snapshot: snap({}), git, target: T, phase: ovnCp });
    expect(missing.reason).toContain('MinorUpdateOVNControlplane missing');
    const error = evaluateGate({ snapshot: snap({ openStackVersions: [osv({ conditions: [cond('MinorUpdateOVNControlplane', 'False', 'Error', { message: 'error occured boom' })] })] }), git, target: T, phase: ovnCp });
    expect(error.verdict).toBe('failed');
    expect(error.reason).toContain('error occured boom');
  });
});

describe('the agent must have applied our commit (ancestry, not equality)', () => {
  const good = [osv({ conditions: [cond('MinorUpdateOVNControlplane', 'True')] })];
  it('passes when the applied revision is a descendant of our commit', () => {
    const git = committed(['ovn-controlplane'], { [ancestryKey(SHA1, SHA2)]: true });
    expect(evaluateGate({ snapshot: snap({ openStackVersions: good, agent: flux(SHA2) }), git, target: T, phase: ovnCp }).verdict).toBe('passed');
  });
  it('waits when the agent is at an older revision', () => {
    const git = committed(['ovn-controlplane'], { [ancestryKey(SHA1, SHA2)]: false });
    const v = evaluateGate({ snapshot: snap({ openStackVersions: good, agent: flux(SHA2) }), git, target: T, phase: ovnCp });
    expect(v.verdict).toBe('waiting');
    expect(v.reason).toContain('does not contain yet');
  });
  it('waits when the Kustomization has not reconciled its latest generation', () => {
    const agent = flux(SHA1, 0);
    const v = evaluateGate({ snapshot: snap({ openStackVersions: good, agent }), git: committed(['ovn-controlplane']), target: T, phase: ovnCp });
    expect(v.verdict).toBe('waiting');
  });
  it('reports a missing agent as not checked, never passed', () => {
    const v = evaluateGate({ snapshot: snap({ openStackVersions: good, agent: undefined }), git: committed(['ovn-controlplane']), target: T, phase: ovnCp });
    expect(v.verdict).toBe('waiting');
    expect(v.reason).toMatch(/^not checked: /);
    const none = evaluateGate({ snapshot: snap({ openStackVersions: good, agent: undefined, agentNone: true }), git: committed(['ovn-controlplane']), target: T, phase: ovnCp });
    expect(none.verdict).toBe('passed');
  });
  it('trusts Argo CD only after the sync finished and health was reassessed', () => {
    const app = (reconciledAt: string, extra: Record<string, unknown> = {}) => ({
      engine: 'argocd' as const,
      namespace: 'argocd',
      name: 'openstack',
      object: { metadata: { name: 'openstack' }, status: { sync: { status: 'Synced', revision: SHA1 }, reconciledAt, operationState: { phase: 'Succeeded', finishedAt: '2026-11-25T10:01:00Z', syncResult: { revision: SHA1 } }, ...extra } },
    });
    const git = committed(['ovn-controlplane']);
    expect(evaluateGate({ snapshot: snap({ openStackVersions: good, agent: app('2026-11-25T10:00:30Z') }), git, target: T, phase: ovnCp }).reason).toContain('not refreshed');
    expect(evaluateGate({ snapshot: snap({ openStackVersions: good, agent: app('2026-11-25T10:02:00Z') }), git, target: T, phase: ovnCp }).verdict).toBe('passed');
  });
});

describe('deployments and deadlines', () => {
  const ovnDp = phase('ovn-dataplane');
  const dname = ovnDp.git.deployments[0]!.name;
  const good = [osv({ conditions: [cond('MinorUpdateOVNControlplane', 'True'), cond('MinorUpdateOVNDataplane', 'True')] })];
  const git = committed(['ovn-controlplane', 'ovn-dataplane'], { [ancestryKey(`${'1'.padStart(40, 'c')}`, SHA1)]: true });
  it('fails on a failed deployment with the reason', () => {
    const v = evaluateGate({ snapshot: snap({ openStackVersions: good, deployments: [deployment(dname, 'failed')] }), git, target: T, phase: ovnDp });
    expect(v.verdict).toBe('failed');
    expect(v.reason).toContain('BackoffLimitExceeded');
  });
  it('waits while the deployment runs, passes when deployed', () => {
    expect(evaluateGate({ snapshot: snap({ openStackVersions: good, deployments: [deployment(dname, 'running')] }), git, target: T, phase: ovnDp }).verdict).toBe('waiting');
    expect(evaluateGate({ snapshot: snap({ openStackVersions: good, deployments: [deployment(dname, 'deployed')] }), git, target: T, phase: ovnDp }).verdict).toBe('passed');
  });
  it('fails when the deadline passed while still waiting', () => {
    const late = snap({ openStackVersions: good, deployments: [deployment(dname, 'running')], readAt: '2026-11-26T10:00:00Z' });
    const v = evaluateGate({ snapshot: late, git, target: T, phase: ovnDp }, '2026-11-25T10:00:00Z');
    expect(v.verdict).toBe('failed');
    expect(v.reason).toMatch(/^deadline of /);
  });
});

describe('where the update is', () => {
  it('starts at preflight and asks to commit the first phase once preflight passes', () => {
    const s = snap({
      openStackVersions: [osv({ target: OLD })],
      controlPlanes: [{ kind: 'OpenStackControlPlane', metadata: { name: plan.controlPlane, generation: 1 }, status: { observedGeneration: 1, conditions: [cond('Ready', 'True')] } }],
      csvs: [{ metadata: { name: plan.imageSource.csv ?? 'x' }, status: { phase: 'Succeeded' } }],
    });
    const st = updateStatus(plan, s, { commits: {}, ancestry: {} }, 'git');
    expect(st.gates[0]!.verdict).toBe('passed');
    expect(st.next).toEqual({ action: 'commit', phase: 'ovn-controlplane', index: 1 });
    expect(st.phase).toBe('ovn-controlplane');
    expect(st.verdict).toBe('waiting');
  });
  it('never passes preflight on an unread CSV', () => {
    const st = updateStatus(plan, snap({ openStackVersions: [osv({ target: OLD })] }), { commits: {}, ancestry: {} }, 'git');
    expect(st.phase).toBe('preflight');
    expect(st.next.action).toBe('wait');
  });
  it('counts earlier gates as passed once a later phase is committed, and honours --skip-gate', () => {
    const git = committed(['ovn-controlplane', 'ovn-dataplane']);
    const st = updateStatus(plan, snap({}), git, 'git');
    expect(st.gates.slice(0, 2).map((g) => g.verdict)).toEqual(['passed', 'passed']);
    expect(st.phase).toBe('ovn-dataplane');
    const skipped = updateStatus(plan, snap({}), git, 'git', { skipGates: ['ovn-dataplane', 'controlplane'] });
    expect(skipped.skippedGates).toEqual(['ovn-dataplane', 'controlplane']);
    expect(skipped.next).toMatchObject({ action: 'commit', phase: 'dataplane' });
  });
  it('reports complete with verdict passed only when every gate passed', () => {
    const ids = plan.phases.filter((p) => p.git.changes).map((p) => p.id);
    const done = osv({ deployed: T, conditions: ['MinorUpdateOVNControlplane', 'MinorUpdateOVNDataplane', 'MinorUpdateControlplane', 'MinorUpdateDataplane', 'Ready'].map((t) => cond(t, 'True')) });
    const deps = plan.phases.flatMap((p) => p.git.deployments.map((d) => deployment(d.name, 'deployed')));
    const st = updateStatus(plan, snap({ openStackVersions: [done], deployments: deps, nodeSets: plan.nodeSets.map((n) => nodeset(n.name, T)), agentNone: true, agent: undefined }), committed(ids), 'git');
    expect(st.phase).toBe('complete');
    expect(st.verdict).toBe('passed');
    expect(st.next.action).toBe('done');
  });
  it('without a repository takes what the cluster shows as the phase commits', () => {
    const ovnName = phase('ovn-dataplane').git.deployments[0]!.name;
    const ev = clusterEvidence(plan, snap({ deployments: [deployment(ovnName, 'running')] }));
    expect(Object.keys(ev.commits).sort()).toEqual(['ovn-controlplane', 'ovn-dataplane']);
  });
});
