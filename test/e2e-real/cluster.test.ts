/**
 * The harness itself: a real kube-apiserver + etcd starts, serves the project's CRDs with their
 * real schemas, and stops without leaving processes or files behind.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { ApiextensionsV1Api, CoreV1Api, CustomObjectsApi, KubeConfig, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { parse } from 'yaml';
import { OPENSTACK_VERSION } from '../../src/cluster/resources.js';
import { describeRealCluster } from './describe-real.js';
import { NAMESPACES, startRealCluster, type RealCluster } from './harness.js';

describeRealCluster('real API server harness', () => {
  let cluster: RealCluster | undefined;
  let kc: KubeConfig;
  beforeAll(async () => {
    cluster = await startRealCluster();
    kc = new KubeConfig();
    kc.loadFromString(cluster.kubeconfigYaml);
  }, 180_000);
  afterAll(async () => {
    await cluster?.stop();
  });

  it('writes a kubeconfig that verifies the server certificate and authenticates', async () => {
    expect(cluster!.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    expect(readFileSync(cluster!.kubeconfigPath, 'utf8')).toBe(cluster!.kubeconfigYaml);
    const parsed = parse(cluster!.kubeconfigYaml) as { clusters: { cluster: Record<string, unknown> }[] };
    expect(parsed.clusters[0]!.cluster['insecure-skip-tls-verify']).toBeUndefined();
    const namespaces = await kc.makeApiClient(CoreV1Api).listNamespace();
    expect(namespaces.items.map((n) => n.metadata?.name)).toEqual(expect.arrayContaining([...NAMESPACES]));
    expect(cluster!.namespace).toBe('openstack');
  });

  it('rejects a wrong token', async () => {
    const bad = new KubeConfig();
    bad.loadFromString(cluster!.kubeconfigYaml.replace(/"token": "[0-9a-f]+"/, '"token": "wrong"'));
    await expect(bad.makeApiClient(CoreV1Api).listNamespace()).rejects.toMatchObject({ code: 401 });
  });

  it('serves every CRD of crds/ as Established', async () => {
    const list = await kc.makeApiClient(ApiextensionsV1Api).listCustomResourceDefinition();
    const established = list.items
      .filter((crd) => crd.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True'))
      .map((crd) => crd.metadata?.name)
      .sort();
    expect(established).toEqual([
      'applications.argoproj.io',
      'argocds.argoproj.io',
      'catalogsources.operators.coreos.com',
      'clusterserviceversions.operators.coreos.com',
      'gitrepositories.source.toolkit.fluxcd.io',
      'installplans.operators.coreos.com',
      'kustomizations.kustomize.toolkit.fluxcd.io',
      'openstackcontrolplanes.core.openstack.org',
      'openstackdataplanedeployments.dataplane.openstack.org',
      'openstackdataplanenodesets.dataplane.openstack.org',
      'openstackdataplaneservices.dataplane.openstack.org',
      'openstackversions.core.openstack.org',
      'subscriptions.operators.coreos.com',
    ]);
  });

  it('stores a custom resource with its real schema: generation on spec writes, not on status writes', async () => {
    const api = kc.makeApiClient(CustomObjectsApi);
    const ref = { group: OPENSTACK_VERSION.group, version: OPENSTACK_VERSION.version, namespace: 'openstack', plural: OPENSTACK_VERSION.plural };
    const created = (await api.createNamespacedCustomObject({
      ...ref,
      body: { apiVersion: 'core.openstack.org/v1beta1', kind: 'OpenStackVersion', metadata: { name: 'harness' }, spec: { targetVersion: '18.0.3' } },
    })) as { metadata: { generation: number; resourceVersion: string } };
    expect(created.metadata.generation).toBe(1);
    const withStatus = (await api.patchNamespacedCustomObjectStatus(
      { ...ref, name: 'harness', body: { status: { deployedVersion: '18.0.3' } } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    )) as { metadata: { generation: number }; status: { deployedVersion: string } };
    expect(withStatus.status.deployedVersion).toBe('18.0.3');
    expect(withStatus.metadata.generation).toBe(1);
    // the schema is enforced: targetVersion is a string
    await expect(
      api.createNamespacedCustomObject({
        ...ref,
        body: { apiVersion: 'core.openstack.org/v1beta1', kind: 'OpenStackVersion', metadata: { name: 'bad' }, spec: { targetVersion: 18 } },
      }),
    ).rejects.toMatchObject({ code: 422 });
  });

  it('stop() ends both processes and removes the temp folder', async () => {
    const dir = dirname(cluster!.kubeconfigPath);
    expect(existsSync(dir)).toBe(true);
    await cluster!.stop();
    expect(existsSync(dir)).toBe(false);
    await expect(kc.makeApiClient(CoreV1Api).listNamespace()).rejects.toThrow();
    await cluster!.stop(); // a second stop is a no-op
  });
});
