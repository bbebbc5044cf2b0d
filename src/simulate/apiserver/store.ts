/**
 * The rehearsal cluster's storage: objects by type, a global resourceVersion counter and a bounded
 * log of past events for watch resumption. Every write goes through one commit path that applies
 * the API server's rules (system metadata, generation, status subresource, finalizers, no-op
 * writes), so HTTP handlers stay thin. Stored objects are never mutated after commit: reads may
 * serialise them directly and events may share them.
 */
import { randomUUID } from 'node:crypto';
import type { ResourceType } from '../../cluster/resources.js';
import { apiVersionOf } from '../../cluster/resources.js';
import { isRfc1123Label, isRfc1123Subdomain } from '../../validate/names.js';
import { NO_ADMISSION, type Admission } from './admission.js';
import {
  appliedFieldPaths,
  applyMerge,
  deepEqual,
  dotted,
  fromFieldsV1,
  getPath,
  isJsonObject,
  pathKey,
  removePath,
  toFieldsV1,
  type FieldPath,
  type Json,
  type JsonObject,
} from './patch.js';
import { selectorMatches, type Selector } from './selectors.js';
import { ApiError, alreadyExists, badRequest, conflict, detailsOf, invalid, invalidResource, notFound } from './status.js';

export type EventType = 'ADDED' | 'MODIFIED' | 'DELETED';

export interface StoreEvent {
  readonly type: EventType;
  readonly typeKey: string;
  readonly rv: number;
  /** The object after the change (for DELETED: its last state, carrying the deletion's RV). */
  readonly object: JsonObject;
  /** The object before the change (MODIFIED and DELETED). */
  readonly prev: JsonObject | undefined;
}

export type Subresource = 'status' | undefined;

export interface WriteOptions {
  readonly subresource?: Subresource;
  readonly dryRun?: boolean;
  /** Collects `Warning` header texts (fields pruned by the schema). */
  readonly warnings?: string[];
}

export interface ApplyOptions extends WriteOptions {
  readonly fieldManager: string;
  readonly force: boolean;
}

export interface DeleteOptions {
  readonly dryRun?: boolean;
  readonly preconditions?: { readonly uid?: string; readonly resourceVersion?: string };
}

/** API groups served by kube-apiserver itself; every other group is a custom resource. */
const BUILTIN_GROUPS = new Set(['', 'apps', 'batch', 'rbac.authorization.k8s.io', 'coordination.k8s.io', 'networking.k8s.io', 'policy', 'storage.k8s.io']);

export const isCustomResource = (t: ResourceType): boolean => !BUILTIN_GROUPS.has(t.group);

/** Core v1 and RBAC objects carry no `metadata.generation`; CRs and workload kinds do. */
const tracksGeneration = (t: ResourceType): boolean => t.group !== '' && t.group !== 'rbac.authorization.k8s.io';

export const typeKeyOf = (t: ResourceType): string => `${apiVersionOf(t)}/${t.plural}`;

const objKey = (namespace: string, name: string): string => `${namespace}/${name}`;

/** Metadata a client may write; the rest of metadata belongs to the server. */
const USER_METADATA = ['labels', 'annotations', 'finalizers', 'ownerReferences', 'generateName'] as const;

const GENERATE_ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';

export function rfc3339Now(): string {
  return new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function metaOf(obj: JsonObject): JsonObject {
  const md = obj['metadata'];
  return isJsonObject(md) ? md : {};
}

const str = (v: Json | undefined): string | undefined => (typeof v === 'string' ? v : undefined);

function finalizersOf(obj: JsonObject): string[] {
  const f = metaOf(obj)['finalizers'];
  return Array.isArray(f) ? f.filter((x): x is string => typeof x === 'string') : [];
}

/** The part of an object whose change bumps `metadata.generation`. */
function generationContent(t: ResourceType, obj: JsonObject): JsonObject {
  const { metadata: _m, status, ...rest } = obj;
  return t.statusSubresource ? rest : status === undefined ? rest : { ...rest, status };
}

/** An object without the fields that may differ on a write that changes nothing. */
function comparable(obj: JsonObject): JsonObject {
  const md = { ...metaOf(obj) };
  delete md['resourceVersion'];
  const managed = md['managedFields'];
  if (Array.isArray(managed)) {
    md['managedFields'] = managed.map((m) => {
      if (!isJsonObject(m)) return m;
      const { time: _t, ...rest } = m;
      return rest;
    });
  }
  return { ...obj, metadata: md };
}

interface ManagedEntry {
  manager: string;
  operation: string;
  subresource: string | undefined;
  apiVersion: string;
  time: string;
  paths: FieldPath[];
}

function readManaged(obj: JsonObject): ManagedEntry[] {
  const list = metaOf(obj)['managedFields'];
  if (!Array.isArray(list)) return [];
  return list.filter(isJsonObject).map((m) => ({
    manager: str(m['manager']) ?? '',
    operation: str(m['operation']) ?? 'Update',
    subresource: str(m['subresource']),
    apiVersion: str(m['apiVersion']) ?? '',
    time: str(m['time']) ?? '',
    paths: fromFieldsV1(m['fieldsV1']),
  }));
}

function writeManaged(entries: readonly ManagedEntry[]): JsonObject[] {
  return entries
    .filter((e) => e.paths.length > 0)
    .map((e) => ({
      manager: e.manager,
      operation: e.operation,
      apiVersion: e.apiVersion,
      time: e.time,
      fieldsType: 'FieldsV1',
      fieldsV1: toFieldsV1(e.paths),
      ...(e.subresource === undefined ? {} : { subresource: e.subresource }),
    }));
}

export interface StoreOptions {
  readonly types: readonly ResourceType[];
  readonly eventWindow: number;
  readonly admission?: Admission;
}

export class ObjectStore {
  private readonly objects = new Map<string, Map<string, JsonObject>>();
  private readonly log: StoreEvent[] = [];
  private readonly listeners = new Set<(ev: StoreEvent) => void>();
  private readonly admission: Admission;
  private readonly eventWindow: number;
  private readonly namespaceType: ResourceType | undefined;
  private readonly types: readonly ResourceType[];
  private rv = 0;
  /** RV of the newest event dropped from the log: a watch from an older RV cannot resume. */
  private compacted = 0;

  constructor(opts: StoreOptions) {
    this.types = opts.types;
    this.eventWindow = Math.max(1, opts.eventWindow);
    this.admission = opts.admission ?? NO_ADMISSION;
    this.namespaceType = opts.types.find((t) => t.group === '' && t.kind === 'Namespace');
    for (const t of opts.types) this.objects.set(typeKeyOf(t), new Map());
  }

  get resourceVersion(): number {
    return this.rv;
  }

  get compactedThrough(): number {
    return this.compacted;
  }

  subscribe(fn: (ev: StoreEvent) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  private bucket(t: ResourceType): Map<string, JsonObject> {
    const b = this.objects.get(typeKeyOf(t));
    if (b === undefined) throw new ApiError(404, 'NotFound', 'the server could not find the requested resource');
    return b;
  }

  get(t: ResourceType, namespace: string, name: string): JsonObject | undefined {
    return this.bucket(t).get(objKey(t.namespaced ? namespace : '', name));
  }

  mustGet(t: ResourceType, namespace: string, name: string): JsonObject {
    const obj = this.get(t, namespace, name);
    if (obj === undefined) throw notFound(t, name);
    return obj;
  }

  /** Objects of a type (in one namespace, or all when undefined), in namespace/name order. */
  list(t: ResourceType, namespace: string | undefined, sel?: Selector): JsonObject[] {
    const out: [string, JsonObject][] = [];
    for (const [k, obj] of this.bucket(t)) {
      if (namespace !== undefined && t.namespaced && str(metaOf(obj)['namespace']) !== namespace) continue;
      if (sel !== undefined && !selectorMatches(sel, obj)) continue;
      out.push([k, obj]);
    }
    return out.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)).map((e) => e[1]);
  }

  /** The list as it was at `rv`, rebuilt by undoing newer logged events (resourceVersionMatch=Exact). */
  listAt(t: ResourceType, namespace: string | undefined, sel: Selector | undefined, rv: number): JsonObject[] {
    if (rv < this.compacted) {
      throw new ApiError(410, 'Expired', 'The resourceVersion for the provided list is too old.');
    }
    if (rv > this.rv) {
      throw new ApiError(504, 'Timeout', `Too large resource version: ${rv}, current: ${this.rv}`, {
        causes: [{ reason: 'ResourceVersionTooLarge', message: 'Too large resource version', field: '' }],
        retryAfterSeconds: 1,
      });
    }
    const key = typeKeyOf(t);
    const state = new Map<string, JsonObject>();
    for (const [k, obj] of this.bucket(t)) state.set(k, obj);
    for (let i = this.log.length - 1; i >= 0; i--) {
      const ev = this.log[i];
      if (ev === undefined || ev.rv <= rv) break;
      if (ev.typeKey !== key) continue;
      const md = metaOf(ev.object);
      const k = objKey(str(md['namespace']) ?? '', str(md['name']) ?? '');
      if (ev.type === 'ADDED') state.delete(k);
      else if (ev.prev !== undefined) state.set(k, ev.prev);
    }
    return [...state.entries()]
      .filter(([, o]) => (namespace === undefined || !t.namespaced || str(metaOf(o)['namespace']) === namespace) && (sel === undefined || selectorMatches(sel, o)))
      .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
      .map((e) => e[1]);
  }

  /** Logged events after `rv`, or `undefined` when some of them were already dropped (410). */
  eventsSince(rv: number): StoreEvent[] | undefined {
    if (rv < this.compacted) return undefined;
    const firstNewer = this.log.findIndex((e) => e.rv > rv);
    return firstNewer < 0 ? [] : this.log.slice(firstNewer);
  }

  // ---- writes ---------------------------------------------------------------------------------

  private emit(ev: StoreEvent): void {
    this.log.push(ev);
    while (this.log.length > this.eventWindow) {
      const dropped = this.log.shift();
      if (dropped !== undefined) this.compacted = dropped.rv;
    }
    for (const fn of this.listeners) fn(ev);
  }

  private checkNamespace(t: ResourceType, namespace: string, name: string): void {
    if (!t.namespaced || this.namespaceType === undefined) return;
    const ns = this.get(this.namespaceType, '', namespace);
    if (ns === undefined) throw notFound(this.namespaceType, namespace);
    if (metaOf(ns)['deletionTimestamp'] !== undefined) {
      throw new ApiError(403, 'Forbidden', `${t.plural} "${name}" is forbidden: unable to create new content in namespace ${namespace} because it is being terminated`, detailsOf(t, name));
    }
  }

  private checkTypeFields(t: ResourceType, body: JsonObject): void {
    const apiVersion = body['apiVersion'];
    const kind = body['kind'];
    if (apiVersion !== undefined && apiVersion !== apiVersionOf(t)) {
      throw badRequest(`the API version in the data (${String(apiVersion)}) does not match the expected API version (${apiVersionOf(t)})`);
    }
    if (kind !== undefined && kind !== t.kind) {
      throw badRequest(`the kind in the data (${String(kind)}) does not match the expected kind (${t.kind})`);
    }
  }

  private checkName(t: ResourceType, name: string): void {
    const label = t.group === '' && t.kind === 'Namespace';
    if (label ? isRfc1123Label(name) : isRfc1123Subdomain(name)) return;
    const rule = label
      ? "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')"
      : "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
    throw invalid(t, name, [{ field: 'metadata.name', message: `Invalid value: "${name}": ${rule}` }]);
  }

  /** POST: a new object from `body` (status dropped where a status subresource owns it). */
  create(t: ResourceType, namespace: string, body: Json, opts: WriteOptions & { managed?: JsonObject[] } = {}): JsonObject {
    if (!isJsonObject(body)) throw badRequest('the request body must be a JSON object');
    this.checkTypeFields(t, body);
    const md = metaOf(body);
    const ns = t.namespaced ? namespace : '';
    const bodyNs = str(md['namespace']);
    if (t.namespaced && bodyNs !== undefined && bodyNs !== '' && bodyNs !== ns) {
      throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
    }
    let name = str(md['name']) ?? '';
    const generateName = str(md['generateName']);
    if (name === '' && generateName !== undefined && generateName !== '') {
      do {
        let suffix = '';
        for (let i = 0; i < 5; i++) suffix += GENERATE_ALPHABET[Math.floor(Math.random() * GENERATE_ALPHABET.length)];
        name = `${generateName}${suffix}`;
      } while (this.get(t, ns, name) !== undefined);
    }
    if (name === '') throw invalid(t, '', [{ field: 'metadata.name', message: 'Required value: name or generateName is required' }]);
    this.checkName(t, name);
    if (this.get(t, ns, name) !== undefined) throw alreadyExists(t, name);
    this.checkNamespace(t, ns, name);

    const meta: JsonObject = { name };
    for (const k of USER_METADATA) if (md[k] !== undefined) meta[k] = md[k];
    if (t.namespaced) meta['namespace'] = ns;
    meta['uid'] = randomUUID();
    meta['resourceVersion'] = '';
    if (tracksGeneration(t)) meta['generation'] = 1;
    meta['creationTimestamp'] = rfc3339Now();
    if (opts.managed !== undefined && opts.managed.length > 0) meta['managedFields'] = opts.managed;

    let obj: JsonObject = { ...body, apiVersion: apiVersionOf(t), kind: t.kind, metadata: meta };
    if (t.statusSubresource) delete obj['status'];
    if (t.group === '' && t.kind === 'Namespace') {
      meta['labels'] = { ...(isJsonObject(meta['labels']) ? meta['labels'] : {}), 'kubernetes.io/metadata.name': name };
      obj['spec'] = { finalizers: ['kubernetes'] };
      obj['status'] = { phase: 'Active' };
    }
    if (t.group === 'batch' && t.kind === 'Job') obj = withJobDefaults(obj, str(meta['uid']) ?? '', name);
    obj = this.admission.admit(t, obj, opts.warnings);
    if (opts.dryRun) return obj;
    const rv = ++this.rv;
    obj = { ...obj, metadata: { ...metaOf(obj), resourceVersion: String(rv) } };
    this.bucket(t).set(objKey(ns, name), obj);
    this.emit({ type: 'ADDED', typeKey: typeKeyOf(t), rv, object: obj, prev: undefined });
    return obj;
  }

  /**
   * The object a write of `proposed` over `current` produces, before admission: the status
   * subresource decides which half of the object the write may touch, system metadata stays.
   */
  private merged(t: ResourceType, current: JsonObject, proposed: JsonObject, subresource: Subresource): JsonObject {
    const curMeta = metaOf(current);
    if (subresource === 'status') {
      const next: JsonObject = { ...current };
      if (proposed['status'] === undefined) delete next['status'];
      else next['status'] = proposed['status'];
      return next;
    }
    const next: JsonObject = { ...proposed, apiVersion: apiVersionOf(t), kind: t.kind };
    if (t.statusSubresource) {
      if (current['status'] === undefined) delete next['status'];
      else next['status'] = current['status'];
    }
    const propMeta = metaOf(proposed);
    const meta: JsonObject = { ...curMeta };
    for (const k of USER_METADATA) {
      if (propMeta[k] === undefined) delete meta[k];
      else meta[k] = propMeta[k];
    }
    next['metadata'] = meta;
    return next;
  }

  /** Admission, no-op detection, generation, RV, finalizer completion, event. */
  private commit(t: ResourceType, current: JsonObject, next: JsonObject, opts: WriteOptions): JsonObject {
    const curMeta = metaOf(current);
    const name = str(curMeta['name']) ?? '';
    if (curMeta['deletionTimestamp'] !== undefined) {
      const before = new Set(finalizersOf(current));
      const added = finalizersOf(next).filter((f) => !before.has(f));
      if (added.length > 0) {
        const goList = `[]string{${added.map((f) => JSON.stringify(f)).join(', ')}}`;
        throw invalid(t, name, [{ field: 'metadata.finalizers', message: `Forbidden: no new finalizers can be added if the object is being deleted, found new finalizers ${goList}` }]);
      }
    }
    let obj = this.admission.admit(t, next, opts.warnings);
    if (deepEqual(comparable(obj), comparable(current))) return current;
    if (t.group === 'batch' && t.kind === 'Job') {
      const spec = (o: JsonObject) => (isJsonObject(o['spec']) ? o['spec'] : {});
      // the Job strategy's rule: the pod template is fixed once the Job exists
      if (!deepEqual(spec(obj)['template'] ?? null, spec(current)['template'] ?? null)) {
        throw invalid(t, name, [{ field: 'spec.template', message: 'Invalid value: field is immutable' }]);
      }
    }
    const meta = { ...metaOf(obj) };
    if (tracksGeneration(t) && !deepEqual(generationContent(t, obj), generationContent(t, current))) {
      meta['generation'] = (typeof curMeta['generation'] === 'number' ? curMeta['generation'] : 0) + 1;
    }
    if (opts.dryRun) return { ...obj, metadata: meta };
    const rv = ++this.rv;
    meta['resourceVersion'] = String(rv);
    obj = { ...obj, metadata: meta };
    const key = objKey(t.namespaced ? (str(curMeta['namespace']) ?? '') : '', name);
    if (meta['deletionTimestamp'] !== undefined && finalizersOf(obj).length === 0) {
      // the write that drops the last finalizer deletes instead; like etcd's delete event, the
      // DELETED event carries the last stored state at the deletion's resourceVersion
      const last: JsonObject = { ...current, metadata: { ...curMeta, resourceVersion: String(rv) } };
      this.bucket(t).delete(key);
      this.emit({ type: 'DELETED', typeKey: typeKeyOf(t), rv, object: last, prev: current });
      this.afterRemoval(t, last);
      return obj;
    }
    this.bucket(t).set(key, obj);
    this.emit({ type: 'MODIFIED', typeKey: typeKeyOf(t), rv, object: obj, prev: current });
    return obj;
  }

  /** Preconditions shared by PUT and patches: name, uid and (when given) resourceVersion. */
  private checkPreconditions(t: ResourceType, current: JsonObject, proposed: JsonObject, name: string): void {
    const md = metaOf(proposed);
    const curMd = metaOf(current);
    const givenName = str(md['name']);
    if (givenName !== undefined && givenName !== name) {
      throw badRequest(`the name of the object (${givenName}) does not match the name on the URL (${name})`);
    }
    const uid = str(md['uid']);
    if (uid !== undefined && uid !== '' && uid !== curMd['uid']) {
      throw new ApiError(409, 'Conflict', `Precondition failed: UID in precondition: ${String(curMd['uid'])}, UID in object meta: ${uid}`, detailsOf(t, name));
    }
    const rv = str(md['resourceVersion']);
    if (rv !== undefined && rv !== '' && rv !== curMd['resourceVersion']) throw conflict(t, name);
  }

  /** PUT (main resource or `/status`). */
  replace(t: ResourceType, namespace: string, name: string, body: Json, opts: WriteOptions = {}): JsonObject {
    if (!isJsonObject(body)) throw badRequest('the request body must be a JSON object');
    this.checkTypeFields(t, body);
    const current = this.mustGet(t, namespace, name);
    const rv = str(metaOf(body)['resourceVersion']);
    // custom resources refuse unconditional updates (their strategy's AllowUnconditionalUpdate is false)
    if ((rv === undefined || rv === '') && isCustomResource(t)) {
      throw invalidResource(t, name, [{ field: 'metadata.resourceVersion', message: 'Invalid value: 0: must be specified for an update' }]);
    }
    this.checkPreconditions(t, current, body, name);
    return this.commit(t, current, this.merged(t, current, body, opts.subresource), opts);
  }

  /** A patch already turned into the full proposed object (merge / JSON patch). */
  patched(t: ResourceType, namespace: string, name: string, patch: (current: JsonObject) => JsonObject, opts: WriteOptions = {}): JsonObject {
    const current = this.mustGet(t, namespace, name);
    const proposed = patch(current);
    this.checkTypeFields(t, proposed);
    this.checkPreconditions(t, current, proposed, name);
    return this.commit(t, current, this.merged(t, current, proposed, opts.subresource), opts);
  }

  /**
   * Server-side apply. Field ownership is tracked per apply manager only (operation `Apply`);
   * updates by PUT/PATCH do not take ownership. Conflicts are raised between apply managers.
   */
  apply(t: ResourceType, namespace: string, name: string, body: Json, opts: ApplyOptions): { object: JsonObject; created: boolean } {
    if (!isJsonObject(body)) throw badRequest('the apply configuration must be an object');
    const apiVersion = body['apiVersion'];
    if (apiVersion !== apiVersionOf(t) || body['kind'] !== t.kind) {
      throw badRequest(`invalid object type: ${String(apiVersion ?? '')}, Kind=${String(body['kind'] ?? '')}`);
    }
    const givenName = str(metaOf(body)['name']);
    if (givenName === undefined || givenName === '') throw badRequest('metadata.name is required in an apply patch');
    const subresource = opts.subresource;
    const allPaths = appliedFieldPaths(body);
    const paths = allPaths.filter((p) => (subresource === 'status' ? p[0] === 'status' : !t.statusSubresource || p[0] !== 'status'));
    const now = rfc3339Now();
    const mine = (e: ManagedEntry): boolean => e.manager === opts.fieldManager && e.operation === 'Apply' && e.subresource === subresource;
    const current = this.get(t, namespace, name);
    if (current === undefined) {
      if (subresource === 'status') throw notFound(t, name);
      const managed = writeManaged([{ manager: opts.fieldManager, operation: 'Apply', subresource: undefined, apiVersion: apiVersionOf(t), time: now, paths }]);
      return { object: this.create(t, namespace, body, { ...opts, managed }), created: true };
    }
    this.checkPreconditions(t, current, body, name);
    const entries = readManaged(current);
    const conflicts: { manager: string; path: FieldPath }[] = [];
    for (const e of entries) {
      if (mine(e)) continue;
      const owned = new Set(e.paths.map(pathKey));
      for (const p of paths) {
        if (owned.has(pathKey(p)) && !deepEqual(getPath(current, p), getPath(body, p))) conflicts.push({ manager: e.manager, path: p });
      }
    }
    if (conflicts.length > 0 && !opts.force) {
      const lines = conflicts.map((c) => `conflict with "${c.manager}": ${dotted(c.path)}`);
      throw new ApiError(409, 'Conflict', `Apply failed with ${conflicts.length} conflict${conflicts.length === 1 ? '' : 's'}: ${lines.join(', ')}`, {
        causes: conflicts.map((c) => ({ reason: 'FieldManagerConflict', message: `conflict with "${c.manager}"`, field: dotted(c.path) })),
      });
    }
    const taken = new Set(conflicts.map((c) => pathKey(c.path)));
    const others = entries.filter((e) => !mine(e)).map((e) => ({ ...e, paths: e.paths.filter((p) => !taken.has(pathKey(p))) }));
    const ownedByOthers = new Set(others.flatMap((e) => e.paths.map(pathKey)));
    const newKeys = new Set(paths.map(pathKey));
    const previous = entries.find(mine)?.paths ?? [];

    const proposed = structuredClone(current);
    for (const p of previous) if (!newKeys.has(pathKey(p)) && !ownedByOthers.has(pathKey(p))) removePath(proposed, p);
    const { apiVersion: _a, kind: _k, metadata: bodyMeta, ...content } = body;
    const userMeta: JsonObject = {};
    if (isJsonObject(bodyMeta)) for (const k of ['labels', 'annotations', 'finalizers', 'ownerReferences']) if (bodyMeta[k] !== undefined) userMeta[k] = bodyMeta[k];
    const result = applyMerge(proposed, { ...content, metadata: userMeta });
    const myEntry: ManagedEntry = { manager: opts.fieldManager, operation: 'Apply', subresource, apiVersion: apiVersionOf(t), time: now, paths };
    const managed = writeManaged([...others, myEntry]);
    const next = this.merged(t, current, result, subresource);
    next['metadata'] = { ...metaOf(subresource === 'status' ? current : next), managedFields: managed };
    if (managed.length === 0) delete (next['metadata'] as JsonObject)['managedFields'];
    return { object: this.commit(t, current, next, opts), created: false };
  }

  /** DELETE: immediate without finalizers, else `deletionTimestamp` and wait for them. */
  delete(t: ResourceType, namespace: string, name: string, opts: DeleteOptions = {}): { object: JsonObject; deleted: boolean } {
    const current = this.mustGet(t, namespace, name);
    const md = metaOf(current);
    const pre = opts.preconditions;
    if (pre?.uid !== undefined && pre.uid !== md['uid']) {
      throw new ApiError(409, 'Conflict', `Precondition failed: UID in precondition: ${pre.uid}, UID in object meta: ${String(md['uid'])}`, detailsOf(t, name));
    }
    if (pre?.resourceVersion !== undefined && pre.resourceVersion !== md['resourceVersion']) throw conflict(t, name);
    const isNamespace = t.group === '' && t.kind === 'Namespace';
    if (md['deletionTimestamp'] !== undefined) return { object: current, deleted: false };
    if (finalizersOf(current).length > 0 || isNamespace) {
      const marked: JsonObject = { ...md, deletionTimestamp: rfc3339Now() };
      // graceful deletion bumps the generation of kinds that track it; namespaces get no grace period
      if (!isNamespace) marked['deletionGracePeriodSeconds'] = 0;
      if (typeof md['generation'] === 'number') marked['generation'] = md['generation'] + 1;
      const next: JsonObject = { ...current, metadata: marked };
      if (isNamespace) next['status'] = { phase: 'Terminating' };
      if (opts.dryRun) return { object: next, deleted: false };
      const rv = ++this.rv;
      const stored: JsonObject = { ...next, metadata: { ...metaOf(next), resourceVersion: String(rv) } };
      this.bucket(t).set(objKey(t.namespaced ? namespace : '', name), stored);
      this.emit({ type: 'MODIFIED', typeKey: typeKeyOf(t), rv, object: stored, prev: current });
      if (isNamespace) return { object: this.emptyNamespace(name) ?? stored, deleted: false };
      return { object: stored, deleted: false };
    }
    if (opts.dryRun) return { object: current, deleted: true };
    const rv = ++this.rv;
    const last: JsonObject = { ...current, metadata: { ...md, resourceVersion: String(rv) } };
    this.bucket(t).delete(objKey(t.namespaced ? namespace : '', name));
    this.emit({ type: 'DELETED', typeKey: typeKeyOf(t), rv, object: last, prev: current });
    this.afterRemoval(t, last);
    return { object: last, deleted: true };
  }

  /** Namespace deletion: delete its content (finalizers respected); remove it once empty. */
  private emptyNamespace(namespace: string): JsonObject | undefined {
    for (const t of this.types) {
      if (!t.namespaced) continue;
      for (const obj of this.list(t, namespace)) {
        const name = str(metaOf(obj)['name']) ?? '';
        if (this.get(t, namespace, name) !== undefined) this.delete(t, namespace, name);
      }
    }
    return this.removeNamespaceIfEmpty(namespace);
  }

  private removeNamespaceIfEmpty(namespace: string): JsonObject | undefined {
    const nsType = this.namespaceType;
    if (nsType === undefined) return undefined;
    const ns = this.get(nsType, '', namespace);
    if (ns === undefined || metaOf(ns)['deletionTimestamp'] === undefined) return undefined;
    if (this.types.some((t) => t.namespaced && this.list(t, namespace).length > 0)) return undefined;
    const rv = ++this.rv;
    const last: JsonObject = { ...ns, metadata: { ...metaOf(ns), resourceVersion: String(rv) } };
    this.bucket(nsType).delete(objKey('', namespace));
    this.emit({ type: 'DELETED', typeKey: typeKeyOf(nsType), rv, object: last, prev: ns });
    return last;
  }

  private afterRemoval(t: ResourceType, obj: JsonObject): void {
    const ns = str(metaOf(obj)['namespace']);
    if (t.namespaced && ns !== undefined) this.removeNamespaceIfEmpty(ns);
  }
}

/**
 * What the real Job strategy adds on create (no manualSelector): the controller-uid and job-name
 * labels on the pod template and a selector on the uid. An empty `labels: {}` is filled in too,
 * which is why a rendered Job must not carry one (Argo CD would never see it Synced).
 */
function withJobDefaults(obj: JsonObject, uid: string, name: string): JsonObject {
  const spec: JsonObject = isJsonObject(obj['spec']) ? { ...obj['spec'] } : {};
  if (spec['manualSelector'] === true) return obj;
  const template: JsonObject = isJsonObject(spec['template']) ? { ...spec['template'] } : {};
  const tmeta: JsonObject = isJsonObject(template['metadata']) ? { ...template['metadata'] } : {};
  const generated = { 'batch.kubernetes.io/controller-uid': uid, 'batch.kubernetes.io/job-name': name, 'controller-uid': uid, 'job-name': name };
  tmeta['labels'] = { ...(isJsonObject(tmeta['labels']) ? tmeta['labels'] : {}), ...generated };
  template['metadata'] = tmeta;
  spec['template'] = template;
  spec['selector'] ??= { matchLabels: { 'batch.kubernetes.io/controller-uid': uid } };
  return { ...obj, spec };
}
