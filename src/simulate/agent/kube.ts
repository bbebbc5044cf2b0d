/**
 * The simulated controllers' only door to the cluster: `@kubernetes/client-node` 1.4, so the same
 * code runs against the rehearsal API server and a real kube-apiserver. Every call is retried on
 * answers a controller must ride out (5xx, 429, timeouts, dropped connections) with capped
 * exponential backoff; other errors (404, 409, 422) go back to the caller at once.
 */
import * as k8s from '@kubernetes/client-node';
import { apiVersionOf, typeOfKind, type ResourceType } from '../../cluster/resources.js';

export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace?: string;
    generation?: number;
    resourceVersion?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    deletionTimestamp?: string;
    finalizers?: string[];
    [k: string]: unknown;
  };
  [k: string]: unknown;
}

export interface KubeClientOptions {
  readonly log?: (line: string) => void;
  /** Longest wait for one API answer. @default 5000 */
  readonly requestTimeoutMs?: number;
  /** Attempts per call on retryable failures. @default 5 */
  readonly attempts?: number;
  /** Checked between attempts: a stopped controller gives up at once. */
  readonly stopped?: () => boolean;
}

export class KubeCallError extends Error {
  readonly statusCode: number | undefined;
  readonly retryable: boolean;
  constructor(message: string, statusCode: number | undefined, retryable: boolean, cause?: unknown) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = 'KubeCallError';
    this.statusCode = statusCode;
    this.retryable = retryable;
  }
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export function groupOfApiVersion(apiVersion: string): string {
  const slash = apiVersion.indexOf('/');
  return slash < 0 ? '' : apiVersion.slice(0, slash);
}

function versionOfApiVersion(apiVersion: string): string {
  const slash = apiVersion.indexOf('/');
  return slash < 0 ? apiVersion : apiVersion.slice(slash + 1);
}

/** Status code of a client-node error, or undefined for transport errors. */
function statusCodeOf(e: unknown): number | undefined {
  if (e instanceof k8s.ApiException) return e.code;
  if (typeof e === 'object' && e !== null) {
    const code = (e as { statusCode?: unknown; code?: unknown }).statusCode ?? (e as { code?: unknown }).code;
    if (typeof code === 'number') return code;
  }
  return undefined;
}

function classify(e: unknown, what: string): KubeCallError {
  if (e instanceof KubeCallError) return e;
  const code = statusCodeOf(e);
  let detail = e instanceof Error ? e.message.split('\n')[0] ?? '' : String(e);
  if (e instanceof k8s.ApiException) {
    const body: unknown = typeof e.body === 'string' ? safeJson(e.body) : e.body;
    const msg = typeof body === 'object' && body !== null ? (body as { message?: unknown }).message : undefined;
    if (typeof msg === 'string') detail = msg;
  }
  const retryable = code === undefined || code >= 500 || code === 429;
  return new KubeCallError(`${what}: ${code !== undefined ? `HTTP ${code}: ` : ''}${detail}`, code, retryable, e);
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

/** Plain JSON (client-node hands back model instances with Date fields for built-in kinds). */
function plain<T>(value: unknown): T {
  return JSON.parse(JSON.stringify(value)) as T;
}

export class KubeClient {
  readonly kc: k8s.KubeConfig;
  private readonly objects: k8s.KubernetesObjectApi;
  private readonly custom: k8s.CustomObjectsApi;
  private readonly log: (line: string) => void;
  private readonly timeoutMs: number;
  private readonly attempts: number;
  private readonly stopped: () => boolean;
  /** Requests made, for tests and benchmarks. */
  requests = 0;

  constructor(kubeconfigYaml: string, opts: KubeClientOptions = {}) {
    this.kc = new k8s.KubeConfig();
    this.kc.loadFromString(kubeconfigYaml);
    this.objects = k8s.KubernetesObjectApi.makeApiClient(this.kc);
    this.custom = this.kc.makeApiClient(k8s.CustomObjectsApi);
    this.log = opts.log ?? (() => {});
    this.timeoutMs = opts.requestTimeoutMs ?? 5000;
    this.attempts = opts.attempts ?? 5;
    this.stopped = opts.stopped ?? (() => false);
  }

  /** Runs one API call with a deadline, retrying retryable failures with backoff. */
  async call<T>(what: string, fn: () => Promise<T>): Promise<T> {
    let delay = 50;
    for (let attempt = 1; ; attempt++) {
      this.requests++;
      let timer: NodeJS.Timeout | undefined;
      try {
        const deadline = new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new KubeCallError(`${what}: no answer within ${this.timeoutMs} ms`, undefined, true)), this.timeoutMs);
        });
        return await Promise.race([fn(), deadline]);
      } catch (e) {
        const err = classify(e, what);
        if (!err.retryable || attempt >= this.attempts || this.stopped()) throw err;
        this.log(`retrying after ${err.message}`);
        await sleep(delay);
        delay = Math.min(delay * 2, 2000);
      } finally {
        clearTimeout(timer);
      }
    }
  }

  /** The object, or undefined when it does not exist. */
  async get(apiVersion: string, kind: string, namespace: string | undefined, name: string): Promise<KubeObject | undefined> {
    const what = `get ${kind} ${namespace ? `${namespace}/` : ''}${name}`;
    try {
      const type = typeOfKind(apiVersion, kind);
      if (type && type.group !== '' && namespace !== undefined) {
        const t = type;
        return plain<KubeObject>(
          await this.call(what, () => this.custom.getNamespacedCustomObject({ group: t.group, version: t.version, namespace, plural: t.plural, name })),
        );
      }
      const header = { apiVersion, kind, metadata: { name, ...(namespace !== undefined ? { namespace } : {}) } };
      return plain<KubeObject>(await this.call(what, () => this.objects.read(header)));
    } catch (e) {
      if (e instanceof KubeCallError && e.statusCode === 404) return undefined;
      throw e;
    }
  }

  async list(type: ResourceType, namespace: string): Promise<{ items: KubeObject[]; resourceVersion: string | undefined }> {
    const what = `list ${type.plural} in ${namespace}`;
    const res = plain<{ items?: KubeObject[]; metadata?: { resourceVersion?: string } }>(
      await this.call(what, () => this.custom.listNamespacedCustomObject({ group: type.group, version: type.version, namespace, plural: type.plural })),
    );
    // items of a built-in list come without apiVersion/kind (custom resource lists carry them)
    const items = (res.items ?? []).map((o) => ({ ...o, apiVersion: apiVersionOf(type), kind: type.kind }));
    return { items, resourceVersion: res.metadata?.resourceVersion };
  }

  /** Server-side apply with `force`, as Flux and Argo CD do. Never sends `status`. */
  async apply(obj: KubeObject, fieldManager: string): Promise<KubeObject> {
    const body: KubeObject = { ...obj };
    delete body['status'];
    const what = `apply ${obj.kind} ${obj.metadata.namespace ? `${obj.metadata.namespace}/` : ''}${obj.metadata.name}`;
    return plain<KubeObject>(
      await this.call(what, () => this.objects.patch(body as k8s.KubernetesObject, undefined, undefined, fieldManager, true, k8s.PatchStrategy.ServerSideApply)),
    );
  }

  /**
   * Replaces `status` with a JSON patch: through the `/status` subresource when the kind has one,
   * else on the object itself (Argo CD's Application has no status subresource).
   */
  async writeStatus(obj: KubeObject, status: Record<string, unknown>): Promise<KubeObject> {
    const group = groupOfApiVersion(obj.apiVersion);
    const version = versionOfApiVersion(obj.apiVersion);
    const type = typeOfKind(obj.apiVersion, obj.kind);
    const namespace = obj.metadata.namespace;
    if (!type || group === '' || namespace === undefined) {
      throw new KubeCallError(`cannot write the status of ${obj.kind}: not a namespaced kind of a named group`, undefined, false);
    }
    const params = { group, version, namespace, plural: type.plural, name: obj.metadata.name, body: [{ op: 'add', path: '/status', value: status }] };
    const what = `write status of ${obj.kind} ${namespace}/${obj.metadata.name}`;
    const res = type.statusSubresource
      ? await this.call(what, () => this.custom.patchNamespacedCustomObjectStatus(params))
      : await this.call(what, () => this.custom.patchNamespacedCustomObject(params));
    return plain<KubeObject>(res);
  }

  /** JSON patch on the object itself (e.g. to clear Argo CD's `operation` field). */
  async jsonPatch(obj: KubeObject, ops: readonly Record<string, unknown>[]): Promise<KubeObject> {
    const type = typeOfKind(obj.apiVersion, obj.kind);
    const namespace = obj.metadata.namespace;
    if (!type || type.group === '' || namespace === undefined) throw new KubeCallError(`cannot patch ${obj.kind}`, undefined, false);
    const t = type;
    return plain<KubeObject>(
      await this.call(`patch ${obj.kind} ${namespace}/${obj.metadata.name}`, () =>
        this.custom.patchNamespacedCustomObject({ group: t.group, version: t.version, namespace, plural: t.plural, name: obj.metadata.name, body: [...ops] }),
      ),
    );
  }

  async delete(obj: KubeObject): Promise<void> {
    try {
      const header = { apiVersion: obj.apiVersion, kind: obj.kind, metadata: { name: obj.metadata.name, ...(obj.metadata.namespace ? { namespace: obj.metadata.namespace } : {}) } };
      await this.call(`delete ${obj.kind} ${obj.metadata.name}`, () => this.objects.delete(header));
    } catch (e) {
      if (e instanceof KubeCallError && e.statusCode === 404) return;
      throw e;
    }
  }
}

export interface CollectionWatch {
  stop(): void;
}

/**
 * Keeps a list+watch open on one namespaced collection and calls `onChange` on every event and
 * after every (re)list. Survives dropped watches, 410 Gone and API errors: it re-lists after a
 * backoff, so no change is lost for long.
 */
export function watchCollection(
  client: KubeClient,
  type: ResourceType,
  namespace: string,
  onChange: () => void,
  log: (line: string) => void = () => {},
): CollectionWatch {
  let stopped = false;
  let controller: AbortController | undefined;
  let delay = 50;
  let retryTimer: NodeJS.Timeout | undefined;
  const path = `${type.group ? `/apis/${type.group}/${type.version}` : `/api/${type.version}`}/namespaces/${namespace}/${type.plural}`;
  const watcher = new k8s.Watch(client.kc);

  const restart = (why: string) => {
    if (stopped) return;
    controller?.abort();
    controller = undefined;
    if (retryTimer !== undefined) return;
    if (why !== '') log(`watch ${type.plural} in ${namespace}: ${why}; re-listing in ${delay} ms`);
    retryTimer = setTimeout(() => {
      retryTimer = undefined;
      void open();
    }, delay);
    delay = Math.min(delay * 2, 2000);
  };

  const open = async () => {
    if (stopped) return;
    let resourceVersion: string | undefined;
    try {
      resourceVersion = (await client.list(type, namespace)).resourceVersion;
    } catch (e) {
      restart(e instanceof Error ? e.message : String(e));
      return;
    }
    if (stopped) return;
    onChange();
    let healthy = false;
    try {
      controller = await watcher.watch(
        path,
        { allowWatchBookmarks: true, ...(resourceVersion ? { resourceVersion } : {}) },
        (phase, obj: unknown) => {
          if (phase === 'ERROR') {
            const code = (obj as { code?: unknown } | undefined)?.code;
            restart(`error event${typeof code === 'number' ? ` ${code}` : ''}`);
            return;
          }
          if (!healthy) {
            healthy = true;
            delay = 50;
          }
          if (phase !== 'BOOKMARK') onChange();
        },
        (err: unknown) => restart(err ? (err instanceof Error ? err.message : String(err)) : 'closed by the server'),
      );
      if (stopped) controller.abort();
    } catch (e) {
      restart(e instanceof Error ? e.message : String(e));
    }
  };

  void open();
  return {
    stop() {
      stopped = true;
      clearTimeout(retryTimer);
      controller?.abort();
    },
  };
}
