/**
 * The rehearsal cluster's API server: a real-protocol Kubernetes REST server on 127.0.0.1 for
 * `osv-gitops simulate` and end-to-end tests. Code under test reaches it only through
 * `@kubernetes/client-node` and the kubeconfig from `kubeconfig()`, exactly as a real cluster.
 *
 * Like a fresh kube-apiserver it starts with the namespaces `default`, `kube-system`,
 * `kube-public` and `kube-node-lease`; objects can only be created in existing namespaces.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { stringify } from 'yaml';
import { ALL_TYPES, type ResourceType } from '../../cluster/resources.js';
import { crdAdmission, type SchemaChecks } from './admission.js';
import { FaultRules, type FaultControl } from './faults.js';
import { createRequestHandler, type HandlerContext, type RequestStats } from './http.js';
import { ObjectStore } from './store.js';
import { WatchHub } from './watch.js';

export type { FaultControl, RequestMatcher } from './faults.js';
export type { SchemaChecks } from './admission.js';

export interface RehearsalApiServerOptions {
  readonly types?: readonly ResourceType[];
  /** Bearer token required on every request except /healthz, /livez, /readyz and /version (default random). */
  readonly token?: string;
  /** How many past events a watch can resume from (default 1000); older resourceVersion → 410 Gone. */
  readonly eventWindow?: number;
  /** BOOKMARK events on watches that asked allowWatchBookmarks=true (default 1000). */
  readonly bookmarkIntervalMs?: number;
  /** Namespaces to create at start, besides the four every cluster has. */
  readonly namespaces?: readonly string[];
  /**
   * Prune, default and validate custom resources against their CRDs in `crds/`: `fast` (default)
   * skips the three kinds whose schemas take seconds to compile (see `SLOW_SCHEMA_KINDS`), `all`
   * checks every kind, `none` stores objects as sent. Schemas compile on a kind's first write.
   */
  readonly schemaChecks?: SchemaChecks;
}

export interface RehearsalApiServer {
  /** `http://127.0.0.1:PORT` */
  readonly url: string;
  /** Kubeconfig YAML (insecure-skip-tls-verify, token) whose context has `namespace` as default. */
  kubeconfig(namespace: string): string;
  readonly faults: FaultControl;
  /** Request counts since start, overall and by Kubernetes verb (`get`, `list`, `watch`, ..., `discovery`). */
  readonly stats: { requests: number; byVerb: Record<string, number> };
  /** Ends open watches and hung requests, then closes the server. */
  close(): Promise<void>;
}

const SYSTEM_NAMESPACES = ['default', 'kube-system', 'kube-public', 'kube-node-lease'];

export async function startRehearsalApiServer(opts: RehearsalApiServerOptions = {}): Promise<RehearsalApiServer> {
  const types = opts.types ?? ALL_TYPES;
  const token = opts.token ?? randomBytes(24).toString('hex');
  const store = new ObjectStore({
    types,
    eventWindow: opts.eventWindow ?? 1000,
    admission: crdAdmission(opts.schemaChecks ?? 'fast'),
  });
  const nsType = types.find((t) => t.group === '' && t.kind === 'Namespace');
  if (nsType !== undefined) {
    for (const name of [...new Set([...SYSTEM_NAMESPACES, ...(opts.namespaces ?? [])])]) {
      store.create(nsType, '', { metadata: { name } });
    }
  }
  const hub = new WatchHub(store, opts.bookmarkIntervalMs ?? 1000);
  const faults = new FaultRules(() => hub.dropAll());
  const stats: RequestStats = { requests: 0, byVerb: {} };
  const hung = new Set<ServerResponse>();
  const ctx: HandlerContext = { types, store, hub, faults, token, stats, hung, serverAddress: '' };
  const server = createServer(createRequestHandler(ctx));
  // clients keep connections around between calls; a short idle timeout races their reuse
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const url = `http://127.0.0.1:${port}`;
  ctx.serverAddress = `127.0.0.1:${port}`;
  let closed: Promise<void> | undefined;

  return {
    url,
    faults,
    stats,
    kubeconfig(namespace: string): string {
      return stringify({
        apiVersion: 'v1',
        kind: 'Config',
        clusters: [{ name: 'rehearsal', cluster: { server: url, 'insecure-skip-tls-verify': true } }],
        users: [{ name: 'rehearsal', user: { token } }],
        contexts: [{ name: 'rehearsal', context: { cluster: 'rehearsal', user: 'rehearsal', namespace } }],
        'current-context': 'rehearsal',
        preferences: {},
      });
    },
    close(): Promise<void> {
      closed ??= new Promise<void>((resolve) => {
        hub.close();
        for (const res of hung) res.destroy();
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closed;
    },
  };
}
