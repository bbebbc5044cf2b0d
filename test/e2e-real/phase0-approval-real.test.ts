/**
 * Phase 0's approval Job on a real kube-apiserver (RBAC on, OLM CRDs served), run for real: the
 * 00-operator folder of `render --engine argocd` is applied (pinned Subscription, ServiceAccount,
 * Roles, RoleBindings), the simulated OLM and operator run as API clients, and the Job's own shell
 * script runs here with the real kubectl under a token of the rendered ServiceAccount. The cluster
 * has no kubelet, so the script runs beside it instead of in a pod; what it proves is the script
 * (jsonpath, the tested JSON patch) and that the rendered Roles are enough and no more.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { expect, it } from 'vitest';
import { parse } from 'yaml';
import { exampleDir } from '../../src/cli/inputs.js';
import { EXAMPLE_SUBSCRIPTION, rehearsalStart } from '../../src/cli/simulate.js';
import { INSTALL_PLAN } from '../../src/cluster/resources.js';
import { renderDirectories } from '../../src/render/render.js';
import { KubeClient, type KubeObject } from '../../src/simulate/agent/kube.js';
import { startSimulatedOlm } from '../../src/simulate/olm.js';
import { CSV_NAMESPACE, seedAndStartOperator, type RehearsalOptions } from '../../src/simulate/rehearsal.js';
import { caseFlags } from '../helpers/rehearsal.js';
import { describeRealCluster } from './describe-real.js';
import { BIN_DIR, kubeRequest, startRealCluster, statusMessage } from './harness.js';

const io = { cwd: process.cwd(), stdout: () => {}, stderr: () => {}, color: false };
const OLM_NS = 'openstack-operators';
const SA = 'osv-gitops-olm-approve';

function phase0Inputs(): RehearsalOptions {
  return {
    ...rehearsalStart({ ...caseFlags('example'), subscription: join(exampleDir(), EXAMPLE_SUBSCRIPTION) }, io),
    engine: 'argocd',
    mode: 'directories',
    durations: { ovnControlPlane: 120, rabbitmq: 60, galera: 60, memcached: 60, keystone: 60, controlPlaneRest: 120, deploymentService: 60 },
  };
}

/** Run a command, its output captured; killed after `timeoutMs`. */
function run(cmd: string, args: readonly string[], env: NodeJS.ProcessEnv, timeoutMs: number): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, out });
    });
  });
}

/** Starts the cluster with the 00-operator folder applied (the Job left out: no kubelet) and OLM running. */
async function startPhase0(bundleWith: readonly string[] = []) {
  const opts = phase0Inputs();
  const plan = opts.update.plan;
  const cluster = await startRealCluster();
  const stops: (() => Promise<void>)[] = [() => cluster.stop()];
  const dir = mkdtempSync(join(tmpdir(), 'osv-p0-approval-'));
  stops.push(async () => rmSync(dir, { recursive: true, force: true }));
  const stop = async () => {
    for (const s of stops.splice(0).reverse()) await s().catch(() => undefined);
  };
  try {
    const kc = new k8s.KubeConfig();
    kc.loadFromString(cluster.kubeconfigYaml);
    const ns = await kubeRequest(kc, 'POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: OLM_NS } });
    if (ns.status !== 201 && ns.status !== 409) throw new Error(`namespace ${OLM_NS}: ${statusMessage(ns.body)}`);
    const operator = await seedAndStartOperator(cluster.kubeconfigYaml, opts, CSV_NAMESPACE);
    stops.push(() => operator.stop());
    const olm = await startSimulatedOlm({
      kubeconfigYaml: cluster.kubeconfigYaml,
      namespace: OLM_NS,
      catalog: opts.csv ? [opts.csv] : [],
      bundleWith,
      onInstalled: () => operator.setAvailableVersion(plan.versions.available),
      pollMs: 200,
    });
    stops.push(() => olm.stop());

    const files = renderDirectories(opts.update, { engine: 'argocd', repoPath: '.', argo: { repoURL: 'https://git.example.com/ops/openstack.git' } });
    const folder = files.filter((f) => f.path.includes('/00-operator/') && !f.path.endsWith('/kustomization.yaml')).map((f) => parse(f.content) as KubeObject);
    const job = folder.find((o) => o.kind === 'Job')!;
    const admin = new KubeClient(cluster.kubeconfigYaml, { attempts: 3 });
    for (const o of folder.filter((x) => x.kind !== 'Job')) await admin.apply(o, 'osv-test');

    // a token of the rendered ServiceAccount, as the Job's pod would get it
    const tr = await kubeRequest(kc, 'POST', `/api/v1/namespaces/${OLM_NS}/serviceaccounts/${SA}/token`, { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', spec: { expirationSeconds: 3600 } });
    if (tr.status !== 201) throw new Error(`TokenRequest: ${statusMessage(tr.body)}`);
    const token = String((tr.body as { status: { token: string } }).status.token);
    const cfg = parse(cluster.kubeconfigYaml) as { users: { user: Record<string, unknown> }[] };
    cfg.users[0]!.user = { token };
    const kubeconfig = join(dir, 'sa-kubeconfig');
    writeFileSync(kubeconfig, JSON.stringify(cfg), { mode: 0o600 });

    const container = (job['spec'] as { template: { spec: { containers: { command: string[]; env: { name: string; value: string }[] }[] } } }).template.spec.containers[0]!;
    const env = { ...Object.fromEntries(container.env.map((e) => [e.name, e.value])), KUBECONFIG: kubeconfig, PATH: `${BIN_DIR}:${process.env['PATH'] ?? ''}`, HOME: dir };
    return {
      plan,
      admin,
      /** The Job's script, with the real kubectl under the ServiceAccount's token. */
      approve: (deadlineSeconds: number) => run(container.command[0]!, container.command.slice(1), { ...env, DEADLINE: String(deadlineSeconds) }, (deadlineSeconds + 30) * 1000),
      kubectl: (args: readonly string[]) => run(join(BIN_DIR, 'kubectl'), args, env, 30_000),
      stop,
    };
  } catch (e) {
    await stop();
    throw e;
  }
}

const installPlans = async (admin: KubeClient) => (await admin.list(INSTALL_PLAN, OLM_NS)).items.map((p) => p['spec'] as { approved?: boolean; clusterServiceVersionNames?: string[] });

describeRealCluster('real kube-apiserver: phase 0 approval Job (directories mode)', () => {
  it('approves exactly the target CSV\'s InstallPlan under its own least-privilege token, then ends once the operator announces the target', async () => {
    const t = await startPhase0();
    try {
      const started = Date.now();
      const r = await t.approve(120);
      const tookMs = Date.now() - started;
      expect(r.out).toMatch(/approved InstallPlan install-[a-z0-9]+ for openstack-operator\.v18\.0\.4/);
      expect(r.code, r.out).toBe(0);
      expect(r.out).toMatch(new RegExp(`operator upgraded: openstack-operator.v18.0.4 Succeeded, availableVersion ${t.plan.versions.target.replace(/\./g, '\\.')}`));
      expect(await installPlans(t.admin)).toEqual([expect.objectContaining({ approved: true, clusterServiceVersionNames: ['openstack-operator.v18.0.4'] })]);
      // the Roles give what the script needs and no more
      for (const args of [
        ['delete', 'installplans.operators.coreos.com', '--all', '-n', OLM_NS],
        ['get', 'secrets', '-n', OLM_NS],
        ['patch', 'clusterserviceversions.operators.coreos.com', 'openstack-operator.v18.0.4', '-n', OLM_NS, '--type=merge', '-p', '{"metadata":{"labels":{"x":"y"}}}'],
        ['patch', 'openstackversions.core.openstack.org', t.plan.openStackVersion, '-n', t.plan.namespace, '--type=merge', '-p', '{"metadata":{"labels":{"x":"y"}}}'],
        ['get', 'installplans.operators.coreos.com', '-n', t.plan.namespace],
      ]) {
        const denied = await t.kubectl(args);
        expect(denied.code, `${args.join(' ')}: ${denied.out}`).not.toBe(0);
        expect(denied.out, args.join(' ')).toMatch(/forbidden/i);
      }
      // measured: 36 s per test in all, 18 s of it starting the cluster; the script itself 1-2 s
      console.info(`phase 0 approval Job script on the real API server: done in ${(tookMs / 1000).toFixed(1)} s`);
    } finally {
      await t.stop();
    }
  }, 150_000);

  it('refuses an InstallPlan that bundles another CSV and leaves it unapproved', async () => {
    const t = await startPhase0(['cinder-operator.v1.2.0']);
    try {
      const r = await t.approve(60);
      expect(r.code, r.out).toBe(1);
      expect(r.out).toMatch(/refused: InstallPlan install-[a-z0-9]+ would also install cinder-operator\.v1\.2\.0/);
      expect(await installPlans(t.admin)).toEqual([expect.objectContaining({ approved: false, clusterServiceVersionNames: ['openstack-operator.v18.0.4', 'cinder-operator.v1.2.0'] })]);
    } finally {
      await t.stop();
    }
  }, 150_000);
});
