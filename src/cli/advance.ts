/** `osv-gitops advance`: one step of the loop; commit and push the next phase once its gate passed. */
import { resolve } from 'node:path';
import type { AdvanceOptions, AdvanceResult } from '../advance/advance.js';
import { OsvError } from '../errors.js';
import { safeRelativePath } from '../fs/contained.js';
import { phaseOfText } from '../plan/numbering.js';
import { parseGitRef, parseIsoDate } from '../validate/grammar.js';
import { loadUpdate } from './inputs.js';
import { paint, stableJson, type CliIo } from './io.js';
import { engineFlag, snapshotSource, type SnapshotSource } from './loop-flags.js';
import { checkLayoutFlags, resolveLayoutFlags, versionFileOption } from './layout-flags.js';
import type { AdvanceFlags } from './options.js';
import type { PullRequestFlags } from './pull-request-flags.js';
import { forgeConfigFrom } from '../forge/create.js';
import type { ForgeConfig } from '../forge/types.js';
import { assertRemote } from '../git/land.js';
import { tryGit } from '../git/git.js';
import type { PullRequestStepOptions, PullRequestStepResult } from '../advance/pull-request.js';
import type { Forge } from '../forge/types.js';

export { addAdvanceOptions, type AdvanceFlags } from './options.js';

/** The forge configuration when `--pull-request` is on; the forge flags without it are a usage error. */
export async function pullRequestConfig(flags: PullRequestFlags & { readonly push?: boolean }, repo: string, remote: string): Promise<ForgeConfig | undefined> {
  const given = (['forge', 'forgeUrl', 'forgeRepo', 'forgeTokenEnv'] as const).filter((k) => flags[k] !== undefined);
  if (!flags.pullRequest) {
    if (given.length) throw new OsvError('USAGE', `--${given[0]!.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)} goes with --pull-request`);
    return undefined;
  }
  if (flags.push === false) throw new OsvError('USAGE', '--pull-request pushes the phase branch: it does not go with --no-push');
  await assertRemote(repo, remote);
  const url = (await tryGit(repo, ['remote', 'get-url', '--', remote]))?.trim();
  return forgeConfigFrom(flags, url);
}

export async function advanceContext(flags: AdvanceFlags & PullRequestFlags, io: CliIo, log: (l: string) => void) {
  if (flags.fromFiles !== undefined) throw new OsvError('USAGE', '--from-files is for status only: advance must read the live cluster before it commits');
  // flags first: a bad one must stop us before the cluster is read
  const date = flags.date !== undefined ? parseIsoDate(flags.date) : undefined;
  const path = flags.path !== undefined ? safeRelativePath('--path', flags.path) : undefined;
  if (flags.branch !== undefined) parseGitRef(flags.branch, '--branch');
  if (flags.remote !== undefined) parseGitRef(flags.remote, '--remote');
  checkLayoutFlags(flags);
  const forge = await pullRequestConfig(flags, resolve(io.cwd, flags.repo!), flags.remote ?? 'origin');
  const update = loadUpdate(flags, io);
  const repo = resolve(io.cwd, flags.repo!);
  const layout = await resolveLayoutFlags(repo, flags.branch, flags, update.plan);
  if (layout?.adopted !== undefined) log(layout.adopted);
  const ids = new Set(update.plan.phases.map((p) => p.id));
  for (const s of flags.skipGate ?? []) {
    if (!ids.has(s)) throw new OsvError('USAGE', `--skip-gate ${s}: no such phase`, { details: [...ids] });
  }
  if (flags.approveInstallplan && !update.plan.operatorUpgrade) {
    throw new OsvError('USAGE', '--approve-installplan goes with --subscription: the plan has no phase 0 operator');
  }
  const source = await snapshotSource(flags, io, flags.namespace ?? update.plan.namespace, log, update.plan.operatorUpgrade?.operatorNamespace);
  const approveInstallPlan = flags.approveInstallplan ? await installPlanApprover(source, Number(flags.requestTimeout ?? '10') * 1000) : undefined;
  const options: AdvanceOptions = {
    repo,
    engine: engineFlag(flags.engine),
    remote: flags.push === false ? (false as const) : (flags.remote ?? 'origin'),
    readSnapshot: source.read,
    log,
    ...(flags.branch ? { branch: flags.branch } : {}),
    ...(path !== undefined ? { path } : {}),
    ...versionFileOption(layout),
    ...(date !== undefined ? { date } : {}),
    ...(flags.skipGate?.length ? { skipGates: flags.skipGate } : {}),
    ...(approveInstallPlan ? { approveInstallPlan } : {}),
  };
  return { update, source, options, forge };
}

/** `advance`'s options for the pull-request step: the branch is the base the pull requests go into. */
export function pullRequestOptions(options: AdvanceOptions, forge: Forge): PullRequestStepOptions {
  const { branch, remote, pushAttempts: _attempts, afterCommit: _seam, ...rest } = options;
  return { ...rest, remote: remote === false ? 'origin' : remote, forge, ...(branch ? { base: branch } : {}) };
}

/** The pull request of a step, for --json. */
export function pullRequestJson(r: AdvanceResult): Record<string, unknown> {
  const { pullRequest: pr, statusErrors } = r as Partial<PullRequestStepResult>;
  return {
    ...(pr ? { pullRequest: { number: pr.number, url: pr.url, state: pr.state, branch: pr.branch, phase: pr.phase, action: pr.action } } : {}),
    ...(statusErrors?.length ? { statusErrors } : {}),
  };
}

/** `--approve-installplan`: the narrow, `test`ed patch of src/olm/cluster.ts, through the reader's kubeconfig. */
async function installPlanApprover(source: SnapshotSource, timeoutMs: number): Promise<NonNullable<AdvanceOptions['approveInstallPlan']>> {
  const reader = source.reader;
  if (!reader) throw new OsvError('USAGE', '--approve-installplan needs the cluster (not --from-files)');
  const { approveInstallPlan } = await import('../olm/cluster.js');
  return async (plan) => {
    await approveInstallPlan(reader.kc, plan, timeoutMs);
  };
}

function approvedLine(r: AdvanceResult, io: CliIo): string {
  const a = r.approvedInstallPlan;
  return a ? `${paint(io, 'green', 'approved')}: InstallPlan ${a.namespace}/${a.name} (${a.csvs.join(', ')})\n` : '';
}

export function describeStep(r: AdvanceResult, io: CliIo): string {
  const s = r.status;
  switch (r.outcome) {
    case 'advanced':
      return `${approvedLine(r, io)}${paint(io, 'green', 'advanced')}: committed ${r.committed?.phase ?? '(already in the tree)'} ${r.committed?.sha.slice(0, 12) ?? ''}${r.pushed ? `, pushed to ${r.branch}` : ''}\n  next gate: ${s.reason}\n`;
    case 'done':
      return `${paint(io, 'green', 'done')}: ${s.reason}\n  to retire it: osv-gitops cleanup, with the same plan and layout flags\n`;
    case 'waiting':
      return `${approvedLine(r, io)}${paint(io, 'yellow', 'waiting')} in ${s.phase} (${phaseOfText(s.phaseNumber, s.phaseCount)}): ${s.reason}\n`;
    case 'failed':
      return `${paint(io, 'red', 'failed')} in ${s.phase}: ${s.reason}\n`;
  }
}

/** The action of `osv-gitops advance` (its flags and help are registered in commands.ts). */
export async function advanceAction(flags: AdvanceFlags & PullRequestFlags, io: CliIo, setExit: (code: number) => void): Promise<void> {
  const log = (l: string) => io.stderr(`${l}\n`);
  const { update, options, source, forge } = await advanceContext(flags, io, log);
  let r: AdvanceResult;
  if (forge) {
    const [{ pullRequestStep }, { createForge }] = await Promise.all([import('../advance/pull-request.js'), import('../forge/create.js')]);
    r = await pullRequestStep(update, pullRequestOptions(options, await createForge(forge)));
  } else {
    const { advanceWithEvents } = await import('../advance/events.js');
    r = await advanceWithEvents(update, options, source.reader);
  }
  const approved = r.approvedInstallPlan ? { approvedInstallPlan: r.approvedInstallPlan } : {};
  io.stdout(flags.json ? stableJson({ outcome: r.outcome, committed: r.committed ?? null, pushed: r.pushed, branch: r.branch, ...approved, status: r.status, ...pullRequestJson(r) }) : describeStep(r, io));
  setExit(r.exitCode);
}
