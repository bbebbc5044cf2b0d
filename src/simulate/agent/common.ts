/** Small pieces both simulated agents share: conditions, timestamps, durations, object keys. */
import { isDeepStrictEqual } from 'node:util';
import { OsvError } from '../../errors.js';
import { groupOfApiVersion, type KubeObject } from './kube.js';

export interface StatusCondition {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  reason: string;
  message: string;
  lastTransitionTime: string;
  observedGeneration?: number;
}

/** RFC 3339 with seconds, as Kubernetes and Argo CD write timestamps. */
export function nowTimestamp(now = Date.now()): string {
  return new Date(now).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/**
 * Sets a condition, keeping its `lastTransitionTime` when its status did not change (the
 * apimachinery `SetStatusCondition` rule).
 */
export function setCondition(conditions: readonly StatusCondition[], next: Omit<StatusCondition, 'lastTransitionTime'>, now: string): StatusCondition[] {
  const old = conditions.find((c) => c.type === next.type);
  const merged: StatusCondition = { ...next, lastTransitionTime: old && old.status === next.status ? old.lastTransitionTime : now };
  return old ? conditions.map((c) => (c.type === next.type ? merged : c)) : [...conditions, merged];
}

/** A Go duration (`1h`, `10m`, `1h0m0s`, `90s`, `500ms`) in milliseconds. */
export function parseGoDuration(value: string): number {
  // µs written as an escape: the CLI's bundles stay ASCII (bin/load-bundle.cjs reads them as such)
  const re = /(\d+(?:\.\d+)?)(ns|us|\u00b5s|ms|s|m|h)/g;
  const units: Record<string, number> = { ns: 1e-6, us: 1e-3, '\u00b5s': 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
  let total = 0;
  let consumed = 0;
  for (const m of value.matchAll(re)) {
    total += Number(m[1]) * (units[m[2]!] ?? 0);
    consumed += m[0].length;
  }
  if (value === '' || consumed !== value.length) throw new OsvError('INPUT_INVALID', `"${value}" is not a duration`);
  return total;
}

export function objectKey(o: { apiVersion: string; kind: string; metadata: { namespace?: string; name: string } }): string {
  return `${groupOfApiVersion(o.apiVersion)}/${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`;
}

export function displayName(o: { kind: string; metadata: { namespace?: string; name: string } }): string {
  return `${o.kind}/${o.metadata.namespace ? `${o.metadata.namespace}/` : ''}${o.metadata.name}`;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function isZero(v: unknown): boolean {
  return v === false || v === '' || v === 0;
}

function isEmpty(v: unknown): boolean {
  return v === undefined || v === null || (Array.isArray(v) && v.length === 0) || (isRecord(v) && Object.keys(v).length === 0);
}

/**
 * Does the live object carry every field the desired one sets? (Argo CD's diff, simplified: server
 * defaults and fields others own do not count as drift.) An empty map or list equals an absent one
 * but not a filled one: real Argo CD never reports a Job Synced whose `spec.template.metadata.labels: {}`
 * the API server filled in (v3.2: OutOfSync forever; v3.6: its diff fails on the immutable template).
 */
export function containsDesired(desired: unknown, live: unknown): boolean {
  if (isRecord(desired)) {
    if (!isRecord(live)) return isEmpty(desired) && isEmpty(live);
    // the API server drops zero values of omitempty fields (hostNetwork: false, apiGroup: ""), as
    // Argo CD's normalisation does: a zero value equals an absent field
    return Object.entries(desired).every(([k, v]) =>
      isEmpty(v) ? isEmpty(live[k]) : isZero(v) && live[k] === undefined ? true : containsDesired(v, live[k]),
    );
  }
  if (Array.isArray(desired)) {
    if (!Array.isArray(live)) return desired.length === 0 && isEmpty(live);
    return desired.length === live.length && desired.every((v, i) => containsDesired(v, live[i]));
  }
  if (typeof desired === 'number' && typeof live === 'string') return String(desired) === live;
  return isDeepStrictEqual(desired, live);
}

/** A copy for apply: no status, server-set metadata dropped, the given labels and annotations added. */
export function forApply(o: KubeObject, extra: { labels?: Record<string, string>; annotations?: Record<string, string>; namespace?: string }): KubeObject {
  const { status: _status, ...rest } = o;
  const { resourceVersion: _rv, uid: _uid, generation: _gen, creationTimestamp: _ct, managedFields: _mf, ...meta } = o.metadata;
  const labels = { ...(o.metadata.labels ?? {}), ...(extra.labels ?? {}) };
  const annotations = { ...(o.metadata.annotations ?? {}), ...(extra.annotations ?? {}) };
  return {
    ...rest,
    apiVersion: o.apiVersion,
    kind: o.kind,
    metadata: {
      ...meta,
      name: o.metadata.name,
      ...(o.metadata.namespace === undefined && extra.namespace !== undefined ? { namespace: extra.namespace } : {}),
      ...(Object.keys(labels).length ? { labels } : {}),
      ...(Object.keys(annotations).length ? { annotations } : {}),
    },
  };
}

/** Same status apart from the fields named (timestamps that move on every write). */
export function sameStatus(a: unknown, b: unknown, ignore: readonly string[] = []): boolean {
  const strip = (v: unknown) => {
    if (!isRecord(v)) return v;
    const copy: Record<string, unknown> = { ...v };
    for (const k of ignore) delete copy[k];
    return JSON.parse(JSON.stringify(copy)) as unknown;
  };
  return isDeepStrictEqual(strip(a), strip(b));
}

/** Runs `fn` over items one at a time; collects the first error of each item instead of stopping. */
export async function eachSettled<T>(items: readonly T[], fn: (item: T) => Promise<void>): Promise<{ item: T; error: unknown }[]> {
  const failures: { item: T; error: unknown }[] = [];
  for (const item of items) {
    try {
      await fn(item);
    } catch (error) {
      failures.push({ item, error });
    }
  }
  return failures;
}

export function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

export interface Condition {
  readonly type?: unknown;
  readonly status?: unknown;
  readonly reason?: unknown;
  readonly message?: unknown;
}

export function conditionsOf(obj: KubeObject): Condition[] {
  const status = obj['status'];
  if (typeof status !== 'object' || status === null) return [];
  const conditions = (status as { conditions?: unknown }).conditions;
  return Array.isArray(conditions) ? (conditions.filter((c) => typeof c === 'object' && c !== null) as Condition[]) : [];
}

export function findCondition(obj: KubeObject, type: string): Condition | undefined {
  return conditionsOf(obj).find((c) => c.type === type);
}

export function conditionText(v: unknown): string {
  return typeof v === 'string' ? v : '';
}
