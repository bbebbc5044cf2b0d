/**
 * The registry of GitOps agents: the one place that knows which engines exist. Each agent lives
 * in `src/agents/<engine>/` behind `api.ts` (see types.ts); adding one (Kargo, Rancher Fleet) is a
 * new folder plus its line here and in wiring.ts.
 */
import { OsvError } from '../errors.js';
import { argocd } from './argocd/api.js';
import { flux } from './flux/api.js';
import { plain } from './plain/api.js';
import type { Agent, AgentEngine, AgentStatusReader, Engine, RehearsalModel } from './types.js';

export type { Agent, AgentEngine, Engine } from './types.js';

/** In the order engines are listed in help and messages. */
const AGENTS: Readonly<Record<Engine, Agent>> = { flux, argocd, plain };

/** Every `--engine` id. */
export const ENGINES = Object.keys(AGENTS) as readonly Engine[];

export function agentFor(engine: Engine): Agent {
  return AGENTS[engine];
}

/** The agents that have an object to read back. */
export function agentsWithStatus(): { engine: AgentEngine; status: AgentStatusReader }[] {
  return ENGINES.flatMap((engine) => {
    const status = AGENTS[engine].status;
    return status && engine !== 'plain' ? [{ engine, status }] : [];
  });
}

/** The engine itself when it has an agent object to read back (`--agent NS/NAME` means it), else undefined. */
export function withAgentObject(engine: Engine): AgentEngine | undefined {
  return agentsWithStatus().find((a) => a.engine === engine)?.engine;
}

/** The status reader of an engine that has an agent object. */
export function statusOf(engine: AgentEngine): AgentStatusReader {
  const status = AGENTS[engine].status;
  if (!status) throw new Error(`agent ${engine} has no status reader`);
  return status;
}

export function isEngine(value: string): value is Engine {
  return ENGINES.some((e) => e === value);
}

/** Validates an `--engine` value (default flux). */
export function engineOf(value: string | undefined): Engine {
  const e = value ?? 'flux';
  if (!isEngine(e)) throw new OsvError('USAGE', `--engine must be ${listed(ENGINES)}, not "${e}"`);
  return e;
}

/** The engines that `simulate` can rehearse: those with an agent object and a rehearsal model. */
export const REHEARSED_ENGINES: readonly AgentEngine[] = agentsWithStatus()
  .map((a) => a.engine)
  .filter((e) => AGENTS[e].rehearsal !== undefined);

/** Validates `simulate --engine` (default flux). */
export function rehearsedEngineOf(value: string | undefined): AgentEngine {
  const e = value ?? 'flux';
  const found = REHEARSED_ENGINES.find((x) => x === e);
  if (found === undefined) throw new OsvError('USAGE', `--engine must be ${listed(REHEARSED_ENGINES)}, not "${e}"`);
  return found;
}

/** The simulated agent of an engine, loaded on demand (it brings the Kubernetes client and the Lua VM). */
export async function rehearsalOf(engine: Engine): Promise<RehearsalModel> {
  const load = AGENTS[engine].rehearsal;
  if (!load) throw new OsvError('USAGE', `${AGENTS[engine].title} has no rehearsal model: simulate takes ${listed(REHEARSED_ENGINES)}`);
  return load();
}

/** `a, b or c`, for messages. */
export function listed(engines: readonly Engine[]): string {
  return engines.length < 2 ? engines.join('') : `${engines.slice(0, -1).join(', ')} or ${engines[engines.length - 1]!}`;
}
