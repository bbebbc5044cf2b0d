/**
 * Must-gathers of the example update as a cluster would dump them: live objects (uid,
 * resourceVersion, status) under `namespaces/<ns>/<group>/<plural>/<name>.yaml`, for updates
 * driven by hand as well as by osv-gitops.
 */
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { parse, stringify } from 'yaml';
import { exampleDir, loadUpdate } from '../../src/cli/inputs.js';
import { cond } from '../helpers/snapshots.js';

const io = { cwd: process.cwd(), stdout: () => {}, stderr: () => {}, color: false };
export const plan = loadUpdate({ example: true }, io).plan;
export const T = plan.versions.target;
export const OLD = plan.versions.deployed;
/** When the target was set in these dumps; deployments of this update are created after it. */
export const UPDATE_START = '2026-11-25T10:00:00Z';
export const NODESETS = plan.nodeSets.map((n) => n.name);

type Obj = Record<string, unknown>;

export interface DeploymentSpec {
  readonly name: string;
  readonly services?: readonly string[];
  readonly nodeSets?: readonly string[];
  readonly state: 'running' | 'deployed' | 'failed';
  readonly created?: string;
  /** Override any part of the object (malformed-field cases). */
  readonly patch?: (o: Obj) => void;
}

export interface MustGatherSpec {
  /** spec.targetVersion of the live OpenStackVersion (default: the target). */
  readonly target?: string;
  readonly deployed?: string;
  /** Condition type → status, or [status, reason, message]. */
  readonly conditions?: Readonly<Record<string, string | readonly [string, string, string?]>>;
  readonly conditionTime?: string;
  readonly annotations?: Readonly<Record<string, string>>;
  readonly deployments?: readonly DeploymentSpec[];
  readonly nodeSetsAt?: string;
  readonly withoutOsv?: boolean;
  readonly patchOsv?: (o: Obj) => void;
}

export function ovnUpTo(step: 'ovn-controlplane' | 'ovn-dataplane' | 'controlplane' | 'dataplane'): Record<string, string> {
  const order = ['MinorUpdateOVNControlplane', 'MinorUpdateOVNDataplane', 'MinorUpdateRabbitMQ', 'MinorUpdateMariaDB', 'MinorUpdateMemcached', 'MinorUpdateKeystone', 'MinorUpdateControlplane', 'MinorUpdateDataplane'];
  // the step's own condition is False, the ones before it True, the ones after not started
  const upto = { 'ovn-controlplane': 0, 'ovn-dataplane': 1, controlplane: 6, dataplane: 7 }[step];
  return Object.fromEntries(order.map((t, i) => [t, i < upto ? 'True' : i === upto ? 'False' : 'Unknown']));
}

let uid = 0;
const nextUid = () => `00000000-0000-4000-8000-${String(++uid).padStart(12, '0')}`;

export function osvObject(spec: MustGatherSpec): Obj {
  const osv = parse(readFileSync(join(exampleDir(), 'openstackversion.yaml'), 'utf8')) as Obj & { metadata: Obj; spec: Obj; status: Obj };
  osv.spec['targetVersion'] = spec.target ?? T;
  osv.metadata['generation'] = 5;
  if (spec.annotations) osv.metadata['annotations'] = { ...spec.annotations };
  osv.status['observedGeneration'] = 5;
  osv.status['availableVersion'] = T;
  osv.status['deployedVersion'] = spec.deployed ?? OLD;
  const time = spec.conditionTime ?? UPDATE_START;
  const conditions = Object.entries(spec.conditions ?? {}).map(([type, v]) => {
    const [status, reason, message] = typeof v === 'string' ? [v, undefined, undefined] : v;
    return cond(type, status, reason ?? (status === 'True' ? 'Ready' : status === 'Unknown' ? 'Init' : 'Requested'), { lastTransitionTime: time, ...(message ? { message } : {}) });
  });
  osv.status['conditions'] = [cond('Initialized', 'True', 'Ready', { lastTransitionTime: '2026-06-01T08:00:00Z' }), ...conditions];
  spec.patchOsv?.(osv);
  return osv;
}

function nodeSetObject(name: string, at: string): Obj {
  const ns = parse(readFileSync(join(exampleDir(), 'nodesets', `${name}.yaml`), 'utf8')) as Obj & { metadata: Obj };
  ns.metadata['uid'] = nextUid();
  ns.metadata['resourceVersion'] = '7001';
  ns.metadata['generation'] = 2;
  ns['status'] = { observedGeneration: 2, deployedVersion: at, conditions: [cond('Ready', 'True', 'Ready', { lastTransitionTime: '2026-11-01T08:00:00Z' })] };
  return ns;
}

export function deploymentObject(d: DeploymentSpec): Obj {
  const ready =
    d.state === 'deployed'
      ? cond('Ready', 'True', 'Ready', { message: 'Setup complete', lastTransitionTime: '2026-11-25T10:30:00Z' })
      : d.state === 'failed'
        ? cond('Ready', 'False', 'BackoffLimitExceeded', { severity: 'Error', message: 'Deployment error occurred ovn service job failed', lastTransitionTime: '2026-11-25T10:40:00Z' })
        : cond('Ready', 'False', 'Requested', { message: 'Deployment in progress', lastTransitionTime: '2026-11-25T10:20:00Z' });
  const o: Obj = {
    apiVersion: 'dataplane.openstack.org/v1beta1',
    kind: 'OpenStackDataPlaneDeployment',
    metadata: { name: d.name, namespace: 'openstack', uid: nextUid(), resourceVersion: '9001', generation: 1, creationTimestamp: d.created ?? '2026-11-25T10:05:00Z' },
    spec: { nodeSets: [...(d.nodeSets ?? NODESETS)], servicesOverride: [...(d.services ?? [])], backoffLimit: 6 },
    status: {
      observedGeneration: 1,
      deployed: d.state === 'deployed',
      ...(d.state === 'deployed' ? { deployedVersion: T } : {}),
      conditions: [ready, { ...ready, type: 'DeploymentReady' }],
    },
  };
  d.patch?.(o);
  return o;
}

function put(dir: string, rel: string, objects: readonly Obj[]): void {
  const file = join(dir, rel);
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, objects.map((o) => stringify(o)).join('---\n'));
}

/** Write a must-gather; returns its folder. `extra` adds files (relative path → objects). */
export function mustGather(spec: MustGatherSpec, extra: Readonly<Record<string, readonly Obj[]>> = {}): string {
  const dir = mkdtempSync(join(tmpdir(), 'osv-mg-'));
  const ns = 'namespaces/openstack';
  if (!spec.withoutOsv) put(dir, `${ns}/core.openstack.org/openstackversions/openstack.yaml`, [osvObject(spec)]);
  const cp = parse(readFileSync(join(exampleDir(), 'controlplane.yaml'), 'utf8')) as Obj & { metadata: Obj };
  cp.metadata['uid'] = '0c8b1c57-5d2f-4c55-9a7a-3c1f2a4e9b01';
  cp.metadata['resourceVersion'] = '4810001';
  cp.metadata['generation'] = 3;
  cp['status'] = { observedGeneration: 3, conditions: [cond('Ready', 'True', 'Ready', { lastTransitionTime: '2026-11-01T08:00:00Z' })] };
  put(dir, `${ns}/core.openstack.org/openstackcontrolplanes/openstack.yaml`, [cp]);
  for (const n of NODESETS) put(dir, `${ns}/dataplane.openstack.org/openstackdataplanenodesets/${n}.yaml`, [nodeSetObject(n, spec.nodeSetsAt ?? OLD)]);
  for (const d of spec.deployments ?? []) put(dir, `${ns}/dataplane.openstack.org/openstackdataplanedeployments/${d.name}.yaml`, [deploymentObject(d)]);
  // a must-gather also holds logs and events, which are not objects
  writeFileSync(join(dir, 'timestamp'), '2026-11-25 10:45:00.000000000 +0000 UTC\n');
  for (const [rel, objs] of Object.entries(extra)) put(dir, rel, objs);
  return dir;
}

export function readDump(dir: string, rel: string): Obj[] {
  return readFileSync(join(dir, rel), 'utf8')
    .split(/^---$/m)
    .map((t) => parse(t) as Obj);
}

export const OSV_FILE = 'namespaces/openstack/core.openstack.org/openstackversions/openstack.yaml';
