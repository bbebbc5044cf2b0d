/**
 * The directories mode judged by Flux itself: the real source-controller and kustomize-controller
 * (built by scripts/build-flux.sh, started by ./flux.ts) run against the real kube-apiserver, clone the rendered example
 * over smart HTTP from 127.0.0.1 and apply it. Flux walks our `dependsOn` chain and evaluates our
 * CEL `healthCheckExprs` while our simulated operator moves the OpenStackVersion conditions; our
 * own agent is not running. The update must complete, and a failed deployment must stop Flux's
 * chain at the phase where our own gate stops.
 */
import { posix } from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { afterAll, expect, it } from 'vitest';
import { parse } from 'yaml';
import { KubeReader } from '../../src/cluster/kube.js';
import { readClusterSnapshot, type SnapshotTarget } from '../../src/cluster/read.js';
import { OPENSTACK_VERSION } from '../../src/cluster/resources.js';
import { phaseDirName, renderedPhases, type RenderedFile } from '../../src/render/render.js';
import type { Obj } from '../../src/simulate/seed.js';
import { CSV_NAMESPACE } from '../../src/simulate/rehearsal.js';
import { clusterEvidence, updateStatus, type UpdateStatus } from '../../src/status/update-status.js';
import type { rehearsalInputs } from '../helpers/rehearsal.js';
import { startAgentRun } from './agent-run.js';
import { describeRealCluster } from './describe-real.js';
import { FLUX_NS, FLUX_ROOT, applyFluxRoot, fluxAvailability, isReady, toSeen, type Seen } from './flux.js';
import type { GitHttpServer } from './git-http.js';
import type { RealCluster } from './harness.js';
import type { Child } from './processes.js';
import type { WatchRecorder } from './watch-recorder.js';

const LONG = 300_000;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const rec = (v: unknown): Obj => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Obj) : {});


type Recorder = WatchRecorder<Seen>;

// ---- one run: agent-run.ts's set-up, and the root Kustomization on the repository --------------

interface PhaseWiring {
  readonly phase: string;
  readonly kustomization: string;
}

interface FluxRun {
  readonly cluster: RealCluster;
  readonly kc: k8s.KubeConfig;
  readonly inputs: ReturnType<typeof rehearsalInputs>;
  /** The rendered phases in order, with the Flux Kustomization that applies each. */
  readonly phases: readonly PhaseWiring[];
  /** Each deployment's name and the phase whose folder first holds it. */
  readonly deployments: readonly { readonly name: string; readonly phase: string }[];
  readonly recorder: Recorder;
  readonly git: GitHttpServer;
  readonly controllers: readonly Child[];
  /** What our own gates say, read from the cluster as `status` does. */
  ourStatus(): Promise<UpdateStatus>;
  /** Throws with the controllers' logs when one of them has exited. */
  checkAlive(): void;
  logs(): string;
  stop(): Promise<void>;
}

function renderedFlux(files: readonly RenderedFile[], phases: ReturnType<typeof renderedPhases>, target: string) {
  const base = posix.join('updates', target);
  const kustomizations = files
    .filter((f) => f.path.startsWith(`${base}/flux/kustomization-`))
    .map((f) => rec(parse(f.content)))
    .map((o) => ({ name: String(rec(o['metadata'])['name']), path: String(rec(o['spec'])['path']) }));
  const wiring = phases.map((p) => {
    const k = kustomizations.find((x) => x.path.endsWith(`/${phaseDirName(p)}`));
    if (!k) throw new Error(`no Flux Kustomization renders phase ${p.id}`);
    return { phase: p.id, kustomization: k.name };
  });
  const deployments: { name: string; phase: string }[] = [];
  for (const p of phases) {
    for (const f of files.filter((x) => x.path.startsWith(`${base}/${phaseDirName(p)}/openstackdataplanedeployment-`))) {
      const name = String(rec(rec(parse(f.content))['metadata'])['name']);
      if (!deployments.some((d) => d.name === name)) deployments.push({ name, phase: p.id });
    }
  }
  return { wiring, deployments };
}

async function startFluxRun(faults?: { readonly failDeployments?: RegExp }): Promise<FluxRun> {
  const run = await startAgentRun({ agent: 'flux', mode: 'directories', ...(faults ? { faults } : {}), toSeen, watchKinds: ['OpenStackDataPlaneDeployment'] });
  return run.cleanups.guard(async () => {
    const { kc, plan, recorder, git } = run;
    if (!git) throw new Error('a Flux run serves its repository over HTTP');
    const { wiring, deployments } = renderedFlux(run.files, renderedPhases(plan), plan.versions.target);

    await applyFluxRoot(kc, run.repoURL, posix.join('updates', plan.versions.target));

    const target: SnapshotTarget = { namespace: plan.namespace, csvNamespace: CSV_NAMESPACE, agent: { engine: 'flux', namespace: FLUX_NS, name: FLUX_ROOT } };
    const reader = new KubeReader(kc, 5_000, { attempts: 3, baseMs: 100, maxMs: 1_000 });
    return {
      cluster: run.cluster,
      kc,
      inputs: run.inputs,
      phases: wiring,
      deployments,
      recorder,
      git,
      controllers: run.agent.processes,
      async ourStatus() {
        const snap = await readClusterSnapshot(reader, target);
        return updateStatus(plan, snap, clusterEvidence(plan, snap), 'cluster');
      },
      checkAlive: () => run.agent.checkAlive(),
      logs: () => run.agent.logs(),
      stop: run.stop,
    };
  });
}

async function until<T>(run: FluxRun, what: string, timeoutMs: number, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    run.checkAlive();
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`${what}: not done after ${timeoutMs / 1000}s\n${describeKustomizations(run)}\n${run.logs()}`);
    await sleep(500);
  }
}

function describeKustomizations(run: FluxRun): string {
  return [FLUX_ROOT, ...run.phases.map((p) => p.kustomization)]
    .map((name) => {
      const s = run.recorder.last('Kustomization', name);
      return `${name}: ${s?.ready ? `Ready=${s.ready.status} ${s.ready.reason}: ${s.ready.message}` : 'no Ready condition'}`;
    })
    .join('\n');
}


async function deployedVersion(run: FluxRun): Promise<string | undefined> {
  const api = run.kc.makeApiClient(k8s.CustomObjectsApi);
  const plan = run.inputs.update.plan;
  const osv = rec(await api.getNamespacedCustomObject({ group: OPENSTACK_VERSION.group, version: OPENSTACK_VERSION.version, namespace: plan.namespace, plural: OPENSTACK_VERSION.plural, name: plan.openStackVersion }));
  const v = rec(osv['status'])['deployedVersion'];
  return typeof v === 'string' ? v : undefined;
}

describeRealCluster('real Flux controllers: directories mode', () => {
  const availability = fluxAvailability();
  if (!availability.ok) {
    if (process.env['CI']) {
      it('has the Flux controller binaries and CRDs', () => {
        throw new Error(availability.reason);
      });
    } else {
      console.warn(`skipping the real Flux tests: ${availability.reason}`);
      it.skip(`(skipped: ${availability.reason})`, () => {});
    }
    return;
  }

  const runs: FluxRun[] = [];
  afterAll(async () => {
    for (const r of runs) await r.stop();
  });

  it('completes the update: Flux applies each phase only after the one before is Ready', async () => {
    const started = Date.now();
    const run = await startFluxRun();
    runs.push(run);
    try {
      const plan = run.inputs.update.plan;
      const lastPhase = run.phases.at(-1)!;
      await until(run, 'the last phase Kustomization Ready', 240_000, async () =>
        run.recorder.first('Kustomization', lastPhase.kustomization, isReady) ? true : undefined,
      );
      expect(await deployedVersion(run)).toBe(plan.versions.target);

      // Ready in plan order, each phase applied only after the phase before it was Ready
      const ready = run.phases.map((p) => run.recorder.first('Kustomization', p.kustomization, isReady));
      const applied = run.phases.map((p) => run.recorder.first('Kustomization', p.kustomization, (s) => s.applied));
      for (const [i, p] of run.phases.entries()) {
        expect(ready[i], `${p.kustomization} Ready`).toBeDefined();
        expect(applied[i], `${p.kustomization} applied`).toBeDefined();
        if (i === 0) continue;
        expect(ready[i]!.rv, `${p.kustomization} Ready after ${run.phases[i - 1]!.kustomization}`).toBeGreaterThan(ready[i - 1]!.rv);
        expect(applied[i]!.rv, `${p.kustomization} applied after ${run.phases[i - 1]!.kustomization} Ready`).toBeGreaterThan(ready[i - 1]!.rv);
      }
      // every phase but the first waited on its dependency at first
      for (const p of run.phases.slice(1)) {
        expect(run.recorder.first('Kustomization', p.kustomization, (s) => s.ready?.reason === 'DependencyNotReady'), p.kustomization).toBeDefined();
      }
      // the deployments appeared only once the phase before theirs was Ready
      expect(run.deployments.length).toBeGreaterThan(0);
      for (const d of run.deployments) {
        const created = run.recorder.first('OpenStackDataPlaneDeployment', d.name, () => true);
        const idx = run.phases.findIndex((p) => p.phase === d.phase);
        expect(created, d.name).toBeDefined();
        expect(idx, d.name).toBeGreaterThan(0);
        expect(created!.rv, `${d.name} created after ${run.phases[idx - 1]!.kustomization} Ready`).toBeGreaterThan(ready[idx - 1]!.rv);
      }
      // our own gates agree that the update is complete
      const ours = await run.ourStatus();
      expect(ours.phase, ours.reason).toBe('complete');
      expect(ours.verdict).toBe('passed');
      // the source came over HTTP from our git http-backend
      expect(run.git.requests.some((r) => /^POST \/gitops\.git\/git-upload-pack 200$/.test(r))).toBe(true);
      console.info(
        `real Flux, complete update in ${((Date.now() - started) / 1000).toFixed(1)}s; Ready at ` +
          run.phases.map((p, i) => `${p.phase} ${(ready[i]!.atMs / 1000).toFixed(1)}s`).join(', '),
      );
    } finally {
      await run.stop();
    }
  }, LONG);

  it('stops at the failed data-plane deployment, where our own gate stops', async () => {
    const started = Date.now();
    const run = await startFluxRun({ failDeployments: /edpm-update/ });
    runs.push(run);
    try {
      const failing = run.phases.find((p) => p.phase === 'dataplane');
      expect(failing, 'a dataplane phase').toBeDefined();
      const failedIdx = run.phases.indexOf(failing!);
      const { flux, ours } = await until(run, 'Flux and our gate both stopping', 240_000, async () => {
        const flux = run.recorder.last('Kustomization', failing!.kustomization);
        if (flux?.ready?.status !== 'False' || flux.ready.reason !== 'HealthCheckFailed') return undefined;
        const ours = await run.ourStatus();
        return ours.verdict === 'failed' ? { flux, ours } : undefined;
      });
      // give the chain time to move on if it wrongly would: dependencies are re-checked every second
      await sleep(8_000);
      run.checkAlive();

      // Flux: every phase before it Ready, it failed by our CEL `failed` expression, none after it Ready
      for (const p of run.phases.slice(0, failedIdx)) expect(run.recorder.first('Kustomization', p.kustomization, isReady), p.kustomization).toBeDefined();
      expect(run.recorder.first('Kustomization', failing!.kustomization, isReady)).toBeUndefined();
      expect(flux.ready?.message).toMatch(/failed/i);
      for (const p of run.phases.slice(failedIdx + 1)) {
        expect(run.recorder.first('Kustomization', p.kustomization, isReady), p.kustomization).toBeUndefined();
        expect(run.recorder.last('Kustomization', p.kustomization)?.ready?.reason, p.kustomization).toBe('DependencyNotReady');
      }
      const fluxStop = run.phases.find((p) => !run.recorder.first('Kustomization', p.kustomization, isReady));
      // ours: the same phase, failed, on the same deployment
      expect(ours.phase).toBe(fluxStop?.phase);
      expect(ours.reason).toMatch(/BackoffLimitExceeded/);
      expect(await deployedVersion(run)).not.toBe(run.inputs.update.plan.versions.target);
      console.info(`real Flux, failed update stopped at ${ours.phase} in ${((Date.now() - started) / 1000).toFixed(1)}s: ${flux.ready?.message}`);
    } finally {
      await run.stop();
    }
  }, LONG);
});
