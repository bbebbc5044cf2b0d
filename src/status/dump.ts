/**
 * Objects read from dump files, one per cluster object. A must-gather often holds the same object
 * twice (a namespace dump and a per-kind dump, or the rendered `expected/` folder next to it): a
 * copy is the same object, not a second one, and only copies that really disagree are refused.
 * Pure: objects with where they came from in, one object per identity (or the conflicts) out.
 */
import { at, rec, str, type KubeObject } from './snapshot.js';

export interface DumpEntry {
  readonly object: KubeObject;
  /** Where it was read, for messages: `file` or `file: document 2: items[3]`. */
  readonly from: string;
}

export interface DumpConflict {
  /** `OpenStackVersion openstack/openstack`. */
  readonly object: string;
  /** One line per disagreeing copy: where it is and what identifies it. */
  readonly copies: readonly string[];
}

export interface DedupedObjects {
  readonly objects: readonly KubeObject[];
  /** Objects present only as manifests that disagree (rendered phase folders): not cluster state. */
  readonly ignored: readonly DumpConflict[];
  /** Copies dropped because an equal (or the live) copy was kept, e.g. `OpenStackVersion openstack/openstack: 2 copies`. */
  readonly dropped: readonly string[];
  readonly conflicts: readonly DumpConflict[];
}

function group(o: KubeObject): string {
  const api = str(o['apiVersion']) ?? '';
  return api.includes('/') ? api.slice(0, api.indexOf('/')) : '';
}

/** Read from a server (it has a uid, a resourceVersion or a status), not a manifest from Git. */
function isLive(o: KubeObject): boolean {
  return str(at(o, 'metadata.uid')) !== undefined || str(at(o, 'metadata.resourceVersion')) !== undefined || rec(o['status']) !== undefined;
}

/** JSON with sorted keys: equal objects give equal text whatever their key order in the file. */
export function stableText(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(stableText).join(',')}]`;
  const r = rec(v);
  if (r) {
    return `{${Object.keys(r)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${stableText(r[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v) ?? 'null';
}

/** The same read of one object: same uid and resourceVersion (formatting may differ), or equal content. */
function sameRead(a: KubeObject, b: KubeObject): boolean {
  const uidA = str(at(a, 'metadata.uid'));
  const rvA = str(at(a, 'metadata.resourceVersion'));
  if (uidA !== undefined && rvA !== undefined && uidA === str(at(b, 'metadata.uid')) && rvA === str(at(b, 'metadata.resourceVersion'))) return true;
  return stableText(a) === stableText(b);
}

function describeCopy(e: DumpEntry): string {
  const uid = str(at(e.object, 'metadata.uid'));
  const rv = str(at(e.object, 'metadata.resourceVersion'));
  const id = [uid ? `uid ${uid}` : '', rv ? `resourceVersion ${rv}` : '', isLive(e.object) ? '' : 'no status (a manifest)'].filter(Boolean).join(', ');
  return `${e.from}${id ? ` (${id})` : ''}`;
}

/**
 * One object per kind, namespace and name. A live copy wins over manifests of the same object
 * (the rendered folders hold no status); copies that are the same read collapse into the first;
 * live copies that differ (two reads at different times, or a recreated object) are a conflict,
 * because which one is "now" cannot be told. Manifests that differ among themselves, and a
 * deployment known only as a manifest, are ignored: they are not what the cluster holds.
 */
export function dedupeObjects(entries: readonly DumpEntry[], defaultNamespace: string): DedupedObjects {
  const byId = new Map<string, DumpEntry[]>();
  const order: string[] = [];
  for (const e of entries) {
    const kind = str(e.object['kind']) ?? '';
    const id = `${kind} ${group(e.object)} ${str(at(e.object, 'metadata.namespace')) ?? defaultNamespace}/${str(at(e.object, 'metadata.name')) ?? ''}`;
    const list = byId.get(id);
    if (list) list.push(e);
    else {
      byId.set(id, [e]);
      order.push(id);
    }
  }
  const objects: KubeObject[] = [];
  const dropped: string[] = [];
  const conflicts: DumpConflict[] = [];
  const ignored: DumpConflict[] = [];
  for (const id of order) {
    const all = byId.get(id)!;
    const live = all.filter((e) => isLive(e.object));
    const kept = live.length ? live : all;
    const [first, ...rest] = kept;
    const label = `${str(first!.object['kind']) ?? ''} ${id.slice(id.lastIndexOf(' ') + 1)}`;
    const differing = rest.filter((e) => !sameRead(first!.object, e.object));
    if (differing.length) {
      // differing manifests are the desired state of several phases or engines, not a reading
      (live.length ? conflicts : ignored).push({ object: label, copies: kept.map(describeCopy) });
      continue;
    }
    // a deployment the API server never saw (no uid, no status) is a rendered file, not evidence that it runs
    if (!live.length && first!.object['kind'] === 'OpenStackDataPlaneDeployment') {
      ignored.push({ object: label, copies: kept.map(describeCopy) });
      continue;
    }
    objects.push(first!.object);
    if (all.length > 1) dropped.push(`${label}: ${all.length} copies${all.length > kept.length ? `, ${all.length - kept.length} without status ignored` : ''}`);
  }
  return { objects, ignored, dropped: [...dropped, ...ignored.map((i) => `${i.object}: ${i.copies.length} manifest${i.copies.length > 1 ? 's' : ''} without status ignored`)], conflicts };
}
