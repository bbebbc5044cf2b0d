/**
 * Phase 0 `operator` in directories mode (Flux): the folder `00-operator` holds the user's
 * Subscription pinned to the target CSV and the approval Job with its RBAC (Argo CD's chart); its
 * Kustomization waits for every object (the Job Complete, the Subscription at the CSV) within the
 * `operator` deadline, and the first OpenStack phase's Kustomization depends on it.
 */
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { subscriptionInstalledExprs } from '../../src/agents/flux/health-checks.js';
import { fluxObjectHealth } from '../../src/agents/flux/rehearsal-health.js';
import type { KubeObject } from '../../src/simulate/agent/kube.js';
import { renderDirectories, type RenderedFile } from '../../src/render/render.js';
import type { UpdatePlan } from '../../src/plan/types.js';
import { validateObjects } from '../../src/validate/crd-schema.js';
import { runCli } from '../helpers/cli.js';
import { kustomizeBuild } from '../helpers/kustomize.js';
import { SUBSCRIPTION } from '../olm/phase0-fixtures.js';

const CSV = 'openstack-operator.v18.0.4';

// rendered YAML read back: the test walks it by the paths it expects
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Loose = Record<string, any>;

async function phase0Plan(): Promise<{ plan: UpdatePlan; dir: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'osv-p0flux-'));
  writeFileSync(join(dir, 'subscription.yaml'), SUBSCRIPTION);
  const r = await runCli(['plan', '--example', '--subscription', join(dir, 'subscription.yaml'), '--output', join(dir, 'plan.json')], process.cwd());
  expect(r.exitCode, r.stderr).toBe(0);
  return { plan: JSON.parse(readFileSync(join(dir, 'plan.json'), 'utf8')) as UpdatePlan, dir };
}

function render(plan: UpdatePlan, dir: string, gateDeadlines: Record<string, number> = {}, gateImage?: string): RenderedFile[] {
  return renderDirectories({ plan, subscriptionFile: join(dir, 'subscription.yaml'), subscriptionText: SUBSCRIPTION }, { engine: 'flux', repoPath: 'clusters/prod', gateDeadlines, ...(gateImage ? { gateImage } : {}) });
}

function objectsIn(files: readonly RenderedFile[], dir: string): Loose[] {
  return files.filter((f) => f.path.startsWith(`${dir}/`) && !f.path.endsWith('/kustomization.yaml')).map((f) => parse(f.content) as Loose);
}

function kustomizations(files: readonly RenderedFile[], base: string): Loose[] {
  return objectsIn(files, `${base}/flux`).filter((o) => o['kind'] === 'Kustomization');
}

describe('render --engine flux with phase 0', () => {
  it('writes 00-operator with the pinned Subscription and the approval Job, and a waiting Kustomization the next phase depends on', async () => {
    const { plan, dir } = await phase0Plan();
    const files = render(plan, dir, { operator: 1200 });
    const base = `updates/${plan.versions.target}`;
    const folders = [...new Set(files.map((f) => f.path.slice(base.length + 1).split('/')[0]!))].filter((d) => /^\d\d-/.test(d));
    expect(folders.slice(0, 2)).toEqual(['00-operator', '02-ovn-controlplane']);

    const op = objectsIn(files, `${base}/00-operator`);
    expect(op.map((o) => o['kind']).sort()).toEqual(['Job', 'Role', 'Role', 'RoleBinding', 'RoleBinding', 'ServiceAccount', 'Subscription']);
    expect(op.some((o) => String(o['apiVersion']).includes('openstack.org'))).toBe(false);
    const sub = op.find((o) => o['kind'] === 'Subscription')!;
    expect(sub['spec']).toMatchObject({ startingCSV: CSV, installPlanApproval: 'Manual' });
    const roles = Object.fromEntries(op.filter((o) => o['kind'] === 'Role').map((r) => [r['metadata'].namespace, r['rules']]));
    expect(roles['openstack-operators']).toEqual([
      { apiGroups: ['operators.coreos.com'], resources: ['installplans'], verbs: ['get', 'list', 'watch', 'patch'] },
      { apiGroups: ['operators.coreos.com'], resources: ['clusterserviceversions'], verbs: ['get'] },
    ]);
    expect(roles[plan.namespace]).toEqual([{ apiGroups: ['core.openstack.org'], resources: ['openstackversions'], verbs: ['get', 'list', 'watch'] }]);

    const job = op.find((o) => o['kind'] === 'Job')!;
    expect(job['metadata']).toEqual({ name: `osv-approve-${plan.versions.target.replace(/[^a-z0-9]+/g, '-')}-00`, namespace: 'openstack-operators', annotations: { 'kustomize.toolkit.fluxcd.io/force': 'Enabled' } });
    const container = job['spec'].template.spec.containers[0];
    expect(Object.fromEntries(container.env.map((e: { name: string; value: string }) => [e.name, e.value]))).toMatchObject({ OLM_NS: 'openstack-operators', CSV, NS: plan.namespace, TARGET: plan.versions.target, DEADLINE: '1200' });
    expect(job['spec'].activeDeadlineSeconds).toBe(1260);
    // Pod Security restricted, no fixed UID (OpenShift's restricted-v2 assigns one)
    expect(container.securityContext).toEqual({
      runAsNonRoot: true,
      readOnlyRootFilesystem: true,
      allowPrivilegeEscalation: false,
      privileged: false,
      capabilities: { drop: ['ALL'] },
      seccompProfile: { type: 'RuntimeDefault' },
    });

    const [operator, first, ...rest] = kustomizations(files, base);
    expect(operator!['metadata'].name).toMatch(/-00-operator$/);
    expect(operator!['spec']).toMatchObject({ path: `./clusters/prod/${base}/00-operator`, wait: true, prune: false, timeout: '21m' });
    expect(operator!['spec'].dependsOn).toBeUndefined();
    expect(operator!['spec'].healthCheckExprs).toEqual([{ apiVersion: 'operators.coreos.com/v1alpha1', kind: 'Subscription', current: `has(status.installedCSV) && status.installedCSV == '${CSV}'` }]);
    expect(operator!['spec'].healthCheckExprs).toEqual([subscriptionInstalledExprs(CSV)]);
    expect(first!['spec'].path).toMatch(/\/02-ovn-controlplane$/);
    expect(first!['spec'].dependsOn).toEqual([{ name: operator!['metadata'].name }]);
    // the OpenStack phases are unchanged: no wait, the OpenStackVersion gate
    for (const k of [first!, ...rest]) expect(k['spec'].wait).toBe(false);

    // valid against the CRDs folder by folder, and each folder builds with kustomize
    for (const folder of ['00-operator', 'flux']) {
      const group = files.filter((f) => f.path.startsWith(`${base}/${folder}/`) && !f.path.endsWith('kustomization.yaml'));
      expect(validateObjects(group.flatMap((f) => parseAllDocuments(f.content).map((d) => d.toJS() as Record<string, unknown>))).errors, folder).toEqual([]);
    }
    const out = mkdtempSync(join(tmpdir(), 'osv-p0flux-out-'));
    for (const f of files) {
      mkdirSync(dirname(join(out, f.path)), { recursive: true });
      writeFileSync(join(out, f.path), f.content);
    }
    const built = parseAllDocuments(await kustomizeBuild(join(out, base, '00-operator'))).map((d) => d.toJS() as Loose);
    expect(built.map((o) => o['kind']).sort()).toEqual(op.map((o) => o['kind']).sort());
    expect(built.find((o) => o['kind'] === 'Job')!['metadata'].annotations).toEqual({ 'kustomize.toolkit.fluxcd.io/force': 'Enabled' });
    expect((await kustomizeBuild(join(out, base, 'flux'))).match(/kind: Kustomization/g)?.length).toBe(kustomizations(files, base).length);
  }, 60_000);

  it('renders the same bytes twice; another deadline keeps the Job name (Flux recreates it: force)', async () => {
    const { plan, dir } = await phase0Plan();
    expect(render(plan, dir)).toEqual(render(plan, dir));
    const jobOf = (files: RenderedFile[]) => files.map((f) => parse(f.content) as Loose).find((o) => o?.['kind'] === 'Job')!;
    const a = jobOf(render(plan, dir, { operator: 600 }));
    const b = jobOf(render(plan, dir, { operator: 900 }, 'registry.example.com/cli:1'));
    expect(b['metadata']).toEqual(a['metadata']);
    expect(b['spec'].template.spec.containers[0].image).toBe('registry.example.com/cli:1');
  }, 60_000);

  it('the Subscription expression: InProgress until OLM reports the pinned CSV installed', () => {
    const exprs = [subscriptionInstalledExprs(CSV)];
    const sub = (status?: Record<string, unknown>): KubeObject => ({ apiVersion: 'operators.coreos.com/v1alpha1', kind: 'Subscription', metadata: { name: 'openstack-operator', namespace: 'openstack-operators', generation: 2 }, ...(status ? { status } : {}) });
    // no status yet: the expression cannot bind `status`, Flux keeps waiting (Unknown)
    expect(fluxObjectHealth(sub(), exprs).status).toBe('Unknown');
    expect(fluxObjectHealth(sub({ installedCSV: 'openstack-operator.v18.0.3', state: 'UpgradePending' }), exprs).status).toBe('InProgress');
    expect(fluxObjectHealth(sub({ state: 'UpgradePending' }), exprs).status).toBe('InProgress');
    expect(fluxObjectHealth(sub({ installedCSV: CSV, currentCSV: CSV, state: 'AtLatestKnown' }), exprs).status).toBe('Current');
    // without the expression kstatus calls it Current at once: nothing in it says "not yet"
    expect(fluxObjectHealth(sub({ installedCSV: 'openstack-operator.v18.0.3', state: 'UpgradePending' }), []).status).toBe('Current');
  });

  it('plain stays refused, with its hint', async () => {
    const { plan } = await phase0Plan();
    expect(() => renderDirectories({ plan, subscriptionText: SUBSCRIPTION }, { engine: 'plain' })).toThrow(/Argo CD and Flux only; plain has nothing to wait on it/);
  });
});
