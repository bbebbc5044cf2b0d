/**
 * A tiny in-memory world for the pure reconcilers: it runs them in the controller's order and
 * stores their status, with a clock the test moves by hand.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { reconcileControlPlane } from '../../src/simulate/operator/reconcile-controlplane.js';
import { reconcileDeployment } from '../../src/simulate/operator/reconcile-deployment.js';
import { reconcileNodeSet } from '../../src/simulate/operator/reconcile-nodeset.js';
import { reconcileVersion, type ReconcileVersionResult } from '../../src/simulate/operator/reconcile-version.js';
import { DEFAULT_DURATIONS, type Condition, type JsonObject, type KubeObject, type RunningStep } from '../../src/simulate/operator/types.js';

export const OLD = '18.0.3-1761036417';
export const NEW = '18.0.4-1764633600';
const EXAMPLE = join(import.meta.dirname, '..', '..', 'fixtures', 'example');

type Mutable = { -readonly [K in keyof KubeObject]: KubeObject[K] };

export function loadYaml(file: string): JsonObject {
  return parse(readFileSync(join(EXAMPLE, file), 'utf8')) as JsonObject;
}

/** version → defaults, from the example's live OpenStackVersion dump (it records both versions). */
export function exampleDefaults(): Record<string, Record<string, unknown>> {
  const osv = loadYaml('openstackversion.yaml');
  return structuredClone((osv['status'] as JsonObject)['containerImageVersionDefaults'] as Record<string, Record<string, unknown>>);
}

export function conditionsOf(o: KubeObject | undefined): Condition[] {
  return ((o?.status?.['conditions'] as Condition[] | undefined) ?? []).map((c) => ({ ...c }));
}

export function cond(o: KubeObject | undefined, type: string): Condition | undefined {
  return conditionsOf(o).find((c) => c.type === type);
}

export interface WorldOptions {
  readonly defaults?: Record<string, Record<string, unknown>>;
  readonly ovnEnabled?: boolean;
  readonly failDeployments?: RegExp;
  readonly mismatch?: boolean;
}

export class World {
  now = Date.parse('2026-11-01T10:00:00Z');
  version: Mutable;
  controlPlane: Mutable;
  nodeSets: Mutable[];
  deployments: Mutable[] = [];
  readonly defaults: Record<string, Record<string, unknown>>;
  readonly running = new Map<string, RunningStep>();
  lastVersion: ReconcileVersionResult | undefined;
  private uid = 0;

  constructor(private readonly opts: WorldOptions = {}) {
    this.defaults = opts.defaults ?? exampleDefaults();
    const osv = loadYaml('openstackversion.yaml');
    const osvStatus = structuredClone(osv['status'] as JsonObject);
    osvStatus['containerImageVersionDefaults'] = structuredClone(this.defaults);
    this.version = {
      apiVersion: 'core.openstack.org/v1beta1',
      kind: 'OpenStackVersion',
      metadata: { name: 'openstack', namespace: 'openstack', generation: 4, uid: 'osv', annotations: {} },
      spec: { targetVersion: OLD },
      status: osvStatus,
    };
    const cp = loadYaml('controlplane.yaml');
    const cpSpec = structuredClone(cp['spec'] as JsonObject);
    if (opts.ovnEnabled === false) (cpSpec['ovn'] as JsonObject)['enabled'] = false;
    this.controlPlane = { apiVersion: 'core.openstack.org/v1beta1', kind: 'OpenStackControlPlane', metadata: { name: 'openstack', generation: 1, uid: 'cp' }, spec: cpSpec };
    const oldOvn = this.defaults[OLD]?.['ovnControllerImage'] as string;
    this.nodeSets = ['compute-a', 'compute-b'].map((name) => {
      const ns = loadYaml(`nodesets/${name}.yaml`);
      return {
        apiVersion: 'dataplane.openstack.org/v1beta1',
        kind: 'OpenStackDataPlaneNodeSet',
        metadata: { name, generation: 1, uid: name },
        spec: structuredClone(ns['spec'] as JsonObject),
        // seeded as a live cluster would show it after the previous update
        status: {
          observedGeneration: 1,
          deployedVersion: OLD,
          containerImages: { OvnControllerImage: oldOvn },
          conditions: [
            { type: 'Ready', status: 'True', reason: 'Ready', message: 'NodeSet Ready', lastTransitionTime: '2026-10-02T11:00:00Z' },
            { type: 'DeploymentReady', status: 'True', reason: 'Ready', message: 'NodeSet Ready', lastTransitionTime: '2026-10-02T11:00:00Z' },
          ],
        },
      };
    });
  }

  get target(): string {
    return this.version.spec?.['targetVersion'] as string;
  }

  /** One round of every reconciler, in the controller's order, writing status back. */
  tick(advanceMs = 0): void {
    this.now += advanceMs;
    const res = reconcileVersion({
      version: this.version,
      controlPlane: this.controlPlane,
      nodeSets: this.nodeSets,
      deployments: this.deployments,
      services: [],
      defaults: this.defaults,
      availableVersion: NEW,
      now: this.now,
    });
    this.lastVersion = res;
    this.version.status = res.status;
    if (res.removeAnnotations.length > 0) {
      const a = { ...this.version.metadata.annotations };
      for (const k of res.removeAnnotations) delete a[k];
      this.version.metadata = { ...this.version.metadata, annotations: a };
    }
    const cp = reconcileControlPlane({
      controlPlane: this.controlPlane,
      version: this.version,
      now: this.now,
      running: this.running.get('cp'),
      durations: DEFAULT_DURATIONS,
      faults: { controlPlaneImageMismatch: this.opts.mismatch === true },
    });
    this.keep('cp', cp.running);
    this.controlPlane.status = cp.status;
    for (const d of this.deployments) {
      const key = `d/${d.metadata.name}`;
      const r = reconcileDeployment({
        deployment: d,
        nodeSets: this.nodeSets,
        version: this.version,
        services: [],
        now: this.now,
        running: this.running.get(key),
        durations: DEFAULT_DURATIONS,
        fail: this.opts.failDeployments?.test(d.metadata.name) === true,
      });
      this.keep(key, r.running);
      d.status = r.status;
    }
    for (const ns of this.nodeSets) ns.status = reconcileNodeSet({ nodeSet: ns, deployments: this.deployments, services: [], now: this.now }).status;
  }

  /** Tick in small steps for `ms`, calling `observe` after each. */
  run(ms: number, observe?: () => void, stepMs = 50): void {
    for (let t = 0; t < ms; t += stepMs) {
      this.tick(stepMs);
      observe?.();
    }
  }

  setTarget(v: string): void {
    this.version.spec = { ...this.version.spec, targetVersion: v };
    this.version.metadata = { ...this.version.metadata, generation: (this.version.metadata.generation ?? 0) + 1 };
  }

  addDeployment(name: string, servicesOverride: string[], nodeSets = this.nodeSets.map((n) => n.metadata.name)): Mutable {
    const d: Mutable = {
      apiVersion: 'dataplane.openstack.org/v1beta1',
      kind: 'OpenStackDataPlaneDeployment',
      metadata: { name, generation: 1, uid: `dep-${++this.uid}`, creationTimestamp: new Date(this.now).toISOString() },
      spec: { nodeSets, servicesOverride },
    };
    this.deployments.push(d);
    return d;
  }

  private keep(key: string, step: RunningStep | undefined): void {
    if (step === undefined) this.running.delete(key);
    else this.running.set(key, step);
  }
}
