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
import type { AdvanceFlags } from './options.js';

export { addAdvanceOptions, type AdvanceFlags } from './options.js';

export async function advanceContext(flags: AdvanceFlags, io: CliIo, log: (l: string) => void) {
  if (flags.fromFiles !== undefined) throw new OsvError('USAGE', '--from-files is for status only: advance must read the live cluster before it commits');
  // flags first: a bad one must stop us before the cluster is read
  const date = flags.date !== undefined ? parseIsoDate(flags.date) : undefined;
  const path = flags.path !== undefined ? safeRelativePath('--path', flags.path) : undefined;
  if (flags.branch !== undefined) parseGitRef(flags.branch, '--branch');
  if (flags.remote !== undefined) parseGitRef(flags.remote, '--remote');
  const versionFile = flags.versionFile !== undefined ? safeRelativePath('--version-file', flags.versionFile) : undefined;
  const deploymentsDir = flags.deploymentsDir !== undefined ? safeRelativePath('--deployments-dir', flags.deploymentsDir) : undefined;
  if (deploymentsDir !== undefined && versionFile === undefined) throw new OsvError('USAGE', '--deployments-dir goes with --version-file');
  const update = loadUpdate(flags, io);
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
    repo: resolve(io.cwd, flags.repo!),
    engine: engineFlag(flags.engine),
    remote: flags.push === false ? (false as const) : (flags.remote ?? 'origin'),
    readSnapshot: source.read,
    log,
    ...(flags.branch ? { branch: flags.branch } : {}),
    ...(path !== undefined ? { path } : {}),
    ...(versionFile !== undefined ? { versionFile: { path: versionFile, ...(deploymentsDir !== undefined ? { deploymentsDir } : {}) } } : {}),
    ...(date !== undefined ? { date } : {}),
    ...(flags.skipGate?.length ? { skipGates: flags.skipGate } : {}),
    ...(approveInstallPlan ? { approveInstallPlan } : {}),
  };
  return { update, source, options };
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
      return `${paint(io, 'green', 'done')}: ${s.reason}\n`;
    case 'waiting':
      return `${approvedLine(r, io)}${paint(io, 'yellow', 'waiting')} in ${s.phase} (${phaseOfText(s.phaseNumber, s.phaseCount)}): ${s.reason}\n`;
    case 'failed':
      return `${paint(io, 'red', 'failed')} in ${s.phase}: ${s.reason}\n`;
  }
}

/** The action of `osv-gitops advance` (its flags and help are registered in commands.ts). */
export async function advanceAction(flags: AdvanceFlags, io: CliIo, setExit: (code: number) => void): Promise<void> {
  const { update, options, source } = await advanceContext(flags, io, (l) => io.stderr(`${l}\n`));
  const { advanceWithEvents } = await import('../advance/events.js');
  const r = await advanceWithEvents(update, options, source.reader);
  io.stdout(flags.json ? stableJson({ outcome: r.outcome, committed: r.committed ?? null, pushed: r.pushed, branch: r.branch, ...(r.approvedInstallPlan ? { approvedInstallPlan: r.approvedInstallPlan } : {}), status: r.status }) : describeStep(r, io));
  setExit(r.exitCode);
}
