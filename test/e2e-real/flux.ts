/**
 * The real Flux controllers next to the real kube-apiserver of harness.ts: source-controller and
 * kustomize-controller as scripts/build-flux.sh builds them into `.cache/bin`, with our kubeconfig
 * (the admin token), no leader election (the default) and every address on 127.0.0.1. Every path
 * and port is new per start; stop() ends both and removes the folder.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, posix, relative } from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { FLUX_GITREPOSITORY, FLUX_KUSTOMIZATION } from '../../src/cluster/resources.js';
import { BIN_DIR, type Availability, type RealCluster } from './harness.js';
import { freePort, logTail, startChild, stopChild, type AgentProcesses, type Child } from './processes.js';

const PROJECT_ROOT = join(import.meta.dirname, '..', '..');
const SOURCE_CONTROLLER = join(BIN_DIR, 'source-controller');
const KUSTOMIZE_CONTROLLER = join(BIN_DIR, 'kustomize-controller');
/** The CRDs of the built controllers' own release (copied by scripts/build-flux.sh). */
const FLUX_CRDS = '.cache/flux-crds';
// crds/gitops is left out: it holds older copies of two of the Flux CRDs above
export const FLUX_CLUSTER_CRDS: readonly string[] = ['crds/openstack-operator', 'crds/olm', FLUX_CRDS];
export const FLUX_NS = 'flux-system';

export function fluxAvailability(): Availability {
  const missing = [SOURCE_CONTROLLER, KUSTOMIZE_CONTROLLER, join(PROJECT_ROOT, FLUX_CRDS)].filter((p) => !existsSync(p)).map((p) => relative(PROJECT_ROOT, p));
  if (missing.length === 0) return { ok: true };
  return { ok: false, reason: `the real Flux tier needs ${missing.join(', ')}: run \`npm run tools\` (builds the Flux controllers with Go, scripts/build-flux.sh)` };
}

// killed when the test process exits, whatever the reason (also when a test times out)
const running = new Set<Child>();
process.on('exit', () => {
  for (const c of running) if (!c.exited) c.proc.kill('SIGKILL');
});

/** Starts both controllers; dependencies are re-checked every second instead of every 30. */
export async function startFluxControllers(cluster: RealCluster): Promise<AgentProcesses> {
  const availability = fluxAvailability();
  if (!availability.ok) throw new Error(availability.reason);
  const dir = mkdtempSync(join(tmpdir(), 'osv-flux-'));
  const controllers: Child[] = [];
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    for (const c of [...controllers].reverse()) await stopChild(c);
    rmSync(dir, { recursive: true, force: true });
  };
  const logs = (lines = 30) => controllers.map((c) => `--- ${c.name} log (tail)\n${logTail(c.logFile, lines)}`).join('\n');
  const start = (name: string, bin: string, args: string[], env: NodeJS.ProcessEnv) => {
    const c = startChild(name, bin, args, join(dir, `${name}.log`), env);
    c.proc.on('exit', () => running.delete(c));
    running.add(c);
    controllers.push(c);
  };

  try {
    const ports = new Set<number>();
    while (ports.size < 5) ports.add(await freePort());
    const [storagePort, sourceMetrics, sourceHealth, kustomizeMetrics, kustomizeHealth] = [...ports] as [number, number, number, number, number];
    for (const d of ['tmp', 'storage']) mkdirSync(join(dir, d));
    const env: NodeJS.ProcessEnv = { PATH: process.env['PATH'] ?? '/usr/bin:/bin', HOME: dir, TMPDIR: join(dir, 'tmp'), KUBECONFIG: cluster.kubeconfigPath, RUNTIME_NAMESPACE: FLUX_NS };
    const common = ['--watch-all-namespaces', '--log-level=info'];
    start(
      'source-controller',
      SOURCE_CONTROLLER,
      [...common, `--storage-path=${join(dir, 'storage')}`, `--storage-addr=127.0.0.1:${storagePort}`, `--storage-adv-addr=127.0.0.1:${storagePort}`, `--metrics-addr=127.0.0.1:${sourceMetrics}`, `--health-addr=127.0.0.1:${sourceHealth}`],
      env,
    );
    start('kustomize-controller', KUSTOMIZE_CONTROLLER, [...common, '--requeue-dependency=1s', `--metrics-addr=127.0.0.1:${kustomizeMetrics}`, `--health-addr=127.0.0.1:${kustomizeHealth}`], env);
  } catch (e) {
    await stop();
    throw e;
  }
  return {
    processes: controllers,
    checkAlive() {
      const dead = controllers.filter((c) => c.exited);
      if (dead.length) throw new Error(`${dead.map((c) => c.name).join(' and ')} exited\n${logs()}`);
    },
    logs,
    stop,
  };
}

// ---- a record of what the API server stored, in its own order ---------------------------------

const rec = (v: unknown): Record<string, unknown> => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : {});

/** One watched Kustomization or deployment, as the Flux tests need it. */
export interface Seen {
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

export function toSeen(obj: unknown, kind: string, atMs: number): Seen {
  const meta = rec(rec(obj)['metadata']);
  const status = rec(rec(obj)['status']);
  const ready = ((status['conditions'] as Record<string, unknown>[] | undefined) ?? []).find((c) => c['type'] === 'Ready');
  return {
    atMs,
    rv: Number(meta['resourceVersion']),
    kind,
    name: String(meta['name']),
    ...(ready ? { ready: { status: String(ready['status']), reason: String(ready['reason'] ?? ''), message: String(ready['message'] ?? '') } } : {}),
    applied: ((rec(status['inventory'])['entries'] as unknown[] | undefined) ?? []).length > 0,
  };
}

export const isReady = (s: Seen) => s.ready?.status === 'True';

/** The root Kustomization of a run, which is also the agent object our gate reads. */
export const FLUX_ROOT = 'openstack';

/**
 * What a user gives Flux once: a GitRepository of the run's repository and the root Kustomization
 * of the rendered `flux/` folder at `folder` (e.g. `updates/<version>`).
 */
export async function applyFluxRoot(kc: k8s.KubeConfig, repoURL: string, folder: string): Promise<void> {
  const api = kc.makeApiClient(k8s.CustomObjectsApi);
  const create = (t: typeof FLUX_KUSTOMIZATION, body: object) => api.createNamespacedCustomObject({ group: t.group, version: t.version, namespace: FLUX_NS, plural: t.plural, body });
  await create(FLUX_GITREPOSITORY, {
    apiVersion: 'source.toolkit.fluxcd.io/v1',
    kind: 'GitRepository',
    metadata: { name: 'flux-system', namespace: FLUX_NS },
    spec: { interval: '5s', timeout: '20s', url: repoURL, ref: { branch: 'main' } },
  });
  await create(FLUX_KUSTOMIZATION, {
    apiVersion: 'kustomize.toolkit.fluxcd.io/v1',
    kind: 'Kustomization',
    metadata: { name: FLUX_ROOT, namespace: FLUX_NS },
    spec: { interval: '1m', path: `./${posix.join(folder, 'flux')}`, prune: false, wait: false, timeout: '1m', sourceRef: { kind: 'GitRepository', name: 'flux-system' } },
  });
}
