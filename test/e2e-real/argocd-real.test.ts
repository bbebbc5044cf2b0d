/**
 * The directories mode judged by Argo CD itself: the real application-controller and repo-server
 * (built by scripts/build-argocd.sh, started by ./argocd.ts) run against the real kube-apiserver,
 * clone the rendered example from a bare repository at a file:// URL and apply it. Argo CD walks
 * our sync waves (one phase Application each, under a root app-of-apps), evaluates our Lua health
 * checks from the rendered argocd-cm and judges the gate Jobs, while our simulated operator moves
 * the OpenStackVersion conditions and the test plays the Job controller (no kubelet runs the gate
 * containers: the rehearsal's gate runner evaluates their script). Our own agent is not running.
 * The update must complete, and a failed deployment must stop Argo CD's chain at the phase where
 * our own gate stops.
 *
 * The commits mode: one Application on the folder `advance` writes; our watch loop (advance, with
 * the cluster watcher) commits and pushes each phase once the real Application reports the commit
 * before it synced (status.sync.revision) and Healthy and the phase's gate passed. The test plays
 * the Git webhook (a refresh annotation after each push).
 */
import * as k8s from '@kubernetes/client-node';
import { afterAll, expect, it } from 'vitest';
import { watchUpdate } from '../../src/advance/watch.js';
import { KubeReader } from '../../src/cluster/kube.js';
import { readClusterSnapshot, type SnapshotTarget } from '../../src/cluster/read.js';
import { OPENSTACK_VERSION } from '../../src/cluster/resources.js';
import { renderedPhases } from '../../src/render/render.js';
import type { Obj } from '../../src/simulate/seed.js';
import { CSV_NAMESPACE } from '../../src/simulate/rehearsal.js';
import { clusterEvidence, updateStatus, type UpdateStatus } from '../../src/status/update-status.js';
import type { rehearsalInputs } from '../helpers/rehearsal.js';
import { startAgentRun } from './agent-run.js';
import { ARGOCD_NS, argoCdAvailability, deployedVersionOf, isHealthy, renderedArgo, secs, toSeen, type ArgoCd, type Recorder } from './argocd.js';
import { recorded, startArgoCommits } from './argocd-commits.js';
import { describeRealCluster } from './describe-real.js';
import { kubeRequest, statusMessage, type RealCluster } from './harness.js';

const LONG = 420_000;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const rec = (v: unknown): Obj => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Obj) : {});
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

// ---- one run: agent-run.ts's set-up, and the root Application applied by hand ------------------

interface PhaseApp {
  readonly phase: string;
  readonly app: string;
  readonly wave: number;
}

interface ArgoRun {
  readonly cluster: RealCluster;
  readonly kc: k8s.KubeConfig;
  readonly inputs: ReturnType<typeof rehearsalInputs>;
  readonly root: string;
  readonly phases: readonly PhaseApp[];
  /** Each deployment's name and the phase whose folder holds it. */
  readonly deployments: readonly { readonly name: string; readonly phase: string }[];
  /** Each gate Job's name and its phase. */
  readonly jobs: readonly { readonly name: string; readonly phase: string }[];
  readonly recorder: Recorder;
  readonly argo: ArgoCd;
  /** When the root Application was created, on the recorder's clock. */
  readonly rootCreatedMs: number;
  ourStatus(): Promise<UpdateStatus>;
  checkAlive(): void;
  stop(): Promise<void>;
}

async function startArgoRun(faults?: { readonly failDeployments?: RegExp }, caseName = 'example'): Promise<ArgoRun> {
  const run = await startAgentRun({ agent: 'argocd', mode: 'directories', caseName, ...(faults ? { faults } : {}), toSeen, gateJobs: true, watchKinds: ['OpenStackDataPlaneDeployment', 'Job'] });
  return run.cleanups.guard(async () => {
    const { kc, plan, recorder } = run;
    const { wiring, deployments, jobs, rootApp } = renderedArgo(run.files, renderedPhases(plan), plan.versions.target);

    // the user applies the root Application once, by hand
    const root = String(rec(rootApp['metadata'])['name']);
    const rootCreatedMs = run.now();
    const res = await kubeRequest(kc, 'POST', `/apis/argoproj.io/v1alpha1/namespaces/${ARGOCD_NS}/applications`, rootApp);
    if (res.status !== 201) throw new Error(`creating the root Application: HTTP ${res.status}: ${statusMessage(res.body)}`);

    const target: SnapshotTarget = { namespace: plan.namespace, csvNamespace: CSV_NAMESPACE, agent: { engine: 'argocd', namespace: ARGOCD_NS, name: root } };
    const reader = new KubeReader(kc, 5_000, { attempts: 3, baseMs: 100, maxMs: 1_000 });
    return {
      cluster: run.cluster,
      kc,
      inputs: run.inputs,
      root,
      phases: wiring,
      deployments,
      jobs,
      recorder,
      argo: run.agent,
      rootCreatedMs,
      async ourStatus() {
        const snap = await readClusterSnapshot(reader, target);
        return updateStatus(plan, snap, clusterEvidence(plan, snap), 'cluster');
      },
      checkAlive: () => run.agent.checkAlive(),
      stop: run.stop,
    };
  });
}

function describeApps(run: ArgoRun): string {
  return [run.root, ...run.phases.map((p) => p.app)]
    .map((name) => {
      const s = run.recorder.last('Application', name);
      if (!s) return `${name}: not created`;
      const notHealthy = s.resources.filter((r) => r.health !== undefined && r.health !== 'Healthy').map((r) => `${r.kind}/${r.name} ${r.health}: ${r.message ?? ''}`);
      return `${name}: sync ${s.sync ?? '?'}, health ${s.health ?? '?'} ${s.healthMessage ?? ''}, operation ${s.operation ?? '-'}${notHealthy.length ? `\n    ${notHealthy.join('\n    ')}` : ''}`;
    })
    .join('\n');
}

async function until<T>(run: ArgoRun, what: string, timeoutMs: number, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    run.checkAlive();
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`${what}: not done after ${timeoutMs / 1000}s\n${describeApps(run)}\n${run.argo.logs(40)}`);
    await sleep(500);
  }
}

async function deployedVersion(run: ArgoRun): Promise<string | undefined> {
  const api = run.kc.makeApiClient(k8s.CustomObjectsApi);
  const plan = run.inputs.update.plan;
  const osv = rec(await api.getNamespacedCustomObject({ group: OPENSTACK_VERSION.group, version: OPENSTACK_VERSION.version, namespace: plan.namespace, plural: OPENSTACK_VERSION.plural, name: plan.openStackVersion }));
  return str(rec(osv['status'])['deployedVersion']);
}


describeRealCluster('real Argo CD: directories mode', () => {
  const availability = argoCdAvailability();
  if (!availability.ok) {
    if (process.env['CI']) {
      it('has the Argo CD binary', () => {
        throw new Error(availability.reason);
      });
    } else {
      console.warn(`skipping the real Argo CD tests: ${availability.reason}`);
      it.skip(`(skipped: ${availability.reason})`, () => {});
    }
    return;
  }

  const runs: ArgoRun[] = [];
  afterAll(async () => {
    for (const r of runs) await r.stop();
  });

  it.each(['example', 'batches-canary'])('%s: completes the update, each phase Application applied only after the one before is Healthy', async (caseName) => {
    const started = Date.now();
    const run = await startArgoRun(undefined, caseName);
    runs.push(run);
    try {
      const plan = run.inputs.update.plan;
      const lastPhase = run.phases.at(-1)!;
      await until(run, 'the last phase Application Healthy', 300_000, async () => (run.recorder.first('Application', lastPhase.app, isHealthy) ? true : undefined));
      const rootHealthy = await until(run, 'the root Application Healthy', 90_000, async () => run.recorder.first('Application', run.root, isHealthy));
      expect(await deployedVersion(run)).toBe(plan.versions.target);

      // sync waves in plan order
      expect(run.phases.map((p) => p.wave)).toEqual([...run.phases.map((p) => p.wave)].sort((a, b) => a - b));
      const created = run.phases.map((p) => run.recorder.first('Application', p.app));
      const healthy = run.phases.map((p) => run.recorder.first('Application', p.app, isHealthy));
      for (const [i, p] of run.phases.entries()) {
        expect(created[i], `${p.app} created`).toBeDefined();
        expect(healthy[i], `${p.app} Healthy`).toBeDefined();
        if (i === 0) continue;
        const prev = run.phases[i - 1]!.app;
        // the root applied it only once its predecessor was Synced and Healthy (our Lua check of
        // the Application kind), and it became Healthy after its predecessor
        expect(created[i]!.rv, `${p.app} created after ${prev} Healthy`).toBeGreaterThan(healthy[i - 1]!.rv);
        expect(healthy[i]!.rv, `${p.app} Healthy after ${prev}`).toBeGreaterThan(healthy[i - 1]!.rv);
      }
      // the deployments and gate Jobs of a phase appeared only once the phase before was Healthy
      expect(run.deployments.length).toBeGreaterThan(0);
      for (const d of [...run.deployments.map((x) => ({ ...x, kind: 'OpenStackDataPlaneDeployment' })), ...run.jobs.map((x) => ({ ...x, kind: 'Job' }))]) {
        const first = run.recorder.first(d.kind, d.name);
        const idx = run.phases.findIndex((p) => p.phase === d.phase);
        expect(first, `${d.kind} ${d.name}`).toBeDefined();
        if (idx > 0) expect(first!.rv, `${d.kind} ${d.name} created after ${run.phases[idx - 1]!.app} Healthy`).toBeGreaterThan(healthy[idx - 1]!.rv);
      }
      // Argo CD judged every gate Job Healthy once it had completed, and our Lua checks ran: the
      // OpenStackVersion's health messages are the ones our script writes
      for (const j of run.jobs) expect(run.recorder.first('Job', j.name, (s) => s.finished === 'Complete'), j.name).toBeDefined();
      const osvMessages = new Set(run.recorder.seen.flatMap((s) => s.resources.filter((r) => r.kind === 'OpenStackVersion' && r.message).map((r) => `${r.health}: ${r.message}`)));
      expect([...osvMessages].some((m) => /^Progressing: Waiting for /.test(m)), [...osvMessages].join('\n')).toBe(true);
      expect([...osvMessages].some((m) => /^Healthy: /.test(m)), [...osvMessages].join('\n')).toBe(true);
      const jobStates = new Set(run.recorder.seen.flatMap((s) => s.resources.filter((r) => r.kind === 'Job').map((r) => r.health)));
      expect(jobStates).toContain('Progressing');
      expect(jobStates).toContain('Healthy');

      // our own gates agree that the update is complete
      const ours = await run.ourStatus();
      expect(ours.phase, ours.reason).toBe('complete');
      expect(ours.verdict).toBe('passed');
      console.info(
        `real Argo CD, ${caseName}: complete update in ${secs(Date.now() - started)}; root Application created at ${secs(run.rootCreatedMs)}, Healthy at ${secs(rootHealthy.atMs)}; ` +
          `per phase created → Healthy: ${run.phases.map((p, i) => `${p.phase} ${secs(created[i]!.atMs)} → ${secs(healthy[i]!.atMs)}`).join(', ')}`,
      );
    } finally {
      await run.stop();
    }
  }, LONG);

  it('stops at the failed data-plane deployment, where our own gate stops', async () => {
    const started = Date.now();
    const run = await startArgoRun({ failDeployments: /edpm-update/ });
    runs.push(run);
    try {
      const failing = run.phases.find((p) => p.phase === 'dataplane');
      expect(failing, 'a dataplane phase').toBeDefined();
      const failedIdx = run.phases.indexOf(failing!);
      const { argo, ours } = await until(run, 'Argo CD and our gate both stopping', 300_000, async () => {
        const argo = run.recorder.last('Application', failing!.app);
        if (argo?.health !== 'Degraded') return undefined;
        const ours = await run.ourStatus();
        return ours.verdict === 'failed' ? { argo, ours } : undefined;
      });
      // time for the chain to move on if it wrongly would: a wave follows ~1 s after its predecessor
      await sleep(8_000);
      run.checkAlive();

      // Argo CD: every phase before it Healthy, it Degraded by the failed gate Job, none after it created
      for (const p of run.phases.slice(0, failedIdx)) expect(run.recorder.first('Application', p.app, isHealthy), p.app).toBeDefined();
      expect(run.recorder.first('Application', failing!.app, (s) => s.health === 'Healthy')).toBeUndefined();
      // Degraded by our Lua check of the failed deployment, or by the gate Job that failed with it
      const degraded = argo.resources.filter((r) => r.health === 'Degraded');
      const own = new Set([...run.deployments, ...run.jobs].filter((x) => x.phase === failing!.phase).map((x) => x.name));
      expect(degraded.length, describeApps(run)).toBeGreaterThan(0);
      for (const r of degraded) expect(own.has(r.name), `${r.kind}/${r.name} Degraded: ${r.message ?? ''}`).toBe(true);
      expect(degraded.map((r) => r.kind), describeApps(run)).toContain('OpenStackDataPlaneDeployment');
      for (const p of run.phases.slice(failedIdx + 1)) expect(run.recorder.first('Application', p.app), p.app).toBeUndefined();
      const root = run.recorder.last('Application', run.root);
      expect(root?.health).not.toBe('Healthy');
      const argoStop = run.phases.find((p) => !run.recorder.first('Application', p.app, isHealthy));
      // ours: the same phase, failed, on the same deployment
      expect(ours.phase).toBe(argoStop?.phase);
      expect(ours.reason).toMatch(/BackoffLimitExceeded/);
      expect(await deployedVersion(run)).not.toBe(run.inputs.update.plan.versions.target);
      console.info(
        `real Argo CD, failed update stopped at ${ours.phase} in ${secs(Date.now() - started)} (${failing!.app} Degraded at ${secs(run.recorder.first('Application', failing!.app, (s) => s.health === 'Degraded')?.atMs ?? 0)}): ` +
          `${degraded.map((r) => `${r.kind}/${r.name}: ${r.message ?? ''}`).join('; ')}; root: ${root?.health ?? '?'} ${root?.healthMessage ?? ''}; ours: ${ours.reason}`,
      );
    } finally {
      await run.stop();
    }
  }, LONG);
});

describeRealCluster('real Argo CD: commits mode', () => {
  const availability = argoCdAvailability();
  if (!availability.ok) {
    if (process.env['CI']) {
      it('has the Argo CD binary', () => {
        throw new Error(availability.reason);
      });
    } else {
      it.skip(`(skipped: ${availability.reason})`, () => {});
    }
    return;
  }

  it('advance commits each phase once the real Application has synced the one before and its gate passed', async () => {
    const started = Date.now();
    const run = await startArgoCommits();
    try {
      const { plan, recorder, app } = run;
      const steps: string[] = [];
      const result = await watchUpdate(
        run.inputs.update,
        { ...run.advance, nextChange: (ms) => run.watcher.changed(ms), idleMs: 1_000, timeoutMs: 300_000 },
        { onStep: (r) => steps.push(`${secs(Date.now() - started)} ${r.outcome} ${r.status.phase}${r.committed ? ` committed ${r.committed.phase}` : ''}`) },
      );
      expect(result.end, `${result.last?.reason ?? ''}\n${steps.join('\n')}\n${run.argo.logs(30)}`).toBe('done');
      expect(result.commits.length).toBeGreaterThan(1);
      // nothing after the last commit waits for Argo CD: advance's own gate reads the operator's
      // statuses, which Argo CD's health checks read too, a moment later (34 ms in one run), so the
      // last commit's Healthy is waited for rather than expected to be recorded already
      const last = result.commits.at(-1)!;
      await recorded(run, `Argo CD Synced and Healthy at ${last.phase}`, 60_000, () => recorder.first('Application', app, (s) => s.revision === last.sha && isHealthy(s)));
      // advance committed each phase only after the real Application had synced the commit before
      // it (status.sync.revision) and reported it Healthy
      const synced = result.commits.map((c) => recorder.first('Application', app, (s) => s.revision === c.sha && isHealthy(s)));
      for (const [i, c] of result.commits.entries()) {
        expect(synced[i], `Application Synced and Healthy at ${c.phase} (${c.sha})`).toBeDefined();
        if (i > 0) {
          const introduced = recorder.first('Application', app, (s) => s.revision === c.sha);
          expect(introduced!.rv, `${c.phase} reached Argo CD after ${result.commits[i - 1]!.phase} was Healthy`).toBeGreaterThan(synced[i - 1]!.rv);
        }
      }
      expect(await deployedVersionOf(run.kc, plan.namespace, plan.openStackVersion)).toBe(plan.versions.target);
      console.info(
        `real Argo CD, commits mode: ${result.commits.length} commits, done in ${secs(Date.now() - started)}; Synced and Healthy at ` +
          result.commits.map((c, i) => `${c.phase} ${secs(synced[i]!.atMs)}`).join(', '),
      );
    } finally {
      await run.stop();
    }
  }, LONG);
});
