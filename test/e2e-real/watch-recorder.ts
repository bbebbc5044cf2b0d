/**
 * What a real agent did, as the API server saw it: watches on a few collections, every ADDED and
 * MODIFIED object turned into a record by the test's own `toRecord`, so a test can ask "when did
 * this first become Healthy" in resourceVersion order. Shared by the Flux and Argo CD tests.
 */
import * as k8s from '@kubernetes/client-node';

const rec = (v: unknown): Record<string, unknown> => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : {});

/** The least every record carries: which object, and where it sits in the server's order. */
export interface Recorded {
  readonly kind: string;
  readonly name: string;
  readonly rv: number;
  readonly atMs: number;
}

export class WatchRecorder<S extends Recorded> {
  readonly seen: S[] = [];
  /** Why watches ended early (each was started again). */
  readonly restarts: string[] = [];
  private readonly aborts = new Set<AbortController>();
  private stopped = false;
  readonly t0 = Date.now();

  constructor(
    private readonly kc: k8s.KubeConfig,
    private readonly toRecord: (obj: unknown, kind: string, atMs: number) => S,
  ) {}

  /**
   * Watch `path` until stopped. A watch can end early, and its first attempts on a CRD that has
   * just become Established are refused (429 while the watch cache starts), so it is started again,
   * from the last resourceVersion seen. Resolves once the first watch is open.
   */
  watch(path: string, kind: string): Promise<void> {
    let resourceVersion: string | undefined;
    let opened: () => void = () => {};
    const open = new Promise<void>((r) => (opened = r));
    const start = (): void => {
      if (this.stopped) return;
      let ac: AbortController | undefined;
      let ended = false;
      const again = (why: string) => {
        if (ended) return;
        ended = true;
        if (ac) this.aborts.delete(ac);
        if (this.stopped) return;
        this.restarts.push(`${kind}: ${why}`);
        setTimeout(start, 200);
      };
      new k8s.Watch(this.kc)
        .watch(
          path,
          resourceVersion ? { resourceVersion, allowWatchBookmarks: true } : { allowWatchBookmarks: true },
          (type, obj: unknown) => {
            const meta = rec(rec(obj)['metadata']);
            if (type === 'ERROR') {
              if (rec(obj)['code'] === 410) resourceVersion = undefined; // too old: list again
              return;
            }
            if (typeof meta['resourceVersion'] === 'string') resourceVersion = meta['resourceVersion'];
            if (type !== 'ADDED' && type !== 'MODIFIED') return;
            this.seen.push(this.toRecord(obj, kind, Date.now() - this.t0));
          },
          (err: unknown) => again(err instanceof Error ? err.message : 'ended'),
        )
        .then(
          (c) => {
            ac = c;
            // client-node calls `done` before it returns when the server refuses the watch
            if (this.stopped) c.abort();
            else if (!ended) {
              this.aborts.add(c);
              opened();
            }
          },
          (err: unknown) => again(err instanceof Error ? err.message : String(err)),
        );
    };
    start();
    return open;
  }

  first(kind: string, name: string, pred: (s: S) => boolean = () => true): S | undefined {
    return this.seen.filter((s) => s.kind === kind && s.name === name && pred(s)).sort((a, b) => a.rv - b.rv)[0];
  }

  last(kind: string, name: string): S | undefined {
    return this.seen.filter((s) => s.kind === kind && s.name === name).sort((a, b) => a.rv - b.rv).at(-1);
  }

  names(kind: string): string[] {
    return [...new Set(this.seen.filter((s) => s.kind === kind).map((s) => s.name))];
  }

  stop(): void {
    this.stopped = true;
    for (const ac of this.aborts) ac.abort();
    this.aborts.clear();
  }
}
