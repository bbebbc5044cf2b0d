/**
 * One read of everything the gates look at, from a live cluster or from `oc get -o yaml` dumps.
 * Both give the same `ClusterSnapshot`, so `status --from-files` answers exactly as `status` would.
 */
import { relative } from 'node:path';
import { agentsWithStatus, statusOf } from '../agents/index.js';
import { OsvError } from '../errors.js';
import { filesIn, isRecord, readObjects } from '../inputs/yaml.js';
import { dedupeObjects, type DumpEntry } from '../status/dump.js';
import type { AgentEngine, ClusterSnapshot, KubeObject } from '../status/snapshot.js';
import { at, isoTime, str } from '../status/snapshot.js';
import type { KubeReader } from './kube.js';
import {
  CLUSTER_SERVICE_VERSION,
  INSTALL_PLAN,
  DATAPLANE_DEPLOYMENT,
  DATAPLANE_NODESET,
  OPENSTACK_CONTROLPLANE,
  OPENSTACK_VERSION,
  type ResourceType,
} from './resources.js';

export interface AgentRef {
  readonly engine: AgentEngine;
  readonly namespace: string;
  readonly name: string;
}

export interface SnapshotTarget {
  /** Namespace of the OpenStack objects. */
  readonly namespace: string;
  /** Namespace of the operator's ClusterServiceVersion (`--csv-namespace`); undefined: not read. */
  readonly csvNamespace?: string;
  /** Where OLM runs the operator (phase 0 `operator`): its InstallPlans are read there; undefined: not read. */
  readonly olmNamespace?: string;
  /** The agent object to read (`--agent`), `'none'` when the user says there is none. */
  readonly agent?: AgentRef | 'none';
}

/** The kind of each agent's own object. */
export const AGENT_TYPES = Object.fromEntries(agentsWithStatus().map(({ engine, status }) => [engine, status.objectType])) as Readonly<Record<AgentEngine, ResourceType>>;

/** `flux:flux-system/openstack`, `argocd:argocd/openstack` or `none`. */
export function parseAgentFlag(value: string, defaultEngine?: AgentEngine): AgentRef | 'none' {
  if (value === 'none') return 'none';
  const m = /^(?:([a-z]+):)?(?:([a-z0-9-.]+)\/)?([a-z0-9-.]+)$/.exec(value);
  const named = agentsWithStatus().find((a) => a.engine === m?.[1])?.engine;
  const engine = m?.[1] !== undefined ? named : defaultEngine;
  if (!m || !engine) {
    throw new OsvError('USAGE', `--agent must look like flux:NAMESPACE/NAME, argocd:NAMESPACE/NAME or none, not "${value}"`);
  }
  return { engine, namespace: m[2] ?? statusOf(engine).defaultNamespace, name: m[3]! };
}

export async function readClusterSnapshot(reader: KubeReader, target: SnapshotTarget, now: () => Date = () => new Date()): Promise<ClusterSnapshot> {
  const unread: string[] = [];
  const list = async (t: ResourceType, ns: string): Promise<KubeObject[]> => {
    const r = await reader.list(t, ns);
    if (!r) {
      unread.push(t.kind);
      return [];
    }
    return [...r.items];
  };
  const [openStackVersions, controlPlanes, nodeSets, deployments] = await Promise.all([
    list(OPENSTACK_VERSION, target.namespace),
    list(OPENSTACK_CONTROLPLANE, target.namespace),
    list(DATAPLANE_NODESET, target.namespace),
    list(DATAPLANE_DEPLOYMENT, target.namespace),
  ]);
  let csvs: KubeObject[] | undefined;
  if (target.csvNamespace !== undefined) {
    const r = await reader.list(CLUSTER_SERVICE_VERSION, target.csvNamespace);
    csvs = r ? [...r.items] : undefined;
    if (!r) unread.push(CLUSTER_SERVICE_VERSION.kind);
  }
  let installPlans: KubeObject[] | undefined;
  if (target.olmNamespace !== undefined) {
    const r = await reader.list(INSTALL_PLAN, target.olmNamespace);
    installPlans = r ? [...r.items] : undefined;
    if (!r) unread.push(INSTALL_PLAN.kind);
  }
  const agent =
    target.agent && target.agent !== 'none'
      ? { ...target.agent, object: await reader.get(AGENT_TYPES[target.agent.engine], target.agent.namespace, target.agent.name) }
      : undefined;
  return {
    readAt: now().toISOString(),
    namespace: target.namespace,
    source: `cluster ${reader.server}`,
    openStackVersions,
    controlPlanes,
    nodeSets,
    deployments,
    csvs,
    ...(target.olmNamespace !== undefined ? { installPlans } : {}),
    agent,
    ...(target.agent === 'none' ? { agentNone: true } : {}),
    unread,
  };
}

/**
 * The same snapshot from dumps: every file under `dir` (any name), single objects, `List`s or
 * multi-document files. Files that are not YAML objects (logs in a must-gather) are skipped.
 * The same object found twice (two copies, a rendered manifest next to the dump) counts once;
 * copies that disagree are refused with the files named (`dedupeObjects`).
 * The snapshot time is the newest valid `lastTransitionTime` seen unless `readAt` is given, so
 * deadlines are judged as of the dump, not as of today.
 */
export function readFilesSnapshot(dir: string, target: SnapshotTarget, readAt?: string): ClusterSnapshot & { skippedFiles: string[] } {
  let files: string[];
  try {
    files = filesIn(dir);
  } catch (e) {
    throw new OsvError('INPUT_NOT_FOUND', `cannot read the dump folder ${dir}`, { cause: e });
  }
  const read: DumpEntry[] = [];
  const skippedFiles: string[] = [];
  for (const f of files) {
    try {
      for (const o of readObjects(f, 'a status dump')) {
        if (!isRecord(o.value) || typeof o.value['kind'] !== 'string') continue;
        const where = [relative(dir, f) || f, o.document > 0 ? `document ${o.document + 1}` : '', o.path].filter(Boolean).join(': ');
        read.push({ object: o.value, from: where });
      }
    } catch (e) {
      if (e instanceof OsvError && e.code === 'INPUT_TOO_LARGE') throw e;
      skippedFiles.push(f);
    }
  }
  const wanted = [OPENSTACK_VERSION, OPENSTACK_CONTROLPLANE, DATAPLANE_NODESET, DATAPLANE_DEPLOYMENT, CLUSTER_SERVICE_VERSION, ...(target.agent && target.agent !== 'none' ? [AGENT_TYPES[target.agent.engine]] : [])];
  const isWanted = (o: KubeObject) => wanted.some((t) => o['kind'] === t.kind && str(o['apiVersion'])?.startsWith(`${t.group}/`));
  const deduped = dedupeObjects(
    read.filter((e) => isWanted(e.object)),
    target.namespace,
  );
  if (deduped.conflicts.length) {
    throw new OsvError('INPUT_INVALID', `${dir} holds different copies of the same object: ${deduped.conflicts.map((c) => c.object).join(', ')}`, {
      details: deduped.conflicts.flatMap((c) => [`${c.object}:`, ...c.copies.map((f) => `  ${f}`)]),
      hint: 'Point --from-files at one dump (not two dumps taken at different times, nor a dump and a folder of edited manifests).',
    });
  }
  const objects = [...deduped.objects];
  const onlyManifests = deduped.ignored.filter((i) => i.object.startsWith(`${OPENSTACK_VERSION.kind} `));
  if (onlyManifests.length && !objects.some((o) => o['kind'] === OPENSTACK_VERSION.kind)) {
    throw new OsvError('INPUT_INVALID', `${dir} holds no OpenStackVersion read from a cluster, only rendered manifests of it (no status)`, {
      details: onlyManifests.flatMap((c) => [`${c.object}:`, ...c.copies.map((f) => `  ${f}`)]),
      hint: 'Point --from-files at a dump of the cluster (oc get -o yaml, a must-gather), not at rendered phase folders.',
    });
  }
  const ofKind = (t: ResourceType, ns: string | undefined) =>
    objects.filter((o) => o['kind'] === t.kind && str(o['apiVersion'])?.startsWith(`${t.group}/`) && (ns === undefined || (str(at(o, 'metadata.namespace')) ?? ns) === ns));
  const present = (t: ResourceType) => objects.some((o) => o['kind'] === t.kind);
  const unread: string[] = [];
  // a dump without any deployment may simply have none; only kinds the gates cannot do without are flagged
  if (!present(OPENSTACK_VERSION)) unread.push(OPENSTACK_VERSION.kind);
  if (!present(OPENSTACK_CONTROLPLANE)) unread.push(OPENSTACK_CONTROLPLANE.kind);
  const csvs = present(CLUSTER_SERVICE_VERSION) ? ofKind(CLUSTER_SERVICE_VERSION, target.csvNamespace) : undefined;
  if (!csvs) unread.push(CLUSTER_SERVICE_VERSION.kind);
  // a dump without InstallPlans may hold none (OLM deletes old ones): read as empty, never as passed
  const installPlans = target.olmNamespace !== undefined ? ofKind(INSTALL_PLAN, target.olmNamespace) : undefined;
  let agent: ClusterSnapshot['agent'];
  if (target.agent && target.agent !== 'none') {
    const a = target.agent;
    const obj = ofKind(AGENT_TYPES[a.engine], a.namespace).find((o) => str(at(o, 'metadata.name')) === a.name);
    agent = { ...a, object: obj };
  }
  // only well-formed times count: one "not-a-date" must neither crash nor become the newest
  const times = objects.flatMap((o) => {
    const cs = at(o, 'status.conditions');
    return Array.isArray(cs) ? cs.map((c) => isoTime(at(c, 'lastTransitionTime'))).filter((t): t is string => t !== undefined) : [];
  });
  const newest = times.sort().at(-1);
  return {
    readAt: readAt ?? newest ?? new Date(0).toISOString(),
    namespace: target.namespace,
    source: `files ${dir}`,
    openStackVersions: ofKind(OPENSTACK_VERSION, target.namespace),
    controlPlanes: ofKind(OPENSTACK_CONTROLPLANE, target.namespace),
    nodeSets: ofKind(DATAPLANE_NODESET, target.namespace),
    deployments: ofKind(DATAPLANE_DEPLOYMENT, target.namespace),
    csvs,
    ...(installPlans !== undefined ? { installPlans } : {}),
    agent,
    ...(target.agent === 'none' ? { agentNone: true } : {}),
    unread,
    skippedFiles,
    ...(deduped.dropped.length ? { duplicates: [...deduped.dropped] } : {}),
  };
}
