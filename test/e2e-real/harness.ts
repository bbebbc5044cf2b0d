/**
 * A real Kubernetes API server for tests: etcd + kube-apiserver, built from their Go modules by
 * `npm run tools` (scripts/build-kube.sh) into `.cache/bin/`, started on 127.0.0.1 with a fresh
 * data folder, a static token and the project's real CRDs installed and `Established`.
 *
 * No controllers run: objects are stored, validated (schemas, defaults, CEL rules) and watched
 * exactly as on a real cluster, but nothing reconciles them. Tests play the controllers.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { request, type RequestOptions } from 'node:https';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { ApiextensionsV1Api, CoreV1Api, KubeConfig, type V1CustomResourceDefinition } from '@kubernetes/client-node';
import { parseAllDocuments } from 'yaml';
import { freePort, logTail, startChild, stopChild, type Child } from './processes.js';

export interface RealCluster {
  /** A kubeconfig for the cluster (server, CA, bearer token), as YAML. */
  readonly kubeconfigYaml: string;
  /** The same kubeconfig, written to a file in the cluster's temp folder. */
  readonly kubeconfigPath: string;
  /** The namespace the OpenStack objects live in (`openstack`). */
  readonly namespace: string;
  /** `https://127.0.0.1:<port>`. */
  readonly url: string;
  /** Stops kube-apiserver and etcd and removes the temp folder; safe to call twice. */
  stop(): Promise<void>;
}

export interface RealClusterOptions {
  /** CRD files or folders, relative to the project root; default: {@link DEFAULT_CRDS}. */
  readonly crds?: readonly string[];
}

const PROJECT_ROOT = join(import.meta.dirname, '..', '..');
export const BIN_DIR = join(PROJECT_ROOT, '.cache', 'bin');
const ETCD_BIN = join(BIN_DIR, 'etcd');
const APISERVER_BIN = join(BIN_DIR, 'kube-apiserver');

/** The OpenStack operator's CRDs, Flux's and Argo CD's, and OLM's ClusterServiceVersion. */
export const DEFAULT_CRDS: readonly string[] = ['crds/openstack-operator', 'crds/gitops', 'crds/olm'];
/** Created at start: where the OpenStack objects, Flux's and Argo CD's objects live. */
export const NAMESPACES: readonly string[] = ['openstack', 'flux-system', 'argocd'];

const READY_TIMEOUT_MS = 90_000;

export type Availability = { readonly ok: true } | { readonly ok: false; readonly reason: string };

/** Whether the binaries are built; the reason names the command that builds them. */
export function realClusterAvailability(): Availability {
  const missing = [ETCD_BIN, APISERVER_BIN].filter((b) => !existsSync(b)).map((b) => relative(PROJECT_ROOT, b));
  if (missing.length === 0) return { ok: true };
  return {
    ok: false,
    reason: `the real API server tier needs ${missing.join(' and ')}: run \`npm run tools\` (builds kube-apiserver and etcd with Go, scripts/build-kube.sh)`,
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// Children of clusters not stopped yet: killed when this process exits, whatever the reason.
const running = new Set<{ children: Child[]; dir: string }>();
let exitHookInstalled = false;
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const c of running) {
      for (const child of c.children) if (!child.exited) child.proc.kill('SIGKILL');
      rmSync(c.dir, { recursive: true, force: true });
    }
  });
}

/**
 * A watchdog shell that kills the children and removes the folder once this process is gone:
 * the `exit` hook does not run when the test worker itself is killed with SIGKILL.
 */
function startWatchdog(pids: number[], dir: string): ChildProcess {
  const script = `while kill -0 ${process.pid} 2>/dev/null; do sleep 1; done; kill -9 ${pids.join(' ')} 2>/dev/null; rm -rf "$1"`;
  const dog = spawn('sh', ['-c', script, 'osv-watchdog', dir], { stdio: 'ignore', detached: true });
  dog.unref();
  return dog;
}

async function waitFor<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>, failed?: () => string | undefined): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError = '';
  for (;;) {
    const why = failed?.();
    if (why !== undefined) throw new Error(`${what}: ${why}`);
    try {
      const result = await probe();
      if (result !== undefined) return result;
    } catch (e) {
      lastError = e instanceof Error ? e.message : String(e);
    }
    if (Date.now() > deadline) throw new Error(`${what}: not done after ${timeoutMs / 1000}s${lastError ? ` (last error: ${lastError})` : ''}`);
    await sleep(200);
  }
}

function crdFiles(paths: readonly string[]): string[] {
  const files: string[] = [];
  const walk = (abs: string) => {
    if (abs.endsWith('.yaml') || abs.endsWith('.yml')) {
      files.push(abs);
      return;
    }
    if (!existsSync(abs)) throw new Error(`CRD path not found: ${relative(PROJECT_ROOT, abs)}`);
    for (const name of readdirSync(abs).sort()) {
      const sub = join(abs, name);
      if (name.endsWith('.yaml') || name.endsWith('.yml') || !name.includes('.')) walk(sub);
    }
  };
  for (const p of paths) walk(join(PROJECT_ROOT, p));
  return files;
}

function loadCrds(paths: readonly string[]): V1CustomResourceDefinition[] {
  return crdFiles(paths).flatMap((file) =>
    parseAllDocuments(readFileSync(file, 'utf8'))
      .map((d) => d.toJS() as V1CustomResourceDefinition | null)
      .filter((d): d is V1CustomResourceDefinition => d?.kind === 'CustomResourceDefinition'),
  );
}

function kubeconfigFor(url: string, caPem: string, token: string, namespace: string): string {
  // JSON is valid YAML, and needs no YAML writer here.
  return JSON.stringify(
    {
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: 'real', cluster: { server: url, 'certificate-authority-data': Buffer.from(caPem).toString('base64') } }],
      users: [{ name: 'admin', user: { token } }],
      contexts: [{ name: 'real', context: { cluster: 'real', user: 'admin', namespace } }],
      'current-context': 'real',
    },
    null,
    2,
  );
}

/**
 * Starts etcd and kube-apiserver on free 127.0.0.1 ports, creates the namespaces and installs the
 * CRDs. Throws (after cleaning up) when a binary is missing or the server does not become ready.
 */
export async function startRealCluster(opts: RealClusterOptions = {}): Promise<RealCluster> {
  const availability = realClusterAvailability();
  if (!availability.ok) throw new Error(availability.reason);
  const crds = loadCrds(opts.crds ?? DEFAULT_CRDS);
  const started = Date.now();
  const dir = mkdtempSync(join(tmpdir(), 'osv-real-cluster-'));
  const entry = { children: [] as Child[], dir };
  installExitHook();
  running.add(entry);
  let watchdog: ChildProcess | undefined;
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    // the API server first, so that it does not log etcd connection errors while stopping
    for (const child of [...entry.children].reverse()) await stopChild(child);
    watchdog?.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
    running.delete(entry);
  };
  try {
    const ports = new Set<number>();
    while (ports.size < 3) ports.add(await freePort());
    const [etcdClientPort, etcdPeerPort, apiPort] = [...ports] as [number, number, number];
    const etcdUrl = `http://127.0.0.1:${etcdClientPort}`;
    const peerUrl = `http://127.0.0.1:${etcdPeerPort}`;
    const etcd = startChild(
      'etcd',
      ETCD_BIN,
      [
        '--name=osv-test',
        `--data-dir=${join(dir, 'etcd')}`,
        `--listen-client-urls=${etcdUrl}`,
        `--advertise-client-urls=${etcdUrl}`,
        `--listen-peer-urls=${peerUrl}`,
        `--initial-advertise-peer-urls=${peerUrl}`,
        `--initial-cluster=osv-test=${peerUrl}`,
        // a throwaway store: durability costs seconds per test run and buys nothing here
        '--unsafe-no-fsync',
        '--log-level=warn',
      ],
      join(dir, 'etcd.log'),
    );
    entry.children.push(etcd);

    const token = randomBytes(24).toString('hex');
    writeFileSync(join(dir, 'tokens.csv'), `${token},osv-admin,osv-admin,"system:masters"\n`, { mode: 0o600 });
    const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    writeFileSync(join(dir, 'sa.pub'), publicKey.export({ type: 'spki', format: 'pem' }));
    writeFileSync(join(dir, 'sa.key'), privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
    const certDir = join(dir, 'certs');
    mkdirSync(certDir);

    await waitFor(
      'etcd health',
      30_000,
      async () => ((await fetch(`${etcdUrl}/health`)).ok ? true : undefined),
      () => (etcd.exited ? `etcd exited:\n${logTail(etcd.logFile)}` : undefined),
    );

    const apiserver = startChild(
      'kube-apiserver',
      APISERVER_BIN,
      [
        `--etcd-servers=${etcdUrl}`,
        '--bind-address=127.0.0.1',
        '--advertise-address=127.0.0.1',
        `--secure-port=${apiPort}`,
        // the server writes a self-signed serving certificate (with its CA) for 127.0.0.1 here
        `--cert-dir=${certDir}`,
        `--token-auth-file=${join(dir, 'tokens.csv')}`,
        '--authorization-mode=RBAC',
        `--service-account-key-file=${join(dir, 'sa.pub')}`,
        `--service-account-signing-key-file=${join(dir, 'sa.key')}`,
        '--service-account-issuer=https://kubernetes.default.svc',
        '--service-cluster-ip-range=10.0.0.0/24',
        // no controller manager runs: the "kubernetes" Service endpoints would only log errors
        '--endpoint-reconciler-type=none',
        '--profiling=false',
        '--v=0',
      ],
      join(dir, 'kube-apiserver.log'),
    );
    entry.children.push(apiserver);
    watchdog = startWatchdog([etcd.proc.pid ?? 0, apiserver.proc.pid ?? 0].filter((p) => p > 0), dir);

    const url = `https://127.0.0.1:${apiPort}`;
    const certFile = join(certDir, 'apiserver.crt');
    // the file holds the serving certificate and then the CA that signed it, once written whole:
    // the server creates it before it writes it, and a read in between (seen under load) gave no
    // CA, so that /readyz failed for 90 s with "self-signed certificate in certificate chain"
    const caPem = await waitFor(
      'kube-apiserver serving certificate',
      30_000,
      async () => servingCertificateWithCa(certFile),
      () => (apiserver.exited ? `kube-apiserver exited:\n${logTail(apiserver.logFile)}` : undefined),
    );
    const kubeconfigYaml = kubeconfigFor(url, caPem, token, 'openstack');
    const kubeconfigPath = join(dir, 'kubeconfig');
    writeFileSync(kubeconfigPath, kubeconfigYaml, { mode: 0o600 });
    const kc = new KubeConfig();
    kc.loadFromString(kubeconfigYaml);

    const core = kc.makeApiClient(CoreV1Api);
    await waitFor(
      'kube-apiserver /readyz',
      READY_TIMEOUT_MS,
      () => readyz(url, caPem, token),
      () => (apiserver.exited ? `kube-apiserver exited:\n${logTail(apiserver.logFile)}` : etcd.exited ? `etcd exited:\n${logTail(etcd.logFile)}` : undefined),
    );
    const readyAt = Date.now();

    for (const name of NAMESPACES) await core.createNamespace({ body: { metadata: { name } } });
    const ext = kc.makeApiClient(ApiextensionsV1Api);
    // sent as the JSON of the file: client-node's typed models would drop every key they do not
    // know by its TypeScript name (`x-kubernetes-*`, `$ref`, newer fields)
    for (const crd of crds) {
      const res = await kubeRequest(kc, 'POST', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions', crd);
      if (res.status !== 201) throw new Error(`creating CRD ${crd.metadata?.name}: HTTP ${res.status}: ${statusMessage(res.body)}`);
    }
    for (const crd of crds) {
      const name = crd.metadata?.name ?? '';
      await waitFor(`CRD ${name} Established`, 60_000, async () => {
        const live = await ext.readCustomResourceDefinition({ name });
        return live.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True') ? true : undefined;
      });
    }
    const done = Date.now();
    console.info(
      `real cluster at ${url}: ready in ${((readyAt - started) / 1000).toFixed(1)}s, ` +
        `${NAMESPACES.length} namespaces and ${crds.length} CRDs in ${((done - readyAt) / 1000).toFixed(1)}s more`,
    );
    return { kubeconfigYaml, kubeconfigPath, namespace: 'openstack', url, stop };
  } catch (e) {
    const logs = entry.children.map((c) => `--- ${c.name} log (tail)\n${logTail(c.logFile, 15)}`).join('\n');
    await stop();
    throw new Error(`${e instanceof Error ? e.message : String(e)}\n${logs}`, { cause: e });
  }
}

export interface KubeResponse {
  readonly status: number;
  /** The parsed JSON body (a `Status` on errors); the raw text when it is not JSON. */
  readonly body: unknown;
}

/**
 * One request with a JSON body exactly as given, authenticated by the kubeconfig. For objects that
 * must reach the server unchanged: client-node's typed APIs re-serialise built-in kinds through
 * their models and silently drop fields the model does not know.
 */
export async function kubeRequest(kc: KubeConfig, method: string, path: string, body?: unknown): Promise<KubeResponse> {
  const server = kc.getCurrentCluster()?.server;
  if (!server) throw new Error('kubeconfig without a current cluster');
  const options: RequestOptions = { method, headers: { Accept: 'application/json' } };
  await kc.applyToHTTPSOptions(options);
  const payload = body === undefined ? undefined : JSON.stringify(body);
  if (payload !== undefined) options.headers = { ...options.headers, 'Content-Type': 'application/json' };
  return new Promise((resolve, reject) => {
    const req = request(new URL(path, server), options, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let parsed: unknown = text;
        try {
          parsed = JSON.parse(text);
        } catch {
          // not JSON: keep the text
        }
        resolve({ status: res.statusCode ?? 0, body: parsed });
      });
    });
    req.on('error', reject);
    req.end(payload);
  });
}

/** The message of a `Status` body, or the body as text. */
export function statusMessage(body: unknown): string {
  if (typeof body === 'object' && body !== null && typeof (body as { message?: unknown }).message === 'string') {
    return (body as { message: string }).message;
  }
  return typeof body === 'string' ? body : JSON.stringify(body);
}

/** The text of `file` once it holds two whole PEM certificates (the serving one, then its CA). */
export function servingCertificateWithCa(file: string): string | undefined {
  if (!existsSync(file)) return undefined;
  const text = readFileSync(file, 'utf8');
  const whole = text.match(/-----BEGIN CERTIFICATE-----\n[A-Za-z0-9+/=\n]+-----END CERTIFICATE-----\n/g) ?? [];
  return whole.length >= 2 ? text : undefined;
}

/** GET /readyz with the admin token; true when every check passes. */
async function readyz(url: string, caPem: string, token: string): Promise<true | undefined> {
  return new Promise((resolve, reject) => {
    const req = request(`${url}/readyz`, { ca: caPem, headers: { Authorization: `Bearer ${token}` } }, (res) => {
      res.resume();
      resolve(res.statusCode === 200 ? true : undefined);
    });
    req.on('error', reject);
    req.end();
  });
}
