/**
 * Flux's kustomize-controller, simulated: reconciles `Kustomization` objects against the agent's
 * Git source, the way conventions d5–d8 describe it.
 *
 * - A Kustomization waits for every `dependsOn` entry to be Ready for its current generation and,
 *   when both use the same source, for the same revision (reason DependencyNotReady).
 * - It builds `spec.path` at the revision and applies it with server-side apply (field manager
 *   `kustomize-controller`, ownership labels, the `ssa` annotation), prunes what it applied
 *   before when `prune` is on (never an object marked `prune: Disabled`), and records the
 *   inventory in its status as Flux does.
 * - With `wait`, `healthChecks` or `healthCheckExprs` it polls health (CEL entries through
 *   `src/health/evaluate.ts`, kstatus otherwise) until all are Current (Ready True), one is
 *   Failed, or `timeout` passes (Ready False, HealthCheckFailed); a failed attempt is retried
 *   after `retryInterval`.
 * - `lastAppliedRevision` moves only when an attempt fully succeeds, as in Flux.
 * - An apply refused as invalid or conflicting (a Job's immutable template) is retried as delete
 *   and create when `spec.force` is on or the object carries the `force: enabled` mark (fluxcd/pkg
 *   ssa `shouldForceApply`, the mark compared case-insensitively).
 */
import type { FluxHealthCheckExpr } from './health-checks.js';
import { FLUX_KUSTOMIZATION } from '../../cluster/resources.js';
import type { RehearsalModel } from '../types.js';
import { apiVersionOf } from '../../cluster/resources.js';
import { conditionsOf, displayName, errorText, forApply, nowTimestamp, objectKey, parseGoDuration, sameStatus, setCondition, type StatusCondition } from '../../simulate/agent/common.js';
import { scaledDeadlineMs } from '../../simulate/clock.js';
import { repoPath, type AgentContext } from '../../simulate/agent/context.js';
import type { Checkout } from '../../simulate/agent/git-source.js';
import { fluxObjectHealth, type FluxObjectHealth } from './rehearsal-health.js';
import { groupOfApiVersion, KubeCallError, type KubeClient, type KubeObject } from '../../simulate/agent/kube.js';

export const FLUX_FIELD_MANAGER = 'kustomize-controller';
const LABEL_NAME = 'kustomize.toolkit.fluxcd.io/name';
const LABEL_NAMESPACE = 'kustomize.toolkit.fluxcd.io/namespace';
const PRUNE_ANNOTATION = 'kustomize.toolkit.fluxcd.io/prune';
const SSA_ANNOTATION = 'kustomize.toolkit.fluxcd.io/ssa';
const RECONCILE_ANNOTATION = 'kustomize.toolkit.fluxcd.io/reconcile';
const FORCE_MARK = 'kustomize.toolkit.fluxcd.io/force';

interface HealthRef {
  readonly apiVersion: string;
  readonly kind: string;
  readonly name: string;
  readonly namespace?: string;
}

interface KustomizationSpec {
  readonly path?: string;
  readonly suspend?: boolean;
  readonly prune?: boolean;
  readonly wait?: boolean;
  readonly timeout?: string;
  readonly force?: boolean;
  readonly interval?: string;
  readonly retryInterval?: string;
  readonly targetNamespace?: string;
  readonly sourceRef?: { readonly kind?: string; readonly name?: string; readonly namespace?: string };
  readonly dependsOn?: readonly { readonly name: string; readonly namespace?: string; readonly readyExpr?: string }[];
  readonly healthChecks?: readonly HealthRef[];
  readonly healthCheckExprs?: readonly FluxHealthCheckExpr[];
}

interface InventoryEntry {
  readonly id: string;
  readonly v: string;
}

interface KustomizationStatus {
  observedGeneration?: number;
  lastAttemptedRevision?: string;
  lastAppliedRevision?: string;
  conditions?: StatusCondition[];
  inventory?: { entries: InventoryEntry[] };
  [k: string]: unknown;
}

/** One reconcile attempt of one Kustomization for one revision and generation. */
interface Attempt {
  readonly revision: string;
  readonly generation: number;
  appliedAt?: number;
  inventory?: InventoryEntry[];
  applied?: KubeObject[];
  failedAt?: number;
}

const STAGE_FIRST = new Set(['CustomResourceDefinition', 'Namespace', 'ClusterRole', 'ClusterRoleBinding']);

function inventoryId(o: KubeObject): string {
  return `${o.metadata.namespace ?? ''}_${o.metadata.name}_${groupOfApiVersion(o.apiVersion)}_${o.kind}`;
}

function fromInventoryId(e: InventoryEntry): KubeObject | undefined {
  const parts = e.id.split('_');
  if (parts.length !== 4) return undefined;
  const [namespace, name, group, kind] = parts as [string, string, string, string];
  return { apiVersion: group ? `${group}/${e.v}` : e.v, kind, metadata: { name, ...(namespace ? { namespace } : {}) } };
}

export interface FluxControllerOptions {
  readonly mode: 'commits' | 'directories';
  readonly agentObject: { readonly namespace: string; readonly name: string };
  /** Path of the agent object (commits: the osv-gitops folder; directories: the wiring folder). */
  readonly path: string;
}

export class FluxController {
  private readonly ctx: AgentContext;
  private readonly opts: FluxControllerOptions;
  private readonly attempts = new Map<string, Attempt>();
  /** A pass never asks for another one right away: Flux waits for its own intervals. */
  readonly requeue = false;

  constructor(ctx: AgentContext, opts: FluxControllerOptions) {
    this.ctx = ctx;
    this.opts = opts;
  }

  /** Creates the agent's Kustomization when it is missing (Flux bootstrap would have). */
  async ensureAgentObject(): Promise<void> {
    const { namespace, name } = this.opts.agentObject;
    if (await this.ctx.kube.get(apiVersionOf(FLUX_KUSTOMIZATION), 'Kustomization', namespace, name)) return;
    this.ctx.log(`creating Kustomization ${namespace}/${name} (path ${this.opts.path})`);
    await this.ctx.kube.apply(
      {
        apiVersion: apiVersionOf(FLUX_KUSTOMIZATION),
        kind: 'Kustomization',
        metadata: { name, namespace },
        spec: { interval: '10m', path: `./${repoPath(this.opts.path)}`, prune: false, sourceRef: { kind: 'GitRepository', name: 'flux-system' }, timeout: '5m' },
      },
      FLUX_FIELD_MANAGER,
    );
  }

  /** One pass over the agent object (and, in directories mode, the Kustomizations it applies). Returns the sha the agent object is Ready at. */
  async reconcile(checkout: Checkout): Promise<string | undefined> {
    const { namespace, name } = this.opts.agentObject;
    const root = await this.ctx.kube.get(apiVersionOf(FLUX_KUSTOMIZATION), 'Kustomization', namespace, name);
    if (!root) return undefined;
    const rootReady = await this.reconcileOne(root, checkout);
    if (this.opts.mode === 'directories') {
      const attempt = this.attempts.get(`${namespace}/${name}`);
      const children = (attempt?.applied ?? []).filter((o) => o.kind === 'Kustomization' && groupOfApiVersion(o.apiVersion) === FLUX_KUSTOMIZATION.group);
      for (const child of children) {
        if (child.metadata.namespace === namespace && child.metadata.name === name) continue;
        const live = await this.ctx.kube.get(child.apiVersion, child.kind, child.metadata.namespace, child.metadata.name);
        if (live) await this.reconcileOne(live, checkout);
      }
    }
    return rootReady ? checkout.sha : undefined;
  }

  /** Returns true when the Kustomization is Ready at this revision. */
  private async reconcileOne(ks: KubeObject, checkout: Checkout): Promise<boolean> {
    const spec = (ks['spec'] ?? {}) as KustomizationSpec;
    const status = (ks['status'] ?? {}) as KustomizationStatus;
    const key = `${ks.metadata.namespace}/${ks.metadata.name}`;
    const generation = ks.metadata.generation ?? 1;
    const revision = `${this.ctx.branch}@sha1:${checkout.sha}`;
    if (spec.suspend === true || ks.metadata.annotations?.[RECONCILE_ANNOTATION] === 'disabled') return false;

    const ready = status.conditions?.find((c) => c.type === 'Ready');
    const done = ready?.status === 'True' && status.lastAppliedRevision === revision && status.observedGeneration === generation;
    let attempt = this.attempts.get(key);
    if (done && attempt?.applied !== undefined) return true;
    if (!attempt || attempt.revision !== revision || attempt.generation !== generation) {
      attempt = { revision, generation };
      this.attempts.set(key, attempt);
    }
    // Flux defaults retryInterval and timeout to the interval
    const intervalMs = this.manifestMs(spec.interval, 600_000);
    if (attempt.failedAt !== undefined) {
      if (this.ctx.now() - attempt.failedAt < this.duration(spec.retryInterval, intervalMs)) return false;
      attempt = { revision, generation };
      this.attempts.set(key, attempt);
    }

    const write = async (next: Partial<KustomizationStatus>, conditions: Omit<StatusCondition, 'lastTransitionTime' | 'observedGeneration'>[], drop: string[] = []) => {
      const now = nowTimestamp(this.ctx.now());
      let conds = (status.conditions ?? []).filter((c) => !drop.includes(c.type));
      for (const c of conditions) conds = setCondition(conds, { ...c, observedGeneration: generation }, now);
      const merged: KustomizationStatus = { ...status, ...next, observedGeneration: generation, conditions: conds };
      if (sameStatus(merged, status)) return;
      await this.ctx.kube.writeStatus(ks, merged as Record<string, unknown>);
      Object.assign(status, merged);
    };

    // dependencies first
    for (const dep of spec.dependsOn ?? []) {
      const depNs = dep.namespace ?? ks.metadata.namespace;
      const reason = await this.dependencyNotReady(dep, depNs, spec, revision);
      if (reason !== undefined) {
        await write({}, [{ type: 'Ready', status: 'False', reason: 'DependencyNotReady', message: reason }]);
        return false;
      }
    }

    if (attempt.appliedAt === undefined && done) {
      // Ready at this revision before this agent started: re-apply quietly, as Flux does on its
      // interval, without flipping Ready while doing so
      try {
        const applied = await this.applyAll(ks, spec, this.ctx.build(checkout, spec.path ?? '.', 'flux'));
        attempt.applied = applied;
        attempt.inventory = status.inventory?.entries ?? [];
        attempt.appliedAt = this.ctx.now();
        return true;
      } catch (e) {
        this.ctx.log(`Kustomization ${key}: re-apply failed: ${errorText(e)}`);
        return true;
      }
    }
    if (attempt.appliedAt === undefined) {
      await write({ lastAttemptedRevision: revision }, [
        { type: 'Reconciling', status: 'True', reason: 'Progressing', message: `Reconciliation in progress` },
        { type: 'Ready', status: 'Unknown', reason: 'Progressing', message: 'Reconciliation in progress' },
      ]);
      let objects: KubeObject[];
      try {
        objects = this.ctx.build(checkout, spec.path ?? '.', 'flux');
      } catch (e) {
        attempt.failedAt = this.ctx.now();
        await write({}, [{ type: 'Ready', status: 'False', reason: 'BuildFailed', message: errorText(e) }], ['Reconciling']);
        return false;
      }
      try {
        const applied = await this.applyAll(ks, spec, objects);
        const inventory = applied.map((o) => ({ id: inventoryId(o), v: o.apiVersion.includes('/') ? o.apiVersion.slice(o.apiVersion.indexOf('/') + 1) : o.apiVersion }));
        if (spec.prune === true) await this.prune(ks, status.inventory?.entries ?? [], inventory);
        attempt.applied = applied;
        attempt.inventory = inventory;
        attempt.appliedAt = this.ctx.now();
        this.ctx.log(`Kustomization ${key}: applied ${applied.length} objects at ${revision}`);
      } catch (e) {
        // retryable API trouble is retried on the next pass; anything else waits for retryInterval
        if (!(e instanceof KubeCallError && e.retryable)) attempt.failedAt = this.ctx.now();
        await write({}, [{ type: 'Ready', status: 'False', reason: 'ReconciliationFailed', message: errorText(e) }], ['Reconciling']);
        return false;
      }
    }

    const inventory = { entries: attempt.inventory ?? [] };
    const targets = this.healthTargets(ks, spec, attempt.applied ?? []);
    const success = async () => {
      await write(
        { lastAppliedRevision: revision, lastAttemptedRevision: revision, inventory },
        [
          ...(targets.length ? [{ type: 'Healthy', status: 'True' as const, reason: 'Succeeded', message: 'Health check passed' }] : []),
          { type: 'Ready', status: 'True', reason: 'ReconciliationSucceeded', message: `Applied revision: ${revision}` },
        ],
        ['Reconciling'],
      );
      return true;
    };
    if (targets.length === 0) return success();

    const results: { ref: HealthRef; health: FluxObjectHealth }[] = [];
    for (const ref of targets) {
      const live = await this.ctx.kube.get(ref.apiVersion, ref.kind, ref.namespace, ref.name);
      results.push({ ref, health: fluxObjectHealth(live, spec.healthCheckExprs ?? []) });
    }
    const label = (r: { ref: HealthRef }) => `${r.ref.kind}/${r.ref.namespace ? `${r.ref.namespace}/` : ''}${r.ref.name}`;
    const failed = results.filter((r) => r.health.status === 'Failed');
    const pending = results.filter((r) => r.health.status !== 'Current');
    if (pending.length === 0) return success();
    if (failed.length > 0) {
      attempt.failedAt = this.ctx.now();
      const message = `health check failed after ${this.elapsed(attempt)}: ${failed.map((r) => `${label(r)} status: 'Failed': ${r.health.message}`).join('; ')}`;
      await this.failHealth(write, inventory, message);
      return false;
    }
    // a deadline, not a pace: see clock.ts
    const timeoutMs = scaledDeadlineMs(this.manifestMs(spec.timeout, intervalMs), this.ctx.timeScale);
    if (this.ctx.now() - (attempt.appliedAt ?? this.ctx.now()) > timeoutMs) {
      attempt.failedAt = this.ctx.now();
      const message = `timeout waiting for: [${pending.map((r) => `${label(r)} status: '${r.health.status}'`).join(', ')}]`;
      await this.failHealth(write, inventory, message);
      return false;
    }
    const waiting = `Running health checks for revision ${revision} with a timeout of ${spec.timeout ?? spec.interval ?? '10m'}`;
    await write({ inventory }, [
      { type: 'Healthy', status: 'Unknown', reason: 'Progressing', message: pending.map((r) => `${label(r)}: ${r.health.message}`).join('; ') },
      { type: 'Ready', status: 'Unknown', reason: 'Progressing', message: waiting },
    ]);
    return false;
  }

  private async failHealth(
    write: (next: Partial<KustomizationStatus>, conditions: Omit<StatusCondition, 'lastTransitionTime' | 'observedGeneration'>[], drop?: string[]) => Promise<void>,
    inventory: { entries: InventoryEntry[] },
    message: string,
  ): Promise<void> {
    await write(
      { inventory },
      [
        { type: 'Healthy', status: 'False', reason: 'HealthCheckFailed', message },
        { type: 'Ready', status: 'False', reason: 'HealthCheckFailed', message },
      ],
      ['Reconciling'],
    );
  }

  private elapsed(attempt: Attempt): string {
    return `${Math.max(0, this.ctx.now() - (attempt.appliedAt ?? this.ctx.now()))}ms`;
  }

  /** A pace (interval, retry interval) on the rehearsal clock. */
  private duration(value: string | undefined, fallbackMs: number): number {
    return this.manifestMs(value, fallbackMs) / this.ctx.timeScale;
  }

  /** A Go duration of the manifest, in real milliseconds. */
  private manifestMs(value: string | undefined, fallbackMs: number): number {
    let ms = fallbackMs;
    if (value !== undefined) {
      try {
        ms = parseGoDuration(value);
      } catch {
        this.ctx.log(`ignoring the invalid duration "${value}"`);
      }
    }
    return ms;
  }

  private async dependencyNotReady(dep: { name: string; readyExpr?: string }, depNs: string | undefined, spec: KustomizationSpec, revision: string): Promise<string | undefined> {
    const id = `'${depNs ?? ''}/${dep.name}'`;
    if (dep.readyExpr !== undefined) return `dependency ${id}: readyExpr is not supported by the rehearsal agent`;
    const live = await this.ctx.kube.get(apiVersionOf(FLUX_KUSTOMIZATION), 'Kustomization', depNs, dep.name);
    if (!live) return `unable to get dependency ${id}: not found`;
    const st = (live['status'] ?? {}) as KustomizationStatus;
    const ready = st.conditions?.find((c) => c.type === 'Ready');
    const fresh = st.observedGeneration === live.metadata.generation && (ready?.observedGeneration === undefined || ready.observedGeneration === live.metadata.generation);
    if (ready?.status !== 'True' || !fresh) return `dependency ${id} is not ready`;
    const depSpec = (live['spec'] ?? {}) as KustomizationSpec;
    const sameSource = depSpec.sourceRef?.kind === spec.sourceRef?.kind && depSpec.sourceRef?.name === spec.sourceRef?.name;
    if (sameSource && st.lastAppliedRevision !== revision) return `dependency ${id} revision is not up to date`;
    return undefined;
  }

  private async applyAll(ks: KubeObject, spec: KustomizationSpec, objects: KubeObject[]): Promise<KubeObject[]> {
    const labels = { [LABEL_NAME]: ks.metadata.name, [LABEL_NAMESPACE]: ks.metadata.namespace ?? '' };
    const prepared = objects.map((o) => {
      const copy = forApply(o, { labels });
      if (spec.targetNamespace !== undefined && copy.metadata.namespace !== undefined) copy.metadata.namespace = spec.targetNamespace;
      if (copy.metadata.namespace === undefined && spec.targetNamespace !== undefined) copy.metadata.namespace = spec.targetNamespace;
      return copy;
    });
    for (const o of prepared) {
      if (o.metadata.namespace === undefined && !STAGE_FIRST.has(o.kind) && o.kind !== 'Namespace') {
        throw new KubeCallError(`${displayName(o)}: namespace not specified (set it in the manifest or spec.targetNamespace)`, 400, false);
      }
    }
    const ordered = [...prepared.filter((o) => STAGE_FIRST.has(o.kind)), ...prepared.filter((o) => !STAGE_FIRST.has(o.kind))];
    const applied: KubeObject[] = [];
    for (const o of ordered) {
      const policy = o.metadata.annotations?.[SSA_ANNOTATION];
      if (policy === 'Ignore') continue;
      if (policy === 'IfNotPresent' && (await this.ctx.kube.get(o.apiVersion, o.kind, o.metadata.namespace, o.metadata.name))) {
        applied.push(o);
        continue;
      }
      await this.applyOne(o, spec);
      applied.push(o);
    }
    return applied;
  }

  /** Server-side apply; an immutable-field refusal is a delete and create when forced. */
  private async applyOne(o: KubeObject, spec: KustomizationSpec): Promise<void> {
    try {
      await this.ctx.kube.apply(o, FLUX_FIELD_MANAGER);
    } catch (e) {
      const immutable = e instanceof KubeCallError && (e.statusCode === 409 || e.statusCode === 422);
      if (!immutable) throw e;
      const live = await this.ctx.kube.get(o.apiVersion, o.kind, o.metadata.namespace, o.metadata.name);
      if (!(spec.force === true || forceMarked(o) || (live !== undefined && forceMarked(live)))) throw e;
      this.ctx.log(`${displayName(o)}: immutable change, recreating it (force)`);
      if (live) await this.ctx.kube.delete(live);
      await this.ctx.kube.apply(o, FLUX_FIELD_MANAGER);
    }
  }

  private async prune(ks: KubeObject, before: readonly InventoryEntry[], after: readonly InventoryEntry[]): Promise<void> {
    const keep = new Set(after.map((e) => e.id));
    for (const entry of before) {
      if (keep.has(entry.id)) continue;
      const ref = fromInventoryId(entry);
      if (!ref) continue;
      const live = await this.ctx.kube.get(ref.apiVersion, ref.kind, ref.metadata.namespace, ref.metadata.name);
      if (!live) continue;
      if (live.metadata.annotations?.[PRUNE_ANNOTATION] === 'Disabled') continue;
      if (live.metadata.labels?.[LABEL_NAME] !== ks.metadata.name || live.metadata.labels?.[LABEL_NAMESPACE] !== ks.metadata.namespace) continue;
      this.ctx.log(`Kustomization ${ks.metadata.namespace}/${ks.metadata.name}: pruning ${displayName(live)}`);
      await this.ctx.kube.delete(live);
    }
  }

  private healthTargets(ks: KubeObject, spec: KustomizationSpec, applied: readonly KubeObject[]): HealthRef[] {
    const refs = new Map<string, HealthRef>();
    if (spec.wait === true) {
      for (const o of applied) refs.set(objectKey(o), { apiVersion: o.apiVersion, kind: o.kind, name: o.metadata.name, ...(o.metadata.namespace ? { namespace: o.metadata.namespace } : {}) });
    }
    for (const h of spec.healthChecks ?? []) {
      const ref = { ...h, namespace: h.namespace ?? ks.metadata.namespace };
      refs.set(objectKey({ apiVersion: ref.apiVersion, kind: ref.kind, metadata: { name: ref.name, ...(ref.namespace ? { namespace: ref.namespace } : {}) } }), ref);
    }
    return [...refs.values()];
  }
}

function forceMarked(o: KubeObject): boolean {
  const marks = [o.metadata.labels?.[FORCE_MARK], o.metadata.annotations?.[FORCE_MARK]];
  return marks.some((m) => m !== undefined && m.toLowerCase() === 'enabled');
}

/** Why the rehearsal stopped, as the Kustomizations say it: not Ready for another reason than a dependency. */
async function stopCauses(kube: KubeClient, agentNamespace: string): Promise<string[]> {
  const causes: string[] = [];
  for (const ks of (await kube.list(FLUX_KUSTOMIZATION, agentNamespace)).items.sort((a, b) => a.metadata.name.localeCompare(b.metadata.name))) {
    const ready = conditionsOf(ks).find((c) => c.type === 'Ready');
    if (ready && ready.status !== 'True' && ready.reason !== 'DependencyNotReady') causes.push(`Kustomization ${agentNamespace}/${ks.metadata.name}: ${String(ready.reason ?? '')}: ${String(ready.message ?? '')}`);
  }
  return causes;
}

export const fluxRehearsal: RehearsalModel = {
  controller: (ctx, opts) => new FluxController(ctx, opts),
  watchedKinds: [],
  runsGateJobs: false,
  stopCauses,
};
