/**
 * Which live OpenStackDataPlaneDeployments stand for a planned one. Our own deployments carry
 * deterministic names, but an update driven by hand (or by another tool) names them as it likes
 * (`osv-18-0-4-ovn`). Without a repository the name is therefore only the first guess: a
 * deployment is recognised by what it does — the services it runs, the nodesets it covers — and by
 * belonging to this update (finished at our target, or created after the target was set).
 */
import type { DeploymentPlan, PhaseName } from '../plan/types.js';
import { at, condition, findNamed, freshness, isoTime, nameOf, rec, str, type ClusterSnapshot, type Condition, type KubeObject } from './snapshot.js';

/** The nodeset default `spec.services` (facts §6.2), used when a covered nodeset is not in the snapshot. */
const DEFAULT_NODESET_SERVICES = [
  'redhat',
  'download-cache',
  'bootstrap',
  'configure-network',
  'validate-network',
  'install-os',
  'configure-os',
  'ssh-known-hosts',
  'run-os',
  'reboot-os',
  'install-certs',
  'ovn',
  'neutron-metadata',
  'libvirt',
  'nova',
  'telemetry',
];

function strings(v: unknown): string[] | undefined {
  return Array.isArray(v) && v.every((x) => typeof x === 'string') ? (v as string[]) : undefined;
}

/** The nodesets a deployment covers; undefined when the field is missing or malformed. */
export function deploymentNodeSets(d: KubeObject): string[] | undefined {
  return strings(at(d, 'spec.nodeSets'));
}

/** The services a deployment runs: `servicesOverride` when set, else the covered nodesets' own list. */
export function deploymentServices(d: KubeObject, snapshot: ClusterSnapshot): string[] {
  const raw = at(d, 'spec.servicesOverride');
  const override = strings(raw);
  // a malformed list is unknown, not "the nodesets' own services"
  if (raw !== undefined && raw !== null && override === undefined) return [];
  if (override?.length) return override;
  const out = new Set<string>();
  for (const n of deploymentNodeSets(d) ?? []) {
    const ns = findNamed(snapshot.nodeSets, n);
    for (const s of strings(at(ns, 'spec.services')) ?? DEFAULT_NODESET_SERVICES) out.add(s);
  }
  return [...out];
}

/** Does a deployment do the work of this phase? `update` and `update-services` count alike (facts §6.2). */
function doesPhaseWork(services: readonly string[], phase: PhaseName, planned: DeploymentPlan): boolean {
  switch (phase) {
    case 'ovn-dataplane': {
      const ovn = new Set(['ovn', ...planned.servicesOverride.filter((s) => s.includes('ovn'))]);
      return services.some((s) => ovn.has(s));
    }
    case 'dataplane':
      return services.includes('update') || services.includes('update-services');
    case 'dataplane-system':
      return services.includes('update-system');
    default:
      return false;
  }
}

export function terminalFailure(d: KubeObject): Condition | undefined {
  for (const type of ['DeploymentReady', 'Ready']) {
    const c = condition(d, type);
    if (c && c.status === 'False' && (c.severity === 'Error' || c.reason === 'BackoffLimitExceeded' || c.reason === 'Error')) return c;
  }
  return undefined;
}

export type DeploymentState = 'deployed' | 'failed' | 'running';

export function deploymentState(d: KubeObject): DeploymentState {
  if (terminalFailure(d)) return 'failed';
  // `deployed: true` alone is not enough on a generation the controller has not observed
  return at(d, 'status.deployed') === true && freshness(d).fresh && condition(d, 'Ready')?.status === 'True' ? 'deployed' : 'running';
}

export interface StandIn {
  readonly object: KubeObject;
  readonly name: string;
  /** Found by what it does, not by our deterministic name. */
  readonly byContent: boolean;
  /** The planned nodesets it stands for. */
  readonly covers: readonly string[];
}

export interface ResolvedDeployment {
  readonly standIns: readonly StandIn[];
  /** Planned nodesets no deployment covers. */
  readonly uncovered: readonly string[];
}

/**
 * The deployments that stand for `planned`. By name first. Otherwise, when `byContent` is allowed,
 * for each planned nodeset the newest deployment that does this phase's work on it and belongs to
 * this update: it finished at `target` (its `deployedVersion` is read at completion, facts §6.1),
 * or it is unfinished and was created at or after `since` (when the target was set). The newest
 * wins so that a retry after a failure counts, and a failure nobody retried stops the chain.
 */
export function resolveDeployment(snapshot: ClusterSnapshot, planned: DeploymentPlan, phase: PhaseName, target: string, opts: { byContent: boolean; since?: string | undefined }): ResolvedDeployment {
  const named = findNamed(snapshot.deployments, planned.name);
  if (named) return { standIns: [{ object: named, name: planned.name, byContent: false, covers: planned.nodeSets }], uncovered: [] };
  if (!opts.byContent) return { standIns: [], uncovered: [...planned.nodeSets] };
  const candidates = snapshot.deployments
    .filter((d) => nameOf(d) !== '' && rec(d['spec']) !== undefined)
    .filter((d) => doesPhaseWork(deploymentServices(d, snapshot), phase, planned))
    .filter((d) => {
      const finishedAt = str(at(d, 'status.deployedVersion'));
      if (at(d, 'status.deployed') === true) return finishedAt === target;
      const created = isoTime(at(d, 'metadata.creationTimestamp'));
      // unknown either way: it may be a leftover of an earlier update, but a leftover failure blocks
      // the operator too (a failed deployment counts as running, facts §4.3), so it is shown
      return opts.since === undefined || created === undefined || created >= opts.since;
    })
    .sort((a, b) => (isoTime(at(a, 'metadata.creationTimestamp')) ?? '').localeCompare(isoTime(at(b, 'metadata.creationTimestamp')) ?? '') || nameOf(a).localeCompare(nameOf(b)));
  const byName = new Map<string, { object: KubeObject; covers: string[] }>();
  const uncovered: string[] = [];
  for (const n of planned.nodeSets) {
    const newest = candidates.filter((d) => deploymentNodeSets(d)?.includes(n)).at(-1);
    if (!newest) {
      uncovered.push(n);
      continue;
    }
    const entry = byName.get(nameOf(newest)) ?? { object: newest, covers: [] };
    entry.covers.push(n);
    byName.set(nameOf(newest), entry);
  }
  const standIns = [...byName.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([name, e]) => ({ object: e.object, name, byContent: true, covers: e.covers }));
  return { standIns, uncovered };
}

const UPDATE_CONDITIONS = /^MinorUpdate(?!Available$)/;

/**
 * When the target was set, as far as the cluster and Git tell: the earliest of the phase commit
 * that set it and the `MinorUpdate*` conditions the operator adds when it sees the change (they
 * exist only during an update, facts §4.2). Undefined when neither is known.
 */
export function updateStart(osv: KubeObject | undefined, target: string, commitDate: string | undefined): string | undefined {
  const times: string[] = [];
  const c = isoTime(commitDate);
  if (c) times.push(c);
  if (osv && str(at(osv, 'spec.targetVersion')) === target) {
    const list = at(osv, 'status.conditions');
    if (Array.isArray(list)) {
      for (const cond of list) {
        const type = str(at(cond, 'type'));
        const t = isoTime(at(cond, 'lastTransitionTime'));
        if (type && t && UPDATE_CONDITIONS.test(type)) times.push(t);
      }
    }
  }
  return times.sort()[0];
}
