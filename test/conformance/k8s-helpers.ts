/**
 * Small helpers for tests that talk to an API server through @kubernetes/client-node only:
 * clients from a kubeconfig string, error assertions and a watch recorder.
 */
import * as k8s from '@kubernetes/client-node';
import { expect } from 'vitest';

export interface Clients {
  readonly kc: k8s.KubeConfig;
  readonly custom: k8s.CustomObjectsApi;
  readonly core: k8s.CoreV1Api;
  readonly objects: k8s.KubernetesObjectApi;
}

export function clientsFor(kubeconfigYaml: string): Clients {
  const kc = new k8s.KubeConfig();
  kc.loadFromString(kubeconfigYaml);
  return {
    kc,
    custom: kc.makeApiClient(k8s.CustomObjectsApi),
    core: kc.makeApiClient(k8s.CoreV1Api),
    objects: k8s.KubernetesObjectApi.makeApiClient(kc),
  };
}

/** Per-call options that set the patch content type (client-node's patch defaults to JSON patch). */
export const asMergePatch = k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch);
export const asJsonPatch = k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.JsonPatch);
export const asStrategicPatch = k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.StrategicMergePatch);

export interface StatusBody {
  readonly kind?: string;
  readonly code?: number;
  readonly reason?: string;
  readonly message?: string;
  readonly details?: { name?: string; group?: string; kind?: string };
}

/** Await a call that must fail with an ApiException of `code` (and `reason`); returns the Status. */
export async function expectApiError(call: Promise<unknown>, code: number, reason?: string): Promise<StatusBody> {
  let caught: unknown;
  try {
    await call;
  } catch (e) {
    caught = e;
  }
  expect(caught, `expected HTTP ${code}`).toBeInstanceOf(k8s.ApiException);
  const err = caught as k8s.ApiException<unknown>;
  expect(err.code).toBe(code);
  // client-node 1.x hands the body over as a JSON string; for 401 its generated code drops it
  if (err.body === undefined && code === 401) return { kind: 'Status', code };
  const body = (typeof err.body === 'string' ? JSON.parse(err.body) : err.body) as StatusBody;
  expect(body.kind).toBe('Status');
  expect(body.code).toBe(code);
  if (reason !== undefined) expect(body.reason).toBe(reason);
  return body;
}

export interface RecordedEvent {
  readonly type: string;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- watch objects are untyped JSON
  readonly object: any;
}

/** Records the events of one watch and lets a test wait for a condition on them. */
export class WatchRecorder {
  readonly events: RecordedEvent[] = [];
  ended = false;
  endError: unknown = undefined;
  private controller: AbortController | undefined;
  private readonly waiters = new Set<() => void>();

  static async start(kc: k8s.KubeConfig, path: string, query: Record<string, string | number | boolean>): Promise<WatchRecorder> {
    const r = new WatchRecorder();
    r.controller = await new k8s.Watch(kc).watch(
      path,
      query,
      (type, object) => {
        r.events.push({ type, object });
        r.wake();
      },
      (err) => {
        r.ended = true;
        r.endError = err;
        r.wake();
      },
    );
    return r;
  }

  private wake(): void {
    for (const w of [...this.waiters]) w();
  }

  /** Resolve when `cond` holds (checked after every event and on end); reject after `timeoutMs`. */
  waitFor(cond: (r: WatchRecorder) => boolean, timeoutMs = 5000, what = 'watch condition'): Promise<void> {
    if (cond(this)) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const check = (): void => {
        if (cond(this)) {
          clearTimeout(timer);
          this.waiters.delete(check);
          resolve();
        }
      };
      const timer = setTimeout(() => {
        this.waiters.delete(check);
        reject(new Error(`timed out waiting for ${what}; events: ${JSON.stringify(this.events.map((e) => [e.type, e.object?.metadata?.name, e.object?.metadata?.resourceVersion]))}, ended: ${this.ended}`));
      }, timeoutMs);
      this.waiters.add(check);
    });
  }

  waitForEvents(n: number, timeoutMs?: number): Promise<void> {
    return this.waitFor((r) => r.events.length >= n, timeoutMs, `${n} events`);
  }

  waitForEnd(timeoutMs?: number): Promise<void> {
    return this.waitFor((r) => r.ended, timeoutMs, 'the end of the stream');
  }

  /** `[type, name]` of every event except bookmarks. */
  summary(): [string, string][] {
    return this.events.filter((e) => e.type !== 'BOOKMARK').map((e) => [e.type, String(e.object?.metadata?.name ?? '')]);
  }

  stop(): void {
    this.controller?.abort();
  }
}
