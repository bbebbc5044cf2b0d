/**
 * What Flux says it applied (conventions d8): `status.lastAppliedRevision`, trusted once the
 * Ready condition is about the Kustomization's current generation.
 */
import { at, condition, freshness, str } from '../../status/snapshot.js';
import type { AgentRevision } from '../types.js';

/** `main@sha1:<sha>`, `sha1:<sha>` or the older `main/<sha>` (Flux revision formats). */
export function parseFluxRevision(revision: string): string | undefined {
  const m = /(?:^|@)sha(?:1|256):([0-9a-f]{40,64})$/.exec(revision) ?? /^[^@]*\/([0-9a-f]{40})$/.exec(revision);
  return m?.[1];
}

export function fluxRevision(obj: unknown): AgentRevision {
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
