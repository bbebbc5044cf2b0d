/**
 * Watch streams: newline-delimited `{"type","object"}` JSON over a chunked 200 response, fed
 * synchronously from the store's events so no change can slip between the replay and the live
 * feed. Follows the real server's rules:
 * - no resourceVersion or "0": synthetic ADDED for every current match, then changes;
 * - a resourceVersion: every change after it, or one ERROR event (Status 410 Expired) when the
 *   events after it were already dropped from the window;
 * - selectors apply to both sides of a change: an object that stops matching arrives as DELETED
 *   (its previous state with the new resourceVersion), one that starts matching as ADDED;
 * - BOOKMARK events (only kind, apiVersion and metadata.resourceVersion) every interval when
 *   `allowWatchBookmarks=true`, and once 2 s before `timeoutSeconds` ends the stream.
 */
import type { ServerResponse } from 'node:http';
import type { ResourceType } from '../../cluster/resources.js';
import { apiVersionOf } from '../../cluster/resources.js';
import type { JsonObject } from './patch.js';
import { selectorMatches, type Selector } from './selectors.js';
import { failureStatus } from './status.js';
import { typeKeyOf, type ObjectStore, type StoreEvent } from './store.js';

export interface WatchRequest {
  readonly type: ResourceType;
  /** Only this namespace (namespaced types); undefined = all. */
  readonly namespace: string | undefined;
  readonly selector: Selector;
  /** As sent; undefined or "0" = start with the current state. */
  readonly resourceVersion: string | undefined;
  readonly allowBookmarks: boolean;
  readonly timeoutSeconds: number | undefined;
}

type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';

interface Watcher {
  readonly req: WatchRequest;
  readonly typeKey: string;
  readonly res: ServerResponse;
  readonly timers: ReturnType<typeof setTimeout>[];
}

/** Pre-timeout bookmark lead, as the real server's watch cache uses. */
const BOOKMARK_BEFORE_TIMEOUT_MS = 2000;

function metaOf(obj: JsonObject): Record<string, unknown> {
  const md = obj['metadata'];
  return typeof md === 'object' && md !== null && !Array.isArray(md) ? md : {};
}

export class WatchHub {
  private readonly watchers = new Set<Watcher>();
  private readonly unsubscribe: () => void;

  constructor(
    private readonly store: ObjectStore,
    private readonly bookmarkIntervalMs: number,
  ) {
    this.unsubscribe = store.subscribe((ev) => this.dispatch(ev));
  }

  get openCount(): number {
    return this.watchers.size;
  }

  private inScope(w: Watcher, obj: JsonObject | undefined): boolean {
    if (obj === undefined) return false;
    const { namespace, type } = w.req;
    if (type.namespaced && namespace !== undefined && metaOf(obj)['namespace'] !== namespace) return false;
    return selectorMatches(w.req.selector, obj);
  }

  /** What one store event looks like to one watcher (or nothing). */
  private translate(w: Watcher, ev: StoreEvent): { type: WatchEventType; object: JsonObject } | undefined {
    if (ev.typeKey !== w.typeKey) return undefined;
    const now = ev.type !== 'DELETED' && this.inScope(w, ev.object);
    const before = this.inScope(w, ev.prev);
    if (ev.type === 'ADDED') return now ? { type: 'ADDED', object: ev.object } : undefined;
    if (ev.type === 'DELETED') return before || this.inScope(w, ev.object) ? { type: 'DELETED', object: ev.object } : undefined;
    if (now && before) return { type: 'MODIFIED', object: ev.object };
    if (now) return { type: 'ADDED', object: ev.object };
    if (before && ev.prev !== undefined) {
      return { type: 'DELETED', object: { ...ev.prev, metadata: { ...metaOf(ev.prev), resourceVersion: String(ev.rv) } } };
    }
    return undefined;
  }

  private send(w: Watcher, type: WatchEventType, object: unknown): void {
    if (!w.res.writableEnded && !w.res.destroyed) w.res.write(`${JSON.stringify({ type, object })}\n`);
  }

  private dispatch(ev: StoreEvent): void {
    for (const w of this.watchers) {
      const out = this.translate(w, ev);
      if (out !== undefined) this.send(w, out.type, out.object);
    }
  }

  private bookmark(w: Watcher): void {
    const t = w.req.type;
    this.send(w, 'BOOKMARK', { kind: t.kind, apiVersion: apiVersionOf(t), metadata: { resourceVersion: String(this.store.resourceVersion) } });
  }

  /** Start streaming to `res` (the caller has checked auth and parsed the request). */
  open(req: WatchRequest, res: ServerResponse): void {
    res.writeHead(200, { 'Content-Type': 'application/json', 'Cache-Control': 'no-cache, private', 'Transfer-Encoding': 'chunked' });
    res.socket?.setNoDelay(true);
    res.flushHeaders();
    const w: Watcher = { req, typeKey: typeKeyOf(req.type), res, timers: [] };
    res.on('close', () => this.forget(w));
    const rv = req.resourceVersion;
    if (rv === undefined || rv === '' || rv === '0') {
      for (const obj of this.store.list(req.type, req.type.namespaced ? req.namespace : undefined, req.selector)) this.send(w, 'ADDED', obj);
    } else {
      // the HTTP layer has checked that rv is a decimal integer
      const events = this.store.eventsSince(Number(rv));
      if (events === undefined) {
        this.send(w, 'ERROR', failureStatus(410, 'Expired', `too old resource version: ${rv} (${this.store.compactedThrough})`));
        res.end();
        return;
      }
      for (const ev of events) {
        const out = this.translate(w, ev);
        if (out !== undefined) this.send(w, out.type, out.object);
      }
    }
    this.watchers.add(w);
    const started = Date.now();
    if (req.allowBookmarks) {
      const interval = setInterval(() => this.bookmark(w), Math.max(10, this.bookmarkIntervalMs));
      w.timers.push(interval);
    }
    if (req.timeoutSeconds !== undefined) {
      const deadline = started + req.timeoutSeconds * 1000;
      if (req.allowBookmarks && deadline - BOOKMARK_BEFORE_TIMEOUT_MS > Date.now()) {
        w.timers.push(setTimeout(() => this.bookmark(w), deadline - BOOKMARK_BEFORE_TIMEOUT_MS - Date.now()));
      }
      w.timers.push(setTimeout(() => this.end(w), Math.max(0, deadline - Date.now())));
    }
    if (res.destroyed) this.forget(w);
  }

  private forget(w: Watcher): void {
    for (const t of w.timers) clearTimeout(t);
    this.watchers.delete(w);
  }

  private end(w: Watcher): void {
    this.forget(w);
    if (!w.res.writableEnded) w.res.end();
  }

  /** End every open stream cleanly (the client sees the response finish). */
  dropAll(): void {
    for (const w of [...this.watchers]) this.end(w);
  }

  close(): void {
    this.dropAll();
    this.unsubscribe();
  }
}
