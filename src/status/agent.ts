/**
 * Reading the GitOps agent's status back (conventions d3 for Argo CD, d8 for Flux): which revision
 * it has applied, and whether that statement can be trusted yet. Each agent's own reading lives in
 * its folder (`src/agents/<engine>/applied.ts`); this is the view the gates use.
 */
import { statusOf } from '../agents/index.js';
import type { AgentRevision } from '../agents/types.js';
import type { AgentView } from './snapshot.js';

export type { AgentRevision } from '../agents/types.js';
export { parseFluxRevision } from '../agents/flux/applied.js';

export function agentRevision(agent: AgentView): AgentRevision | undefined {
  if (!agent.object) return undefined;
  return statusOf(agent.engine).readApplied(agent.object);
}

/** What the agent object says that holds no gate but the user must hear (Argo CD's SharedResourceWarning). */
export function agentWarnings(agent: AgentView | undefined): string[] {
  if (!agent?.object) return [];
  return statusOf(agent.engine)
    .warnings(agent.object)
    .map((w) => `${agentLabel(agent)} ${w}`);
}

export function agentLabel(agent: AgentView): string {
  return `${statusOf(agent.engine).objectKind} ${agent.namespace}/${agent.name}`;
}
