import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { ConditionSet } from '../../src/simulate/operator/conditions.js';
import { mergePatch } from '../../src/simulate/operator/controller.js';
import { DEFAULT_SERVICES, serviceFromObject } from '../../src/simulate/operator/services.js';
import { MINOR_UPDATE_CONDITIONS } from '../../src/simulate/operator/reconcile-version.js';
import type { KubeObject } from '../../src/simulate/operator/types.js';
import { NEW, OLD, World, cond, exampleDefaults } from './operator-world.js';

/** Types of the version conditions that are True, in the order they first became True. */
function trueOrder(w: World, ms: number, seen: string[]): void {
  w.run(ms, () => {
    for (const t of MINOR_UPDATE_CONDITIONS) if (cond(w.version, t)?.status === 'True' && !seen.includes(t)) seen.push(t);
  });
}

function settled(): World {
  const w = new World();
  w.run(1000);
  return w;
}

describe('simulated operator: a whole minor update, step by step', () => {
  it('starts from a deployed estate: control plane Ready at the old version, update available', () => {
    const w = settled();
    expect(w.controlPlane.status?.['deployedVersion']).toBe(OLD);
    expect(cond(w.controlPlane, 'Ready')?.status).toBe('True');
    expect(w.version.status?.['deployedVersion']).toBe(OLD);
    expect(w.version.status?.['availableVersion']).toBe(NEW);
    expect(cond(w.version, 'MinorUpdateAvailable')).toMatchObject({ status: 'True', message: 'update available' });
    expect(cond(w.version, 'Ready')?.status).toBe('True');
    expect(w.version.status?.['observedGeneration']).toBe(4);
  });

  it('runs the gates in the operator order and sets deployedVersion only after the update deployment', () => {
    const w = settled();
    w.setTarget(NEW);
    // before the first reconcile the object still shows the last update's True conditions
    expect(cond(w.version, 'MinorUpdateOVNControlplane')?.status).toBe('True');
    expect(w.version.status?.['observedGeneration']).toBe(4);
    const staleTime = cond(w.version, 'MinorUpdateDataplane')?.lastTransitionTime;

    w.tick(0);
    expect(w.version.status?.['observedGeneration']).toBe(5);
    expect(cond(w.version, 'MinorUpdateOVNControlplane')).toMatchObject({ status: 'False', reason: 'Requested', message: 'in progress', severity: 'Info' });
    for (const t of MINOR_UPDATE_CONDITIONS.slice(1)) expect(cond(w.version, t)).toMatchObject({ status: 'Unknown', reason: 'Init', message: 'not started' });
    expect(cond(w.version, 'MinorUpdateDataplane')?.lastTransitionTime).not.toBe(staleTime);
    expect(cond(w.version, 'Ready')).toMatchObject({ status: 'False', reason: 'Requested' });
    expect(w.version.status?.['deployedVersion']).toBe(OLD);
    const images = w.version.status?.['containerImages'] as Record<string, unknown>;
    expect(images['rabbitmqImage']).toBe(w.defaults[NEW]?.['rabbitmqImage']);
    expect(w.controlPlane.status?.['deployedOVNVersion']).toBe(NEW);

    const seen: string[] = [];
    trueOrder(w, 3000, seen);
    // OVN on the control plane is done; everything else is held for the data-plane OVN step
    expect(seen).toEqual(['MinorUpdateOVNControlplane']);
    expect(cond(w.version, 'MinorUpdateOVNDataplane')).toMatchObject({ status: 'False', reason: 'Requested' });
    const cpImages = w.controlPlane.status?.['containerImages'] as Record<string, unknown>;
    expect(cpImages['ovnControllerImage']).toBe(w.defaults[NEW]?.['ovnControllerImage']);
    expect(cpImages['rabbitmqImage']).toBe(w.defaults[OLD]?.['rabbitmqImage']);
    // held, nothing running: every sub-condition is True, so Ready is too (an Argo CD wave waits on it)
    expect(cond(w.controlPlane, 'Ready')?.status).toBe('True');

    w.addDeployment('edpm-ovn', ['ovn']);
    w.tick(0);
    expect(cond(w.nodeSets[0], 'Ready')?.status).toBe('False'); // a deployment is running
    trueOrder(w, 5000, seen);
    const ovnDep = w.deployments[0]!;
    expect(ovnDep.status).toMatchObject({ deployed: true, deployedVersion: NEW, containerImages: { OvnControllerImage: w.defaults[NEW]?.['ovnControllerImage'] } });
    expect(cond(ovnDep, 'DeploymentReady')?.status).toBe('True');
    expect(Object.keys(ovnDep.status?.['nodeSetConditions'] as object)).toEqual(['compute-a', 'compute-b']);
    for (const ns of w.nodeSets) {
      expect((ns.status?.['containerImages'] as Record<string, string>)['OvnControllerImage']).toBe(w.defaults[NEW]?.['ovnControllerImage']);
      expect(ns.status?.['deployedVersion']).toBe(OLD); // ovn is not an update service
      expect(cond(ns, 'Ready')?.status).toBe('True');
      expect(Object.keys(ns.status?.['deploymentStatuses'] as object)).toEqual(['edpm-ovn']);
    }
    expect(seen).toEqual(MINOR_UPDATE_CONDITIONS.slice(0, 7));
    expect(cond(w.version, 'MinorUpdateDataplane')).toMatchObject({ status: 'False', reason: 'Requested' });
    expect(w.controlPlane.status?.['deployedVersion']).toBe(NEW);
    expect(w.version.status?.['deployedVersion']).toBe(OLD);

    w.addDeployment('edpm-update', ['update']);
    trueOrder(w, 3000, seen);
    expect(seen).toEqual(MINOR_UPDATE_CONDITIONS);
    expect(w.nodeSets.map((n) => n.status?.['deployedVersion'])).toEqual([NEW, NEW]);
    expect(w.version.status?.['deployedVersion']).toBe(NEW);
    expect(cond(w.version, 'Ready')).toMatchObject({ status: 'True' });
    expect(cond(w.version, 'MinorUpdateAvailable')).toBeUndefined();
  });

  it('walks the control plane through RabbitMQ, MariaDB, Memcached, Keystone, then the rest', () => {
    const w = settled();
    w.setTarget(NEW);
    w.run(1000);
    w.addDeployment('edpm-ovn', ['ovn']);
    const stages: string[] = [];
    const cpConds = ['OpenStackControlPlaneRabbitMQReady', 'OpenStackControlPlaneMariaDBReady', 'OpenStackControlPlaneMemcachedReady', 'OpenStackControlPlaneKeystoneAPIReady'];
    w.run(
      5000,
      () => {
        for (const c of cpConds) if (cond(w.controlPlane, c)?.status === 'False' && !stages.includes(c)) stages.push(c);
        if (w.controlPlane.status?.['deployedVersion'] === NEW && !stages.includes('deployed')) stages.push('deployed');
      },
      20,
    );
    expect(stages).toEqual([...cpConds, 'deployed']);
  });
});

describe('simulated operator: special paths', () => {
  it('with OVN disabled both OVN gates pass at once', () => {
    const w = new World({ ovnEnabled: false });
    w.run(1000);
    w.setTarget(NEW);
    w.tick(0);
    expect(cond(w.version, 'MinorUpdateOVNControlplane')?.status).toBe('True');
    expect(cond(w.version, 'MinorUpdateOVNDataplane')?.status).toBe('True');
    expect(cond(w.version, 'MinorUpdateRabbitMQ')).toMatchObject({ status: 'False', reason: 'Requested' });
    w.run(3000);
    expect(cond(w.version, 'MinorUpdateControlplane')?.status).toBe('True');
    expect((w.controlPlane.status?.['containerImages'] as Record<string, unknown>)['ovnControllerImage']).toBeUndefined();
  });

  function sameOvnWorld(): World {
    const defaults = exampleDefaults();
    defaults[NEW] = { ...defaults[NEW], ovnControllerImage: defaults[OLD]?.['ovnControllerImage'] };
    const w = new World({ defaults });
    w.run(1000);
    w.setTarget(NEW);
    w.run(1000);
    return w;
  }

  it('with the OVN image unchanged, waits (reason Init) until it has seen an ovn deployment run', () => {
    const w = sameOvnWorld();
    expect(cond(w.version, 'MinorUpdateOVNControlplane')?.status).toBe('True');
    expect(cond(w.version, 'MinorUpdateOVNDataplane')).toMatchObject({ status: 'False', reason: 'Init' });
    w.run(2000);
    expect(cond(w.version, 'MinorUpdateOVNDataplane')).toMatchObject({ status: 'False', reason: 'Init' });
    w.addDeployment('edpm-ovn', ['ovn']);
    w.tick(0);
    expect(cond(w.version, 'MinorUpdateOVNDataplane')?.reason).toBe('Requested');
    w.run(1000);
    expect(cond(w.version, 'MinorUpdateOVNDataplane')?.status).toBe('True');
  });

  it('with the OVN image unchanged, an ovn deployment that finished unseen leaves the update parked', () => {
    const w = sameOvnWorld();
    const d = w.addDeployment('edpm-ovn', ['ovn']);
    d.status = { deployed: true, conditions: [{ type: 'Ready', status: 'True', reason: 'Ready', message: 'Setup complete', lastTransitionTime: '2026-11-01T10:00:00Z' }] };
    w.run(1000);
    expect(cond(w.version, 'MinorUpdateOVNDataplane')).toMatchObject({ status: 'False', reason: 'Init' });
  });

  it('a failed deployment ends in BackoffLimitExceeded, stays failed and blocks the gate', () => {
    const w = new World({ failDeployments: /ovn/ });
    w.run(1000);
    w.setTarget(NEW);
    w.run(1000);
    w.addDeployment('edpm-ovn', ['ovn']);
    w.run(3000);
    const d = w.deployments[0]!;
    expect(cond(d, 'DeploymentReady')).toMatchObject({ status: 'False', reason: 'BackoffLimitExceeded', severity: 'Error' });
    expect(cond(d, 'Ready')).toMatchObject({ status: 'False', reason: 'BackoffLimitExceeded', severity: 'Error' });
    expect(d.status?.['deployed']).toBe(false);
    const failedAt = cond(d, 'DeploymentReady')?.lastTransitionTime;
    w.run(5000);
    expect(cond(d, 'DeploymentReady')?.lastTransitionTime).toBe(failedAt);
    expect(cond(w.nodeSets[0], 'Ready')).toMatchObject({ status: 'False', severity: 'Error' });
    expect(cond(w.version, 'MinorUpdateOVNDataplane')).toMatchObject({ status: 'False', reason: 'Requested' });
    expect(w.version.status?.['deployedVersion']).toBe(OLD);
  });

  it('update-system does not set deployedVersion; update-services does', () => {
    const w = settled();
    w.setTarget(NEW);
    w.run(1000);
    w.addDeployment('edpm-ovn', ['ovn']);
    w.run(4000);
    expect(cond(w.version, 'MinorUpdateControlplane')?.status).toBe('True');
    w.addDeployment('edpm-system', ['update-system', 'reboot-os']);
    w.run(1000);
    expect(w.deployments[1]?.status?.['deployed']).toBe(true);
    expect(w.nodeSets.map((n) => n.status?.['deployedVersion'])).toEqual([OLD, OLD]);
    expect(cond(w.version, 'MinorUpdateDataplane')?.status).toBe('False');
    w.addDeployment('edpm-update-services', ['update-services']);
    w.run(1000);
    expect(w.nodeSets.map((n) => n.status?.['deployedVersion'])).toEqual([NEW, NEW]);
    expect(w.version.status?.['deployedVersion']).toBe(NEW);
  });

  it('a deployment waits for the nodesets SetupReady and never runs again once deployed', () => {
    const w = settled();
    const d = w.addDeployment('edpm-x', ['ovn'], ['compute-a', 'missing']);
    w.run(500);
    expect(cond(d, 'DeploymentReady')).toMatchObject({ status: 'False', reason: 'Requested' });
    expect(cond(d, 'DeploymentReady')?.message).toContain('missing');
    d.spec = { nodeSets: ['compute-a'], servicesOverride: ['ovn'] };
    w.run(500);
    expect(d.status?.['deployed']).toBe(true);
    const done = JSON.stringify(d.status);
    w.setTarget(NEW);
    w.run(500);
    expect(JSON.stringify(d.status)).toBe(done);
  });

  it('control plane images that do not match end MinorUpdateControlplane in Error', () => {
    const w = new World({ mismatch: true });
    w.run(1000);
    w.setTarget(NEW);
    w.run(1000);
    w.addDeployment('edpm-ovn', ['ovn']);
    w.run(4000);
    expect(cond(w.version, 'MinorUpdateKeystone')?.status).toBe('True');
    const c = cond(w.version, 'MinorUpdateControlplane');
    expect(c).toMatchObject({ status: 'False', reason: 'Error', severity: 'Warning' });
    expect(c?.message).toBe('error occured Controlplane images do not match the target version for the following services: Barbican');
    expect(cond(w.version, 'Ready')).toMatchObject({ status: 'False', reason: 'Error' });
  });

  it('removes the skip-custom-images annotation once deployed and tracks custom images', () => {
    const w = settled();
    w.version.metadata = { ...w.version.metadata, annotations: { 'core.openstack.org/skip-custom-images-validation': 'true' } };
    w.version.spec = { ...w.version.spec, customContainerImages: { glanceAPIImage: 'quay.io/example/glance:hotfix', cinderVolumeImages: { ceph: 'quay.io/example/cinder-volume:ceph' } } };
    w.version.metadata = { ...w.version.metadata, generation: 5 };
    w.tick(0);
    expect(w.lastVersion?.removeAnnotations).toEqual(['core.openstack.org/skip-custom-images-validation']);
    const images = w.version.status?.['containerImages'] as Record<string, unknown>;
    expect(images['glanceAPIImage']).toBe('quay.io/example/glance:hotfix');
    expect(images['cinderVolumeImages']).toEqual({ ceph: 'quay.io/example/cinder-volume:ceph', default: w.defaults[OLD]?.['cinderVolumeImage'] });
    // custom images without a version change reach the control plane at once, unstaged
    w.run(1000);
    expect((w.controlPlane.status?.['containerImages'] as Record<string, unknown>)['glanceAPIImage']).toBe('quay.io/example/glance:hotfix');
    expect(w.controlPlane.status?.['observedGeneration']).toBe(1);
  });

  it('an unknown target version leaves Initialized in Error', () => {
    const w = settled();
    w.setTarget('99.9.9');
    w.tick(0);
    expect(cond(w.version, 'Initialized')).toMatchObject({ status: 'False', reason: 'Error' });
  });
});

describe('simulated operator: helpers', () => {
  it('keeps lastTransitionTime while the status does not change', () => {
    const first = new ConditionSet();
    first.markFalse('A', 'Requested', 'Info', 'in progress');
    const stored = first.finish([], Date.parse('2026-01-01T00:00:00Z'));
    const second = new ConditionSet(stored);
    second.markFalse('A', 'Init', 'Info', 'other message');
    expect(second.finish(stored, Date.parse('2026-01-01T00:05:00Z'))[0]?.lastTransitionTime).toBe('2026-01-01T00:00:00Z');
    second.markTrue('A', 'done');
    expect(second.finish(stored, Date.parse('2026-01-01T00:05:00Z'))[0]?.lastTransitionTime).toBe('2026-01-01T00:05:00Z');
  });

  it('builds merge patches that delete removed keys', () => {
    expect(mergePatch({ a: 1, b: { c: 1, d: 2 }, l: [1] }, { a: 1, b: { c: 2 }, l: [1, 2] })).toEqual({ b: { c: 2, d: null }, l: [1, 2] });
    expect(mergePatch({ a: 1 }, { a: 1 })).toBeUndefined();
  });

  it('knows the default update services as the reference files define them', () => {
    const dir = join(import.meta.dirname, '..', '..', 'reference-data', 'openstack-operator', 'services');
    const files = readdirSync(dir).filter((f) => f.endsWith('.yaml'));
    expect(files.length).toBeGreaterThanOrEqual(5);
    for (const f of files) {
      const svc = serviceFromObject(parse(readFileSync(join(dir, f), 'utf8')) as KubeObject);
      expect(DEFAULT_SERVICES.get(svc.name), f).toEqual(svc);
    }
  });
});
