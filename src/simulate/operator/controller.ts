/**
 * The simulated openstack-operator: list+watch caches of the OpenStack kinds in one namespace,
 * the pure reconcilers in between, and status writes through the status subresource — all through
 * `@kubernetes/client-node`, so the same controller runs against the rehearsal API server and a
 * real kube-apiserver with the real CRDs.
 *
 * Step timing (when a simulated step started) is kept in memory, keyed by object uid and step: the
 * real operator has no such field and a CRD with a structural schema would prune one from status.
 * A restarted simulated operator therefore restarts a step in flight, which only makes it longer.
 */
import * as k8s from '@kubernetes/client-node';
import {
  DATAPLANE_DEPLOYMENT,
  DATAPLANE_NODESET,
  DATAPLANE_SERVICE,
  OPENSTACK_CONTROLPLANE,
  OPENSTACK_VERSION,
  collectionPath,
  type ResourceType,
} from '../../cluster/resources.js';
import { isRecord } from './conditions.js';
import { reconcileControlPlane } from './reconcile-controlplane.js';
import { reconcileDeployment } from './reconcile-deployment.js';
import { reconcileNodeSet } from './reconcile-nodeset.js';
import { reconcileVersion } from './reconcile-version.js';
import { DEFAULT_DURATIONS, type JsonObject, type KubeObject, type RunningStep, type SimulatedDurations } from './types.js';

export interface SimulatedOperatorOptions {
  readonly kubeconfigYaml: string;
  readonly namespace: string;
  /** The CSV's OPENSTACK_RELEASE_VERSION. */
  readonly availableVersion: string;
  /** version → containerImages defaults (from the CSV). */
  readonly defaults: Readonly<Record<string, Readonly<Record<string, unknown>>>>;
  /** Milliseconds per step; the defaults let a whole update run in a few seconds. */
  readonly durations?: Partial<SimulatedDurations>;
  readonly faults?: { readonly failDeployments?: RegExp; readonly controlPlaneImageMismatch?: boolean };
  readonly log?: (line: string) => void;
}

export interface SimulatedOperator {
  stop(): Promise<void>;
  /** Reconcile passes run so far. */
  readonly reconciles: number;
  /** The operator restarted with a new CSV's environment (its OPENSTACK_RELEASE_VERSION): OLM's install. */
  setAvailableVersion(version: string): void;
}

const WATCHED: readonly ResourceType[] = [OPENSTACK_VERSION, OPENSTACK_CONTROLPLANE, DATAPLANE_NODESET, DATAPLANE_DEPLOYMENT, DATAPLANE_SERVICE];
const EVENT_DEBOUNCE_MS = 5;
const RESYNC_MS = 2_000;
const BACKOFF_MIN_MS = 100;
const BACKOFF_MAX_MS = 5_000;
const WATCH_TIMEOUT_SECONDS = 300;
/** A request (or a watch's response headers) not answered in this time counts as failed. */
const REQUEST_TIMEOUT_MS = 10_000;

/** Reject when `p` takes longer than `ms` (client-node 1.4 has no per-request timeout). */
function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`${what}: no answer in ${ms} ms`)), ms);
    p.then(
      (v) => {
        clearTimeout(t);
        resolve(v);
      },
      (e: unknown) => {
        clearTimeout(t);
        reject(e);
      },
    );
  });
}

/** A merge patch turning `from` into `to`: changed keys, nested maps diffed, removed keys set to null. */
export function mergePatch(from: unknown, to: unknown): unknown {
  if (!isRecord(from) || !isRecord(to)) return JSON.stringify(from) === JSON.stringify(to) ? undefined : to;
  const out: JsonObject = {};
  for (const k of Object.keys(from)) if (!(k in to)) out[k] = null;
  for (const [k, v] of Object.entries(to)) {
    if (!(k in from)) out[k] = v;
    else if (isRecord(from[k]) && isRecord(v)) {
      const sub = mergePatch(from[k], v);
      if (sub !== undefined) out[k] = sub;
    } else if (JSON.stringify(from[k]) !== JSON.stringify(v)) out[k] = v;
  }
  return Object.keys(out).length === 0 ? undefined : out;
}

function statusCodeOf(err: unknown): number | undefined {
  if (err instanceof k8s.ApiException) return err.code;
  if (isRecord(err) && typeof err['statusCode'] === 'number') return err['statusCode'];
  return undefined;
}

function describeError(err: unknown): string {
  const code = statusCodeOf(err);
  const msg = err instanceof Error ? err.message.split('\n')[0] : String(err);
  return code !== undefined ? `HTTP ${code}: ${msg}` : (msg ?? 'unknown error');
}

function rvNumber(o: KubeObject | undefined): number | undefined {
  const rv = o?.metadata.resourceVersion;
  return rv !== undefined && /^\d+$/.test(rv) ? Number(rv) : undefined;
}

const sleep = (ms: number, signal: AbortSignal): Promise<void> =>
  new Promise((resolve) => {
    if (signal.aborted) return resolve();
    // the listener goes with the timer: the signal lives as long as the controller
    const onAbort = () => {
      clearTimeout(t);
      resolve();
    };
    const t = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });

/** One kind's cache, kept current by list + watch; re-lists after errors and on 410 Gone. */
class KindCache {
  readonly items = new Map<string, KubeObject>();
  synced = false;
  private resourceVersion: string | undefined;
  private watchAbort: AbortController | undefined;

  constructor(
    readonly type: ResourceType,
    private readonly namespace: string,
    private readonly api: k8s.CustomObjectsApi,
    private readonly watch: k8s.Watch,
    private readonly onChange: () => void,
    private readonly log: (line: string) => void,
    private readonly stopSignal: AbortSignal,
  ) {}

  /** Accept an object we read or wrote, unless the cache already holds a newer version. */
  put(obj: KubeObject): void {
    const have = this.items.get(obj.metadata.name);
    const a = rvNumber(have);
    const b = rvNumber(obj);
    if (a !== undefined && b !== undefined && b < a) return;
    this.items.set(obj.metadata.name, obj);
  }

  async run(): Promise<void> {
    let backoff = BACKOFF_MIN_MS;
    let needList = true;
    while (!this.stopSignal.aborted) {
      try {
        if (needList) {
          await this.list();
          needList = false;
          backoff = BACKOFF_MIN_MS;
        }
        const outcome = await this.watchOnce();
        if (outcome === 'gone') {
          this.log(`${this.type.plural}: watch expired (410 Gone), re-listing`);
          needList = true;
        } else if (outcome === 'error') {
          needList = true;
          await sleep(backoff, this.stopSignal);
          backoff = Math.min(BACKOFF_MAX_MS, backoff * 2);
        }
      } catch (err) {
        if (this.stopSignal.aborted) break;
        this.log(`${this.type.plural}: ${describeError(err)}; retrying in ${backoff} ms`);
        needList = true;
        await sleep(backoff, this.stopSignal);
        backoff = Math.min(BACKOFF_MAX_MS, backoff * 2);
      }
    }
  }

  stop(): void {
    this.watchAbort?.abort();
  }

  private async list(): Promise<void> {
    const t = this.type;
    const request = this.api.listNamespacedCustomObject({ group: t.group, version: t.version, namespace: this.namespace, plural: t.plural });
    const list = (await withTimeout(request, REQUEST_TIMEOUT_MS, `list ${t.plural}`)) as {
      items?: KubeObject[];
      metadata?: { resourceVersion?: string };
    };
    this.items.clear();
    for (const o of list.items ?? []) this.items.set(o.metadata.name, o);
    this.resourceVersion = list.metadata?.resourceVersion;
    this.synced = true;
    this.onChange();
  }

  /** Watch until the stream ends: `closed` (re-watch), `gone` (re-list) or `error` (back off, re-list). */
  private watchOnce(): Promise<'closed' | 'gone' | 'error'> {
    return new Promise((resolve) => {
      let gone = false;
      const query: Record<string, string | number | boolean> = { allowWatchBookmarks: true, timeoutSeconds: WATCH_TIMEOUT_SECONDS };
      if (this.resourceVersion !== undefined) query['resourceVersion'] = this.resourceVersion;
      const onEvent = (phase: string, obj: unknown): void => {
        if (phase === 'ERROR') {
          const code = isRecord(obj) ? obj['code'] : undefined;
          if (code === 410) gone = true;
          this.watchAbort?.abort();
          return;
        }
        if (!isRecord(obj) || !isRecord(obj['metadata'])) return;
        const o = obj as unknown as KubeObject;
        if (o.metadata.resourceVersion !== undefined) this.resourceVersion = o.metadata.resourceVersion;
        if (phase === 'BOOKMARK') return;
        if (phase === 'DELETED') this.items.delete(o.metadata.name);
        else this.put(o);
        this.onChange();
      };
      let settled = false;
      const onDone = (err: unknown): void => {
        if (settled) return;
        settled = true;
        clearTimeout(headersTimer);
        this.watchAbort = undefined;
        if (gone || statusCodeOf(err) === 410) resolve('gone');
        else if (err && !this.stopSignal.aborted && !(isRecord(err) && err['name'] === 'AbortError')) {
          this.log(`${this.type.plural}: watch ended: ${describeError(err)}`);
          resolve('error');
        } else if (this.stopSignal.aborted) resolve('closed');
        else resolve(err ? 'error' : 'closed');
      };
      // a watch whose response never starts cannot be aborted through client-node: give up on it
      const headersTimer = setTimeout(() => onDone(new Error(`watch ${this.type.plural}: no answer in ${REQUEST_TIMEOUT_MS} ms`)), REQUEST_TIMEOUT_MS);
      this.watch
        .watch(collectionPath(this.type, this.namespace), query, onEvent, onDone)
        .then((ac) => {
          clearTimeout(headersTimer);
          if (settled || this.stopSignal.aborted) ac.abort();
          else this.watchAbort = ac;
        })
        .catch((err: unknown) => onDone(err));
    });
  }
}

export async function startSimulatedOperator(opts: SimulatedOperatorOptions): Promise<SimulatedOperator> {
  const log = opts.log ?? (() => undefined);
  const durations: SimulatedDurations = { ...DEFAULT_DURATIONS, ...opts.durations };
  const kc = new k8s.KubeConfig();
  kc.loadFromString(opts.kubeconfigYaml);
  const api = kc.makeApiClient(k8s.CustomObjectsApi);
  const watch = new k8s.Watch(kc);
  const mergePatchOptions = k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch);
  const stopper = new AbortController();
  const running = new Map<string, RunningStep>();
  const stages = new Map<string, string>();
  let reconciles = 0;
  let timer: NodeJS.Timeout | undefined;
  let timerAt = Infinity;
  let passing: Promise<void> | undefined;
  let again = false;
  let failures = 0;
  let availableVersion = opts.availableVersion;

  const schedule = (delayMs: number): void => {
    if (stopper.signal.aborted) return;
    const at = Date.now() + Math.max(0, delayMs);
    if (timer !== undefined && timerAt <= at) return;
    if (timer !== undefined) clearTimeout(timer);
    timerAt = at;
    timer = setTimeout(() => {
      timer = undefined;
      timerAt = Infinity;
      if (passing) {
        again = true;
        return;
      }
      passing = pass().finally(() => {
        passing = undefined;
        if (again) {
          again = false;
          schedule(0);
        }
      });
    }, Math.max(0, delayMs));
  };

  const caches = new Map<string, KindCache>();
  for (const t of WATCHED) {
    caches.set(t.plural, new KindCache(t, opts.namespace, api, watch, () => schedule(EVENT_DEBOUNCE_MS), log, stopper.signal));
  }
  const cacheOf = (t: ResourceType): KindCache => caches.get(t.plural) as KindCache;
  const itemsOf = (t: ResourceType): KubeObject[] => [...cacheOf(t).items.values()].sort((a, b) => a.metadata.name.localeCompare(b.metadata.name));

  const note = (what: string, stage: string): void => {
    if (stages.get(what) === stage) return;
    stages.set(what, stage);
    log(`${what}: ${stage}`);
  };

  /** Write the status through the status subresource; a 409 re-reads the object and reconciles again. */
  const writeStatus = async (t: ResourceType, obj: KubeObject, status: JsonObject): Promise<boolean> => {
    const diff = mergePatch(obj.status ?? {}, status);
    if (diff === undefined) return false;
    const body = { metadata: { resourceVersion: obj.metadata.resourceVersion }, status: diff };
    const ref = { group: t.group, version: t.version, namespace: opts.namespace, plural: t.plural, name: obj.metadata.name };
    try {
      const request = api.patchNamespacedCustomObjectStatus({ ...ref, body }, mergePatchOptions);
      const updated = (await withTimeout(request, REQUEST_TIMEOUT_MS, `patch ${t.plural}/${obj.metadata.name}/status`)) as KubeObject;
      cacheOf(t).put(updated);
    } catch (err) {
      const code = statusCodeOf(err);
      if (code !== 409 && code !== 404) throw err;
      if (code === 404) cacheOf(t).items.delete(obj.metadata.name);
      else cacheOf(t).put((await withTimeout(api.getNamespacedCustomObject(ref), REQUEST_TIMEOUT_MS, `get ${t.plural}`)) as KubeObject);
    }
    return true;
  };

  const runningFor = (kind: string, obj: KubeObject): [string, RunningStep | undefined] => {
    const key = `${kind}/${obj.metadata.uid ?? obj.metadata.name}`;
    return [key, running.get(key)];
  };
  const keep = (key: string, step: RunningStep | undefined): void => {
    if (step === undefined) running.delete(key);
    else running.set(key, step);
  };

  async function pass(): Promise<void> {
    if (stopper.signal.aborted) return;
    if (![...caches.values()].every((c) => c.synced)) return;
    reconciles++;
    let wrote = false;
    const wakeAts: number[] = [];
    try {
      const services = itemsOf(DATAPLANE_SERVICE);
      for (const version of itemsOf(OPENSTACK_VERSION)) {
        const now = Date.now();
        const res = reconcileVersion({
          version,
          controlPlane: cacheOf(OPENSTACK_CONTROLPLANE).items.get(version.metadata.name),
          nodeSets: itemsOf(DATAPLANE_NODESET),
          deployments: itemsOf(DATAPLANE_DEPLOYMENT),
          services,
          defaults: opts.defaults,
          availableVersion,
          now,
        });
        note(`OpenStackVersion ${version.metadata.name}`, res.stoppedAt);
        wrote = (await writeStatus(OPENSTACK_VERSION, version, res.status)) || wrote;
        if (res.removeAnnotations.length > 0) {
          const annotations = Object.fromEntries(res.removeAnnotations.map((a) => [a, null]));
          const t = OPENSTACK_VERSION;
          const request = api.patchNamespacedCustomObject(
            { group: t.group, version: t.version, namespace: opts.namespace, plural: t.plural, name: version.metadata.name, body: { metadata: { annotations } } },
            mergePatchOptions,
          );
          const updated = (await withTimeout(request, REQUEST_TIMEOUT_MS, `patch ${t.plural}/${version.metadata.name}`)) as KubeObject;
          cacheOf(t).put(updated);
          wrote = true;
        }
      }
      for (const cp of itemsOf(OPENSTACK_CONTROLPLANE)) {
        const [key, step] = runningFor('controlplane', cp);
        const res = reconcileControlPlane({
          controlPlane: cp,
          version: cacheOf(OPENSTACK_VERSION).items.get(cp.metadata.name),
          now: Date.now(),
          running: step,
          durations,
          faults: { controlPlaneImageMismatch: opts.faults?.controlPlaneImageMismatch === true },
        });
        keep(key, res.running);
        if (res.wakeAt !== undefined) wakeAts.push(res.wakeAt);
        note(`OpenStackControlPlane ${cp.metadata.name}`, res.stage);
        wrote = (await writeStatus(OPENSTACK_CONTROLPLANE, cp, res.status)) || wrote;
      }
      const version = itemsOf(OPENSTACK_VERSION)[0];
      for (const d of itemsOf(DATAPLANE_DEPLOYMENT)) {
        const [key, step] = runningFor('deployment', d);
        const res = reconcileDeployment({
          deployment: d,
          nodeSets: itemsOf(DATAPLANE_NODESET),
          version: cacheOf(OPENSTACK_VERSION).items.get(version?.metadata.name ?? ''),
          services,
          now: Date.now(),
          running: step,
          durations,
          fail: opts.faults?.failDeployments?.test(d.metadata.name) === true,
        });
        keep(key, res.running);
        if (res.wakeAt !== undefined) wakeAts.push(res.wakeAt);
        note(`OpenStackDataPlaneDeployment ${d.metadata.name}`, res.stage);
        wrote = (await writeStatus(DATAPLANE_DEPLOYMENT, d, res.status)) || wrote;
      }
      for (const ns of itemsOf(DATAPLANE_NODESET)) {
        const res = reconcileNodeSet({ nodeSet: ns, deployments: itemsOf(DATAPLANE_DEPLOYMENT), services, now: Date.now() });
        wrote = (await writeStatus(DATAPLANE_NODESET, ns, res.status)) || wrote;
      }
      failures = 0;
    } catch (err) {
      if (stopper.signal.aborted) return;
      failures++;
      const delay = Math.min(BACKOFF_MAX_MS, BACKOFF_MIN_MS * 2 ** (failures - 1));
      log(`reconcile failed: ${describeError(err)}; retrying in ${delay} ms`);
      schedule(delay);
      return;
    }
    // our own writes change what the other reconcilers read: go again until nothing changes
    if (wrote) schedule(EVENT_DEBOUNCE_MS);
    const next = Math.min(...wakeAts);
    if (Number.isFinite(next)) schedule(next - Date.now());
    schedule(RESYNC_MS);
  }

  const loops = [...caches.values()].map((c) => c.run());

  return {
    get reconciles() {
      return reconciles;
    },
    setAvailableVersion(version: string) {
      if (version === availableVersion) return;
      log(`restarted with OPENSTACK_RELEASE_VERSION ${version}`);
      availableVersion = version;
      schedule(0);
    },
    async stop() {
      stopper.abort();
      if (timer !== undefined) clearTimeout(timer);
      for (const c of caches.values()) c.stop();
      await Promise.allSettled([...loops, passing ?? Promise.resolve()]);
    },
  };
}
