/**
 * Fault injection for end-to-end tests: the next N matching requests fail with a status code or
 * are never answered. Rules are consulted in the order they were added; a request uses at most one.
 */

export type RequestMatcher = (method: string, path: string) => boolean;

export interface FaultControl {
  /** The next `count` matching requests get a Status with this code (503 and 429 with Retry-After: 1). */
  failNext(count: number, status: 500 | 503 | 429, match?: RequestMatcher): void;
  /** The next `count` matching requests are never answered (the client must time out). */
  hangNext(count: number, match?: RequestMatcher): void;
  /** Close every open watch stream now. */
  dropWatches(): void;
  /** Forget every pending fail/hang rule. */
  clear(): void;
  /** Requests the server has received so far (faulted or not). */
  readonly requests: number;
  /**
   * Of those, the writes (any method but GET): the update's own work, where reads also grow with
   * time (resyncs, watch restarts), so chaos paced by writes does the same at any load.
   */
  readonly writes: number;
  /** Fail and hang faults queued and not yet taken by a request. */
  pending(): number;
}

export type FaultAction = { readonly kind: 'fail'; readonly status: 500 | 503 | 429 } | { readonly kind: 'hang' };

interface Rule {
  remaining: number;
  readonly action: FaultAction;
  readonly match: RequestMatcher | undefined;
}

export class FaultRules implements FaultControl {
  private rules: Rule[] = [];
  requests = 0;
  writes = 0;

  constructor(private readonly onDropWatches: () => void) {}

  failNext(count: number, status: 500 | 503 | 429, match?: RequestMatcher): void {
    if (count > 0) this.rules.push({ remaining: count, action: { kind: 'fail', status }, match });
  }

  hangNext(count: number, match?: RequestMatcher): void {
    if (count > 0) this.rules.push({ remaining: count, action: { kind: 'hang' }, match });
  }

  dropWatches(): void {
    this.onDropWatches();
  }

  clear(): void {
    this.rules = [];
  }

  pending(): number {
    return this.rules.reduce((n, r) => n + r.remaining, 0);
  }

  /** The fault for this request, if a rule takes it. `path` is the request URL with its query. */
  take(method: string, path: string): FaultAction | undefined {
    this.requests++;
    if (method !== 'GET') this.writes++;
    for (const r of this.rules) {
      if (r.remaining > 0 && (r.match === undefined || r.match(method, path))) {
        r.remaining--;
        this.rules = this.rules.filter((x) => x.remaining > 0);
        return r.action;
      }
    }
    return undefined;
  }
}
