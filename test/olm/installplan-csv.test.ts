/**
 * `plan --installplan FILE`: the target CSV read from OLM's InstallPlan instead of a CSV file, in
 * both forms OLM writes a step's manifest (the CSV embedded as JSON, or a reference to the
 * ConfigMap of the unpacked bundle), with the output saying where the images came from.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { loadUpdate } from '../../src/cli/inputs.js';
import { startRehearsalApiServer, type RehearsalApiServer } from '../../src/simulate/apiserver/server.js';
import { runCli } from '../helpers/cli.js';
import { SUBSCRIPTION } from './phase0-fixtures.js';

const io = { cwd: process.cwd(), stdout: () => {}, stderr: () => {}, color: false };
const tmp = mkdtempSync(join(tmpdir(), 'osv-installplan-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const subscription = join(tmp, 'subscription.yaml');
writeFileSync(subscription, SUBSCRIPTION);

const CSV_TEXT = readFileSync('fixtures/example/csv.yaml', 'utf8');
const csvObject = (() => {
  const c = parse(CSV_TEXT) as Record<string, unknown>;
  delete c['status'];
  return c;
})();
const CSV = 'openstack-operator.v18.0.4';
const BUNDLE = 'registry.example.com/rhoso/openstack-operator-bundle@sha256:' + 'ab'.repeat(32);

function installPlan(manifest: unknown, csvs = [CSV], name = 'install-abcde'): Record<string, unknown> {
  return {
    apiVersion: 'operators.coreos.com/v1alpha1',
    kind: 'InstallPlan',
    metadata: { name, namespace: 'openstack-operators', resourceVersion: '77' },
    spec: { approval: 'Manual', approved: false, clusterServiceVersionNames: csvs },
    status: {
      phase: 'RequiresApproval',
      catalogSources: ['redhat-operators'],
      bundleLookups: [{ path: BUNDLE, identifier: CSV, replaces: 'openstack-operator.v18.0.3', catalogSourceRef: { name: 'redhat-operators', namespace: 'openshift-marketplace' } }],
      plan: [
        { resolving: CSV, status: 'Unknown', resource: { group: 'operators.coreos.com', version: 'v1alpha1', kind: 'ClusterServiceVersion', name: CSV, sourceName: 'redhat-operators', sourceNamespace: 'openshift-marketplace', manifest: JSON.stringify(manifest) } },
        { resolving: CSV, status: 'Unknown', resource: { group: 'apiextensions.k8s.io', version: 'v1', kind: 'CustomResourceDefinition', name: 'openstackversions.core.openstack.org', sourceName: 'redhat-operators', sourceNamespace: 'openshift-marketplace', manifest: '{}' } },
      ],
    },
  };
}
const REF = { kind: 'ConfigMap', name: 'f3a9c2-bundle', namespace: 'openshift-marketplace', catalogSourceName: 'redhat-operators', catalogSourceNamespace: 'openshift-marketplace', replaces: 'openstack-operator.v18.0.3' };
const bundleConfigMap = {
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name: REF.name, namespace: REF.namespace },
  data: { 'openstackversions.crd.yaml': 'apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata:\n  name: x\n', 'openstack-operator.clusterserviceversion.yaml': stringify(csvObject) },
};

function write(name: string, ...docs: unknown[]): string {
  const file = join(tmp, name);
  writeFileSync(file, docs.map((d) => stringify(d)).join('---\n'));
  return file;
}

const fromCsv = loadUpdate({ example: true, subscription }, io).plan;

describe('plan --installplan', () => {
  it('the CSV embedded in the InstallPlan gives the same plan as the CSV file, and says where the images came from', () => {
    const plan = loadUpdate({ example: true, subscription, installplan: write('embedded.yaml', installPlan(csvObject)) }, io).plan;
    expect(plan.targetContainerImages).toEqual(fromCsv.targetContainerImages);
    expect(plan.imageDiff).toEqual(fromCsv.imageDiff);
    expect(plan.operatorUpgrade?.csv).toBe(CSV);
    expect(plan.imageSource.detail).toBe(`${fromCsv.imageSource.detail} (from InstallPlan openstack-operators/install-abcde, bundle ${BUNDLE})`);
  });

  it('a step referring to the unpacked bundle ConfigMap reads the CSV from it (the ConfigMap as a second document)', () => {
    const plan = loadUpdate({ example: true, subscription, installplan: write('ref.yaml', installPlan(REF), bundleConfigMap) }, io).plan;
    expect(plan.targetContainerImages).toEqual(fromCsv.targetContainerImages);
    expect(plan.imageSource.detail).toContain(`(from InstallPlan openstack-operators/install-abcde, bundle ${BUNDLE}, unpacked in ConfigMap openshift-marketplace/f3a9c2-bundle)`);
  });

  it('plan prints the origin; an InstallPlan bundling another CSV is planned with a warning that phase 0 will not approve it', async () => {
    const file = write('bundled.yaml', installPlan(csvObject, [CSV, 'metallb-operator.v4.18.0']));
    const r = await runCli(['plan', '--example', '--subscription', subscription, '--installplan', file], tmp);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^Target images from: .*\(from InstallPlan openstack-operators\/install-abcde, bundle registry\.example\.com\/rhoso\/openstack-operator-bundle@sha256:[0-9a-f]{64}\)$/m);
    expect(`${r.stdout}${r.stderr}`).toMatch(/also installs metallb-operator\.v4\.18\.0: phase 0 never approves it/);
  });

  it('refuses what it cannot read: the ConfigMap missing, no resolved step yet, no openstack-operator CSV, two candidates, --csv beside it', async () => {
    const cases: [string[], number, RegExp][] = [
      [['--installplan', write('no-cm.yaml', installPlan(REF))], 2, /bundle ConfigMap openshift-marketplace\/f3a9c2-bundle, which .* does not hold[\s\S]*oc get configmap -n openshift-marketplace f3a9c2-bundle -o yaml/],
      [['--installplan', write('unresolved.yaml', { ...installPlan(csvObject), status: { phase: 'Installing' } })], 2, /has no resolved step for openstack-operator\.v18\.0\.4 yet/],
      [['--installplan', write('other.yaml', installPlan(csvObject, ['cinder-operator.v1.2.0']))], 2, /no InstallPlan .* installs a CSV of the openstack-operator package/],
      [['--installplan', write('two.yaml', installPlan(csvObject), installPlan(csvObject, [CSV], 'install-fghij'))], 2, /2 InstallPlans .* install an openstack-operator CSV/],
      [['--installplan', write('none.yaml', bundleConfigMap)], 2, /no InstallPlan \(operators\.coreos\.com\/v1alpha1\) found/],
      [['--installplan', write('ok.yaml', installPlan(csvObject)), '--csv', join(process.cwd(), 'fixtures/example/csv.yaml')], 2, /--installplan and --csv both give the target CSV/],
    ];
    for (const [args, code, message] of cases) {
      const r = await runCli(['plan', '--example', '--subscription', subscription, ...args], tmp);
      expect(r.exitCode, `${args.join(' ')}: ${r.stderr}`).toBe(code);
      expect(r.stderr).toMatch(message);
      expect(r.stdout).toBe('');
    }
  });
});

describe('plan --subscription without --csv: the InstallPlan from the cluster', () => {
  let server: RehearsalApiServer;
  let kubeconfig: string;
  const ip = { group: 'operators.coreos.com', version: 'v1alpha1', namespace: 'openstack-operators', plural: 'installplans' };
  let custom: k8s.CustomObjectsApi;
  let core: k8s.CoreV1Api;

  beforeAll(async () => {
    server = await startRehearsalApiServer({ namespaces: ['openstack-operators', 'openshift-marketplace'] });
    kubeconfig = join(tmp, 'kubeconfig');
    writeFileSync(kubeconfig, server.kubeconfig('openstack-operators'), { mode: 0o600 });
    const kc = new k8s.KubeConfig();
    kc.loadFromString(server.kubeconfig('openstack-operators'));
    custom = kc.makeApiClient(k8s.CustomObjectsApi);
    core = kc.makeApiClient(k8s.CoreV1Api);
  }, 60_000);
  afterAll(async () => {
    await server?.close();
  });

  /** An InstallPlan as OLM writes it: created, then its status. */
  async function olmWrites(obj: Record<string, unknown>): Promise<void> {
    const { status, ...rest } = obj;
    await custom.createNamespacedCustomObject({ ...ip, body: rest });
    await custom.patchNamespacedCustomObjectStatus({ ...ip, name: String((obj['metadata'] as { name: string }).name), body: { status } }, k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch));
  }
  const plan = (extra: string[] = []) => runCli(['plan', '--openstack-version', join(process.cwd(), 'fixtures/example/openstackversion.yaml'), '--subscription', subscription, '--kubeconfig', kubeconfig, '--json', ...extra], tmp);

  it('no InstallPlan yet: says so and how to go on', async () => {
    const r = await plan();
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toMatch(/no InstallPlan in openstack-operators \(the Subscription starts from openstack-operator\.v18\.0\.3\) installs a new openstack-operator CSV/);
    expect(r.stderr).toMatch(/--csv FILE/);
  });

  it("reads the CSV of the Subscription's InstallPlan (through the bundle ConfigMap) and says where the images came from", async () => {
    // the plan of what runs now is not the upgrade; another operator's plan is not ours
    await olmWrites(installPlan(csvObject, ['openstack-operator.v18.0.3'], 'install-old01'));
    await olmWrites(installPlan(csvObject, ['cinder-operator.v1.2.0'], 'install-other'));
    await olmWrites(installPlan(REF, [CSV], 'install-abcde'));
    const { apiVersion: _a, kind: _k, ...cm } = bundleConfigMap;
    await core.createNamespacedConfigMap({ namespace: 'openshift-marketplace', body: cm });
    const r = await plan();
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stderr).toContain(`target CSV ${CSV}: images from InstallPlan openstack-operators/install-abcde, bundle ${BUNDLE}, unpacked in ConfigMap openshift-marketplace/f3a9c2-bundle`);
    const out = JSON.parse(r.stdout) as { operatorUpgrade: { csv: string }; targetContainerImages: unknown; imageSource: { detail: string } };
    expect(out.operatorUpgrade.csv).toBe(CSV);
    const fromFile = loadUpdate({ openstackVersion: 'fixtures/example/openstackversion.yaml', csv: 'fixtures/example/csv.yaml', subscription }, io).plan;
    expect(out.targetContainerImages).toEqual(fromFile.targetContainerImages);
    expect(out.imageSource.detail).toContain('(from InstallPlan openstack-operators/install-abcde, bundle ');
  });

  it('two candidate InstallPlans: no guess, both named', async () => {
    await olmWrites(installPlan(csvObject, ['openstack-operator.v18.0.5'], 'install-zzzzz'));
    const r = await plan();
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toMatch(/2 InstallPlans in openstack-operators .* pass the one of the update with --installplan FILE/);
    expect(r.stderr).toContain('install-abcde: openstack-operator.v18.0.4');
    expect(r.stderr).toContain('install-zzzzz: openstack-operator.v18.0.5');
    // --kubeconfig without reading the cluster is a mistake, said at once
    const both = await runCli(['plan', '--example', '--kubeconfig', kubeconfig], tmp);
    expect(both.exitCode).toBe(2);
    expect(both.stderr).toMatch(/--kubeconfig and --context go with --subscription without --csv/);
  });
});
