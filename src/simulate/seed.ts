/**
 * The starting state of a rehearsal: the user's objects as the cluster holds them before the
 * update, with the status the operator would have written for the deployed version. Written
 * through client-node like any other client (spec first, then the status subresource).
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { readObjects } from '../inputs/yaml.js';
import { typeOfKind, type ResourceType } from '../cluster/resources.js';
import { projectRoot } from '../validate/project-root.js';
import { validateObjects } from '../validate/crd-schema.js';

export type Obj = Record<string, unknown>;

const rec = (v: unknown): Obj => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Obj) : {});

export interface SeedInputs {
  readonly namespace: string;
  readonly deployedVersion: string;
  /** The user's live OpenStackVersion dump (its status holds the deployed images). */
  readonly openStackVersion: Obj;
  readonly controlPlane: Obj | undefined;
  readonly nodeSets: readonly Obj[];
  readonly csv: Obj | undefined;
  readonly csvNamespace: string;
  readonly now: string;
}

function ready(type: string, now: string, message = 'Setup complete') {
  return { type, status: 'True', reason: 'Ready', message, severity: '', lastTransitionTime: now };
}

/** Only what a user would put in Git: the status and server-set metadata go. */
function asCreated(o: Obj, namespace?: string): Obj {
  const meta = rec(o['metadata']);
  const keep: Obj = { name: meta['name'] };
  if (namespace !== undefined) keep['namespace'] = namespace;
  for (const k of ['labels', 'annotations']) if (meta[k]) keep[k] = meta[k];
  const { status: _status, ...rest } = o;
  void _status;
  return { ...rest, metadata: keep };
}

/** The default data-plane services the operator installs (reference-data). */
export function defaultServices(): Obj[] {
  const dir = join(projectRoot(), 'reference-data', 'openstack-operator', 'services');
  return readdirSync(dir)
    .sort()
    .flatMap((f) => readObjects(join(dir, f), 'a data-plane service').map((o) => o.value));
}

export interface SeedObject {
  readonly object: Obj;
  readonly status?: Obj;
}

/** Every object of the starting state, with the status to write after it. */
export function seedObjects(s: SeedInputs): SeedObject[] {
  const ns = s.namespace;
  const osvStatus = rec(s.openStackVersion['status']);
  const images = rec(osvStatus['containerImages']);
  const out: SeedObject[] = [];
  if (s.csv) out.push({ object: asCreated(s.csv, s.csvNamespace), status: { ...rec(s.csv['status']), phase: 'Succeeded' } });
  for (const svc of defaultServices()) out.push({ object: asCreated(svc, ns) });
  out.push({
    object: asCreated(s.openStackVersion, ns),
    status: { ...osvStatus, observedGeneration: 1 },
  });
  if (s.controlPlane) {
    out.push({
      object: withWebhookDefaults(asCreated(s.controlPlane, ns)),
      status: {
        observedGeneration: 1,
        deployedVersion: s.deployedVersion,
        deployedOVNVersion: s.deployedVersion,
        containerImages: images,
        conditions: ['Ready', 'OpenStackControlPlaneOVNReady', 'OpenStackControlPlaneRabbitMQReady', 'OpenStackControlPlaneMariaDBReady', 'OpenStackControlPlaneMemcachedReady', 'OpenStackControlPlaneKeystoneAPIReady'].map((t) => ready(t, s.now)),
      },
    });
  }
  for (const n of s.nodeSets) {
    const ovn = images['ovnControllerImage'];
    out.push({
      object: asCreated(n, ns),
      status: {
        observedGeneration: 1,
        deployedVersion: s.deployedVersion,
        ...(typeof ovn === 'string' ? { containerImages: { OvnControllerImage: ovn } } : {}),
        conditions: ['Ready', 'SetupReady', 'DeploymentReady', 'InputReady'].map((t) => ready(t, s.now, 'NodeSet Ready')),
      },
    });
  }
  return out;
}

function resourceOf(o: Obj): ResourceType {
  const t = typeOfKind(String(o['apiVersion']), String(o['kind']));
  if (!t) throw new Error(`the rehearsal cluster does not serve ${String(o['apiVersion'])} ${String(o['kind'])}`);
  return t;
}

/** Create each object and write its status through the status subresource. */
export async function applySeed(kc: k8s.KubeConfig, objects: readonly SeedObject[]): Promise<void> {
  const api = kc.makeApiClient(k8s.CustomObjectsApi);
  const core = kc.makeApiClient(k8s.CoreV1Api);
  const namespaces = new Set(objects.map((o) => String(rec(o.object['metadata'])['namespace'] ?? '')).filter(Boolean));
  for (const name of namespaces) {
    try {
      await core.createNamespace({ body: { metadata: { name } } });
    } catch (e) {
      if (!(e instanceof k8s.ApiException && e.code === 409)) throw e;
    }
  }
  for (const { object, status } of objects) {
    const t = resourceOf(object);
    const namespace = String(rec(object['metadata'])['namespace']);
    const name = String(rec(object['metadata'])['name']);
    const gvr = { group: t.group, version: t.version, namespace, plural: t.plural };
    const created = rec(await api.createNamespacedCustomObject({ ...gvr, body: object }));
    if (!status) continue;
    const withStatus = { ...created, status: { ...status, ...(status['observedGeneration'] !== undefined ? { observedGeneration: rec(created['metadata'])['generation'] ?? 1 } : {}) } };
    if (t.statusSubresource) await api.replaceNamespacedCustomObjectStatus({ ...gvr, name, body: withStatus });
    else await api.replaceNamespacedCustomObject({ ...gvr, name, body: withStatus });
  }
}

/**
 * What the operator's mutating webhook does before the API server checks an OpenStackControlPlane:
 * fill the required fields a user leaves out (facts: the webhook round-trips its Go struct, so they
 * get their zero values). The real API server refuses the object without them; the agent's later
 * server-side apply keeps them, as they belong to another field manager.
 */
export function withWebhookDefaults(obj: Obj): Obj {
  if (obj['kind'] !== 'OpenStackControlPlane') return obj;
  const missing = validateObjects([obj])
    .warnings.map((w) => /: \/(spec\/[^ ]*) must have required property '([^']+)' \(left to the operator's defaulting webhook\)/.exec(w))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => [...m[1]!.split('/'), m[2]!]);
  if (!missing.length) return obj;
  const out = structuredClone(obj);
  const schema = controlPlaneSchema();
  for (const path of missing) {
    let node: Obj = out;
    let sch: Obj | undefined = schema;
    for (const seg of path.slice(0, -1)) {
      node = rec(node[seg]);
      sch = rec(rec(sch?.['properties'])[seg]);
    }
    const leaf = path.at(-1)!;
    const type = rec(rec(sch?.['properties'])[leaf])['type'];
    node[leaf] = type === 'object' ? {} : type === 'array' ? [] : type === 'boolean' ? false : type === 'integer' || type === 'number' ? 0 : '';
  }
  return out;
}

let cpSchema: Obj | undefined;
function controlPlaneSchema(): Obj {
  if (!cpSchema) {
    const crd = readObjects(join(projectRoot(), 'crds', 'openstack-operator', 'core.openstack.org_openstackcontrolplanes.yaml'), 'a CRD')[0]!.value;
    const versions = rec(crd['spec'])['versions'] as Obj[];
    cpSchema = rec(rec(rec(versions[0])['schema'])['openAPIV3Schema']);
  }
  return cpSchema;
}
