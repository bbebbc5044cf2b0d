/**
 * How the generated classes in src/imports/ behave, pinned as tests because each point has
 * caught (or would catch) someone writing a chart:
 * - TS prop names are camelCase and mapped back on output (`novaApiImage` → `novaAPIImage`);
 * - a JSON patch must use the TS name: a patch with the wire name is silently dropped;
 * - `toJson()` drops every key that is not in the schema, even when added by a JSON patch;
 * - map fields (`cinderVolumeImages`) keep their keys as given;
 * - a required field with a schema default (`deploymentRequeueTime`) is required in TS;
 * - the output validates against the same CRDs with ajv.
 */
import { App, Chart, JsonPatch, Testing } from 'cdk8s';
import { describe, expect, it } from 'vitest';
import { Application, ApplicationSpecSourceKustomizeReplicasCount } from '../../src/imports/argocdapplication-argoproj.io.js';
import { GitRepository } from '../../src/imports/fluxgitrepository-source.toolkit.fluxcd.io.js';
import { Kustomization, KustomizationSpecSourceRefKind } from '../../src/imports/fluxkustomization-kustomize.toolkit.fluxcd.io.js';
import { OpenStackDataPlaneDeployment } from '../../src/imports/openstackdataplanedeployment-dataplane.openstack.org.js';
import { OpenStackDataPlaneNodeSet } from '../../src/imports/openstackdataplanenodeset-dataplane.openstack.org.js';
import { OpenStackVersion } from '../../src/imports/openstackversion-core.openstack.org.js';
import { validateObjects } from '../../src/validate/crd-schema.js';

const chart = (): Chart => new Chart(new App(), 'c', { namespace: 'openstack', disableResourceNameHashes: true });

describe('generated cdk8s classes (src/imports)', () => {
  it('map camelCase props back to the wire names and keep map keys as given', () => {
    const c = chart();
    new OpenStackVersion(c, 'v', {
      metadata: { name: 'openstack' },
      spec: {
        targetVersion: '1.0.2',
        customContainerImages: { novaApiImage: 'quay.io/x/nova-api@sha256:1', cinderVolumeImages: { 'netapp-1': 'quay.io/x/cv@sha256:2' } },
      },
    });
    const [osv] = Testing.synth(c) as { spec: unknown }[];
    expect(osv?.spec).toEqual({
      targetVersion: '1.0.2',
      customContainerImages: { novaAPIImage: 'quay.io/x/nova-api@sha256:1', cinderVolumeImages: { 'netapp-1': 'quay.io/x/cv@sha256:2' } },
    });
  });

  it('keep JSON patches only on TS prop names: wire names and unknown keys are dropped', () => {
    const c = chart();
    const v = new OpenStackVersion(c, 'v', { metadata: { name: 'openstack' }, spec: { targetVersion: '1.0.2', customContainerImages: {} } });
    v.addJsonPatch(JsonPatch.add('/spec/customContainerImages/glanceAPIImage', 'wire-name'));
    v.addJsonPatch(JsonPatch.add('/spec/customContainerImages/keystoneApiImage', 'ts-name'));
    v.addJsonPatch(JsonPatch.add('/spec/notInSchema', true));
    v.addJsonPatch(JsonPatch.add('/metadata/annotations', { 'core.openstack.org/skip-custom-images-validation': 'true' }));
    const [osv] = Testing.synth(c) as { metadata: Record<string, unknown>; spec: unknown }[];
    expect(osv?.spec).toEqual({ targetVersion: '1.0.2', customContainerImages: { keystoneAPIImage: 'ts-name' } });
    expect(osv?.metadata['annotations']).toEqual({ 'core.openstack.org/skip-custom-images-validation': 'true' });
  });

  it('require deploymentRequeueTime although the CRD defaults it, and pass free-form ansibleExtraVars through', () => {
    const c = chart();
    // @ts-expect-error deploymentRequeueTime is required in the generated type (the schema lists it as required)
    new OpenStackDataPlaneDeployment(c, 'bad', { metadata: { name: 'x' }, spec: { nodeSets: ['a'] } });
    new OpenStackDataPlaneDeployment(c, 'd', {
      metadata: { name: 'edpm-1-0-2-update' },
      spec: { nodeSets: ['openstack-edpm'], servicesOverride: ['update'], deploymentRequeueTime: 15, ansibleExtraVars: { edpm_x: { b: 1 } } },
    });
    const [, d] = Testing.synth(c) as { spec: unknown }[];
    expect(d?.spec).toEqual({
      nodeSets: ['openstack-edpm'],
      servicesOverride: ['update'],
      deploymentRequeueTime: 15,
      ansibleExtraVars: { edpm_x: { b: 1 } },
    });
  });

  it('produce objects that validate against the CRDs', () => {
    const c = chart();
    new OpenStackVersion(c, 'v', { metadata: { name: 'openstack' }, spec: { targetVersion: '1.0.2', customContainerImages: { novaApiImage: 'i' } } });
    new OpenStackDataPlaneDeployment(c, 'd', { metadata: { name: 'edpm-1' }, spec: { nodeSets: ['edpm'], deploymentRequeueTime: 15 } });
    new OpenStackDataPlaneNodeSet(c, 'n', {
      metadata: { name: 'edpm' },
      spec: { nodeTemplate: { ansibleSshPrivateKeySecret: 'dataplane-ansible-ssh-private-key-secret' }, nodes: { n0: { hostName: 'n0' } } },
    });
    new Kustomization(c, 'k', {
      metadata: { name: 'osv-update-01', namespace: 'flux-system' },
      spec: { interval: '5m', prune: true, path: './updates/1.0.2/01', sourceRef: { kind: KustomizationSpecSourceRefKind.GIT_REPOSITORY, name: 'repo' } },
    });
    new GitRepository(c, 'g', { metadata: { name: 'repo', namespace: 'flux-system' }, spec: { interval: '1m', url: 'https://git.example.com/x.git' } });
    new Application(c, 'a', {
      metadata: { name: 'osv-update-01', namespace: 'argocd' },
      spec: {
        project: 'default',
        destination: { server: 'https://kubernetes.default.svc', namespace: 'openstack' },
        source: {
          repoUrl: 'https://git.example.com/x.git',
          path: 'updates/1.0.2/01',
          kustomize: { replicas: [{ name: 'x', count: ApplicationSpecSourceKustomizeReplicasCount.fromNumber(1) }] },
        },
      },
    });
    const objs = Testing.synth(c);
    expect(objs.map((o: { kind: string }) => o.kind)).toEqual([
      'OpenStackVersion',
      'OpenStackDataPlaneDeployment',
      'OpenStackDataPlaneNodeSet',
      'Kustomization',
      'GitRepository',
      'Application',
    ]);
    const app = objs[5] as { spec: { source: Record<string, unknown> } };
    expect(app.spec.source['repoURL']).toBe('https://git.example.com/x.git');
    expect(validateObjects(objs)).toEqual({ ok: true, errors: [], warnings: [] });
  });
});
