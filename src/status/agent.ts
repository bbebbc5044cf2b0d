/**
 * Reading the GitOps agent's status back (conventions d3 for Argo CD, d8 for Flux): which revision
 * it has applied, and whether that statement can be trusted yet.
 */
import { at, condition, conditionsOf, freshness, str, type AgentView } from './snapshot.js';

export interface AgentRevision {
  /** The commit the agent applied, when it reports one it has finished applying. */
  readonly sha: string | undefined;
  /** Why the revision cannot be used yet (sync running, health untrusted, stale status). */
  readonly notYet: string | undefined;
  /** A failure the agent reports for that revision. */
  readonly failure: string | undefined;
  /** The revision text as the agent wrote it, for messages. */
  readonly shown: string;
}

const SHA = /^[0-9a-f]{40}$|^[0-9a-f]{64}$/;

/** `main@sha1:<sha>`, `sha1:<sha>` or the older `main/<sha>` (Flux revision formats). */
export function parseFluxRevision(revision: string): string | undefined {
  const m = /(?:^|@)sha(?:1|256):([0-9a-f]{40,64})$/.exec(revision) ?? /^[^@]*\/([0-9a-f]{40})$/.exec(revision);
  return m?.[1];
}

function fluxRevision(obj: unknown): AgentRevision {
  const shown = str(at(obj, 'status.lastAppliedRevision')) ?? '';
  const sha = shown ? parseFluxRevision(shown) : undefined;
  const ready = condition(obj, 'Ready');
  const generation = freshness(obj).generation;
  // d8: the Ready condition must be about the current generation (its own observedGeneration, else the object's)
  const observed = ready?.observedGeneration ?? freshness(obj).observed;
  if (generation === undefined || observed === undefined || observed !== generation) {
    return { sha, notYet: `Kustomization generation ${generation ?? '?'} not reconciled yet (observed ${observed ?? 'none'})`, failure: undefined, shown };
  }
  const stalled = condition(obj, 'Stalled');
  if (stalled?.status === 'True') return { sha, notYet: undefined, failure: `Kustomization stalled: ${stalled.message ?? stalled.reason ?? ''}`.trim(), shown };
  if (!sha) return { sha, notYet: shown ? `cannot read revision "${shown}"` : 'nothing applied yet', failure: undefined, shown };
  return { sha, notYet: undefined, failure: undefined, shown };
}

function argoRevision(obj: unknown): AgentRevision {
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

export function agentRevision(agent: AgentView): AgentRevision | undefined {
  if (!agent.object) return undefined;
  return agent.engine === 'flux' ? fluxRevision(agent.object) : argoRevision(agent.object);
}

/**
 * What the agent object says that holds no gate but the user must hear: Argo CD's
 * SharedResourceWarning, another Application applying one of our objects. Real Argo CD v3.2 with
 * selfHeal on both takes the object back and forth (the OpenStackVersion's targetVersion flipping
 * between the two Applications' versions) while each phase's gate can still pass.
 */
export function agentWarnings(agent: AgentView | undefined): string[] {
  if (!agent?.object || agent.engine !== 'argocd') return [];
  return conditionsOf(agent.object)
    .filter((c) => c.type === 'SharedResourceWarning')
    .map((c) => `${agentLabel(agent)} SharedResourceWarning: ${c.message ?? ''} (another Application applies the same object; with selfHeal on both they undo each other's changes)`);
}

export function agentLabel(agent: AgentView): string {
  return `${agent.engine === 'flux' ? 'Kustomization' : 'Application'} ${agent.namespace}/${agent.name}`;
}
