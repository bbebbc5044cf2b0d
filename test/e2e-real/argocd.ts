/**
 * A real Argo CD next to the real kube-apiserver of harness.ts: the application-controller and the
 * repo-server of the multi-call binary scripts/build-argocd.sh builds (`.cache/bin/argocd`, its
 * names linked in `.cache/argocd/bin/`), with an in-memory Redis (miniredis) of the same binary.
 *
 * Only the objects the two processes read are created: `argocd-cm` (the caller's, e.g. the
 * rendered health-check ConfigMap), `argocd-secret` and the `default` AppProject that Argo CD's API
 * server would create. The in-cluster destination `https://kubernetes.default.svc` is the test API
 * server (ARGOCD_FAKE_IN_CLUSTER with KUBECONFIG). Every path and port is new per start, so runs
 * in parallel do not meet; stop() ends the three processes and removes the folder.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join, posix, relative } from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { parse } from 'yaml';
import { ARGOCD_APPLICATION, OPENSTACK_VERSION } from '../../src/cluster/resources.js';
import { phaseDirName, type RenderedFile, type renderedPhases } from '../../src/render/render.js';
import type { Obj } from '../../src/simulate/seed.js';
import { BIN_DIR, kubeRequest, statusMessage, type Availability, type RealCluster } from './harness.js';
import { freePort, logTail, startChild, stopChild, type AgentProcesses, type Child } from './processes.js';
import type { WatchRecorder } from './watch-recorder.js';

const PROJECT_ROOT = join(import.meta.dirname, '..', '..');
const ARGOCD_BIN = join(BIN_DIR, 'argocd');
/** The names of the multi-call binary as links; also the PATH folder of the repo-server. */
const LINK_DIR = join(PROJECT_ROOT, '.cache', 'argocd', 'bin');
const LINKS = ['argocd-application-controller', 'argocd-repo-server', 'argocd-redis', 'kustomize', 'argocd'] as const;
/** The AppProject CRD (copied from the argo-cd module); the Application CRD is in crds/gitops. */
export const ARGOCD_EXTRA_CRDS = 'test/e2e-real/crds';
export const ARGOCD_NS = 'argocd';

export function argoCdAvailability(): Availability {
  const missing = [ARGOCD_BIN, ...LINKS.map((l) => join(LINK_DIR, l))].filter((p) => !existsSync(p)).map((p) => relative(PROJECT_ROOT, p));
  if (missing.length === 0) return { ok: true };
  return { ok: false, reason: `the real Argo CD tier needs ${missing.join(', ')}: run \`npm run tools\` (builds Argo CD with Go, scripts/build-argocd.sh)` };
}

export type ArgoCd = AgentProcesses;

export interface ArgoCdOptions {
  readonly cluster: RealCluster;
  /** The `argocd-cm` ConfigMap (its labels are completed with `app.kubernetes.io/part-of: argocd`). */
  readonly argocdCm: k8s.V1ConfigMap;
  /** Seconds between full refreshes of every Application. @default 30 */
  readonly resyncSeconds?: number;
}

// killed when the test process exits, whatever the reason (also when a test times out)
const running = new Set<Child>();
process.on('exit', () => {
  for (const c of running) if (!c.exited) c.proc.kill('SIGKILL');
});

/**
 * Kills the processes and removes the folder once this process is gone: the `exit` hook does not
 * run when the test worker itself is killed with SIGKILL.
 */
function startWatchdog(pids: number[], dir: string): ChildProcess {
  const script = `while kill -0 ${process.pid} 2>/dev/null; do sleep 1; done; kill -9 ${pids.join(' ')} 2>/dev/null; rm -rf "$1"`;
  const dog = spawn('sh', ['-c', script, 'osv-argocd-watchdog', dir], { stdio: 'ignore', detached: true });
  dog.unref();
  return dog;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitUntil(what: string, timeoutMs: number, probe: () => Promise<boolean>, dead: () => string | undefined): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const why = dead();
    if (why !== undefined) throw new Error(`${what}: ${why}`);
    if (await probe().catch(() => false)) return;
    if (Date.now() > deadline) throw new Error(`${what}: not ready after ${timeoutMs / 1000}s`);
    await sleep(250);
  }
}

const tcpOpen = (port: number) =>
  new Promise<boolean>((resolve) => {
    const s = connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });

const healthz = async (port: number) => (await fetch(`http://127.0.0.1:${port}/healthz`)).ok;

async function createOrThrow(kc: k8s.KubeConfig, path: string, body: unknown): Promise<void> {
  const res = await kubeRequest(kc, 'POST', path, body);
  if (res.status !== 201) throw new Error(`POST ${path}: HTTP ${res.status}: ${statusMessage(res.body)}`);
}

/**
 * Creates Argo CD's configuration objects and starts Redis, the repo-server and the
 * application-controller; resolves once both report /healthz. The cluster must have been started
 * with the Application CRD (crds/gitops) and {@link ARGOCD_EXTRA_CRDS}.
 */
export async function startArgoCd(opts: ArgoCdOptions): Promise<ArgoCd> {
  const availability = argoCdAvailability();
  if (!availability.ok) throw new Error(availability.reason);
  const started = Date.now();
  const kc = new k8s.KubeConfig();
  kc.loadFromString(opts.cluster.kubeconfigYaml);
  const partOf = { 'app.kubernetes.io/part-of': 'argocd' };

  // the settings informer of both processes selects on the part-of label
  const cm = opts.argocdCm;
  await createOrThrow(kc, `/api/v1/namespaces/${ARGOCD_NS}/configmaps`, {
    ...cm,
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { ...cm.metadata, name: 'argocd-cm', namespace: ARGOCD_NS, labels: { ...cm.metadata?.labels, ...partOf } },
  });
  await createOrThrow(kc, `/api/v1/namespaces/${ARGOCD_NS}/secrets`, {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: 'argocd-secret', namespace: ARGOCD_NS, labels: partOf },
    stringData: { 'server.secretkey': randomBytes(32).toString('base64') },
  });
  // what Argo CD's API server creates at its first start
  await createOrThrow(kc, `/apis/argoproj.io/v1alpha1/namespaces/${ARGOCD_NS}/appprojects`, {
    apiVersion: 'argoproj.io/v1alpha1',
    kind: 'AppProject',
    metadata: { name: 'default', namespace: ARGOCD_NS },
    spec: { sourceRepos: ['*'], destinations: [{ server: '*', namespace: '*' }], clusterResourceWhitelist: [{ group: '*', kind: '*' }] },
  });

  const dir = mkdtempSync(join(tmpdir(), 'osv-argocd-'));
  const children: Child[] = [];
  let stopped = false;
  let watchdog: ChildProcess | undefined;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    watchdog?.kill('SIGKILL');
    // the controller first: it would log the repo-server and Redis going away
    for (const c of [...children].reverse()) {
      await stopChild(c);
      running.delete(c);
    }
    rmSync(dir, { recursive: true, force: true });
  };
  const logs = (lines = 30) => children.map((c) => `--- ${c.name} log (tail)\n${logTail(c.logFile, lines)}`).join('\n');
  const dead = () => {
    const gone = children.filter((c) => c.exited);
    return gone.length ? `${gone.map((c) => c.name).join(' and ')} exited\n${logs()}` : undefined;
  };
  const start = (name: (typeof LINKS)[number], args: string[], env: NodeJS.ProcessEnv) => {
    const c = startChild(name, join(LINK_DIR, name), args, join(dir, `${name}.log`), env);
    children.push(c);
    running.add(c);
    return c;
  };

  try {
    const ports = new Set<number>();
    while (ports.size < 4) ports.add(await freePort());
    const [redisPort, repoPort, repoMetrics, controllerMetrics] = [...ports] as [number, number, number, number];
    for (const d of ['tmp', 'home', 'ssh', 'tls']) mkdirSync(join(dir, d));
    // no ARGOCD_BINARY_NAME: the links' names choose the command, and children inherit the env
    const env: NodeJS.ProcessEnv = {
      PATH: [LINK_DIR, process.env['PATH'] ?? '/usr/bin:/bin'].join(delimiter),
      HOME: join(dir, 'home'),
      TMPDIR: join(dir, 'tmp'),
      KUBECONFIG: opts.cluster.kubeconfigPath,
      ARGOCD_FAKE_IN_CLUSTER: 'true',
      ARGOCD_GPG_ENABLED: 'false',
      // the defaults are fixed paths under /app/config and /tmp, shared by every run on the machine
      ARGOCD_ASK_PASS_SOCK: join(dir, 'askpass.sock'),
      ARGOCD_SSH_DATA_PATH: join(dir, 'ssh'),
      ARGOCD_TLS_DATA_PATH: join(dir, 'tls'),
      GIT_CONFIG_NOSYSTEM: '1',
      // one second between sync waves instead of two
      ARGOCD_SYNC_WAVE_DELAY: '1',
    };
    const redisAddr = `127.0.0.1:${redisPort}`;
    const redis = start('argocd-redis', [`--addr=${redisAddr}`], env);
    await waitUntil('Redis', 30_000, () => tcpOpen(redisPort), dead);

    const logFlags = ['--loglevel=info', '--logformat=text'];
    start(
      'argocd-repo-server',
      ['--address=127.0.0.1', `--port=${repoPort}`, '--metrics-address=127.0.0.1', `--metrics-port=${repoMetrics}`, '--disable-tls', `--redis=${redisAddr}`, ...logFlags],
      env,
    );
    const resync = String(opts.resyncSeconds ?? 30);
    start(
      'argocd-application-controller',
      [
        `--kubeconfig=${opts.cluster.kubeconfigPath}`,
        `--namespace=${ARGOCD_NS}`,
        `--repo-server=127.0.0.1:${repoPort}`,
        '--repo-server-plaintext',
        `--redis=${redisAddr}`,
        `--metrics-port=${controllerMetrics}`,
        `--app-resync=${resync}`,
        '--app-resync-jitter=0',
        // without it the health messages of our Lua checks are not in the Application status
        '--persist-resource-health',
        ...logFlags,
      ],
      env,
    );
    watchdog = startWatchdog(children.map((c) => c.proc.pid ?? 0).filter((p) => p > 0), dir);
    await waitUntil('argocd-repo-server /healthz', 90_000, () => healthz(repoMetrics), dead);
    await waitUntil('argocd-application-controller /healthz', 90_000, () => healthz(controllerMetrics), dead);
    console.info(`real Argo CD (redis pid ${redis.proc.pid}): ready in ${((Date.now() - started) / 1000).toFixed(1)}s`);
    return {
      processes: children,
      checkAlive() {
        const why = dead();
        if (why !== undefined) throw new Error(why);
      },
      logs,
      stop,
    };
  } catch (e) {
    const text = logs(15);
    await stop();
    throw new Error(`${e instanceof Error ? e.message : String(e)}\n${text}`, { cause: e });
  }
}

// ---- what the API server stored, in its own order (the Applications, the objects they apply) --

export interface ResourceHealth {
  readonly kind: string;
  readonly name: string;
  readonly health?: string;
  readonly message?: string;
}

export interface Seen {
  readonly atMs: number;
  /** resourceVersion as a number: the etcd revision, which orders writes to different objects. */
  readonly rv: number;
  readonly kind: string;
  readonly name: string;
  /** Applications: status.health.status / message, status.sync.status, operationState.phase. */
  readonly health?: string;
  readonly healthMessage?: string;
  readonly sync?: string;
  /** status.sync.revision: the commit the Application was last compared with. */
  readonly revision?: string;
  readonly operation?: string;
  /** status.operationState.message and syncResult.revision. */
  readonly operationMessage?: string;
  readonly operationRevision?: string;
  /** status.conditions, each `Type: message`. */
  readonly appConditions: readonly string[];
  readonly resources: readonly ResourceHealth[];
  /** Jobs: Complete or Failed once finished. */
  readonly finished?: string;
  /** OpenStackVersions: spec.targetVersion and who tracks them (the tracking-id annotation). */
  readonly targetVersion?: string;
  readonly trackedBy?: string;
}

export type Recorder = WatchRecorder<Seen>;

const rec = (v: unknown): Obj => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Obj) : {});
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
const list = (v: unknown): Obj[] => (Array.isArray(v) ? v.map(rec) : []);

export function toSeen(obj: unknown, kind: string, atMs: number): Seen {
  const meta = rec(rec(obj)['metadata']);
  const status = rec(rec(obj)['status']);
  const health = rec(status['health']);
  const resources = list(status['resources']).map((r) => {
    const h = rec(r['health']);
    return { kind: String(r['kind']), name: String(r['name']), ...(str(h['status']) ? { health: str(h['status']) } : {}), ...(str(h['message']) ? { message: str(h['message']) } : {}) };
  });
  const conditions = list(status['conditions']);
  const finished = conditions.find((c) => (c['type'] === 'Complete' || c['type'] === 'Failed') && c['status'] === 'True');
  const opState = rec(status['operationState']);
  const op = str(opState['phase']);
  const opMessage = str(opState['message']);
  const opRevision = str(rec(opState['syncResult'])['revision']);
  const sync = rec(status['sync']);
  const target = str(rec(rec(obj)['spec'])['targetVersion']);
  const tracked = str(rec(meta['annotations'])['argocd.argoproj.io/tracking-id']);
  return {
    atMs,
    rv: Number(meta['resourceVersion']),
    kind,
    name: String(meta['name']),
    ...(str(health['status']) ? { health: str(health['status']) } : {}),
    ...(str(health['message']) ? { healthMessage: str(health['message']) } : {}),
    ...(str(sync['status']) ? { sync: str(sync['status']) } : {}),
    ...(str(sync['revision']) ? { revision: str(sync['revision']) } : {}),
    ...(op ? { operation: op } : {}),
    ...(opMessage ? { operationMessage: opMessage } : {}),
    ...(opRevision ? { operationRevision: opRevision } : {}),
    appConditions: kind === 'Application' ? conditions.map((c) => `${String(c['type'])}: ${String(c['message'] ?? '')}`) : [],
    resources,
    ...(finished ? { finished: String(finished['type']) } : {}),
    ...(kind === 'OpenStackVersion' && target ? { targetVersion: target } : {}),
    ...(tracked ? { trackedBy: tracked } : {}),
  };
}

export const isHealthy = (s: Seen) => s.health === 'Healthy' && s.sync === 'Synced';

export const secs = (ms: number) => `${(ms / 1000).toFixed(1)}s`;

/** The rendered directories-mode wiring: phase Applications, deployments, gate Jobs, root app, argocd-cm. */
export function renderedArgo(files: readonly RenderedFile[], phases: ReturnType<typeof renderedPhases>, target: string) {
  const base = posix.join('updates', target);
  const apps = files
    .filter((f) => f.path.startsWith(`${base}/argocd/application-`))
    .map((f) => rec(parse(f.content)))
    .map((o) => ({
      name: String(rec(o['metadata'])['name']),
      path: String(rec(rec(o['spec'])['source'])['path']),
      wave: Number(rec(rec(o['metadata'])['annotations'])['argocd.argoproj.io/sync-wave']),
    }));
  const wiring = phases.map((p) => {
    const a = apps.find((x) => x.path.endsWith(`/${phaseDirName(p)}`));
    if (!a) throw new Error(`no Argo CD Application renders phase ${p.id}`);
    return { phase: p.id, app: a.name, wave: a.wave };
  });
  const inFolder = (p: (typeof phases)[number], prefix: string) =>
    files.filter((x) => x.path.startsWith(`${base}/${phaseDirName(p)}/${prefix}`)).map((f) => String(rec(rec(parse(f.content))['metadata'])['name']));
  const deployments = phases.flatMap((p) => inFolder(p, 'openstackdataplanedeployment-').map((name) => ({ name, phase: p.id })));
  const jobs = phases.flatMap((p) => inFolder(p, 'job-').map((name) => ({ name, phase: p.id })));
  const one = (path: string) => {
    const f = files.find((x) => x.path === posix.join(base, path));
    if (!f) throw new Error(`the render has no ${path}`);
    return rec(parse(f.content));
  };
  return { wiring, deployments, jobs, rootApp: one('argocd-root-application.yaml'), argocdCm: one('argocd-cm-health-checks.yaml') };
}

const APPLICATIONS = `/apis/${ARGOCD_APPLICATION.group}/${ARGOCD_APPLICATION.version}/namespaces/${ARGOCD_NS}/${ARGOCD_APPLICATION.plural}`;

/** What a Git webhook does: ask Argo CD to compare the Application with the repository now. */
export async function patchRefresh(kc: k8s.KubeConfig, name: string): Promise<void> {
  await mergePatchApp(kc, name, { metadata: { annotations: { 'argocd.argoproj.io/refresh': 'normal' } } }).catch(() => undefined);
}

export async function mergePatchApp(kc: k8s.KubeConfig, name: string, body: object): Promise<void> {
  await kc
    .makeApiClient(k8s.CustomObjectsApi)
    .patchNamespacedCustomObject(
      { group: ARGOCD_APPLICATION.group, version: ARGOCD_APPLICATION.version, namespace: ARGOCD_NS, plural: ARGOCD_APPLICATION.plural, name, body },
      k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
    );
}

export async function createApp(kc: k8s.KubeConfig, app: unknown): Promise<void> {
  await createOrThrow(kc, APPLICATIONS, app);
}

export async function deployedVersionOf(kc: k8s.KubeConfig, namespace: string, name: string): Promise<string | undefined> {
  const api = kc.makeApiClient(k8s.CustomObjectsApi);
  const osv = rec(await api.getNamespacedCustomObject({ group: OPENSTACK_VERSION.group, version: OPENSTACK_VERSION.version, namespace, plural: OPENSTACK_VERSION.plural, name }));
  return str(rec(osv['status'])['deployedVersion']);
}
