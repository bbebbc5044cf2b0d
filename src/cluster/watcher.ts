/**
 * A small list+watch cache of the objects the gates read, for `watch`: one watch per kind (no
 * polling loop), a periodic resync, and recovery from dropped watches, 5xx answers, timeouts and
 * `410 Gone` with backoff. `snapshot()` answers from memory.
 */
import * as k8s from '@kubernetes/client-node';
import type { ClusterSnapshot, KubeObject } from '../status/snapshot.js';
import { apiError, backoffDelay, DEFAULT_BACKOFF, type KubeReader } from './kube.js';
import { AGENT_TYPES, type SnapshotTarget } from './read.js';
import { CLUSTER_SERVICE_VERSION, collectionPath, INSTALL_PLAN, DATAPLANE_DEPLOYMENT, DATAPLANE_NODESET, OPENSTACK_CONTROLPLANE, OPENSTACK_VERSION, type ResourceType } from './resources.js';

interface Feed {
  readonly key: string;
  readonly type: ResourceType;
  readonly namespace: string;
  readonly fieldSelector?: string;
  items: Map<string, KubeObject>;
  /** undefined until the first list answered; `null` when the kind is not served. */
  listedAt: string | null | undefined;
  resourceVersion: string;
  abort?: AbortController;
  failures: number;
}

export interface WatcherOptions {
  readonly resyncMs?: number;
  readonly log?: (line: string) => void;
  readonly now?: () => Date;
}

export class ClusterWatcher {
  private readonly feeds: Feed[];
  private readonly watch: k8s.Watch;
  private readonly listeners = new Set<() => void>();
  private stopped = false;
  private resyncTimer: NodeJS.Timeout | undefined;
  private readonly retryTimers = new Set<NodeJS.Timeout>();

  constructor(
    private readonly reader: KubeReader,
    private readonly target: SnapshotTarget,
    private readonly opts: WatcherOptions = {},
  ) {
    this.watch = new k8s.Watch(reader.kc);
    const feed = (type: ResourceType, namespace: string, fieldSelector?: string): Feed => ({
      key: `${type.plural}/${namespace}`,
      type,
      namespace,
      ...(fieldSelector ? { fieldSelector } : {}),
      items: new Map(),
      listedAt: undefined,
      resourceVersion: '',
      failures: 0,
    });
    this.feeds = [
      feed(OPENSTACK_VERSION, target.namespace),
      feed(OPENSTACK_CONTROLPLANE, target.namespace),
      feed(DATAPLANE_NODESET, target.namespace),
      feed(DATAPLANE_DEPLOYMENT, target.namespace),
    ];
    if (target.csvNamespace !== undefined) this.feeds.push(feed(CLUSTER_SERVICE_VERSION, target.csvNamespace));
    if (target.olmNamespace !== undefined) this.feeds.push(feed(INSTALL_PLAN, target.olmNamespace));
    if (target.agent && target.agent !== 'none') {
      this.feeds.push(feed(AGENT_TYPES[target.agent.engine], target.agent.namespace, `metadata.name=${target.agent.name}`));
    }
  }

  /** List every kind once, then keep each up to date with a watch. */
  async start(): Promise<void> {
    await Promise.all(this.feeds.map((f) => this.relist(f)));
    for (const f of this.feeds) void this.follow(f);
    const resync = this.opts.resyncMs ?? 30_000;
    this.resyncTimer = setInterval(() => void this.resync(), resync);
    this.resyncTimer.unref();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.resyncTimer) clearInterval(this.resyncTimer);
    for (const t of this.retryTimers) clearTimeout(t);
    for (const f of this.feeds) f.abort?.abort();
  }

  /** Called after every change to the cache. */
  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Resolves on the next change, or after `ms`. */
  changed(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(done, ms);
      const off = this.onChange(done);
      function done() {
        clearTimeout(t);
        off();
        resolve();
      }
    });
  }

  private emit(): void {
    for (const l of [...this.listeners]) l();
  }

  private async relist(f: Feed): Promise<void> {
    const r = await this.reader.list(f.type, f.namespace, f.fieldSelector ? { fieldSelector: f.fieldSelector } : {});
    if (!r) {
      f.listedAt = null;
      f.items = new Map();
      return;
    }
    const items = new Map<string, KubeObject>();
    for (const o of r.items) items.set(String((o['metadata'] as { name?: string } | undefined)?.name ?? ''), o);
    const changed = !sameItems(f.items, items);
    f.items = items;
    f.resourceVersion = r.resourceVersion;
    f.listedAt = new Date().toISOString();
    if (changed) this.emit();
  }

  private async resync(): Promise<void> {
    for (const f of this.feeds) {
      if (this.stopped) return;
      try {
        await this.relist(f);
      } catch (e) {
        this.opts.log?.(`resync of ${f.key} failed: ${apiError(e).message}`);
      }
    }
  }

  private retry(f: Feed, why: string): void {
    if (this.stopped) return;
    const wait = backoffDelay(Math.min(f.failures++, 6), { ...DEFAULT_BACKOFF, maxMs: 10_000 });
    this.opts.log?.(`watch of ${f.key} ended (${why}); again in ${wait} ms`);
    const t = setTimeout(() => {
      this.retryTimers.delete(t);
      void this.relist(f)
        .then(() => this.follow(f))
        .catch((e: unknown) => this.retry(f, apiError(e).message));
    }, wait);
    this.retryTimers.add(t);
  }

  private async follow(f: Feed): Promise<void> {
    if (this.stopped || f.listedAt === null) return;
    const path = collectionPath(f.type, f.namespace);
    let gone = false;
    f.abort = await this.watch.watch(
      path,
      { resourceVersion: f.resourceVersion, allowWatchBookmarks: true, ...(f.fieldSelector ? { fieldSelector: f.fieldSelector } : {}) },
      (type: string, obj: Record<string, unknown>) => {
        const meta = (obj['metadata'] ?? {}) as { name?: string; resourceVersion?: string };
        if (type === 'ERROR') {
          gone = (obj as { code?: number }).code === 410;
          return;
        }
        if (meta.resourceVersion) f.resourceVersion = meta.resourceVersion;
        if (type === 'BOOKMARK') return;
        f.failures = 0;
        const name = meta.name ?? '';
        const full = { apiVersion: f.type.group ? `${f.type.group}/${f.type.version}` : f.type.version, kind: f.type.kind, ...obj };
        if (type === 'DELETED') f.items.delete(name);
        else f.items.set(name, full);
        this.emit();
      },
      (err: unknown) => {
        if (this.stopped) return;
        // a watch that ends cleanly is normal (server timeout); 410 means our resourceVersion is too old
        if (gone) f.resourceVersion = '';
        this.retry(f, err ? apiError(err).message : gone ? '410 Gone' : 'closed by the server');
      },
    );
  }

  /** The cached objects, shaped like a fresh read. */
  snapshot(): ClusterSnapshot {
    const byType = (t: ResourceType) => this.feeds.find((f) => f.type === t);
    const items = (t: ResourceType) => [...(byType(t)?.items.values() ?? [])].sort((a, b) => nameKey(a).localeCompare(nameKey(b)));
    const unread = this.feeds.filter((f) => f.listedAt === null).map((f) => f.type.kind);
    const csvFeed = byType(CLUSTER_SERVICE_VERSION);
    const agent = this.target.agent && this.target.agent !== 'none' ? this.target.agent : undefined;
    return {
      readAt: (this.opts.now?.() ?? new Date()).toISOString(),
      namespace: this.target.namespace,
      source: `cluster ${this.reader.server}`,
      openStackVersions: items(OPENSTACK_VERSION),
      controlPlanes: items(OPENSTACK_CONTROLPLANE),
      nodeSets: items(DATAPLANE_NODESET),
      deployments: items(DATAPLANE_DEPLOYMENT),
      csvs: csvFeed && csvFeed.listedAt !== null ? items(CLUSTER_SERVICE_VERSION) : undefined,
      ...(this.target.olmNamespace !== undefined ? { installPlans: byType(INSTALL_PLAN)?.listedAt !== null ? items(INSTALL_PLAN) : undefined } : {}),
      agent: agent ? { ...agent, object: byType(AGENT_TYPES[agent.engine])?.items.get(agent.name) } : undefined,
      ...(this.target.agent === 'none' ? { agentNone: true } : {}),
      unread,
    };
  }
}

function nameKey(o: KubeObject): string {
  return String((o['metadata'] as { name?: string } | undefined)?.name ?? '');
}

function sameItems(a: Map<string, KubeObject>, b: Map<string, KubeObject>): boolean {
  if (a.size !== b.size) return false;
  for (const [k, v] of b) {
    const rv = (o: KubeObject | undefined) => (o?.['metadata'] as { resourceVersion?: string } | undefined)?.resourceVersion;
    if (rv(a.get(k)) !== rv(v)) return false;
  }
  return true;
}
