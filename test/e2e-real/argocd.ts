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
import { delimiter, join, relative } from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { BIN_DIR, kubeRequest, statusMessage, type Availability, type RealCluster } from './harness.js';
import { freePort, logTail, startChild, stopChild, type Child } from './processes.js';

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

export interface ArgoCd {
  readonly processes: readonly Child[];
  /** Throws with the logs when a process has exited. */
  checkAlive(): void;
  /** The tails of the three logs. */
  logs(lines?: number): string;
  stop(): Promise<void>;
}

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
