/**
 * `plan --installplan FILE`: the target CSV read from OLM's InstallPlan instead of a CSV file, in
 * both forms OLM writes a step's manifest (the CSV embedded as JSON, or a reference to the
 * ConfigMap of the unpacked bundle), with the output saying where the images came from.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { loadUpdate } from '../../src/cli/inputs.js';
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
