/**
 * The directories mode judged by Flux itself: the real source-controller and kustomize-controller
 * (built by scripts/build-flux.sh) run against the real kube-apiserver, clone the rendered example
 * over smart HTTP from 127.0.0.1 and apply it. Flux walks our `dependsOn` chain and evaluates our
 * CEL `healthCheckExprs` while our simulated operator moves the OpenStackVersion conditions; our
 * own agent is not running. The update must complete, and a failed deployment must stop Flux's
 * chain at the phase where our own gate stops.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, posix, relative } from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { afterAll, expect, it } from 'vitest';
import { parse } from 'yaml';
import { KubeReader } from '../../src/cluster/kube.js';
import { readClusterSnapshot, type SnapshotTarget } from '../../src/cluster/read.js';
import { DATAPLANE_DEPLOYMENT, FLUX_GITREPOSITORY, FLUX_KUSTOMIZATION, OPENSTACK_VERSION, collectionPath } from '../../src/cluster/resources.js';
import { writeFiles } from '../../src/git/write-tree.js';
import { phaseDirName, renderDirectories, renderedPhases, type RenderedFile } from '../../src/render/render.js';
import type { SimulatedOperator } from '../../src/simulate/operator/controller.js';
import type { Obj } from '../../src/simulate/seed.js';
import { CSV_NAMESPACE, seedAndStartOperator } from '../../src/simulate/rehearsal.js';
import { clusterEvidence, updateStatus, type UpdateStatus } from '../../src/status/update-status.js';
import { rehearsalInputs } from '../helpers/rehearsal.js';
import { describeRealCluster } from './describe-real.js';
import { freePort, logTail, startChild, stopChild, type Child } from './processes.js';
import { startGitHttpServer, type GitHttpServer } from './git-http.js';
import { WatchRecorder } from './watch-recorder.js';
import { BIN_DIR, startRealCluster, type Availability, type RealCluster } from './harness.js';

const PROJECT_ROOT = join(import.meta.dirname, '..', '..');
const SOURCE_CONTROLLER = join(BIN_DIR, 'source-controller');
const KUSTOMIZE_CONTROLLER = join(BIN_DIR, 'kustomize-controller');
/** The CRDs of the built controllers' own release (copied by scripts/build-flux.sh). */
const FLUX_CRDS = '.cache/flux-crds';
// crds/gitops is left out: it holds older copies of two of the Flux CRDs above
const CRDS = ['crds/openstack-operator', 'crds/olm', FLUX_CRDS];
const FLUX_NS = 'flux-system';
/** The root Kustomization, which is also the agent object our gate reads. */
const ROOT = 'openstack';
const LONG = 300_000;

function fluxAvailability(): Availability {
  const missing = [SOURCE_CONTROLLER, KUSTOMIZE_CONTROLLER, join(PROJECT_ROOT, FLUX_CRDS)].filter((p) => !existsSync(p)).map((p) => relative(PROJECT_ROOT, p));
  if (missing.length === 0) return { ok: true };
  return { ok: false, reason: `the real Flux tier needs ${missing.join(', ')}: run \`npm run tools\` (builds the Flux controllers with Go, scripts/build-flux.sh)` };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const rec = (v: unknown): Obj => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Obj) : {});

function sealedGit(cwd: string, args: string[]): void {
  execFileSync('git', args, {
    cwd,
    env: { ...process.env, GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: '/dev/null', GIT_AUTHOR_NAME: 'flux-real', GIT_AUTHOR_EMAIL: 'flux-real@osv-gitops.invalid', GIT_COMMITTER_NAME: 'flux-real', GIT_COMMITTER_EMAIL: 'flux-real@osv-gitops.invalid' },
    stdio: 'ignore',
  });
}

// ---- the controllers as child processes -------------------------------------------------------

type Controller = Child;

// killed when the test process exits, whatever the reason (also when a test times out)
const runningControllers = new Set<Controller>();
process.on('exit', () => {
  for (const c of runningControllers) if (!c.exited) c.proc.kill('SIGKILL');
});

function startController(name: string, bin: string, args: string[], env: NodeJS.ProcessEnv, logFile: string): Controller {
  const c = startChild(name, bin, args, logFile, env);
  c.proc.on('exit', () => runningControllers.delete(c));
  runningControllers.add(c);
  return c;
}

const stopController = stopChild;

// ---- a record of what the API server stored, in its own order ---------------------------------

interface Seen {
  readonly atMs: number;
  /**
   * The object's resourceVersion as a number: on this server (one etcd) it is the etcd revision,
   * so it orders writes to different objects too, without relying on when our watches saw them.
   */
  readonly rv: number;
  readonly kind: string;
  readonly name: string;
  readonly ready?: { readonly status: string; readonly reason: string; readonly message: string };
  /** A Kustomization that has applied its objects (its inventory is written after the apply). */
  readonly applied: boolean;
}

/** One watched Kustomization or deployment, as the test needs it. */
function toSeen(obj: unknown, kind: string, atMs: number): Seen {
  const meta = rec(rec(obj)['metadata']);
  const status = rec(rec(obj)['status']);
  const ready = ((status['conditions'] as Obj[] | undefined) ?? []).find((c) => c['type'] === 'Ready');
  return {
    atMs,
    rv: Number(meta['resourceVersion']),
    kind,
    name: String(meta['name']),
    ...(ready ? { ready: { status: String(ready['status']), reason: String(ready['reason'] ?? ''), message: String(ready['message'] ?? '') } } : {}),
    applied: ((rec(status['inventory'])['entries'] as unknown[] | undefined) ?? []).length > 0,
  };
}

type Recorder = WatchRecorder<Seen>;

// ---- one run: cluster, seed, operator, Git over HTTP, Flux --------------------------------------

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
  readonly controllers: readonly Controller[];
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
  const cleanups: (() => Promise<void> | void)[] = [];
  const stop = async () => {
    for (const c of cleanups.splice(0).reverse()) {
      try {
        await c();
      } catch {
        // keep stopping the rest
      }
    }
  };
  try {
    const cluster = await startRealCluster({ crds: CRDS });
    cleanups.push(() => cluster.stop());
    const base = mkdtempSync(join(tmpdir(), 'osv-flux-real-'));
    cleanups.push(() => rmSync(base, { recursive: true, force: true }));
    const inputs = rehearsalInputs('example', 'flux', 'directories');
    const plan = inputs.update.plan;
    const kc = new k8s.KubeConfig();
    kc.loadFromString(cluster.kubeconfigYaml);

    // the pre-update state and the simulated operator, as startRehearsalCluster sets them up,
    // without our simulated agent: Flux is the agent here
    const operator: SimulatedOperator = await seedAndStartOperator(cluster.kubeconfigYaml, { ...inputs, ...(faults ? { faults } : {}) }, CSV_NAMESPACE);
    cleanups.push(() => operator.stop());

    // the GitOps repository: the directories render of the example, one commit, served over HTTP
    const files = renderDirectories(inputs.update, { engine: 'flux', repoPath: '.' });
    const { wiring, deployments } = renderedFlux(files, renderedPhases(plan), plan.versions.target);
    const gitRoot = join(base, 'git');
    const work = join(base, 'work');
    mkdirSync(gitRoot);
    sealedGit(base, ['init', '--quiet', '--bare', '--initial-branch=main', join(gitRoot, 'gitops.git')]);
    sealedGit(base, ['init', '--quiet', '--initial-branch=main', work]);
    writeFiles(work, files);
    sealedGit(work, ['add', '--all']);
    sealedGit(work, ['commit', '--quiet', '-m', `osv-gitops: update to ${plan.versions.target} (all phases, agent-gated)`]);
    sealedGit(work, ['push', '--quiet', join(gitRoot, 'gitops.git'), 'main']);
    const git = await startGitHttpServer(gitRoot);
    cleanups.push(() => git.close());

    const recorder = new WatchRecorder(kc, toSeen);
    cleanups.push(() => recorder.stop());
    await Promise.all([
      recorder.watch(collectionPath(FLUX_KUSTOMIZATION, FLUX_NS), 'Kustomization'),
      recorder.watch(collectionPath(DATAPLANE_DEPLOYMENT, plan.namespace), 'OpenStackDataPlaneDeployment'),
    ]);

    // the controllers: our kubeconfig (the admin token), no leader election (the default), every
    // address on 127.0.0.1, dependencies re-checked every second instead of every 30
    const ports = new Set<number>();
    while (ports.size < 5) ports.add(await freePort());
    const [storagePort, sourceMetrics, sourceHealth, kustomizeMetrics, kustomizeHealth] = [...ports] as [number, number, number, number, number];
    const tmp = join(base, 'tmp');
    mkdirSync(tmp);
    mkdirSync(join(base, 'storage'));
    const env: NodeJS.ProcessEnv = { PATH: process.env['PATH'] ?? '/usr/bin:/bin', HOME: base, TMPDIR: tmp, KUBECONFIG: cluster.kubeconfigPath, RUNTIME_NAMESPACE: FLUX_NS };
    const common = ['--watch-all-namespaces', '--log-level=info'];
    const source = startController(
      'source-controller',
      SOURCE_CONTROLLER,
      [...common, `--storage-path=${join(base, 'storage')}`, `--storage-addr=127.0.0.1:${storagePort}`, `--storage-adv-addr=127.0.0.1:${storagePort}`, `--metrics-addr=127.0.0.1:${sourceMetrics}`, `--health-addr=127.0.0.1:${sourceHealth}`],
      env,
      join(base, 'source-controller.log'),
    );
    cleanups.push(() => stopController(source));
    const kustomize = startController(
      'kustomize-controller',
      KUSTOMIZE_CONTROLLER,
      [...common, '--requeue-dependency=1s', `--metrics-addr=127.0.0.1:${kustomizeMetrics}`, `--health-addr=127.0.0.1:${kustomizeHealth}`],
      env,
      join(base, 'kustomize-controller.log'),
    );
    cleanups.push(() => stopController(kustomize));
    const controllers = [source, kustomize];
    const logs = () => controllers.map((c) => `--- ${c.name} log (tail)\n${logTail(c.logFile)}`).join('\n');
    // the logs go with the temp folder; OSV_FLUX_LOGS=1 prints them before it is removed
    cleanups.push(() => {
      if (process.env['OSV_FLUX_LOGS']) console.info(logs());
    });

    const api = kc.makeApiClient(k8s.CustomObjectsApi);
    const create = (t: typeof FLUX_KUSTOMIZATION, body: Obj) => api.createNamespacedCustomObject({ group: t.group, version: t.version, namespace: FLUX_NS, plural: t.plural, body });
    await create(FLUX_GITREPOSITORY, {
      apiVersion: 'source.toolkit.fluxcd.io/v1',
      kind: 'GitRepository',
      metadata: { name: 'flux-system', namespace: FLUX_NS },
      spec: { interval: '5s', timeout: '20s', url: `${git.url}/gitops.git`, ref: { branch: 'main' } },
    });
    await create(FLUX_KUSTOMIZATION, {
      apiVersion: 'kustomize.toolkit.fluxcd.io/v1',
      kind: 'Kustomization',
      metadata: { name: ROOT, namespace: FLUX_NS },
      spec: { interval: '1m', path: `./${posix.join('updates', plan.versions.target, 'flux')}`, prune: false, wait: false, timeout: '1m', sourceRef: { kind: 'GitRepository', name: 'flux-system' } },
    });

    const target: SnapshotTarget = { namespace: plan.namespace, csvNamespace: CSV_NAMESPACE, agent: { engine: 'flux', namespace: FLUX_NS, name: ROOT } };
    const reader = new KubeReader(kc, 5_000, { attempts: 3, baseMs: 100, maxMs: 1_000 });
    return {
      cluster,
      kc,
      inputs,
      phases: wiring,
      deployments,
      recorder,
      git,
      controllers,
      async ourStatus() {
        const snap = await readClusterSnapshot(reader, target);
        return updateStatus(plan, snap, clusterEvidence(plan, snap), 'cluster');
      },
      checkAlive() {
        const dead = controllers.filter((c) => c.exited);
        if (dead.length) throw new Error(`${dead.map((c) => c.name).join(' and ')} exited\n${logs()}`);
      },
      logs,
      stop,
    };
  } catch (e) {
    await stop();
    throw e;
  }
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
  return [ROOT, ...run.phases.map((p) => p.kustomization)]
    .map((name) => {
      const s = run.recorder.last('Kustomization', name);
      return `${name}: ${s?.ready ? `Ready=${s.ready.status} ${s.ready.reason}: ${s.ready.message}` : 'no Ready condition'}`;
    })
    .join('\n');
}

const isReady = (s: Seen) => s.ready?.status === 'True';

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
