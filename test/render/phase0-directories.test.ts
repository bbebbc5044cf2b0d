/**
 * Phase 0 `operator` in directories mode (Argo CD): the folder `00-operator` holds the user's
 * Subscription pinned to the target CSV and an approval Job with least-privilege RBAC; the next
 * phase's Application comes in a later sync wave. The Job's shell script is run here against a
 * scripted `kubectl`, so its rule (approve exactly the target CSV's plan, refuse a bundle) is
 * checked on the script itself, not on a copy of it.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { renderDirectories, type RenderedFile } from '../../src/render/render.js';
import type { UpdatePlan } from '../../src/plan/types.js';
import { runCli } from '../helpers/cli.js';
import { SUBSCRIPTION } from '../olm/phase0-fixtures.js';

const CSV = 'openstack-operator.v18.0.4';

// rendered YAML read back: the test walks it by the paths it expects
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Loose = Record<string, any>;

async function phase0Render(): Promise<{ plan: UpdatePlan; files: RenderedFile[] }> {
  const dir = mkdtempSync(join(tmpdir(), 'osv-p0dirs-'));
  writeFileSync(join(dir, 'subscription.yaml'), SUBSCRIPTION);
  const r = await runCli(['plan', '--example', '--subscription', join(dir, 'subscription.yaml'), '--output', join(dir, 'plan.json')], process.cwd());
  expect(r.exitCode, r.stderr).toBe(0);
  const plan = JSON.parse(readFileSync(join(dir, 'plan.json'), 'utf8')) as UpdatePlan;
  const files = renderDirectories({ plan, subscriptionFile: join(dir, 'subscription.yaml'), subscriptionText: SUBSCRIPTION }, { engine: 'argocd', repoPath: '.', argo: { repoURL: 'https://git.example.com/ops/openstack.git' } });
  return { plan, files };
}

function objectsIn(files: readonly RenderedFile[], dir: string): Loose[] {
  return files.filter((f) => f.path.startsWith(`${dir}/`) && !f.path.endsWith('/kustomization.yaml')).map((f) => parse(f.content) as Loose);
}

describe('render --engine argocd with phase 0', () => {
  it('writes 00-operator with the pinned Subscription and the approval Job, and the next phase in a later wave', async () => {
    const { plan, files } = await phase0Render();
    const base = `updates/${plan.versions.target}`;
    const folders = [...new Set(files.map((f) => f.path.slice(base.length + 1).split('/')[0]!))].filter((d) => /^\d\d-/.test(d));
    // the one numbering: operator 0, preflight 1 (no folder), ovn-controlplane 2
    expect(folders[0]).toBe('00-operator');
    expect(folders[1]).toBe('02-ovn-controlplane');
    const op = objectsIn(files, `${base}/00-operator`);
    expect(op.map((o) => o['kind']).sort()).toEqual(['Job', 'Role', 'Role', 'RoleBinding', 'RoleBinding', 'ServiceAccount', 'Subscription']);
    // no OpenStack object: the target version is set only once the operator runs the new release
    expect(op.some((o) => String(o['apiVersion']).includes('openstack.org'))).toBe(false);
    const sub = op.find((o) => o['kind'] === 'Subscription')!;
    expect(sub['metadata']).toEqual({ name: 'openstack-operator', namespace: 'openstack-operators' });
    expect(sub['spec']).toMatchObject({ startingCSV: CSV, channel: 'stable-v1.0', installPlanApproval: 'Manual' });

    const roles = op.filter((o) => o['kind'] === 'Role');
    const rules = Object.fromEntries(roles.map((r) => [r['metadata'].namespace, r['rules']]));
    expect(rules['openstack-operators']).toEqual([
      { apiGroups: ['operators.coreos.com'], resources: ['installplans'], verbs: ['get', 'list', 'watch', 'patch'] },
      { apiGroups: ['operators.coreos.com'], resources: ['clusterserviceversions'], verbs: ['get'] },
    ]);
    expect(rules[plan.namespace]).toEqual([{ apiGroups: ['core.openstack.org'], resources: ['openstackversions'], verbs: ['get', 'list', 'watch'] }]);
    for (const b of op.filter((o) => o['kind'] === 'RoleBinding')) expect(b['subjects']).toEqual([{ apiGroup: '', kind: 'ServiceAccount', name: 'osv-gitops-olm-approve', namespace: 'openstack-operators' }]);

    const job = op.find((o) => o['kind'] === 'Job')!;
    expect(job['metadata'].namespace).toBe('openstack-operators');
    const container = job['spec'].template.spec.containers[0];
    expect(Object.fromEntries(container.env.map((e: { name: string; value: string }) => [e.name, e.value]))).toMatchObject({ OLM_NS: 'openstack-operators', CSV, NS: plan.namespace, TARGET: plan.versions.target });
    // shaped like the gate Jobs: restricted pod security
    expect(container.securityContext).toMatchObject({ runAsNonRoot: true, readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } });

    const waves = objectsIn(files, `${base}/argocd`).map((a) => [a['spec'].source.path.split('/').pop(), Number(a['metadata'].annotations['argocd.argoproj.io/sync-wave'])]);
    expect(waves[0]).toEqual(['00-operator', 0]);
    expect(waves.slice(1).every(([, w]) => (w as number) > 0)).toBe(true);
    // the OpenStackVersion lives in the first folder after phase 0
    expect(objectsIn(files, `${base}/02-ovn-controlplane`).some((o) => o['kind'] === 'OpenStackVersion')).toBe(true);
  });

  it('refuses phase 0 for plain kustomize, which has nothing to wait on it', async () => {
    const { plan } = await phase0Render();
    expect(() => renderDirectories({ plan, subscriptionText: SUBSCRIPTION }, { engine: 'plain' })).toThrow(/Argo CD and Flux only; plain has nothing to wait on it/);
  });
});

/** A `kubectl` that answers from files: the InstallPlans (as the script's jsonpath prints them), the CSV phase, availableVersion. */
function fakeKubectl(state: { plans: string; csvPhase: string; available: string; patchExit?: number }): string {
  const dir = mkdtempSync(join(tmpdir(), 'osv-fake-kubectl-'));
  mkdirSync(join(dir, 'bin'));
  writeFileSync(join(dir, 'plans'), state.plans);
  writeFileSync(join(dir, 'csv'), state.csvPhase);
  writeFileSync(join(dir, 'avail'), state.available);
  const script = `#!/bin/sh
S='${dir}'
case "$1 $2" in
  "get installplans.operators.coreos.com") cat "$S/plans" ;;
  "get clusterserviceversions.operators.coreos.com") cat "$S/csv" ;;
  "get openstackversions.core.openstack.org") cat "$S/avail" ;;
  "patch installplans.operators.coreos.com") printf '%s\\n' "$*" >> "$S/patches"; exit ${state.patchExit ?? 0} ;;
  *) echo "unexpected: $*" >&2; exit 9 ;;
esac
`;
  writeFileSync(join(dir, 'bin', 'kubectl'), script);
  chmodSync(join(dir, 'bin', 'kubectl'), 0o755);
  return dir;
}

function runApproval(job: Loose, dir: string, deadline = '0'): { code: number | null; out: string; patches: string } {
  const container = job['spec'].template.spec.containers[0];
  const env = Object.fromEntries(container.env.map((e: { name: string; value: string }) => [e.name, e.value])) as Record<string, string>;
  const r = spawnSync(container.command[0], container.command.slice(1), { env: { ...env, DEADLINE: deadline, PATH: `${join(dir, 'bin')}:${process.env['PATH'] ?? ''}` }, encoding: 'utf8', timeout: 20_000 });
  let patches = '';
  try {
    patches = readFileSync(join(dir, 'patches'), 'utf8');
  } catch {
    // no patch was made
  }
  return { code: r.status, out: r.stdout + r.stderr, patches };
}

describe('the approval Job script', () => {
  const plan = (name: string, approved: string, csvs: string[], ts = '2026-01-01T00:00:00Z') => `${ts}|${name}|${approved}|41| ${csvs.join(' ')} \n`;

  it('approves the plan of exactly the target CSV with a tested JSON patch, then ends when the CSV runs and availableVersion is the target', async () => {
    const { files } = await phase0Render();
    const job = files.map((f) => parse(f.content) as Loose).find((o) => o?.['kind'] === 'Job' && o['metadata'].namespace === 'openstack-operators')!;
    const target = job['spec'].template.spec.containers[0].env.find((e: { name: string }) => e.name === 'TARGET').value as string;
    const dir = fakeKubectl({ plans: plan('install-old', 'false', ['openstack-operator.v18.0.2'], '2025-01-01T00:00:00Z') + plan('install-abcde', 'false', [CSV]), csvPhase: 'Succeeded', available: target });
    const r = runApproval(job, dir);
    expect(r.out).toMatch(/approved InstallPlan install-abcde/);
    expect(r.code, r.out).toBe(0);
    const patch = /-p (\[.*\])$/m.exec(r.patches)?.[1];
    expect(r.patches).toMatch(/^patch installplans.operators.coreos.com install-abcde -n openstack-operators --type=json -p /);
    expect(JSON.parse(patch!)).toEqual([
      { op: 'test', path: '/metadata/resourceVersion', value: '41' },
      { op: 'test', path: '/spec/clusterServiceVersionNames', value: [CSV] },
      { op: 'test', path: '/spec/approved', value: false },
      { op: 'replace', path: '/spec/approved', value: true },
    ]);
    // approved, but availableVersion lags: it keeps waiting until its deadline
    const lag = runApproval(job, fakeKubectl({ plans: plan('install-abcde', 'true', [CSV]), csvPhase: 'Succeeded', available: '18.0.3' }));
    expect(lag.code).toBe(1);
    expect(lag.out).toMatch(/availableVersion=18.0.3[\s\S]*approval deadline passed/);
    expect(lag.patches).toBe('');
  });

  it('refuses, without patching, an InstallPlan that would also install another CSV', async () => {
    const { files } = await phase0Render();
    const job = files.map((f) => parse(f.content) as Loose).find((o) => o?.['kind'] === 'Job' && o['metadata'].namespace === 'openstack-operators')!;
    const r = runApproval(job, fakeKubectl({ plans: plan('install-bundle', 'false', [CSV, 'cinder-operator.v1.2.0']), csvPhase: '', available: '' }), '600');
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/refused: InstallPlan install-bundle would also install cinder-operator.v1.2.0/);
    expect(r.patches).toBe('');
  });
});
