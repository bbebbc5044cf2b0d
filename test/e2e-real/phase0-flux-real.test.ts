/**
 * Phase 0 in directories mode judged by the real Flux controllers: the example rendered from phase
 * 0, the root Kustomization on the repository, and the real kustomize-controller walking our
 * `dependsOn` chain. The approval Job of 00-operator is run by the rehearsal's Job runner (no
 * kubelet: the script's rule, see jobs.ts), OLM and the operator are the simulated controllers.
 * Flux's own kstatus and our CEL entry for the Subscription decide when 00-operator is Ready; the
 * first OpenStack phase is applied only after that, i.e. once OLM installed the target CSV.
 */
import { posix } from 'node:path';
import { expect, it } from 'vitest';
import { parse } from 'yaml';
import { INSTALL_PLAN, OPENSTACK_VERSION } from '../../src/cluster/resources.js';
import { phaseDirName, renderedPhases } from '../../src/render/render.js';
import { KubeClient } from '../../src/simulate/agent/kube.js';
import type { Obj } from '../../src/simulate/seed.js';
import { startAgentRun } from './agent-run.js';
import { describeRealCluster } from './describe-real.js';
import { applyFluxRoot, fluxAvailability, isReady, toSeen } from './flux.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const rec = (v: unknown): Obj => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Obj) : {});


const secs = (ms: number) => `${(ms / 1000).toFixed(1)}s`;

describeRealCluster('real Flux controllers: directories mode from phase 0', () => {
  const availability = fluxAvailability();
  if (!availability.ok) {
    it.skip(`(skipped: ${availability.reason})`, () => {});
    return;
  }

  it('applies 00-operator first, and the first OpenStack phase only once OLM installed the target CSV; the update completes', async () => {
    const started = Date.now();
    const run = await startAgentRun({ agent: 'flux', mode: 'directories', phase0: true, toSeen });
    try {
      await run.cleanups.guard(async () => {
        const { kc, plan, recorder } = run;
        const base = posix.join('updates', plan.versions.target);
        const kustomizationOf = new Map(
          run.files
            .filter((f) => f.path.startsWith(`${base}/flux/kustomization-`))
            .map((f) => rec(parse(f.content)))
            .map((o) => [String(rec(o['spec'])['path']).split('/').pop()!, String(rec(o['metadata'])['name'])]),
        );
        const chain = renderedPhases(plan).map((p) => ({ phase: p.id, name: kustomizationOf.get(phaseDirName(p))! }));
        expect(chain[0]!.phase).toBe('operator');
        expect(chain.every((c) => c.name !== undefined)).toBe(true);

        await applyFluxRoot(kc, run.repoURL, base);

        const last = chain.at(-1)!.name;
        const deadline = Date.now() + 240_000;
        while (!recorder.first('Kustomization', last, isReady)) {
          run.agent.checkAlive();
          if (Date.now() > deadline) {
            const states = chain.map((c) => `${c.name}: ${JSON.stringify(recorder.last('Kustomization', c.name)?.ready ?? 'no Ready')}`).join('\n');
            throw new Error(`the last phase Kustomization is not Ready after 240 s\n${states}\n${run.agent.logs(60)}`);
          }
          await sleep(500);
        }
        const operatorReady = recorder.first('Kustomization', chain[0]!.name, isReady);
        // Flux held 00-operator while the Job ran: Ready only after it was seen waiting
        const operatorWaiting = recorder.first('Kustomization', chain[0]!.name, (s) => s.applied && s.ready?.status !== 'True');
        const nextApplied = recorder.first('Kustomization', chain[1]!.name, (s) => s.applied);
        expect(operatorReady).toBeDefined();
        expect(operatorWaiting, `${chain[0]!.name} waited on the approval Job`).toBeDefined();
        expect(operatorWaiting!.rv).toBeLessThan(operatorReady!.rv);
        expect(recorder.first('Kustomization', chain[1]!.name, (s) => s.ready?.reason === 'DependencyNotReady'), `${chain[1]!.name} waited on ${chain[0]!.name}`).toBeDefined();
        expect(nextApplied!.rv, `${chain[1]!.name} applied after ${chain[0]!.name} Ready`).toBeGreaterThan(operatorReady!.rv);

        const admin = new KubeClient(run.cluster.kubeconfigYaml, { attempts: 3 });
        const op = plan.operatorUpgrade!;
        const plans = (await admin.list(INSTALL_PLAN, op.operatorNamespace)).items.map((p) => p['spec']);
        expect(plans).toEqual([expect.objectContaining({ approved: true, clusterServiceVersionNames: [op.csv] })]);
        const osv = await admin.get(`${OPENSTACK_VERSION.group}/${OPENSTACK_VERSION.version}`, OPENSTACK_VERSION.kind, plan.namespace, plan.openStackVersion);
        expect((osv?.['status'] as { deployedVersion?: string } | undefined)?.deployedVersion).toBe(plan.versions.target);
        console.info(`real Flux from phase 0: complete in ${secs(Date.now() - started)}; ${chain[0]!.name} Ready at ${secs(operatorReady!.atMs)}, ${chain[1]!.name} applied at ${secs(nextApplied!.atMs)}`);
      });
    } finally {
      await run.stop();
    }
  }, 400_000); // measured 118 s (00-operator Ready at 14 s) on 2 shared cores, load ~9
});
