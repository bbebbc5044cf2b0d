/**
 * Who applies the live OpenStackVersion today, read from the marks the agents leave on it (each
 * agent knows its own: `src/agents/<engine>/api.ts`). When that is another Application or
 * Kustomization than the one our commits go through, a phase commit would give the object two
 * owners: with self-heal on both they undo each other's `targetVersion` (measured on real Argo CD
 * v3.2: 7–11 flips in one update).
 */
import { agentsWithStatus, statusOf } from '../agents/index.js';
import type { AgentEngine, MarkStrength } from '../agents/types.js';
import { at, str, type AgentView, type KubeObject } from './snapshot.js';

export interface LiveOwner {
  readonly engine: AgentEngine;
  /** As the agent writes it: `name` or `namespace_name` (Argo CD apps in any namespace), or `namespace/name` (Flux). */
  readonly shown: string;
  /** The mark it was read from, for the message. */
  readonly mark: string;
}

const STRENGTHS: readonly MarkStrength[] = ['tracking', 'label', 'shared'];

/** The agent that applied `obj`, when it left a mark; undefined for objects applied by hand. */
export function liveOwnerOf(obj: KubeObject): LiveOwner | undefined {
  const marks = agentsWithStatus().flatMap(({ engine, status }) => status.ownerMarks(obj).map((m) => ({ engine, ...m })));
  // the surest mark wins: a tracking id over an agent's label over a label other tools write too
  const owner = STRENGTHS.map((s) => marks.find((m) => m.strength === s)).find((m) => m !== undefined);
  return owner && { engine: owner.engine, shown: owner.shown, mark: owner.mark };
}

/** Does the mark name this agent object? */
function isAgent(owner: LiveOwner, agent: AgentView): boolean {
  return owner.engine === agent.engine && statusOf(owner.engine).names(owner.shown, agent);
}

/**
 * Why committing through `agent` would make a second owner of the live OpenStackVersion, or
 * undefined when it would not (no agent named, no mark, or the mark names that agent).
 */
export function secondLiveOwner(osv: KubeObject | undefined, agent: AgentView | undefined): string | undefined {
  if (!osv || !agent) return undefined;
  const owner = liveOwnerOf(osv);
  if (!owner || isAgent(owner, agent)) return undefined;
  const name = str(at(osv, 'metadata.name')) ?? '?';
  return `the live OpenStackVersion ${name} is applied by ${statusOf(owner.engine).objectKind} ${owner.shown} (${owner.mark}), not by ${statusOf(agent.engine).objectKind} ${agent.namespace}/${agent.name} that our commits go through; both would own it and undo each other's targetVersion`;
}
