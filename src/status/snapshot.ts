/**
 * What the status stage sees of the cluster: plain objects read at one moment, from the API or
 * from `oc get -o yaml` dumps. Anything that could not be read is said so, so that a gate never
 * counts a missing object as passed.
 */

/** A Kubernetes object as JSON; only the fields the gates read are typed loosely. */
export type KubeObject = Readonly<Record<string, unknown>>;

export type { AgentEngine } from '../agents/types.js';
import type { AgentEngine } from '../agents/types.js';

/** The agent whose applied revision a gate checks, and its object when it was found. */
export interface AgentView {
  readonly engine: AgentEngine;
  readonly namespace: string;
  readonly name: string;
  /** undefined: looked for and not found. */
  readonly object: KubeObject | undefined;
}

export interface ClusterSnapshot {
  /** When the objects were read (ISO 8601). Deadlines are measured against it. */
  readonly readAt: string;
  readonly namespace: string;
  /** Where the objects came from, for messages: `cluster <server>` or `files <dir>`. */
  readonly source: string;
  readonly openStackVersions: readonly KubeObject[];
  readonly controlPlanes: readonly KubeObject[];
  readonly nodeSets: readonly KubeObject[];
  readonly deployments: readonly KubeObject[];
  /** undefined: not read (no access, not served, not in the dump). Empty: read, none found. */
  readonly csvs: readonly KubeObject[] | undefined;
  /** The InstallPlans of the operator namespace, read only when the plan has phase 0; undefined: not read. */
  readonly installPlans?: readonly KubeObject[] | undefined;
  /** undefined: no agent configured. */
  readonly agent: AgentView | undefined;
  /** The user said there is no agent to check (`--agent none`): applied state is proven by the other checks. */
  readonly agentNone?: boolean;
  /** Kinds that could not be read at all, with why (e.g. "CRD not installed"). */
  readonly unread: readonly string[];
  /** Objects a dump held more than once, counted once (e.g. `OpenStackVersion openstack/openstack: 2 copies`). */
  readonly duplicates?: readonly string[];
}

// ---- small readers over untyped objects ------------------------------------------------------

export function rec(v: unknown): Readonly<Record<string, unknown>> | undefined {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
}

/** The value at a dotted path (`status.deployedVersion`), or undefined. */
export function at(obj: unknown, path: string): unknown {
  let cur: unknown = obj;
  for (const seg of path.split('.')) {
    const r = rec(cur);
    if (!r) return undefined;
    cur = r[seg];
  }
  return cur;
}

export function str(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return undefined;
}

export function nameOf(o: KubeObject): string {
  return str(at(o, 'metadata.name')) ?? '';
}

export function findNamed(list: readonly KubeObject[], name: string): KubeObject | undefined {
  return list.find((o) => nameOf(o) === name);
}

export interface Condition {
  readonly type: string;
  readonly status: string;
  readonly reason?: string;
  readonly message?: string;
  readonly severity?: string;
  readonly lastTransitionTime?: string;
  readonly observedGeneration?: number;
}

export function conditionsOf(obj: unknown, path = 'status.conditions'): Condition[] {
  const list = at(obj, path);
  if (!Array.isArray(list)) return [];
  const out: Condition[] = [];
  for (const c of list) {
    const r = rec(c);
    const type = str(r?.['type']);
    if (!r || !type) continue;
    const og = r['observedGeneration'];
    out.push({
      type,
      status: str(r['status']) ?? 'Unknown',
      ...(str(r['reason']) !== undefined ? { reason: str(r['reason'])! } : {}),
      ...(str(r['message']) !== undefined ? { message: str(r['message'])! } : {}),
      ...(str(r['severity']) !== undefined ? { severity: str(r['severity'])! } : {}),
      ...(str(r['lastTransitionTime']) !== undefined ? { lastTransitionTime: str(r['lastTransitionTime'])! } : {}),
      ...(typeof og === 'number' ? { observedGeneration: og } : {}),
    });
  }
  return out;
}

export function condition(obj: unknown, type: string, path?: string): Condition | undefined {
  return conditionsOf(obj, path).find((c) => c.type === type);
}

function int(v: unknown): number | undefined {
  if (typeof v === 'number' && Number.isInteger(v)) return v;
  if (typeof v === 'string' && /^\d+$/.test(v)) return Number(v);
  return undefined;
}

/**
 * Has the controller observed the object's latest spec? kstatus's staleness guard (conventions d9):
 * `status.observedGeneration` equals `metadata.generation`. An object without a generation (a dump
 * that dropped it) is not trusted.
 */
export function freshness(obj: unknown): { fresh: boolean; generation?: number; observed?: number } {
  const generation = int(at(obj, 'metadata.generation'));
  const observed = int(at(obj, 'status.observedGeneration'));
  return {
    fresh: generation !== undefined && observed !== undefined && generation === observed,
    ...(generation !== undefined ? { generation } : {}),
    ...(observed !== undefined ? { observed } : {}),
  };
}

export function staleText(kind: string, obj: unknown): string {
  const f = freshness(obj);
  return `${kind} generation is ${f.generation ?? '?'}, but latest observed generation is ${f.observed ?? 'none'}`;
}

const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:[Zz]|[+-]\d{2}:\d{2})$/;

/**
 * A Kubernetes timestamp as ISO 8601 UTC, or undefined when it is missing or not a timestamp.
 * `Date.parse` alone accepts too much (`"1"`) and gives NaN on the rest, which would either crash
 * `toISOString` or silently turn a deadline off: a bad time is unknown, never a number.
 */
export function isoTime(v: unknown): string | undefined {
  if (typeof v !== 'string' || !RFC3339.test(v)) return undefined;
  const ms = Date.parse(v);
  return Number.isFinite(ms) ? new Date(ms).toISOString() : undefined;
}
