/**
 * What Argo CD says it applied (conventions d3): the Application's sync revision when Synced, else
 * the last sync that succeeded, trusted once health was assessed after that sync finished.
 */
import { at, conditionsOf, str } from '../../status/snapshot.js';
import type { AgentRevision } from '../types.js';

const SHA = /^[0-9a-f]{40}$|^[0-9a-f]{64}$/;

export function argoRevision(obj: unknown): AgentRevision {
  const syncRev = str(at(obj, 'status.sync.revision')) ?? str(at(obj, 'status.operationState.syncResult.revision')) ?? '';
  const shown = syncRev;
  const sha = SHA.test(syncRev) ? syncRev : undefined;
  // d3.2: these conditions mean the application cannot be trusted at all
  const bad = conditionsOf(obj).find((c) => c.type === 'ComparisonError' || c.type === 'InvalidSpecError');
  if (bad) return { sha, notYet: `Application ${bad.type}: ${bad.message ?? ''}`.trim(), failure: undefined, shown };
  const op = at(obj, 'status.operationState');
  const finishedAt = str(at(op, 'finishedAt'));
  // a failed sync that Argo CD will try again (automated syncs retry 5 times by default, 5 s
  // doubling to 3 min): the operation stays Running, its message the cause and "Retrying attempt
  // #N at <time>"; the operation ends Failed only when the retries are spent
  const retries = Number(at(op, 'retryCount') ?? 0);
  if (str(at(op, 'phase')) === 'Running' && retries > 0) {
    const rev = str(at(op, 'operation.sync.revision')) ?? syncRev;
    return { sha: undefined, notYet: `sync of ${rev.slice(0, 12) || 'the revision'} failed, Argo CD retries: ${str(at(op, 'message')) ?? ''}`.trim(), failure: undefined, shown };
  }
  // d3.3: a sync in progress
  if (at(obj, 'operation') !== undefined || op === undefined || !finishedAt) {
    return { sha: undefined, notYet: 'a sync is in progress', failure: undefined, shown };
  }
  const phase = str(at(op, 'phase'));
  const opRev = str(at(op, 'syncResult.revision'));
  if ((phase === 'Failed' || phase === 'Error') && opRev !== undefined) {
    return { sha: SHA.test(opRev) ? opRev : sha, notYet: undefined, failure: `sync ${phase}: ${str(at(op, 'message')) ?? ''}`.trim(), shown };
  }
  // status.sync.revision is the commit Argo CD last compared with, synced or not: with automated
  // sync off (or not run yet) it names our new commit while the cluster still holds the old one
  // (real Argo CD v3.2: OutOfSync, revision the new commit, operationState the old sync). What was
  // applied then is the last sync that succeeded.
  const syncStatus = str(at(obj, 'status.sync.status'));
  let applied = sha;
  if (syncStatus !== 'Synced') {
    applied = phase === 'Succeeded' && opRev !== undefined && SHA.test(opRev) ? opRev : undefined;
    // the gate judges ancestry on what was applied: an older sync that holds our commit still counts
    if (!applied) return { sha: undefined, notYet: `${syncStatus ?? 'sync status unknown'} at ${syncRev ? syncRev.slice(0, 12) : 'no revision'}, nothing synced yet`, failure: undefined, shown };
  }
  // d3.1: health assessed before the operation finished is not trusted
  const reconciledAt = str(at(obj, 'status.reconciledAt'));
  if (!reconciledAt || Date.parse(reconciledAt) < Date.parse(finishedAt)) {
    return { sha: applied, notYet: 'status not refreshed since the last sync finished', failure: undefined, shown };
  }
  if (!applied) return { sha: applied, notYet: 'nothing synced yet', failure: undefined, shown };
  return { sha: applied, notYet: undefined, failure: undefined, shown };
}

/**
 * What the Application says that holds no gate but the user must hear: SharedResourceWarning,
 * another Application applying one of our objects. Real Argo CD v3.2 with selfHeal on both takes
 * the object back and forth (the OpenStackVersion's targetVersion flipping between the two
 * Applications' versions) while each phase's gate can still pass.
 */
export function argoWarnings(obj: unknown): string[] {
  return conditionsOf(obj)
    .filter((c) => c.type === 'SharedResourceWarning')
    .map((c) => `SharedResourceWarning: ${c.message ?? ''} (another Application applies the same object; with selfHeal on both they undo each other's changes)`);
}
