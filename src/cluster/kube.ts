/**
 * The Kubernetes client at the edge: kubeconfig resolution as kubectl does it, request timeouts,
 * and retries with backoff on answers that are worth retrying (5xx, 429, timeouts, resets).
 */
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { OsvError } from '../errors.js';
import type { ResourceType } from './resources.js';

export interface KubeFlags {
  readonly kubeconfig?: string;
  readonly context?: string;
}

/** `--kubeconfig`, else `$KUBECONFIG`, else `~/.kube/config`, else in-cluster (client-node's own order). */
export function loadKubeConfig(flags: KubeFlags): k8s.KubeConfig {
  // with nothing to load, client-node falls back to http://localhost:8080 and later fails with a
  // message about skipTLSVerify that names none of the places we looked
  if (!flags.kubeconfig && !process.env['KUBECONFIG'] && !existsSync(join(homedir(), '.kube', 'config')) && !existsSync('/var/run/secrets/kubernetes.io/serviceaccount/token')) {
    throw new OsvError('CLUSTER_CONFIG', 'no kubeconfig found (set KUBECONFIG or --kubeconfig)', { hint: 'Looked at --kubeconfig, $KUBECONFIG, ~/.kube/config and the in-cluster service account; or use status --from-files with `oc get -o yaml` dumps.' });
  }
  const kc = new k8s.KubeConfig();
  try {
    if (flags.kubeconfig) kc.loadFromFile(flags.kubeconfig);
    else kc.loadFromDefault();
  } catch (e) {
    throw new OsvError('CLUSTER_CONFIG', `cannot load the kubeconfig${flags.kubeconfig ? ` ${flags.kubeconfig}` : ''}: ${(e as Error).message}`, { cause: e });
  }
  if (flags.context) {
    if (!kc.getContextObject(flags.context)) {
      throw new OsvError('CLUSTER_CONFIG', `context "${flags.context}" is not in the kubeconfig`, { details: kc.getContexts().map((c) => c.name) });
    }
    kc.setCurrentContext(flags.context);
  }
  if (!kc.getCurrentCluster()) throw new OsvError('CLUSTER_CONFIG', 'the kubeconfig has no current cluster', { hint: 'Pass --kubeconfig and --context, or set KUBECONFIG.' });
  return kc;
}

/** The namespace of the current context, as kubectl picks it. */
export function contextNamespace(kc: k8s.KubeConfig): string | undefined {
  return kc.getContextObject(kc.getCurrentContext())?.namespace;
}

export interface ApiErrorInfo {
  readonly status: number | undefined;
  readonly retryable: boolean;
  readonly message: string;
}

/** What went wrong with an API call, in a form that decides retrying. */
export function apiError(e: unknown): ApiErrorInfo {
  if (e instanceof k8s.ApiException) {
    const code = e.code;
    let message = `HTTP ${code}`;
    try {
      const body = typeof e.body === 'string' ? (JSON.parse(e.body) as { message?: string }) : (e.body as { message?: string } | undefined);
      if (body?.message) message = `HTTP ${code}: ${body.message}`;
    } catch {
      /* body not JSON: keep the code */
    }
    return { status: code, retryable: code >= 500 || code === 429, message };
  }
  const err = e as { name?: string; code?: string; message?: string; type?: string };
  // timeouts (AbortSignal), resets and refused connections are worth another try
  return { status: undefined, retryable: true, message: err.message ?? String(e) };
}

export interface Backoff {
  readonly attempts: number;
  readonly baseMs: number;
  readonly maxMs: number;
}

export const DEFAULT_BACKOFF: Backoff = { attempts: 4, baseMs: 200, maxMs: 5000 };

export function backoffDelay(attempt: number, b: Backoff): number {
  return Math.min(b.maxMs, b.baseMs * 2 ** attempt);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Run `call`, retrying retryable failures with exponential backoff. */
export async function withRetry<T>(what: string, call: () => Promise<T>, b: Backoff = DEFAULT_BACKOFF, onRetry?: (msg: string) => void): Promise<T> {
  let last: ApiErrorInfo | undefined;
  for (let attempt = 0; attempt < b.attempts; attempt++) {
    try {
      return await call();
    } catch (e) {
      last = apiError(e);
      if (!last.retryable || attempt === b.attempts - 1) break;
      const wait = backoffDelay(attempt, b);
      onRetry?.(`${what}: ${last.message}; retrying in ${wait} ms`);
      await sleep(wait);
    }
  }
  // no HTTP answer at all is "unreachable" (its own exit code); an answer that said no is "unavailable"
  if (last && last.status === undefined) throw unreachable(what, last.message);
  throw new OsvError('CLUSTER_UNAVAILABLE', `${what}: ${last?.message ?? 'failed'}`, { hint: 'Check the API server, your kubeconfig and your permissions (get, list, watch on the OpenStack kinds).' });
}

function unreachable(what: string, message: string): OsvError {
  return new OsvError('CLUSTER_UNREACHABLE', `cluster unreachable: ${what}: ${message}`, { hint: 'Check that the API server in your kubeconfig is up and reachable from here (VPN, proxy, --context).' });
}

/** Per-request options: abort a request that hangs (client-node has no timeout of its own). */
export function timeoutOptions(ms: number): k8s.ConfigurationOptions {
  return {
    middleware: [
      {
        pre: (ctx) => {
          ctx.setSignal(AbortSignal.timeout(ms));
          return new k8s.Observable(Promise.resolve(ctx));
        },
        post: (ctx) => new k8s.Observable(Promise.resolve(ctx)),
      },
    ],
    middlewareMergeStrategy: 'append',
  };
}

export interface ListResult {
  readonly items: readonly Record<string, unknown>[];
  readonly resourceVersion: string;
}

/** The thin client the status stage needs: list and get custom or built-in objects. */
export class KubeReader {
  private readonly api: k8s.CustomObjectsApi;

  constructor(
    readonly kc: k8s.KubeConfig,
    private readonly timeoutMs = 10_000,
    private readonly backoff: Backoff = DEFAULT_BACKOFF,
    private readonly onRetry?: (msg: string) => void,
  ) {
    this.api = kc.makeApiClient(k8s.CustomObjectsApi);
  }

  get server(): string {
    return this.kc.getCurrentCluster()?.server ?? '';
  }

  /** List a namespaced kind. A kind the server does not serve (404) gives `undefined`. */
  async list(t: ResourceType, namespace: string, params: { labelSelector?: string; fieldSelector?: string } = {}): Promise<ListResult | undefined> {
    const what = `list ${t.plural} in ${namespace}`;
    try {
      const res = (await withRetry(
        what,
        async () => {
          try {
            return (await this.api.listNamespacedCustomObject({ group: t.group, version: t.version, namespace, plural: t.plural, ...params }, timeoutOptions(this.timeoutMs))) as Record<string, unknown>;
          } catch (e) {
            if (e instanceof k8s.ApiException && e.code === 404) return undefined;
            throw e;
          }
        },
        this.backoff,
        this.onRetry,
      )) as Record<string, unknown> | undefined;
      if (!res) return undefined;
      const items = Array.isArray(res['items']) ? (res['items'] as Record<string, unknown>[]) : [];
      const meta = (res['metadata'] ?? {}) as { resourceVersion?: string };
      return { items: items.map((i) => withKind(i, t)), resourceVersion: meta.resourceVersion ?? '' };
    } catch (e) {
      if (e instanceof OsvError) throw e;
      const info = apiError(e);
      throw info.status === undefined ? unreachable(what, info.message) : new OsvError('CLUSTER_UNAVAILABLE', `${what}: ${info.message}`);
    }
  }

  /** Get one object; `undefined` when it does not exist (or the kind is not served). */
  async get(t: ResourceType, namespace: string, name: string): Promise<Record<string, unknown> | undefined> {
    return withRetry(
      `get ${t.plural}/${name} in ${namespace}`,
      async () => {
        try {
          const o = (await this.api.getNamespacedCustomObject({ group: t.group, version: t.version, namespace, plural: t.plural, name }, timeoutOptions(this.timeoutMs))) as Record<string, unknown>;
          return withKind(o, t);
        } catch (e) {
          if (e instanceof k8s.ApiException && e.code === 404) return undefined;
          throw e;
        }
      },
      this.backoff,
      this.onRetry,
    );
  }
}

/** List items come without apiVersion/kind; put them back so every object reads the same. */
function withKind(o: Record<string, unknown>, t: ResourceType): Record<string, unknown> {
  return { apiVersion: t.group ? `${t.group}/${t.version}` : t.version, kind: t.kind, ...o };
}
