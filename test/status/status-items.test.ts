/** The pure pieces behind issue 10's status items: dedupe, deployments by content, target from Git, dropped conditions. */
import { describe, expect, it } from 'vitest';
import { targetFromGit } from '../../src/cli/status.js';
import type { PhaseCommit } from '../../src/git/trailers.js';
import { resolveDeployment, updateStart } from '../../src/status/deployments.js';
import { dedupeObjects } from '../../src/status/dump.js';
import { evaluateGate } from '../../src/status/gates.js';
import { isoTime, type ClusterSnapshot, type KubeObject } from '../../src/status/snapshot.js';
import { clusterEvidence, updateStatus } from '../../src/status/update-status.js';
import { deploymentObject, osvObject, ovnUpTo, plan, T, OLD, UPDATE_START } from './must-gather.js';

const phase = (id: string) => plan.phases.find((p) => p.id === id)!;
const ovnPlanned = phase('ovn-dataplane').git.deployments[0]!;

function snap(parts: Partial<ClusterSnapshot>): ClusterSnapshot {
  return {
    readAt: '2026-11-25T11:00:00Z',
    namespace: 'openstack',
    source: 'test',
    openStackVersions: [osvObject({ conditions: ovnUpTo('ovn-dataplane') })],
    controlPlanes: [],
    nodeSets: [],
    deployments: [],
    csvs: undefined,
    agent: undefined,
    unread: [],
    ...parts,
  };
}

describe('dedupeObjects', () => {
  const live = (rv: string, extra: Record<string, unknown> = {}): KubeObject => ({
    apiVersion: 'core.openstack.org/v1beta1',
    kind: 'OpenStackVersion',
    metadata: { name: 'openstack', namespace: 'openstack', uid: 'u1', resourceVersion: rv },
    status: { deployedVersion: OLD, ...extra },
  });
  const manifest = (target: string): KubeObject => ({ apiVersion: 'core.openstack.org/v1beta1', kind: 'OpenStackVersion', metadata: { name: 'openstack', namespace: 'openstack' }, spec: { targetVersion: target } });

  it('keeps one of two reads with the same uid and resourceVersion, even when formatted differently', () => {
    const r = dedupeObjects([{ object: live('1'), from: 'a.yaml' }, { object: live('1', { note: 'managedFields stripped' }), from: 'b.json' }], 'openstack');
    expect(r.objects).toHaveLength(1);
    expect(r.conflicts).toEqual([]);
    expect(r.dropped).toEqual(['OpenStackVersion openstack/openstack: 2 copies']);
  });
  it('lets the live copy win over manifests, and a namespace-less manifest is the same object', () => {
    const noNs = { ...manifest(T), metadata: { name: 'openstack' } };
    const r = dedupeObjects([{ object: manifest(OLD), from: 'p0.yaml' }, { object: live('1'), from: 'dump.yaml' }, { object: noNs, from: 'p1.yaml' }], 'openstack');
    expect(r.objects).toEqual([live('1')]);
    expect(r.dropped[0]).toContain('2 without status ignored');
  });
  it('reports two different live reads as a conflict naming both', () => {
    const r = dedupeObjects([{ object: live('1'), from: 'old/dump.yaml' }, { object: live('2'), from: 'new/dump.yaml' }], 'openstack');
    expect(r.objects).toEqual([]);
    expect(r.conflicts).toEqual([{ object: 'OpenStackVersion openstack/openstack', copies: ['old/dump.yaml (uid u1, resourceVersion 1)', 'new/dump.yaml (uid u1, resourceVersion 2)'] }]);
  });
  it('ignores manifests that disagree, and a deployment known only as a manifest', () => {
    const dep = { apiVersion: 'dataplane.openstack.org/v1beta1', kind: 'OpenStackDataPlaneDeployment', metadata: { name: 'x' }, spec: { nodeSets: ['a'] } };
    const r = dedupeObjects([{ object: manifest(OLD), from: 'p0.yaml' }, { object: manifest(T), from: 'p1.yaml' }, { object: dep, from: 'p2.yaml' }], 'openstack');
    expect(r.objects).toEqual([]);
    expect(r.conflicts).toEqual([]);
    expect(r.ignored.map((i) => i.object)).toEqual(['OpenStackVersion openstack/openstack', 'OpenStackDataPlaneDeployment openstack/x']);
  });
  it('keeps objects of other namespaces and kinds apart', () => {
    const other = { ...live('1'), metadata: { name: 'openstack', namespace: 'other', uid: 'u2', resourceVersion: '1' } };
    expect(dedupeObjects([{ object: live('1'), from: 'a' }, { object: other, from: 'b' }], 'openstack').objects).toHaveLength(2);
  });
});

describe('isoTime', () => {
  it('accepts RFC 3339 and refuses what Date.parse would half-accept', () => {
    expect(isoTime('2026-11-25T10:00:00Z')).toBe('2026-11-25T10:00:00.000Z');
    expect(isoTime('2026-11-25T12:00:00+02:00')).toBe('2026-11-25T10:00:00.000Z');
    for (const bad of ['not-a-date', '1', '2026-13-45T99:99:99Z', '', 12, undefined]) expect(isoTime(bad)).toBeUndefined();
  });
});

describe('resolveDeployment', () => {
  const since = UPDATE_START;
  it('prefers our name and does not look further', () => {
    const mine = deploymentObject({ name: ovnPlanned.name, services: ['ovn'], state: 'running' });
    const hand = deploymentObject({ name: 'osv-ovn', services: ['ovn'], state: 'deployed' });
    const r = resolveDeployment(snap({ deployments: [hand, mine] }), ovnPlanned, 'ovn-dataplane', T, { byContent: true, since });
    expect(r.standIns.map((d) => [d.name, d.byContent])).toEqual([[ovnPlanned.name, false]]);
  });
  it('finds none by content when only names count (a repository holds our names)', () => {
    const hand = deploymentObject({ name: 'osv-ovn', services: ['ovn'], state: 'deployed' });
    expect(resolveDeployment(snap({ deployments: [hand] }), ovnPlanned, 'ovn-dataplane', T, { byContent: false, since }).standIns).toEqual([]);
  });
  it('takes an empty servicesOverride as the nodeset services (which run ovn by default)', () => {
    const full = deploymentObject({ name: 'full-redeploy', services: [], state: 'running' });
    const r = resolveDeployment(snap({ deployments: [full] }), ovnPlanned, 'ovn-dataplane', T, { byContent: true, since });
    expect(r.standIns.map((d) => d.name)).toEqual(['full-redeploy']);
    const noOvn = { ...full, metadata: { name: 'full-redeploy' } };
    const nodeSets: KubeObject[] = ovnPlanned.nodeSets.map((n) => ({ kind: 'OpenStackDataPlaneNodeSet', metadata: { name: n }, spec: { services: ['bootstrap', 'nova'] } }));
    expect(resolveDeployment(snap({ deployments: [noOvn], nodeSets }), ovnPlanned, 'ovn-dataplane', T, { byContent: true, since }).standIns).toEqual([]);
  });
  it('counts a finished deployment only when it finished at our target', () => {
    const old = deploymentObject({ name: 'ovn-old', services: ['ovn'], state: 'deployed', created: '2026-09-01T00:00:00Z', patch: (o) => ((o['status'] as Record<string, unknown>)['deployedVersion'] = OLD) });
    const r = resolveDeployment(snap({ deployments: [old] }), ovnPlanned, 'ovn-dataplane', T, { byContent: true, since });
    expect(r.standIns).toEqual([]);
    expect(r.uncovered).toEqual(ovnPlanned.nodeSets);
  });
  it('reports the nodesets no deployment covers', () => {
    const half = deploymentObject({ name: 'ovn-a', services: ['ovn'], nodeSets: ['compute-a'], state: 'deployed' });
    const r = resolveDeployment(snap({ deployments: [half] }), ovnPlanned, 'ovn-dataplane', T, { byContent: true, since });
    expect(r.standIns.map((d) => [d.name, d.covers])).toEqual([['ovn-a', ['compute-a']]]);
    expect(r.uncovered).toEqual(['compute-b']);
  });
});

describe('updateStart', () => {
  it('is the earliest MinorUpdate condition of the live target, or the commit when earlier', () => {
    const osv = osvObject({ conditions: ovnUpTo('ovn-dataplane') });
    expect(updateStart(osv, T, undefined)).toBe('2026-11-25T10:00:00.000Z');
    expect(updateStart(osv, T, '2026-11-25T09:00:00Z')).toBe('2026-11-25T09:00:00.000Z');
    expect(updateStart(osv, 'other', undefined)).toBeUndefined();
    expect(updateStart(osvObject({ conditions: ovnUpTo('ovn-dataplane'), conditionTime: 'not-a-date' }), T, undefined)).toBeUndefined();
  });
});

describe('gates on what the operator really leaves behind', () => {
  const done = (deployed: string) =>
    osvObject({ deployed, conditions: { Ready: 'True' } });
  const allCommitted = { commits: Object.fromEntries(plan.phases.filter((p) => p.git.changes).map((p) => [p.id, { sha: `cluster:${p.id}`, date: '' }])), ancestry: {} };
  it('passes MinorUpdate* gates once they are dropped at deployedVersion = target, and only then', () => {
    const v = evaluateGate({ snapshot: snap({ openStackVersions: [done(T)] }), git: allCommitted, target: T, phase: phase('controlplane') });
    expect(v.verdict).toBe('passed');
    expect(v.checks.find((c) => c.check.kind === 'condition')?.detail).toContain('dropped');
    const midway = evaluateGate({ snapshot: snap({ openStackVersions: [done(OLD)] }), git: allCommitted, target: T, phase: phase('controlplane') });
    expect(midway.verdict).toBe('waiting');
    expect(midway.reason).toContain('MinorUpdateControlplane missing');
  });
  it('an Error condition still fails even when another stage is Gated', () => {
    const osv = osvObject({ conditions: { ...ovnUpTo('controlplane'), MinorUpdateControlplane: ['False', 'Error', 'error occured boom'], MinorUpdateDataplane: ['False', 'Gated'] } });
    const v = evaluateGate({ snapshot: snap({ openStackVersions: [osv] }), git: allCommitted, target: T, phase: phase('controlplane') });
    expect(v.verdict).toBe('failed');
  });
  it('without the OpenStackVersion nothing is evidence, so nothing is passed', () => {
    const dep = deploymentObject({ name: ovnPlanned.name, services: ['ovn'], state: 'deployed' });
    const s = snap({ openStackVersions: [], unread: ['OpenStackVersion'], deployments: [dep] });
    expect(clusterEvidence(plan, s).commits).toEqual({});
    const st = updateStatus(plan, s, clusterEvidence(plan, s), 'cluster');
    expect(st.gates.filter((g) => g.verdict === 'passed')).toEqual([]);
  });
  it('a later deployment run too early does not carry the update past an unfinished operator step', () => {
    const early = deploymentObject({ name: 'upd', services: ['update'], state: 'running' });
    const s = snap({ deployments: [early] });
    const st = updateStatus(plan, s, clusterEvidence(plan, s), 'cluster');
    expect(Object.keys(clusterEvidence(plan, s).commits)).toContain('dataplane');
    expect(st.phase).toBe('ovn-dataplane');
  });
});

describe('targetFromGit', () => {
  const commit = (target: string, phaseId = 'ovn-controlplane'): PhaseCommit => ({ sha: 'a'.repeat(40), target, phase: phaseId, index: 1, plan: 'p' });
  const withLive = (target: string) => snap({ openStackVersions: [osvObject({ target })] });
  it('takes --target first, then the newest phase commit', () => {
    expect(targetFromGit('9.9.9', [commit(T)], withLive(OLD))).toEqual({ target: '9.9.9', warnings: [] });
    expect(targetFromGit(undefined, [commit(T), commit(OLD)], withLive(OLD))).toEqual({ target: T, warnings: [] });
    expect(targetFromGit(undefined, [], withLive(OLD))).toEqual({ target: undefined, warnings: [] });
  });
  it('shows a newer live target, saying the commits are for an older update', () => {
    const r = targetFromGit(undefined, [commit(OLD)], withLive(T));
    expect(r.target).toBeUndefined();
    expect(r.warnings[0]).toContain(`older than the live spec.targetVersion ${T}`);
  });
});
