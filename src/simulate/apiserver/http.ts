/**
 * HTTP side of the rehearsal API server: URL routing to resource types, authentication, fault
 * injection, body parsing, and the mapping of verbs onto the store and the watch hub.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { parse as parseYaml } from 'yaml';
import type { ResourceType } from '../../cluster/resources.js';
import { apiVersionOf } from '../../cluster/resources.js';
import { discoveryDocument } from './discovery.js';
import type { FaultRules } from './faults.js';
import { PatchError, isJsonObject, jsonPatch, mergePatch, type Json, type JsonObject } from './patch.js';
import { parseSelector } from './selectors.js';
import { ApiError, badRequest, detailsOf, failureStatus, invalidOptions } from './status.js';
import { isCustomResource, type ObjectStore, type Subresource } from './store.js';
import type { WatchHub } from './watch.js';

export interface RequestStats {
  requests: number;
  byVerb: Record<string, number>;
}

export interface HandlerContext {
  readonly types: readonly ResourceType[];
  readonly store: ObjectStore;
  readonly hub: WatchHub;
  readonly faults: FaultRules;
  readonly token: string;
  readonly stats: RequestStats;
  /** Requests held open by `hangNext`, destroyed on close. */
  readonly hung: Set<ServerResponse>;
  serverAddress: string;
}

export interface ResourceRoute {
  readonly type: ResourceType;
  /** The namespace in the URL; undefined for cluster-scoped types and all-namespace lists. */
  readonly namespace: string | undefined;
  readonly name: string | undefined;
  readonly subresource: Subresource;
}

/** Body size limit of the real server (3 MiB). */
const MAX_BODY = 3 * 1024 * 1024;
const HEALTH_PATHS = new Set(['/healthz', '/livez', '/readyz']);
const UNAUTHENTICATED_PATHS = new Set([...HEALTH_PATHS, '/version']);

const notFoundResource = (): ApiError => new ApiError(404, 'NotFound', 'the server could not find the requested resource');

/** Map a URL path to a resource (or undefined: not a resource path, 404). Throws for a bad subresource. */
export function routeResource(pathname: string, types: readonly ResourceType[]): ResourceRoute | undefined {
  let segs: string[];
  try {
    segs = pathname
      .split('/')
      .filter((s) => s !== '')
      .map((s) => decodeURIComponent(s));
  } catch {
    return undefined;
  }
  let group: string;
  let version: string;
  let rest: string[];
  if (segs[0] === 'api' && segs.length >= 3) {
    [group, version, rest] = ['', segs[1] ?? '', segs.slice(2)];
  } else if (segs[0] === 'apis' && segs.length >= 4) {
    [group, version, rest] = [segs[1] ?? '', segs[2] ?? '', segs.slice(3)];
  } else {
    return undefined;
  }
  const inGv = types.filter((t) => t.group === group && t.version === version);
  const find = (plural: string | undefined, namespaced: boolean | undefined): ResourceType | undefined =>
    inGv.find((t) => t.plural === plural && (namespaced === undefined || t.namespaced === namespaced));
  let type: ResourceType | undefined;
  let namespace: string | undefined;
  let tail: string[];
  if (rest[0] === 'namespaces' && rest.length >= 3 && find(rest[2], true) !== undefined) {
    type = find(rest[2], true);
    namespace = rest[1];
    tail = rest.slice(3);
  } else {
    type = find(rest[0], undefined);
    tail = rest.slice(1);
    if (type?.namespaced && tail.length > 0) return undefined; // namespaced objects need their namespace
  }
  if (type === undefined || tail.length > 2) return undefined;
  const [name, sub] = tail;
  if (sub !== undefined && (sub !== 'status' || !type.statusSubresource)) return undefined;
  return { type, namespace, name, subresource: sub === 'status' ? 'status' : undefined };
}

function verbOf(method: string, route: ResourceRoute | undefined, query: URLSearchParams): string {
  if (route === undefined) return method === 'GET' ? 'discovery' : 'unknown';
  const watching = isTrue(query.get('watch'));
  switch (method) {
    case 'GET':
      return watching ? 'watch' : route.name === undefined ? 'list' : 'get';
    case 'POST':
      return 'create';
    case 'PUT':
      return 'update';
    case 'PATCH':
      return 'patch';
    case 'DELETE':
      return route.name === undefined ? 'deletecollection' : 'delete';
    default:
      return 'unknown';
  }
}

const isTrue = (v: string | null): boolean => v !== null && ['true', '1', 'True', 'TRUE', 't'].includes(v);

function sendJson(res: ServerResponse, code: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(code, { 'Content-Type': 'application/json', 'Cache-Control': 'no-cache, private', 'Content-Length': String(Buffer.byteLength(text)), ...headers });
  res.end(text);
}

function sendError(res: ServerResponse, err: unknown): void {
  if (err instanceof ApiError) {
    const headers: Record<string, string> = err.code === 429 || err.code === 503 ? { 'Retry-After': '1' } : {};
    sendJson(res, err.code, err.toStatus(), headers);
  } else if (err instanceof PatchError) {
    // the real server answers every JSON patch failure with 422 (and a vaguer message)
    sendJson(res, 422, failureStatus(422, 'Invalid', `the server rejected our request due to an error in our request: ${err.message}`));
  } else {
    const message = err instanceof Error ? err.message : String(err);
    sendJson(res, 500, failureStatus(500, 'InternalError', `Internal error occurred: ${message}`));
  }
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) {
        reject(new ApiError(413, 'RequestEntityTooLarge', 'Request entity too large: limit is 3145728'));
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function mediaType(req: IncomingMessage): string {
  return (req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
}

/** JSON, or YAML when the content type says so (apply bodies are YAML, which includes JSON). */
function parseBody(text: string, yaml: boolean): Json {
  if (text.trim() === '') throw badRequest('the request body is empty');
  try {
    return (yaml ? parseYaml(text) : JSON.parse(text)) as Json;
  } catch (e) {
    throw badRequest(`the body of the request could not be decoded: ${e instanceof Error ? e.message : String(e)}`);
  }
}

function listOf(t: ResourceType, items: readonly JsonObject[], resourceVersion: string): JsonObject {
  // the real server writes apiVersion/kind on the items of a custom resource list only; items of a
  // built-in list (JobList, ConfigMapList, ...) come without them
  const shown = isCustomResource(t) ? [...items] : items.map(({ apiVersion: _a, kind: _k, ...rest }) => rest);
  return { apiVersion: apiVersionOf(t), kind: `${t.kind}List`, metadata: { resourceVersion }, items: shown };
}

/** The answer to a DELETE that removed the object at once. */
function successStatus(t: ResourceType, obj: JsonObject): Record<string, unknown> {
  const md = isJsonObject(obj['metadata']) ? obj['metadata'] : {};
  const details = { ...detailsOf(t, String(md['name'] ?? '')), uid: String(md['uid'] ?? '') };
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', details };
}

/** Sends an object, with the `Warning` headers the write collected. */
function sendObject(res: ServerResponse, code: number, obj: unknown, warnings: readonly string[]): void {
  if (warnings.length > 0) res.setHeader('Warning', warnings.map((w) => `299 - ${JSON.stringify(w)}`));
  sendJson(res, code, obj);
}

async function handleResource(ctx: HandlerContext, req: IncomingMessage, res: ServerResponse, route: ResourceRoute, query: URLSearchParams): Promise<void> {
  const { store } = ctx;
  const { type: t, name, subresource } = route;
  const ns = route.namespace ?? '';
  const method = req.method ?? 'GET';
  const dryRunParam = query.get('dryRun');
  if (dryRunParam !== null && dryRunParam !== 'All') throw badRequest(`dryRun: Unsupported value: "${dryRunParam}": supported values: "All"`);
  const dryRun = dryRunParam === 'All';
  const methodNotAllowed = (): ApiError => new ApiError(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource');

  if (method === 'GET') {
    if (isTrue(query.get('watch'))) {
      const fieldSel = [query.get('fieldSelector'), name === undefined ? undefined : `metadata.name=${name}`].filter((s) => s !== null && s !== undefined && s !== '').join(',');
      const timeout = query.get('timeoutSeconds');
      const timeoutSeconds = timeout === null ? undefined : Number(timeout);
      if (timeoutSeconds !== undefined && (!Number.isInteger(timeoutSeconds) || timeoutSeconds < 0)) throw badRequest(`invalid timeoutSeconds: ${timeout}`);
      const rv = query.get('resourceVersion') ?? undefined;
      if (rv !== undefined && rv !== '' && !/^\d+$/.test(rv)) throw badRequest(`invalid resource version: ${rv}`);
      ctx.hub.open(
        {
          type: t,
          namespace: t.namespaced ? route.namespace : undefined,
          selector: parseSelector(query.get('labelSelector') ?? undefined, fieldSel),
          resourceVersion: rv,
          allowBookmarks: isTrue(query.get('allowWatchBookmarks')),
          timeoutSeconds: timeoutSeconds === 0 ? undefined : timeoutSeconds,
        },
        res,
      );
      return;
    }
    if (name !== undefined) return sendJson(res, 200, store.mustGet(t, ns, name));
    const selector = parseSelector(query.get('labelSelector') ?? undefined, query.get('fieldSelector') ?? undefined);
    const rv = query.get('resourceVersion');
    const match = query.get('resourceVersionMatch');
    const listNs = t.namespaced ? route.namespace : undefined;
    if (match !== null && match !== '') {
      if (rv === null || rv === '') {
        throw invalidOptions('ListOptions', [{ field: 'resourceVersionMatch', message: 'Forbidden: resourceVersionMatch is forbidden unless resourceVersion is provided' }]);
      }
      if (match === 'Exact') {
        const at = Number(rv);
        if (!Number.isInteger(at) || at <= 0) throw badRequest(`resourceVersionMatch "Exact" needs a positive resourceVersion, got "${rv}"`);
        return sendJson(res, 200, listOf(t, store.listAt(t, listNs, selector, at), rv));
      }
      if (match !== 'NotOlderThan') throw badRequest(`resourceVersionMatch: Unsupported value: "${match}": supported values: "Exact", "NotOlderThan"`);
    }
    return sendJson(res, 200, listOf(t, store.list(t, listNs, selector), String(store.resourceVersion)));
  }

  if (method === 'POST') {
    if (name !== undefined || (t.namespaced && route.namespace === undefined)) throw methodNotAllowed();
    const body = parseBody(await readBody(req), mediaType(req).includes('yaml'));
    const warnings: string[] = [];
    return sendObject(res, 201, store.create(t, ns, body, { dryRun, warnings }), warnings);
  }

  if (method === 'PUT') {
    if (name === undefined) throw methodNotAllowed();
    const body = parseBody(await readBody(req), mediaType(req).includes('yaml'));
    const warnings: string[] = [];
    return sendObject(res, 200, store.replace(t, ns, name, body, { subresource, dryRun, warnings }), warnings);
  }

  if (method === 'PATCH') {
    if (name === undefined) throw methodNotAllowed();
    const type = mediaType(req);
    const force = query.get('force');
    const text = await readBody(req);
    const warnings: string[] = [];
    if (type === 'application/apply-patch+yaml') {
      const fieldManager = query.get('fieldManager') ?? '';
      if (fieldManager === '') {
        throw invalidOptions('PatchOptions', [{ field: 'fieldManager', message: 'Required value: is required for apply patch' }]);
      }
      const { object, created } = store.apply(t, ns, name, parseBody(text, true), { fieldManager, force: isTrue(force), subresource, dryRun, warnings });
      return sendObject(res, created ? 201 : 200, object, warnings);
    }
    if (force !== null) {
      throw invalidOptions('PatchOptions', [{ field: 'force', message: 'Forbidden: may not be specified for non-apply patch' }]);
    }
    const strategic = type === 'application/strategic-merge-patch+json';
    if (type !== 'application/merge-patch+json' && type !== 'application/json-patch+json' && !(strategic && !isCustomResource(t))) {
      const accepted = ['application/json-patch+json', 'application/merge-patch+json', ...(isCustomResource(t) ? [] : ['application/strategic-merge-patch+json']), 'application/apply-patch+yaml'];
      throw new ApiError(415, 'UnsupportedMediaType', `the body of the request was in an unknown format - accepted media types include: ${accepted.join(', ')}`);
    }
    const patch = parseBody(text, false);
    // strategic merge on built-in kinds is approximated by a merge patch (lists replaced, not merged by key)
    const apply = type === 'application/json-patch+json' ? (cur: JsonObject) => jsonPatch(cur, patch) : (cur: JsonObject) => mergePatch(cur, patch);
    const result = store.patched(
      t,
      ns,
      name,
      (cur) => {
        const out = apply(cur);
        if (!isJsonObject(out)) throw new PatchError('the patch did not produce an object', false);
        return out;
      },
      { subresource, dryRun, warnings },
    );
    return sendObject(res, 200, result, warnings);
  }

  if (method === 'DELETE') {
    const text = await readBody(req);
    let options: JsonObject = {};
    if (text.trim() !== '') {
      const parsed = parseBody(text, false);
      if (isJsonObject(parsed)) options = parsed;
    }
    const pre = isJsonObject(options['preconditions']) ? options['preconditions'] : {};
    const deleteOpts = {
      dryRun: dryRun || (Array.isArray(options['dryRun']) && options['dryRun'].includes('All')),
      preconditions: {
        ...(typeof pre['uid'] === 'string' ? { uid: pre['uid'] } : {}),
        ...(typeof pre['resourceVersion'] === 'string' ? { resourceVersion: pre['resourceVersion'] } : {}),
      },
    };
    if (subresource !== undefined) throw methodNotAllowed();
    if (name === undefined) {
      if (t.namespaced && route.namespace === undefined) throw methodNotAllowed();
      const selector = parseSelector(query.get('labelSelector') ?? undefined, query.get('fieldSelector') ?? undefined);
      const items: JsonObject[] = [];
      for (const obj of store.list(t, t.namespaced ? route.namespace : undefined, selector)) {
        const md = isJsonObject(obj['metadata']) ? obj['metadata'] : {};
        items.push(store.delete(t, String(md['namespace'] ?? ''), String(md['name'] ?? ''), { dryRun: deleteOpts.dryRun }).object);
      }
      return sendJson(res, 200, listOf(t, items, String(store.resourceVersion)));
    }
    const { object, deleted } = store.delete(t, ns, name, deleteOpts);
    // gone at once: a Status; held by finalizers: the object with its deletionTimestamp
    return sendJson(res, 200, deleted ? successStatus(t, object) : object);
  }
  throw methodNotAllowed();
}

/** The request listener of the rehearsal API server. */
export function createRequestHandler(ctx: HandlerContext): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    const method = req.method ?? 'GET';
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const pathname = url.pathname.length > 1 ? url.pathname.replace(/\/+$/, '') : url.pathname;
    let route: ResourceRoute | undefined;
    try {
      route = routeResource(pathname, ctx.types);
    } catch {
      route = undefined;
    }
    const verb = HEALTH_PATHS.has(pathname) ? 'health' : verbOf(method, route, url.searchParams);
    ctx.stats.requests++;
    ctx.stats.byVerb[verb] = (ctx.stats.byVerb[verb] ?? 0) + 1;

    if (!UNAUTHENTICATED_PATHS.has(pathname) && req.headers['authorization'] !== `Bearer ${ctx.token}`) {
      req.resume();
      return sendJson(res, 401, failureStatus(401, 'Unauthorized', 'Unauthorized'));
    }
    const fault = ctx.faults.take(method, req.url ?? '/');
    if (fault?.kind === 'hang') {
      req.resume();
      ctx.hung.add(res);
      res.on('close', () => ctx.hung.delete(res));
      return;
    }
    if (fault?.kind === 'fail') {
      req.resume();
      const reason = fault.status === 500 ? 'InternalError' : fault.status === 503 ? 'ServiceUnavailable' : 'TooManyRequests';
      return sendError(res, new ApiError(fault.status, reason, `fault injected by the rehearsal cluster (${fault.status})`, fault.status === 500 ? undefined : { retryAfterSeconds: 1 }));
    }
    if (HEALTH_PATHS.has(pathname)) {
      res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': '2' });
      res.end('ok');
      return;
    }
    if (method === 'GET' && route === undefined) {
      const doc = discoveryDocument(pathname, ctx.types, ctx.serverAddress);
      req.resume();
      if (doc !== undefined) return sendJson(res, 200, doc);
      return sendError(res, notFoundResource());
    }
    if (route === undefined) {
      req.resume();
      return sendError(res, notFoundResource());
    }
    handleResource(ctx, req, res, route, url.searchParams).catch((err: unknown) => {
      if (res.headersSent) {
        res.destroy();
        return;
      }
      sendError(res, err);
    });
  };
}
