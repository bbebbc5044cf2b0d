/** The gate of the OLM operator upgrade, judged from live objects (pure). */
import { describe, expect, it } from 'vitest';
import { judgeOperatorGate, type OperatorGateInput } from '../../src/olm/gate.js';

const TARGET = 'openstack-operator.v1.0.6';
const OTHER = 'metallb-operator.v4.18.0';

function installPlan(name: string, csvs: string[], opts: { approved?: boolean; phase?: string; created?: string } = {}): Record<string, unknown> {
  return {
    apiVersion: 'operators.coreos.com/v1alpha1',
    kind: 'InstallPlan',
    metadata: { name, namespace: 'openstack-operators', resourceVersion: '42', creationTimestamp: opts.created ?? '2026-11-30T08:00:00Z' },
    spec: { approval: 'Manual', approved: opts.approved ?? false, clusterServiceVersionNames: csvs },
    status: { phase: opts.phase ?? (opts.approved ? 'Installing' : 'RequiresApproval') },
  };
}

function csv(phase: string, release = '18.0.6', message?: string): Record<string, unknown> {
  return {
    apiVersion: 'operators.coreos.com/v1alpha1',
    kind: 'ClusterServiceVersion',
    metadata: { name: TARGET, namespace: 'openstack-operators' },
    spec: {
      install: {
        strategy: 'deployment',
        spec: {
          deployments: [
            {
              name: 'openstack-operator-controller-init',
              spec: { template: { spec: { containers: [{ name: 'operator', env: [{ name: 'OPENSTACK_RELEASE_VERSION', value: release }] }] } } },
            },
          ],
        },
      },
    },
    status: { phase, ...(message ? { message } : {}) },
  };
}

const osv = (available: string | undefined) => ({
  apiVersion: 'core.openstack.org/v1beta1',
  kind: 'OpenStackVersion',
  metadata: { name: 'openstack', namespace: 'openstack' },
  spec: { targetVersion: '18.0.5' },
  status: { deployedVersion: '18.0.5', ...(available ? { availableVersion: available } : {}) },
});

const judge = (over: Partial<OperatorGateInput>) => judgeOperatorGate({ csv: TARGET, installPlans: [], csvObject: undefined, openStackVersion: osv('18.0.5'), ...over });

describe('the operator-upgrade gate', () => {
  it('waits for an InstallPlan that names the target CSV; plans for other CSVs do not count', () => {
    const g = judge({ installPlans: [installPlan('install-old', ['openstack-operator.v1.0.5'], { approved: true, phase: 'Complete' })] });
    expect(g).toMatchObject({ state: 'no-install-plan', verdict: 'waiting', approvable: false, installPlan: undefined });
    expect(g.reason).toContain(TARGET);
  });

  it('a plan with only the target, not approved: approvable', () => {
    const g = judge({ installPlans: [installPlan('install-abc', [TARGET])] });
    expect(g).toMatchObject({ state: 'needs-approval', verdict: 'waiting', approvable: true });
    expect(g.installPlan).toMatchObject({ name: 'install-abc', approved: false, csvs: [TARGET], others: [], unexpected: [] });
  });

  it('a plan with two operators’ CSVs, not approved: listed, and not approvable unless the other is named', () => {
    const plans = [installPlan('install-two', [OTHER, TARGET])];
    const g = judge({ installPlans: plans });
    expect(g).toMatchObject({ state: 'other-csvs', verdict: 'waiting', approvable: false });
    expect(g.installPlan).toMatchObject({ csvs: [OTHER, TARGET], others: [OTHER], unexpected: [OTHER] });
    expect(g.reason).toContain(OTHER);
    expect(g.reason).toContain('--also-csv');

    const named = judge({ installPlans: plans, alsoCsvs: [OTHER] });
    expect(named).toMatchObject({ state: 'needs-approval', approvable: true });
    expect(named.installPlan?.unexpected).toEqual([]);
    expect(named.reason).toContain(`together with ${OTHER}`);
  });

  it('a CSV named with --also-csv that the plan lacks: not exactly what was asked, not approvable', () => {
    const g = judge({ installPlans: [installPlan('install-abc', [TARGET])], alsoCsvs: [OTHER] });
    expect(g).toMatchObject({ state: 'other-csvs', approvable: false });
    expect(g.installPlan?.missing).toEqual([OTHER]);
  });

  it('the newest plan for the CSV is judged; older ones are named', () => {
    const g = judge({
      installPlans: [installPlan('install-old', [TARGET], { created: '2026-11-29T08:00:00Z', phase: 'Failed' }), installPlan('install-new', [TARGET], { created: '2026-11-30T09:00:00Z' })],
    });
    expect(g.installPlan?.name).toBe('install-new');
    expect(g.otherPlans).toEqual(['install-old']);
    expect(g.state).toBe('needs-approval');
  });

  it('a failed plan fails the gate', () => {
    expect(judge({ installPlans: [installPlan('p', [TARGET], { approved: true, phase: 'Failed' })] })).toMatchObject({ state: 'failed', verdict: 'failed' });
  });

  it('approved: waits for the CSV to exist and to succeed; a failed CSV fails', () => {
    const plans = [installPlan('p', [TARGET], { approved: true })];
    expect(judge({ installPlans: plans })).toMatchObject({ state: 'installing', verdict: 'waiting', approvable: false });
    expect(judge({ installPlans: plans, csvObject: csv('Installing') })).toMatchObject({ state: 'installing', verdict: 'waiting', csvPhase: 'Installing' });
    const failed = judge({ installPlans: plans, csvObject: csv('Failed', '18.0.6', 'install strategy failed: deployment not ready') });
    expect(failed).toMatchObject({ state: 'failed', verdict: 'failed', csvPhase: 'Failed' });
    expect(failed.reason).toContain('install strategy failed');
  });

  it('CSV Succeeded but availableVersion lagging: waits, naming both versions', () => {
    const g = judge({ installPlans: [installPlan('p', [TARGET], { approved: true, phase: 'Complete' })], csvObject: csv('Succeeded'), openStackVersion: osv('18.0.5') });
    expect(g).toMatchObject({ state: 'available-version-lags', verdict: 'waiting', releaseVersion: '18.0.6', availableVersion: '18.0.5' });
    expect(g.reason).toMatch(/18\.0\.5.*18\.0\.6/);
    expect(judge({ installPlans: [installPlan('p', [TARGET], { approved: true })], csvObject: csv('Succeeded'), openStackVersion: undefined })).toMatchObject({ state: 'available-version-lags', verdict: 'waiting' });
  });

  it('CSV Succeeded and availableVersion = its OPENSTACK_RELEASE_VERSION: passed', () => {
    const g = judge({ installPlans: [installPlan('p', [OTHER, TARGET], { approved: true, phase: 'Complete' })], csvObject: csv('Succeeded'), openStackVersion: osv('18.0.6') });
    expect(g).toMatchObject({ state: 'passed', verdict: 'passed', releaseVersion: '18.0.6', approvable: false });
  });

  it('a succeeded CSV without OPENSTACK_RELEASE_VERSION fails with the reason', () => {
    const broken = csv('Succeeded');
    (broken['spec'] as { install: { spec: { deployments: unknown[] } } }).install.spec.deployments = [];
    const g = judge({ installPlans: [installPlan('p', [TARGET], { approved: true })], csvObject: broken });
    expect(g).toMatchObject({ state: 'failed', verdict: 'failed' });
  });
});
