/**
 * The agents' directories-mode wiring, by engine. Kept apart from the registry (index.ts) because
 * it brings cdk8s: only `render` reaches it, so `plan` and `status --from-files` stay light.
 */
import { argoWiring } from './argocd/wiring.js';
import { fluxWiring } from './flux/wiring.js';
import { plainWiring } from './plain/wiring.js';
import type { AgentWiring, Engine } from './types.js';

const WIRING: Readonly<Record<Engine, AgentWiring>> = { argocd: argoWiring, flux: fluxWiring, plain: plainWiring };

export function wiringFor(engine: Engine): AgentWiring {
  return WIRING[engine];
}
