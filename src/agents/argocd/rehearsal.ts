/**
 * Argo CD's application controller, simulated for `Application` objects (conventions d1–d3):
 *
 * - compare: build `spec.source.path` at the branch head, read every object, and set
 *   `status.sync` (Synced when the live objects carry every desired field and nothing tracked is
 *   left over), `status.resources` with each resource's health, and `status.health`, the worst of
 *   them in gitops-engine's order, from the Lua checks osv-gitops renders into argocd-cm;
 * - sync (automated, or a requested `operation`): apply wave by wave (`sync-wave` annotation, then
 *   Argo CD's kind order) with server-side apply (field manager `argocd-controller`), waiting
 *   between waves until the wave's resources are Healthy; a Degraded resource fails the sync.
 *   `status.operationState` goes Running → Succeeded/Failed with startedAt, finishedAt and
 *   `syncResult.revision`;
 * - health is assessed again after the sync ends, and only then does `reconciledAt` pass
 *   `finishedAt` (the trust rule of d3.1);
 * - a failed sync is retried as Argo CD does (`syncPolicy.retry`, for automated syncs 5 times by
 *   default, 5 s doubling up to 3 min, divided by the time scale): between attempts the operation
 *   stays Running with `retryCount` and "<cause>. Retrying attempt #N at <time>."; once the retries
 *   are spent it ends Failed "(retried N times)", and an automated sync is not started again for
 *   that revision; `selfHeal` re-syncs drift.
 *
 * In directories mode the agent's Application is the app-of-apps: its resources are the phase
 * Applications, so its waves wait on their health (the Application Lua check), and every child
 * is reconciled here too.
 */
import { ARGOCD_APPLICATION, CORE_TYPES, apiVersionOf, typeOfKind } from '../../cluster/resources.js';
import type { RehearsalModel } from '../types.js';
import { containsDesired, displayName, errorText, forApply, nowTimestamp, objectKey, sameStatus } from '../../simulate/agent/common.js';
import { repoPath, type AgentContext } from '../../simulate/agent/context.js';
import { GitSource, type Checkout } from '../../simulate/agent/git-source.js';
import { aggregateArgoHealth, argoResourceHealth, type ArgoResourceHealth } from './rehearsal-health.js';
import { groupOfApiVersion, type KubeClient, type KubeObject } from '../../simulate/agent/kube.js';

export const ARGO_FIELD_MANAGER = 'argocd-controller';
const WAVE_ANNOTATION = 'argocd.argoproj.io/sync-wave';
const HOOK_ANNOTATION = 'argocd.argoproj.io/hook';
const SYNC_OPTIONS_ANNOTATION = 'argocd.argoproj.io/sync-options';
const TRACKING_ANNOTATION = 'argocd.argoproj.io/tracking-id';
const SKIP_RECONCILE_ANNOTATION = 'argocd.argoproj.io/skip-reconcile';

/** Argo CD's kind order inside one wave (gitops-engine `kindOrder`, abridged); others go last. */
const KIND_ORDER = [
  'Namespace',
  'NetworkPolicy',
  'ResourceQuota',
  'LimitRange',
  'PodDisruptionBudget',
  'ServiceAccount',
  'Secret',
  'ConfigMap',
  'StorageClass',
  'PersistentVolume',
  'PersistentVolumeClaim',
  'CustomResourceDefinition',
  'ClusterRole',
  'ClusterRoleBinding',
  'Role',
  'RoleBinding',
  'Service',
  'DaemonSet',
  'Pod',
  'ReplicaSet',
  'Deployment',
  'StatefulSet',
  'Job',
  'CronJob',
  'Ingress',
];

const CLUSTER_SCOPED = new Set(['Namespace', 'ClusterRole', 'ClusterRoleBinding', 'CustomResourceDefinition', 'PersistentVolume', 'StorageClass']);

interface AppSpec {
  readonly project?: string;
  readonly source?: { readonly repoURL?: string; readonly path?: string; readonly targetRevision?: string; [k: string]: unknown };
  readonly destination?: { readonly namespace?: string; readonly server?: string; readonly name?: string };
  readonly syncPolicy?: {
    readonly automated?: { readonly prune?: boolean; readonly selfHeal?: boolean };
    readonly syncOptions?: readonly string[];
    readonly retry?: { readonly limit?: number; readonly backoff?: { readonly duration?: string; readonly factor?: number; readonly maxDuration?: string } };
  };
}

interface ResourceStatus {
  group: string;
  version: string;
  kind: string;
  namespace?: string;
  name: string;
  status: 'Synced' | 'OutOfSync';
  health?: ArgoResourceHealth;
  requiresPruning?: boolean;
}

interface SyncResultResource {
  group: string;
  version: string;
  kind: string;
  namespace: string;
  name: string;
  status: 'Synced' | 'SyncFailed' | 'Pruned' | 'PruneSkipped';
  message: string;
  syncPhase: 'Sync';
}

interface OperationState {
  operation: { sync: { revision: string }; initiatedBy: { automated?: boolean; username?: string } };
  phase: 'Running' | 'Succeeded' | 'Failed' | 'Error';
  message: string;
  startedAt: string;
  finishedAt?: string;
  retryCount?: number;
  syncResult?: { revision: string; source?: unknown; resources: SyncResultResource[] };
}

interface AppStatus {
  sync?: { status: string; revision?: string; comparedTo?: unknown };
  health?: ArgoResourceHealth;
  resources?: ResourceStatus[];
  operationState?: OperationState;
  reconciledAt?: string;
  sourceType?: string;
  conditions?: { type: string; message: string; lastTransitionTime: string }[];
  [k: string]: unknown;
}

/** A sync in progress (kept in memory; a restarted agent starts a Running sync over). */
interface Operation {
  readonly sha: string;
  readonly startedAt: string;
  readonly automated: boolean;
  readonly waves: readonly { wave: number; objects: KubeObject[] }[];
  index: number;
  waveApplied: boolean;
  readonly results: SyncResultResource[];
  /** Failed attempts before this one. */
  readonly retryCount: number;
}

/** A failed sync waiting for its next attempt. */
interface PendingRetry {
  readonly retryCount: number;
  /** When the next attempt starts (ms). */
  readonly at: number;
  readonly startedAt: string;
  readonly automated: boolean;
}

/** Go duration text as Argo CD's retry backoff takes it (`5s`, `3m`, `1m30s`, `500ms`), in ms. */
export function goDurationMs(text: string | undefined, fallbackMs: number): number {
  if (!text) return fallbackMs;
  const units: Record<string, number> = { h: 3_600_000, m: 60_000, s: 1_000, ms: 1 };
  let total = 0;
  let rest = text.trim();
  while (rest) {
    const m = /^(\d+(?:\.\d+)?)(ms|h|m|s)/.exec(rest);
    if (!m) return fallbackMs;
    total += Number(m[1]) * units[m[2]!]!;
    rest = rest.slice(m[0].length);
  }
  return total;
}

/**
 * The retry policy of a sync (gitops-engine RetryStrategy): automated syncs get `{limit: 5}` unless
 * `syncPolicy.retry` says otherwise; the wait before attempt N+1 is duration × factor^N, capped.
 */
export function retryPolicy(spec: AppSpec, automated: boolean): { limit: number; waitMs: (retryCount: number) => number } {
  const retry = spec.syncPolicy?.retry;
  const limit = retry?.limit ?? (automated ? 5 : 0);
  const duration = goDurationMs(retry?.backoff?.duration, 5_000);
  const factor = retry?.backoff?.factor ?? 2;
  const max = goDurationMs(retry?.backoff?.maxDuration, 180_000);
  return { limit, waitMs: (n) => Math.min(duration * factor ** n, max) };
}

function waveOf(o: KubeObject): number {
  const raw = o.metadata.annotations?.[WAVE_ANNOTATION];
  const n = raw === undefined ? 0 : Number.parseInt(raw, 10);
  return Number.isFinite(n) ? n : 0;
}

function kindRank(kind: string): number {
  const i = KIND_ORDER.indexOf(kind);
  return i < 0 ? KIND_ORDER.length : i;
}

function syncOptions(o: { metadata: { annotations?: Record<string, string> } }): string[] {
  return (o.metadata.annotations?.[SYNC_OPTIONS_ANNOTATION] ?? '').split(',').map((s) => s.trim()).filter(Boolean);
}

function versionOf(apiVersion: string): string {
  return apiVersion.includes('/') ? apiVersion.slice(apiVersion.indexOf('/') + 1) : apiVersion;
}

/** Sorted wave groups, objects inside a wave in Argo CD's kind order (then by name). */
export function syncWaves(objects: readonly KubeObject[]): { wave: number; objects: KubeObject[] }[] {
  const byWave = new Map<number, KubeObject[]>();
  for (const o of objects) byWave.set(waveOf(o), [...(byWave.get(waveOf(o)) ?? []), o]);
  return [...byWave.entries()]
    .sort((a, b) => a[0] - b[0])
    .map(([wave, objs]) => ({
      wave,
      objects: [...objs].sort((a, b) => kindRank(a.kind) - kindRank(b.kind) || a.kind.localeCompare(b.kind) || a.metadata.name.localeCompare(b.metadata.name)),
    }));
}

export interface ArgoControllerOptions {
  readonly mode: 'commits' | 'directories';
  readonly agentObject: { readonly namespace: string; readonly name: string };
  readonly path: string;
  readonly repoUrl: string;
}

export class ArgoController {
  private readonly ctx: AgentContext;
  private readonly opts: ArgoControllerOptions;
  private readonly operations = new Map<string, Operation>();
  private readonly retries = new Map<string, PendingRetry>();
  /** Set when a sync just ended: the next pass assesses health (and moves reconciledAt). */
  requeue = false;
  /** The repositories of Applications that are not ours, by URL. */
  private readonly otherSources = new Map<string, { readonly source: GitSource; checkout: Checkout | undefined; fetchedAt: number }>();

  constructor(ctx: AgentContext, opts: ArgoControllerOptions) {
    this.ctx = ctx;
    this.opts = opts;
  }

  async ensureAgentObject(): Promise<void> {
    const { namespace, name } = this.opts.agentObject;
    if (await this.ctx.kube.get(apiVersionOf(ARGOCD_APPLICATION), 'Application', namespace, name)) return;
    this.ctx.log(`creating Application ${namespace}/${name} (path ${this.opts.path})`);
    await this.ctx.kube.apply(
      {
        apiVersion: apiVersionOf(ARGOCD_APPLICATION),
        kind: 'Application',
        metadata: { name, namespace },
        spec: {
          project: 'default',
          source: { repoURL: this.opts.repoUrl, path: repoPath(this.opts.path), targetRevision: this.ctx.branch },
          destination: { server: 'https://kubernetes.default.svc', namespace: this.ctx.namespace },
          syncPolicy: { automated: { prune: false, selfHeal: true }, syncOptions: ['ServerSideApply=true'] },
        },
      },
      ARGO_FIELD_MANAGER,
    );
  }

  /** One pass; returns the sha the agent's Application is synced to, once its sync succeeded. */
  async reconcile(checkout: Checkout): Promise<string | undefined> {
    this.requeue = false;
    const { namespace, name } = this.opts.agentObject;
    const root = await this.ctx.kube.get(apiVersionOf(ARGOCD_APPLICATION), 'Application', namespace, name);
    if (!root) return undefined;
    const desired = await this.reconcileApp(root, checkout);
    const ours = new Set([`${namespace}/${name}`]);
    if (this.opts.mode === 'directories') {
      for (const child of desired.filter((o) => o.kind === 'Application' && groupOfApiVersion(o.apiVersion) === ARGOCD_APPLICATION.group)) {
        if (child.metadata.namespace === namespace && child.metadata.name === name) continue;
        ours.add(`${child.metadata.namespace ?? namespace}/${child.metadata.name}`);
        const live = await this.ctx.kube.get(child.apiVersion, child.kind, child.metadata.namespace, child.metadata.name);
        if (live) await this.reconcileApp(live, checkout);
      }
    }
    await this.reconcileOthers(ours, checkout);
    const after = await this.ctx.kube.get(apiVersionOf(ARGOCD_APPLICATION), 'Application', namespace, name);
    const st = (after?.['status'] ?? {}) as AppStatus;
    const op = st.operationState;
    return st.sync?.status === 'Synced' && op?.phase === 'Succeeded' && op.syncResult?.revision === checkout.sha ? checkout.sha : undefined;
  }

  /**
   * The other Applications of the control namespace (the user's own, from any repository): Argo
   * CD reconciles every Application, and one that applies an object of ours marks it as its own.
   */
  private async reconcileOthers(ours: ReadonlySet<string>, checkout: Checkout): Promise<void> {
    const { namespace } = this.opts.agentObject;
    const apps = (await this.ctx.kube.list(ARGOCD_APPLICATION, namespace)).items.sort((a, b) => a.metadata.name.localeCompare(b.metadata.name));
    for (const app of apps) {
      if (ours.has(`${app.metadata.namespace ?? namespace}/${app.metadata.name}`)) continue;
      const url = ((app['spec'] ?? {}) as AppSpec).source?.repoURL;
      if (url === undefined || url === '') continue;
      const at = url === this.opts.repoUrl ? checkout : await this.otherCheckout(url);
      if (at) await this.reconcileApp(app, at);
    }
  }

  /** The branch head of another repository, fetched at most once a second. */
  private async otherCheckout(url: string): Promise<Checkout | undefined> {
    let other = this.otherSources.get(url);
    try {
      if (!other) {
        other = { source: await GitSource.open(url, this.ctx.branch), checkout: undefined, fetchedAt: 0 };
        this.otherSources.set(url, other);
      }
      if (this.ctx.now() - other.fetchedAt >= 1000) {
        other.fetchedAt = this.ctx.now();
        const head = await other.source.head();
        if (head !== undefined && head !== other.checkout?.sha) other.checkout = await other.source.checkout(head);
      }
    } catch (e) {
      this.ctx.log(`cannot fetch ${url}: ${errorText(e)}`);
    }
    return other?.checkout;
  }

  close(): void {
    for (const other of this.otherSources.values()) other.source.close();
    this.otherSources.clear();
  }

  /** Reconciles one Application; returns its desired objects (empty when it cannot build). */
  private async reconcileApp(app: KubeObject, checkout: Checkout): Promise<KubeObject[]> {
    if (app.metadata.annotations?.[SKIP_RECONCILE_ANNOTATION] === 'true') return [];
    const key = `${app.metadata.namespace}/${app.metadata.name}`;
    const spec = (app['spec'] ?? {}) as AppSpec;
    const status = (app['status'] ?? {}) as AppStatus;
    const now = nowTimestamp(this.ctx.now());
    const comparedTo = { source: spec.source, destination: spec.destination };
    const destNs = spec.destination?.namespace ?? this.ctx.namespace;

    const fail = async (type: 'ComparisonError' | 'InvalidSpecError', message: string) => {
      const old = status.conditions?.find((c) => c.type === type && c.message === message);
      const next: AppStatus = {
        ...status,
        sync: { status: 'Unknown', comparedTo },
        conditions: [{ type, message, lastTransitionTime: old?.lastTransitionTime ?? now }],
      };
      if (!sameStatus(next, status)) await this.ctx.kube.writeStatus(app, next as Record<string, unknown>);
      return [];
    };

    const source = spec.source;
    if (!source?.path) return fail('InvalidSpecError', 'spec.source.path is required by the rehearsal agent (Helm and plugin sources are not simulated)');
    const wanted = source.targetRevision ?? 'HEAD';
    if (!['HEAD', '', this.ctx.branch, `refs/heads/${this.ctx.branch}`].includes(wanted)) {
      return fail('ComparisonError', `the rehearsal agent follows branch ${this.ctx.branch} only, not targetRevision ${wanted}`);
    }
    let desired: KubeObject[];
    try {
      desired = this.ctx.build(checkout, source.path, 'argocd').map((o) => this.prepare(o, app, destNs));
    } catch (e) {
      return fail('ComparisonError', `failed to build ${source.path} at ${checkout.sha}: ${errorText(e)}`);
    }
    const hooks = desired.filter((o) => o.metadata.annotations?.[HOOK_ANNOTATION] !== undefined);
    if (hooks.length > 0) return fail('ComparisonError', `resource hooks are not supported by the rehearsal agent: ${hooks.map(displayName).join(', ')}`);

    // sync: start one when due, then step it
    let op = this.operations.get(key);
    const requested = (app['operation'] as { sync?: unknown } | undefined)?.sync !== undefined;
    const pending = this.retries.get(key);
    if (!op && pending && this.ctx.now() >= pending.at) {
      // the next attempt, at the branch head (Argo CD retries the operation's own revision)
      this.retries.delete(key);
      op = { sha: checkout.sha, startedAt: pending.startedAt, automated: pending.automated, waves: syncWaves(desired), index: 0, waveApplied: false, results: [], retryCount: pending.retryCount };
      this.operations.set(key, op);
      this.ctx.log(`Application ${key}: retrying the sync (attempt #${pending.retryCount})`);
    }
    if (!op && !this.retries.has(key)) {
      const compare = await this.compare(app, desired, status);
      const last = status.operationState;
      const automated = spec.syncPolicy?.automated;
      const failedHere = last !== undefined && (last.phase === 'Failed' || last.phase === 'Error') && last.operation.sync.revision === checkout.sha;
      const syncedHere = last?.phase === 'Succeeded' && last.syncResult?.revision === checkout.sha;
      const due =
        requested ||
        last?.phase === 'Running' ||
        (automated !== undefined && compare.syncStatus === 'OutOfSync' && !failedHere && (!syncedHere || automated.selfHeal === true));
      if (due) {
        op = { sha: checkout.sha, startedAt: now, automated: !requested, waves: syncWaves(desired), index: 0, waveApplied: false, results: [], retryCount: 0 };
        this.operations.set(key, op);
        if (requested) await this.ctx.kube.jsonPatch(app, [{ op: 'remove', path: '/operation' }]);
        const outOfSync = compare.resources.filter((r) => r.status === 'OutOfSync').map((r) => `${r.kind}/${r.name}`);
        this.ctx.log(`Application ${key}: syncing to ${checkout.sha.slice(0, 12)}${outOfSync.length ? ` (out of sync: ${outOfSync.join(', ')})` : ''}`);
      }
    }
    let ended: OperationState | undefined;
    if (op) ended = await this.step(app, op, spec, status, desired);
    if (op && ended?.phase === 'Failed') {
      const retry = retryPolicy(spec, op.automated);
      if (op.retryCount < retry.limit || retry.limit < 0) {
        const retryCount = op.retryCount + 1;
        const at = this.ctx.now() + retry.waitMs(retryCount) / this.ctx.timeScale;
        const clock = new Date(at).toISOString().slice(11, 19);
        ended = { ...ended, phase: 'Running', retryCount, message: `${ended.message}. Retrying attempt #${retryCount} at ${clock}.` };
        this.retries.set(key, { retryCount, at, startedAt: op.startedAt, automated: op.automated });
      } else if (op.retryCount > 0) {
        ended = { ...ended, message: `${ended.message} (retried ${op.retryCount} times).` };
      }
    }

    // compare again after the sync step, and write what changed
    const compare = await this.compare(app, desired, status);
    const next: AppStatus = {
      ...status,
      sync: { status: compare.syncStatus, revision: checkout.sha, comparedTo },
      resources: compare.resources,
      sourceType: 'Kustomize',
    };
    delete next.conditions;
    if (compare.shared.length > 0) {
      // one condition per object, worded as real Argo CD v3.2 words it
      next.conditions = compare.shared.map((message) => {
        const old = status.conditions?.find((c) => c.type === 'SharedResourceWarning' && c.message === message);
        return { type: 'SharedResourceWarning', message, lastTransitionTime: old?.lastTransitionTime ?? now };
      });
    }
    const running = this.operations.get(key);
    const opState = ended ?? (running ? this.runningState(key, running, spec) : status.operationState);
    if (opState) next.operationState = opState;
    const finishedAt = next.operationState?.finishedAt;
    if (ended) {
      // health is assessed on the next pass, after the sync has ended
      this.requeue = true;
    } else {
      next.health = compare.health;
      const stamp = finishedAt !== undefined && now < finishedAt ? finishedAt : now;
      const untrusted = finishedAt !== undefined && (status.reconciledAt === undefined || status.reconciledAt < finishedAt);
      if (untrusted || !sameStatus(next, status, ['reconciledAt'])) next.reconciledAt = stamp;
    }
    if (!sameStatus(next, status)) await this.ctx.kube.writeStatus(app, next as Record<string, unknown>);
    return desired;
  }

  /**
   * The application part of a tracking id, as Argo CD writes it: the name for an Application in
   * its control namespace (where our agent object lives), `<namespace>_<name>` for one elsewhere.
   */
  private trackingName(app: KubeObject): string {
    const ns = app.metadata.namespace ?? '';
    return ns === this.opts.agentObject.namespace ? app.metadata.name : `${ns}_${app.metadata.name}`;
  }

  private prepare(o: KubeObject, app: KubeObject, destNs: string): KubeObject {
    const group = groupOfApiVersion(o.apiVersion);
    const namespaced = typeOfKind(o.apiVersion, o.kind)?.namespaced ?? !CLUSTER_SCOPED.has(o.kind);
    const namespace = namespaced ? (o.metadata.namespace ?? destNs) : undefined;
    const tracking = `${this.trackingName(app)}:${group}/${o.kind}:${namespace ?? ''}/${o.metadata.name}`;
    const copy = forApply(o, { annotations: { [TRACKING_ANNOTATION]: tracking } });
    if (namespace !== undefined) copy.metadata.namespace = namespace;
    return copy;
  }

  private async compare(
    app: KubeObject,
    desired: readonly KubeObject[],
    status: AppStatus,
  ): Promise<{ syncStatus: 'Synced' | 'OutOfSync'; resources: ResourceStatus[]; health: ArgoResourceHealth; shared: string[] }> {
    const resources: ResourceStatus[] = [];
    const shared: string[] = [];
    const healths: (ArgoResourceHealth | undefined)[] = [];
    const wantedKeys = new Set(desired.map(objectKey));
    for (const d of desired) {
      const live = await this.ctx.kube.get(d.apiVersion, d.kind, d.metadata.namespace, d.metadata.name);
      const health = argoResourceHealth(live, d);
      healths.push(health);
      const owner = live?.metadata.annotations?.[TRACKING_ANNOTATION];
      if (owner !== undefined && !owner.startsWith(`${this.trackingName(app)}:`)) shared.push(`${d.kind}/${d.metadata.name} is part of applications ${app.metadata.namespace ?? ''}/${app.metadata.name} and ${owner.split(':')[0] ?? ''}`);
      resources.push({
        group: groupOfApiVersion(d.apiVersion),
        version: versionOf(d.apiVersion),
        kind: d.kind,
        ...(d.metadata.namespace ? { namespace: d.metadata.namespace } : {}),
        name: d.metadata.name,
        // the tracking id is part of the desired object, as in Argo CD: an object nobody tracks yet is
        // adopted by a sync, one another Application tracks is OutOfSync here (and selfHeal on both
        // takes it back and forth, as measured on real Argo CD v3.2)
        status: live !== undefined && containsDesired(d, live) ? 'Synced' : 'OutOfSync',
        ...(health ? { health } : {}),
      });
    }
    // objects this application applied before that the new revision no longer holds
    for (const r of status.resources ?? []) {
      const apiVersion = r.group ? `${r.group}/${r.version}` : r.version;
      const ref = { apiVersion, kind: r.kind, metadata: { name: r.name, ...(r.namespace ? { namespace: r.namespace } : {}) } };
      if (wantedKeys.has(objectKey(ref))) continue;
      const live = await this.ctx.kube.get(apiVersion, r.kind, r.namespace, r.name);
      if (!live || !(live.metadata.annotations?.[TRACKING_ANNOTATION] ?? '').startsWith(`${this.trackingName(app)}:`)) continue;
      resources.push({ group: r.group, version: r.version, kind: r.kind, ...(r.namespace ? { namespace: r.namespace } : {}), name: r.name, status: 'OutOfSync', requiresPruning: true });
    }
    const syncStatus = resources.every((r) => r.status === 'Synced') ? 'Synced' : 'OutOfSync';
    const worst = aggregateArgoHealth(healths);
    return { syncStatus, resources, health: worst.message ? worst : { status: worst.status }, shared };
  }

  /** Advances a sync as far as it can go now; returns the final operation state when it ended on this pass. */
  private async step(app: KubeObject, op: Operation, spec: AppSpec, status: AppStatus, desired: readonly KubeObject[]): Promise<OperationState | undefined> {
    const key = `${app.metadata.namespace}/${app.metadata.name}`;
    const end = (phase: 'Succeeded' | 'Failed', message: string): OperationState => {
      const state: OperationState = { ...this.runningState(key, op, spec), phase, message, finishedAt: this.finishTime(status.reconciledAt) };
      this.operations.delete(key);
      this.waitMessage.delete(key);
      this.ctx.log(`Application ${key}: sync ${phase.toLowerCase()}: ${message}`);
      return state;
    };
    while (op.index < op.waves.length) {
      const { wave, objects } = op.waves[op.index]!;
      if (!op.waveApplied) {
        for (const o of objects) {
          try {
            await this.ctx.kube.apply(o, ARGO_FIELD_MANAGER);
            op.results.push(this.result(o, 'Synced', 'serverside-applied'));
          } catch (e) {
            op.results.push(this.result(o, 'SyncFailed', errorText(e)));
            return end('Failed', `one or more objects failed to apply, reason: ${errorText(e)}`);
          }
        }
        op.waveApplied = true;
      }
      if (op.index === op.waves.length - 1) break;
      // between waves: every resource of this wave must be Healthy first
      const waiting: string[] = [];
      for (const o of objects) {
        const live = await this.ctx.kube.get(o.apiVersion, o.kind, o.metadata.namespace, o.metadata.name);
        const h = argoResourceHealth(live, o);
        if (h === undefined || h.status === 'Healthy') continue;
        if (h.status === 'Degraded') return end('Failed', `${displayName(o)} is Degraded in sync wave ${wave}: ${h.message ?? ''}`);
        waiting.push(displayName(o));
      }
      if (waiting.length > 0) {
        this.waitMessage.set(key, `waiting for healthy state of ${waiting.join(', ')}`);
        return undefined;
      }
      op.index++;
      op.waveApplied = false;
    }
    const automated = spec.syncPolicy?.automated;
    if (automated?.prune === true) {
      const wanted = new Set(desired.map(objectKey));
      for (const r of status.resources ?? []) {
        const apiVersion = r.group ? `${r.group}/${r.version}` : r.version;
        const ref = { apiVersion, kind: r.kind, metadata: { name: r.name, ...(r.namespace ? { namespace: r.namespace } : {}) } };
        if (wanted.has(objectKey(ref))) continue;
        const live = await this.ctx.kube.get(apiVersion, r.kind, r.namespace, r.name);
        if (!live || !(live.metadata.annotations?.[TRACKING_ANNOTATION] ?? '').startsWith(`${this.trackingName(app)}:`)) continue;
        if (syncOptions(live).includes('Prune=false')) {
          op.results.push(this.result(live, 'PruneSkipped', 'ignored (no prune)'));
          continue;
        }
        await this.ctx.kube.delete(live);
        op.results.push(this.result(live, 'Pruned', 'pruned'));
      }
    }
    return end('Succeeded', 'successfully synced (all tasks run)');
  }

  private readonly waitMessage = new Map<string, string>();

  private runningState(key: string, op: Operation, spec: AppSpec): OperationState {
    return {
      operation: { sync: { revision: op.sha }, initiatedBy: op.automated ? { automated: true } : { username: 'osv-gitops-rehearsal' } },
      phase: 'Running',
      message: this.waitMessage.get(key) ?? 'one or more tasks are running',
      startedAt: op.startedAt,
      ...(op.retryCount > 0 ? { retryCount: op.retryCount } : {}),
      syncResult: { revision: op.sha, ...(spec.source ? { source: spec.source } : {}), resources: [...op.results] },
    };
  }

  /** Never at or before the last health assessment, so `reconciledAt < finishedAt` until the next one. */
  private finishTime(lastReconciledAt: string | undefined): string {
    const now = nowTimestamp(this.ctx.now());
    if (lastReconciledAt === undefined || lastReconciledAt < now) return now;
    return nowTimestamp(Date.parse(lastReconciledAt) + 1000);
  }

  private result(o: KubeObject, status: SyncResultResource['status'], message: string): SyncResultResource {
    return {
      group: groupOfApiVersion(o.apiVersion),
      version: versionOf(o.apiVersion),
      kind: o.kind,
      namespace: o.metadata.namespace ?? '',
      name: o.metadata.name,
      status,
      message,
      syncPhase: 'Sync',
    };
  }
}

/**
 * Why the rehearsal stopped, as the Applications say it: a sync that failed, a Degraded
 * Application, a sync still running.
 */
async function stopCauses(kube: KubeClient, agentNamespace: string): Promise<string[]> {
  const causes: string[] = [];
  const apps = (await kube.list(ARGOCD_APPLICATION, agentNamespace)).items.sort((a, b) => a.metadata.name.localeCompare(b.metadata.name));
  for (const app of apps) {
    const st = (app['status'] ?? {}) as { health?: { status?: string; message?: string }; sync?: { status?: string }; operationState?: { phase?: string; message?: string } };
    const where = `Application ${agentNamespace}/${app.metadata.name}`;
    const op = st.operationState;
    if (op && (op.phase === 'Failed' || op.phase === 'Error')) causes.push(`${where}: sync ${op.phase}: ${op.message ?? ''}`);
    else if (st.health?.status === 'Degraded') causes.push(`${where}: Degraded${st.health.message ? `: ${st.health.message}` : ''}`);
    else if (op?.phase === 'Running') causes.push(`${where}: sync running: ${op.message ?? ''}`);
  }
  return causes;
}

export const argoRehearsal: RehearsalModel = {
  controller: (ctx, opts) => new ArgoController(ctx, opts),
  // the gate Jobs our wiring renders hold the sync waves
  watchedKinds: CORE_TYPES.filter((t) => t.kind === 'Job'),
  runsGateJobs: true,
  stopCauses,
};
