/**
 * Gate evaluation: a pure function from a cluster snapshot (plus where Git stands) to a verdict,
 * following the rules of DESIGN.md that each stem from a real failure:
 * - a condition counts only on an object carrying our target whose latest generation was observed;
 * - "applied" means the agent's revision contains our commit (ancestry, not equality);
 * - anything not read is "not checked", never "passed";
 * - each gate fails on an `Error` condition, a failed deployment or its deadline.
 */
import { judgeOperatorGate } from '../olm/gate.js';
import { isOperatorHold, operatorHold } from '../plan/operator-hold.js';
import { checkText } from '../plan/phases.js';
import type { GateCheck, ObjectRef, PhasePlan } from '../plan/types.js';
import { agentLabel, agentRevision } from './agent.js';
import { deploymentNodeSets, deploymentServices, resolveDeployment, terminalFailure } from './deployments.js';
import { at, condition, conditionsOf, findNamed, freshness, nameOf, rec, staleText, str, type ClusterSnapshot, type KubeObject } from './snapshot.js';

/** `not-applicable`: the check has nothing to judge here (no agent and no repository: the cluster is the applied state). */
export type CheckState = 'pass' | 'wait' | 'fail' | 'unchecked' | 'not-applicable';

export interface CheckResult {
  readonly check: GateCheck;
  readonly text: string;
  readonly state: CheckState;
  /** What was seen: the value, the condition and its message, the revision. */
  readonly detail: string;
}

export type Verdict = 'passed' | 'waiting' | 'failed';

export interface GateVerdict {
  readonly verdict: Verdict;
  /** One line: why (the first failing or waiting check, or why it passed). */
  readonly reason: string;
  readonly checks: readonly CheckResult[];
}

/** Where Git stands for the update: the commit that delivered each phase, and ancestry answers. */
export interface GitView {
  /** Phase id → the commit that delivered it (or cluster evidence when there is no repository). */
  readonly commits: Readonly<Record<string, { readonly sha: string; readonly date: string }>>;
  /** `${commit}..${revision}` → is `commit` an ancestor of (or equal to) `revision`; missing = unknown. */
  readonly ancestry: Readonly<Record<string, boolean>>;
}

export function ancestryKey(commit: string, revision: string): string {
  return `${commit}..${revision}`;
}

export interface GateContext {
  readonly snapshot: ClusterSnapshot;
  readonly git: GitView;
  readonly target: string;
  readonly phase: PhasePlan;
  /** When the target was set (ISO), if known: deployments found by content must be newer. */
  readonly since?: string | undefined;
}

const result = (check: GateCheck, state: CheckState, detail: string): CheckResult => ({ check, text: checkText(check), state, detail });

function listFor(s: ClusterSnapshot, kind: string): readonly KubeObject[] | undefined {
  switch (kind) {
    case 'OpenStackVersion':
      return s.openStackVersions;
    case 'OpenStackControlPlane':
      return s.controlPlanes;
    case 'OpenStackDataPlaneNodeSet':
      return s.nodeSets;
    case 'OpenStackDataPlaneDeployment':
      return s.deployments;
    default:
      return undefined;
  }
}

function lookup(s: ClusterSnapshot, ref: ObjectRef): { obj?: KubeObject; missing?: CheckState; why: string } {
  if (s.unread.some((u) => u.startsWith(`${ref.kind}:`) || u === ref.kind)) return { missing: 'unchecked', why: `${ref.kind} not read` };
  const obj = findNamed(listFor(s, ref.kind) ?? [], ref.name);
  return obj ? { obj, why: '' } : { missing: 'wait', why: `${ref.kind}/${ref.name} not found in ${s.source}` };
}

function conditionText(c: { type: string; status: string; reason?: string; message?: string } | undefined, type: string): string {
  if (!c) return `${type} missing`;
  return `${type}=${c.status}${c.reason ? ` (${c.reason})` : ''}${c.message ? `: ${c.message}` : ''}`;
}

/** A `condition` check on the OpenStackVersion only counts on a fresh object that carries our target. */
function versionTrust(obj: KubeObject, target: string): string | undefined {
  const live = str(at(obj, 'spec.targetVersion'));
  if (live !== target) return `live spec.targetVersion is ${live ?? 'unset'}, not ${target}`;
  if (!freshness(obj).fresh) return staleText('OpenStackVersion', obj);
  return undefined;
}

function isTerminalFailure(d: KubeObject): string | undefined {
  const c = terminalFailure(d);
  return c ? conditionText(c, c.type) : undefined;
}

/** A check over nodesets: each must exist, be observed at its latest generation and satisfy `judge` (undefined = fine). */
function overNodeSets(check: GateCheck, names: readonly string[], s: ClusterSnapshot, judge: (name: string, obj: KubeObject) => string | undefined, passed: string): CheckResult {
  const waits: string[] = [];
  for (const n of names) {
    const { obj, missing, why } = lookup(s, { kind: 'OpenStackDataPlaneNodeSet', name: n });
    if (!obj) {
      if (missing === 'unchecked') return result(check, 'unchecked', why);
      waits.push(why);
      continue;
    }
    const problem = freshness(obj).fresh ? judge(n, obj) : staleText(`nodeset ${n}`, obj);
    if (problem) waits.push(problem);
  }
  return result(check, waits.length ? 'wait' : 'pass', waits.length ? waits.join('; ') : passed);
}

/**
 * A planned deployment, found by its name, or (no repository: the update may have been driven by
 * hand) by what it does. Any stand-in that failed stops the phase with its name.
 */
function deploymentReady(check: Extract<GateCheck, { kind: 'deployment-ready' }>, ctx: GateContext): CheckResult {
  const s = ctx.snapshot;
  if (s.unread.includes('OpenStackDataPlaneDeployment')) return result(check, 'unchecked', 'OpenStackDataPlaneDeployment not read');
  const planned = ctx.phase.git.deployments.find((d) => d.name === check.name) ?? { name: check.name, nodeSets: [], servicesOverride: [] };
  const commit = ctx.git.commits[ctx.phase.id];
  // with a repository we know our own names; by content only when the cluster stands in for Git
  const byContent = commit === undefined || commit.sha.startsWith('cluster:');
  const found = resolveDeployment(s, planned, ctx.phase.phase, ctx.target, { byContent, since: ctx.since });
  if (!found.standIns.length) {
    const by = byContent ? ` and no deployment that does this phase's work on ${planned.nodeSets.join(', ') || 'its nodesets'}` : '';
    return result(check, 'wait', `OpenStackDataPlaneDeployment/${check.name} not found in ${s.source}${by} (not applied yet)`);
  }
  const label = (d: { name: string; byContent: boolean; object: KubeObject }) =>
    d.byContent ? `${d.name} (found by content: services [${deploymentServices(d.object, s).join(', ')}], nodesets ${(deploymentNodeSets(d.object) ?? []).join(', ')})` : d.name;
  const failed = found.standIns.filter((d) => isTerminalFailure(d.object));
  if (failed.length) return result(check, 'fail', failed.map((d) => `${label(d)} failed: ${isTerminalFailure(d.object)!}`).join('; '));
  const waits: string[] = [];
  for (const d of found.standIns) {
    if (!freshness(d.object).fresh) {
      waits.push(`${label(d)}: ${staleText('OpenStackDataPlaneDeployment', d.object)}`);
      continue;
    }
    const ready = condition(d.object, 'Ready');
    if (at(d.object, 'status.deployed') === true && ready?.status === 'True') continue;
    const dr = condition(d.object, 'DeploymentReady');
    waits.push(`${label(d)}: ${conditionText(dr ?? ready, dr ? 'DeploymentReady' : 'Ready')}`);
  }
  if (found.uncovered.length) waits.push(`no deployment found for nodesets ${found.uncovered.join(', ')}`);
  if (waits.length) return result(check, 'wait', waits.join('; '));
  const ready = found.standIns.map((d) => `${label(d)}: deployed, ${conditionText(condition(d.object, 'Ready'), 'Ready')}`);
  return result(check, 'pass', ready.join('; '));
}

/** Phase 0: the OLM gate of src/olm/gate.ts over the snapshot's InstallPlans, CSVs and OpenStackVersion. */
function olmUpgrade(check: Extract<GateCheck, { kind: 'olm-upgrade' }>, s: ClusterSnapshot): CheckResult {
  if (s.installPlans === undefined) return result(check, 'unchecked', 'InstallPlan not read');
  if (s.csvs === undefined) return result(check, 'unchecked', 'ClusterServiceVersion not read');
  const osvs = s.openStackVersions;
  const g = judgeOperatorGate({
    csv: check.csv,
    installPlans: s.installPlans as Record<string, unknown>[],
    csvObject: findNamed(s.csvs, check.csv) as Record<string, unknown> | undefined,
    openStackVersion: (osvs.length === 1 ? osvs[0] : undefined) as Record<string, unknown> | undefined,
  });
  const plan = g.installPlan;
  const holds = plan ? ` [InstallPlan ${plan.name}: ${plan.csvs.join(', ')}${plan.approved ? ', approved' : ''}]` : '';
  const reason = g.state === 'needs-approval' ? g.reason.replace('(operator-upgrade --approve)', '(advance --approve-installplan)') : g.reason;
  return result(check, g.verdict === 'passed' ? 'pass' : g.verdict === 'failed' ? 'fail' : 'wait', `${g.state}: ${reason}${holds}`);
}

function evaluateCheck(check: GateCheck, ctx: GateContext): CheckResult {
  const s = ctx.snapshot;
  switch (check.kind) {
    case 'olm-upgrade':
      return olmUpgrade(check, s);
    case 'csv-succeeded': {
      if (s.csvs === undefined) return result(check, 'unchecked', 'ClusterServiceVersion not read');
      const csv = check.csv ? findNamed(s.csvs, check.csv) : s.csvs.length === 1 ? s.csvs[0] : undefined;
      if (!csv) return result(check, check.csv ? 'wait' : 'unchecked', check.csv ? `ClusterServiceVersion ${check.csv} not found` : `${s.csvs.length} ClusterServiceVersions found; name one`);
      const phase = str(at(csv, 'status.phase')) ?? 'none';
      const detail = `phase ${phase}${str(at(csv, 'status.message')) ? `: ${str(at(csv, 'status.message'))}` : ''}`;
      return result(check, phase === 'Succeeded' ? 'pass' : phase === 'Failed' ? 'fail' : 'wait', detail);
    }
    case 'field': {
      const { obj, missing, why } = lookup(s, check.object);
      if (!obj) return result(check, missing!, why);
      const value = str(at(obj, check.path));
      const ok = check.negate ? value !== check.value : value === check.value;
      return result(check, ok ? 'pass' : 'wait', `.${check.path} is ${value ?? 'unset'}`);
    }
    case 'version-observed': {
      const { obj, missing, why } = lookup(s, check.object);
      if (!obj) return result(check, missing!, why);
      const distrust = versionTrust(obj, check.targetVersion);
      return result(check, distrust ? 'wait' : 'pass', distrust ?? `targetVersion ${check.targetVersion}, generation ${freshness(obj).generation} observed`);
    }
    case 'condition': {
      const { obj, missing, why } = lookup(s, check.object);
      if (!obj) return result(check, missing!, why);
      // MinorUpdate* conditions stay True from the last update until the first reconcile after the change
      const distrust = check.object.kind === 'OpenStackVersion' ? versionTrust(obj, ctx.target) : freshness(obj).fresh ? undefined : staleText(check.object.kind, obj);
      if (distrust) return result(check, 'wait', `not counted yet: ${distrust}`);
      const c = condition(obj, check.type);
      const text = conditionText(c, check.type);
      if (c?.status === check.status) return result(check, 'pass', text);
      if (c?.status === 'False' && !isOperatorHold(c) && (c.reason === 'Error' || c.severity === 'Error')) return result(check, 'fail', text);
      // upstream PR #1913: the operator holds the update on purpose (reason Gated, or the
      // update-target-stage annotation stops it before this condition): a wait, not an error
      if (check.object.kind === 'OpenStackVersion') {
        const annotations = Object.fromEntries(Object.entries(rec(at(obj, 'metadata.annotations')) ?? {}).filter((e): e is [string, string] => typeof e[1] === 'string'));
        const osv = { annotations, conditions: conditionsOf(obj) };
        // name the Gated condition when there is one (it may be an earlier stage's than this gate's)
        const earlier = osv.conditions.find((x) => isOperatorHold(x));
        const held = (earlier ? operatorHold(osv, earlier.type) : undefined) ?? operatorHold(osv, check.type);
        if (held) return result(check, 'wait', held.message);
      }
      // the operator drops the MinorUpdate* conditions once deployedVersion reaches the target (facts §4.2)
      if (!c && check.object.kind === 'OpenStackVersion' && check.type.startsWith('MinorUpdate') && str(at(obj, 'status.deployedVersion')) === ctx.target) {
        return result(check, 'pass', `${check.type} dropped: the update finished (status.deployedVersion is ${ctx.target})`);
      }
      return result(check, 'wait', text);
    }
    case 'nodesets-ready':
      return overNodeSets(check, check.nodeSets, s, (n, obj) => (condition(obj, 'Ready')?.status === 'True' ? undefined : `${n}: ${conditionText(condition(obj, 'Ready'), 'Ready')}`), `${check.nodeSets.length} nodesets Ready`);
    case 'no-deployment-running': {
      if (s.unread.includes('OpenStackDataPlaneDeployment')) return result(check, 'unchecked', 'OpenStackDataPlaneDeployment not read');
      const open = s.deployments.filter((d) => at(d, 'status.deployed') !== true);
      const failed = open.filter((d) => isTerminalFailure(d));
      if (failed.length) {
        // a failed deployment never finishes and the operator counts it as running (facts §4.3)
        return result(check, 'fail', `failed deployments stay "running" for the operator: ${failed.map(nameOf).join(', ')}; delete them (annotation dataplane.openstack.org/confirm-delete: "true") first`);
      }
      return result(check, open.length ? 'wait' : 'pass', open.length ? `running: ${open.map(nameOf).join(', ')}` : `${s.deployments.length} deployments, none running`);
    }
    case 'deployment-ready':
      return deploymentReady(check, ctx);
    case 'nodeset-deployed-version':
      return overNodeSets(
        check,
        check.nodeSets,
        s,
        (n, obj) => {
          const v = str(at(obj, 'status.deployedVersion'));
          return v === check.version ? undefined : `${n} at ${v || 'none'}`;
        },
        `all at ${check.version}`,
      );
    case 'agent-applied': {
      const commit = ctx.git.commits[ctx.phase.id];
      if (!commit) return result(check, 'wait', `phase ${ctx.phase.id} is not committed`);
      if (s.agentNone) return result(check, 'pass', 'no agent to check (--agent none); the other checks prove what was applied');
      if (!s.agent && commit.sha.startsWith('cluster:')) {
        return result(check, 'not-applicable', 'no repository and no agent: the cluster objects are the applied state');
      }
      if (!s.agent) return result(check, 'unchecked', 'no agent object named (--agent); cannot tell whether our commit is applied');
      const label = agentLabel(s.agent);
      if (!s.agent.object) return result(check, 'unchecked', `${label} not found`);
      const rev = agentRevision(s.agent)!;
      if (commit.sha.startsWith('cluster:')) return result(check, 'pass', `${label} at ${rev.shown || 'unknown'} (applied state seen in the cluster)`);
      if (rev.failure) return result(check, 'fail', `${label}: ${rev.failure}`);
      if (rev.notYet || !rev.sha) return result(check, 'wait', `${label}: ${rev.notYet ?? 'no revision'}`);
      const contains = rev.sha === commit.sha ? true : ctx.git.ancestry[ancestryKey(commit.sha, rev.sha)];
      if (contains === undefined) return result(check, 'wait', `${label} at ${rev.sha.slice(0, 12)}, which is not in the local repository (fetch)`);
      return result(check, contains ? 'pass' : 'wait', `${label} at ${rev.sha.slice(0, 12)}${contains ? ' contains' : ' does not contain yet'} ${commit.sha.slice(0, 12)}`);
    }
  }
}

/** The verdict of one phase's gate. `deadlineFrom` is when the phase started (ISO), if known. */
export function evaluateGate(ctx: GateContext, deadlineFrom?: string): GateVerdict {
  const checks = ctx.phase.gate.checks.map((c) => evaluateCheck(c, ctx));
  const failed = checks.find((c) => c.state === 'fail');
  if (failed) return { verdict: 'failed', reason: `${failed.text}: ${failed.detail}`, checks };
  // a not-applicable check holds nothing; the gate still needs every other check to pass
  const open = checks.find((c) => c.state === 'wait' || c.state === 'unchecked');
  if (!open) return { verdict: 'passed', reason: ctx.phase.gate.summary, checks };
  const reason = `${open.state === 'unchecked' ? 'not checked: ' : 'waiting for '}${open.text}: ${open.detail}`;
  if (deadlineFrom) {
    const elapsed = (Date.parse(ctx.snapshot.readAt) - Date.parse(deadlineFrom)) / 1000;
    if (elapsed > ctx.phase.gate.deadlineSeconds) {
      return { verdict: 'failed', reason: `deadline of ${formatSeconds(ctx.phase.gate.deadlineSeconds)} passed (${formatSeconds(elapsed)} since the phase started); still ${reason}`, checks };
    }
  }
  return { verdict: 'waiting', reason, checks };
}

export function formatSeconds(s: number): string {
  const t = Math.max(0, Math.round(s));
  if (t < 120) return `${t}s`;
  if (t < 7200) return `${Math.floor(t / 60)}m${t % 60 ? `${t % 60}s` : ''}`;
  return `${Math.floor(t / 3600)}h${Math.floor((t % 3600) / 60)}m`;
}
