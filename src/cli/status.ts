/** `osv-gitops status`: where the update is, from the cluster (or dumps) and the Git trailers. */
import { resolve } from 'node:path';
import { isOsvError } from '../errors.js';
import { readGitProgress } from '../git/progress.js';
import { phaseCommits, type PhaseCommit } from '../git/trailers.js';
import { phaseNumberText, phaseOfText } from '../plan/numbering.js';
import { compareReleaseVersions } from '../plan/versions.js';
import { agentRevision } from '../status/agent.js';
import { formatSeconds } from '../status/gates.js';
import { at, str, type ClusterSnapshot } from '../status/snapshot.js';
import { clusterEvidence, updateStatus, type UpdateStatus } from '../status/update-status.js';
import { loadUpdate, subscriptionNamespace } from './inputs.js';
import { paint, stableJson, table, type CliIo } from './io.js';
import { hasPlanInputs, planFromSnapshot, snapshotSource } from './loop-flags.js';
import type { LoopFlags } from './options.js';

export interface StatusFlags extends LoopFlags {
  readonly exitCode?: boolean;
}

const VERDICT_STYLE = { passed: 'green', waiting: 'yellow', failed: 'red', pending: 'dim' } as const;

export function formatStatus(s: UpdateStatus, io: CliIo): string {
  const head = `${phaseOfText(s.phaseNumber, s.phaseCount)}: ${s.phase}`;
  let out = `${paint(io, 'bold', 'Update')} ${s.deployed} → ${s.target}  (plan ${s.plan}, ${s.source})\n`;
  out += `${head} — ${paint(io, VERDICT_STYLE[s.verdict], s.verdict)}\n  ${s.reason}\n\n`;
  out += table(
    s.gates.map((g) => [phaseNumberText(g), g.id, paint(io, VERDICT_STYLE[g.verdict], g.verdict), g.elapsedSeconds !== undefined ? formatSeconds(g.elapsedSeconds) : '', g.commit ? g.commit.replace(/^cluster:.*/, 'cluster').slice(0, 12) : '', g.reason]),
    ['#', 'phase', 'verdict', 'elapsed', 'commit', 'reason'],
  );
  if (s.controlPlaneSteps.length) {
    out += `\n${paint(io, 'bold', 'Control plane steps')}\n`;
    out += table(s.controlPlaneSteps.map((c) => [c.type, c.status, c.reason ?? '', c.message ?? '']));
  }
  if (s.nodeSets.length) {
    out += `\n${paint(io, 'bold', 'Nodesets')}\n`;
    out += table(s.nodeSets.map((n) => [n.name, n.deployedVersion || '-', `Ready=${n.ready}`, n.observed ? '' : 'generation not observed']), ['nodeset', 'deployedVersion', 'ready', '']);
  }
  if (s.deployments.length) {
    out += `\n${paint(io, 'bold', 'Deployments')}\n`;
    out += table(s.deployments.map((d) => [d.plannedName ? `${d.name} (found by content)` : d.name, d.phase, d.state, d.message]), ['deployment', 'phase', 'state', 'message']);
  }
  if (s.unread.length) out += `\nnot read (reported as not checked): ${s.unread.join(', ')}\n`;
  for (const w of s.warnings) out += `warning: ${w}\n`;
  return out;
}

/** The action of `osv-gitops status` (its flags and help are registered in commands.ts). */
export async function statusAction(flags: StatusFlags, io: CliIo, setExit: (code: number) => void): Promise<void> {
  const source = await snapshotSource(flags, io, flags.namespace, (l) => io.stderr(`${l}\n`), subscriptionNamespace(flags, io));
  const snapshot = await source.read();
  const repo = flags.repo !== undefined ? resolve(io.cwd, flags.repo) : undefined;
  const trailers = repo !== undefined ? await phaseCommits(repo, flags.branch ?? 'HEAD') : [];
  const chosen = flags.plan === undefined ? targetFromGit(flags.target, trailers, snapshot) : { target: flags.target, warnings: [] };
  const warnings = [...chosen.warnings, ...(snapshot.duplicates ?? []).map((d) => `counted once: ${d}`)];
  const planFlags: StatusFlags = chosen.target !== undefined ? { ...flags, target: chosen.target } : flags;
  let update;
  try {
    update = hasPlanInputs(planFlags) ? loadUpdate(planFlags, io) : planFromSnapshot(snapshot, planFlags, io);
  } catch (e) {
    if (isOsvError(e) && e.code === 'POLICY_NOTHING_TO_DO') {
      // the live objects say the update is done: deployedVersion already equals the target
      const msg = e.message;
      if (flags.json) io.stdout(stableJson({ apiVersion: 'osv-gitops.io/v1alpha1', kind: 'UpdateStatus', target: chosen.target ?? null, phase: 'complete', verdict: 'passed', reason: msg, gates: [], warnings }));
      else io.stdout(`complete: ${msg}\n${warnings.map((w) => `warning: ${w}\n`).join('')}`);
      return;
    }
    throw e;
  }
  const plan = update.plan;
  const recorded = trailers.find((c) => c.target === plan.versions.target && c.plan !== '');
  if (recorded && recorded.plan !== plan.id) {
    warnings.push(`the phase commits for ${plan.versions.target} name plan ${recorded.plan} (commit ${recorded.sha.slice(0, 12)}), but the plan rebuilt here is ${plan.id}: its inputs differ from the committed plan's, so phases or deployment names may differ`);
  }
  let status: UpdateStatus;
  if (repo !== undefined) {
    const agentSha = snapshot.agent ? agentRevision(snapshot.agent)?.sha : undefined;
    const progress = await readGitProgress(repo, plan.versions.target, flags.branch ?? 'HEAD', agentSha);
    status = updateStatus(plan, snapshot, progress.view, 'git', { skippedBefore: progress.skippedGates, warnings });
  } else {
    status = updateStatus(plan, snapshot, clusterEvidence(plan, snapshot), 'cluster', { warnings });
  }
  io.stdout(flags.json ? stableJson(status) : formatStatus(status, io));
  if (flags.exitCode) setExit(status.verdict === 'passed' ? 0 : status.verdict === 'failed' ? 1 : 3);
}

/**
 * The update to report on when `--target` is not given: the one the phase commits name (newest
 * first), because Git holds the intent while the cluster may not have caught up (a dump still at
 * the old version would otherwise read as "already deployed"). A live target newer than Git's
 * means the repository's update is an older one and someone moved on: the live one is shown.
 */
export function targetFromGit(flagTarget: string | undefined, trailers: readonly PhaseCommit[], snapshot: ClusterSnapshot): { target: string | undefined; warnings: string[] } {
  if (flagTarget !== undefined) return { target: flagTarget, warnings: [] };
  const fromGit = trailers[0]?.target;
  if (fromGit === undefined) return { target: undefined, warnings: [] };
  const live = snapshot.openStackVersions.length === 1 ? str(at(snapshot.openStackVersions[0], 'spec.targetVersion')) : undefined;
  if (live !== undefined && live !== fromGit && (compareReleaseVersions(live, fromGit) ?? 0) > 0) {
    return { target: undefined, warnings: [`the newest phase commits are for ${fromGit}, older than the live spec.targetVersion ${live}: showing ${live}`] };
  }
  return { target: fromGit, warnings: [] };
}
