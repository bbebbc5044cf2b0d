/**
 * Phase 0 in directories mode judged by the real Argo CD: the example rendered from phase 0, the
 * root Application applied once, and the real application-controller syncing the phase
 * Applications in waves. The approval Job of 00-operator is run by the rehearsal's Job runner (no
 * kubelet: the script's rule, see jobs.ts; the script itself runs for real in
 * phase0-approval-real.test.ts), OLM and the operator are the simulated controllers. The first
 * OpenStack phase's Application is created only once 00-operator is Healthy, i.e. once OLM
 * installed the target CSV.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { expect, it } from 'vitest';
import { exampleDir } from '../../src/cli/inputs.js';
import { EXAMPLE_SUBSCRIPTION, rehearsalStart } from '../../src/cli/simulate.js';
import { ARGOCD_APPLICATION, INSTALL_PLAN, OPENSTACK_VERSION, collectionPath } from '../../src/cluster/resources.js';
import { writeFiles } from '../../src/git/write-tree.js';
import { renderDirectories, renderedPhases } from '../../src/render/render.js';
import { KubeClient } from '../../src/simulate/agent/kube.js';
import { startGateJobRunner } from '../../src/simulate/jobs.js';
import { startSimulatedOlm } from '../../src/simulate/olm.js';
import { CSV_NAMESPACE, seedAndStartOperator } from '../../src/simulate/rehearsal.js';
import { caseFlags } from '../helpers/rehearsal.js';
import { sealedGit } from './agent-run.js';
import { ARGOCD_EXTRA_CRDS, ARGOCD_NS, argoCdAvailability, isHealthy, renderedArgo, secs, startArgoCd, toSeen } from './argocd.js';
import { describeRealCluster } from './describe-real.js';
import { DEFAULT_CRDS, kubeRequest, startRealCluster, statusMessage } from './harness.js';
import { WatchRecorder } from './watch-recorder.js';

const io = { cwd: process.cwd(), stdout: () => {}, stderr: () => {}, color: false };
const OLM_NS = 'openstack-operators';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describeRealCluster('real Argo CD: directories mode from phase 0', () => {
  const availability = argoCdAvailability();
  if (!availability.ok) {
    it.skip(`(skipped: ${availability.reason})`, () => {});
    return;
  }

  it('applies 00-operator first, and the first OpenStack phase only once OLM installed the target CSV; the update completes', async () => {
    const started = Date.now();
    const stops: (() => Promise<void> | void)[] = [];
    try {
      const cluster = await startRealCluster({ crds: [...DEFAULT_CRDS, ARGOCD_EXTRA_CRDS] });
      stops.push(() => cluster.stop());
      const base = mkdtempSync(join(tmpdir(), 'osv-p0-argocd-real-'));
      stops.push(() => rmSync(base, { recursive: true, force: true }));
      const kc = new k8s.KubeConfig();
      kc.loadFromString(cluster.kubeconfigYaml);
      const ns = await kubeRequest(kc, 'POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: OLM_NS } });
      if (ns.status !== 201 && ns.status !== 409) throw new Error(`namespace ${OLM_NS}: ${statusMessage(ns.body)}`);

      const opts = {
        ...rehearsalStart({ ...caseFlags('example'), subscription: join(exampleDir(), EXAMPLE_SUBSCRIPTION) }, io),
        engine: 'argocd' as const,
        mode: 'directories' as const,
        durations: { ovnControlPlane: 120, rabbitmq: 60, galera: 60, memcached: 60, keystone: 60, controlPlaneRest: 120, deploymentService: 60 },
      };
      const plan = opts.update.plan;
      const bare = join(base, 'gitops.git');
      const files = renderDirectories(opts.update, { engine: 'argocd', repoPath: '.', argo: { repoURL: `file://${bare}` } });
      const { wiring, rootApp, argocdCm } = renderedArgo(files, renderedPhases(plan), plan.versions.target);
      expect(wiring[0]).toMatchObject({ phase: 'operator', wave: 0 });
      const work = join(base, 'work');
      mkdirSync(work);
      sealedGit(base, ['init', '--quiet', '--bare', '--initial-branch=main', bare]);
      sealedGit(base, ['init', '--quiet', '--initial-branch=main', work]);
      writeFiles(work, files);
      sealedGit(work, ['add', '--all']);
      sealedGit(work, ['commit', '--quiet', '-m', `osv-gitops: update to ${plan.versions.target} (all phases, agent-gated, from phase 0)`]);
      sealedGit(work, ['push', '--quiet', bare, 'main']);

      const operator = await seedAndStartOperator(cluster.kubeconfigYaml, opts, CSV_NAMESPACE);
      stops.push(() => operator.stop());
      const olm = await startSimulatedOlm({ kubeconfigYaml: cluster.kubeconfigYaml, namespace: OLM_NS, catalog: opts.csv ? [opts.csv] : [], onInstalled: () => operator.setAvailableVersion(plan.versions.available), pollMs: 500 });
      stops.push(() => olm.stop());
      for (const namespace of [plan.namespace, OLM_NS]) {
        const jobs = await startGateJobRunner({ kubeconfigYaml: cluster.kubeconfigYaml, namespace, pollMs: 500 });
        stops.push(() => jobs.stop());
      }
      const recorder = new WatchRecorder(kc, toSeen);
      stops.push(() => recorder.stop());
      await recorder.watch(collectionPath(ARGOCD_APPLICATION, ARGOCD_NS), 'Application');
      const argo = await startArgoCd({ cluster, argocdCm: argocdCm as k8s.V1ConfigMap });
      stops.push(() => argo.stop());

      const res = await kubeRequest(kc, 'POST', `/apis/argoproj.io/v1alpha1/namespaces/${ARGOCD_NS}/applications`, rootApp);
      if (res.status !== 201) throw new Error(`creating the root Application: HTTP ${res.status}: ${statusMessage(res.body)}`);

      const last = wiring.at(-1)!.app;
      const deadline = Date.now() + 240_000;
      while (!recorder.first('Application', last, isHealthy)) {
        argo.checkAlive();
        if (Date.now() > deadline) throw new Error(`the last phase Application is not Healthy after 240 s\n${argo.logs(40)}`);
        await sleep(500);
      }
      const operatorHealthy = recorder.first('Application', wiring[0]!.app, isHealthy);
      const nextCreated = recorder.first('Application', wiring[1]!.app);
      expect(operatorHealthy).toBeDefined();
      expect(nextCreated!.rv, `${wiring[1]!.app} created after ${wiring[0]!.app} Healthy`).toBeGreaterThan(operatorHealthy!.rv);
      const admin = new KubeClient(cluster.kubeconfigYaml, { attempts: 3 });
      const plans = (await admin.list(INSTALL_PLAN, OLM_NS)).items.map((p) => p['spec']);
      expect(plans).toEqual([expect.objectContaining({ approved: true, clusterServiceVersionNames: [plan.operatorUpgrade!.csv] })]);
      const osv = await admin.get(`${OPENSTACK_VERSION.group}/${OPENSTACK_VERSION.version}`, OPENSTACK_VERSION.kind, plan.namespace, plan.openStackVersion);
      expect((osv?.['status'] as { deployedVersion?: string } | undefined)?.deployedVersion).toBe(plan.versions.target);
      console.info(`real Argo CD from phase 0: complete in ${secs(Date.now() - started)}; ${wiring[0]!.app} Healthy at ${secs(operatorHealthy!.atMs)}, ${wiring[1]!.app} created at ${secs(nextCreated!.atMs)}`);
    } finally {
      for (const s of stops.reverse()) {
        try {
          await s();
        } catch {
          // keep stopping the rest
        }
      }
    }
  }, 300_000); // measured 59 s (cluster start 18 s)
});
