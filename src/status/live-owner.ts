/**
 * Who applies the live OpenStackVersion today, read from the marks the agents leave on it. When
 * that is another Application or Kustomization than the one our commits go through, a phase
 * commit would give the object two owners: with self-heal on both they undo each other's
 * `targetVersion` (measured on real Argo CD v3.2: 7–11 flips in one update).
 */
import { at, rec, str, type AgentView, type KubeObject } from './snapshot.js';

/** Argo CD's annotation tracking (the default since Argo CD 3.0). */
const ARGO_TRACKING_ID = 'argocd.argoproj.io/tracking-id';
/** Argo CD's label tracking (the default before 3.0, still common). */
const ARGO_INSTANCE_LABEL = 'app.kubernetes.io/instance';
const FLUX_NAME_LABEL = 'kustomize.toolkit.fluxcd.io/name';
const FLUX_NAMESPACE_LABEL = 'kustomize.toolkit.fluxcd.io/namespace';

export interface LiveOwner {
  readonly engine: 'argocd' | 'flux';
  /** As the agent writes it: `name` or `namespace_name` (Argo CD apps in any namespace), or `namespace/name` (Flux). */
  readonly shown: string;
  /** The mark it was read from, for the message. */
  readonly mark: string;
}

function stringMap(v: unknown): Readonly<Record<string, string>> {
  const r = rec(v) ?? {};
  return Object.fromEntries(Object.entries(r).filter((e): e is [string, string] => typeof e[1] === 'string'));
}

/** The agent that applied `obj`, when it left a mark; undefined for objects applied by hand. */
export function liveOwnerOf(obj: KubeObject): LiveOwner | undefined {
  const annotations = stringMap(at(obj, 'metadata.annotations'));
  const labels = stringMap(at(obj, 'metadata.labels'));
  const tracking = annotations[ARGO_TRACKING_ID];
  // `<app>:<group>/<kind>:<namespace>/<name>`; the app part is `<namespace>_<name>` outside the control namespace
  if (tracking && tracking.includes(':')) return { engine: 'argocd', shown: tracking.slice(0, tracking.indexOf(':')), mark: `annotation ${ARGO_TRACKING_ID}` };
  const fluxName = labels[FLUX_NAME_LABEL];
  if (fluxName) return { engine: 'flux', shown: `${labels[FLUX_NAMESPACE_LABEL] ?? '?'}/${fluxName}`, mark: `labels ${FLUX_NAMESPACE_LABEL}/${FLUX_NAME_LABEL}` };
  const instance = labels[ARGO_INSTANCE_LABEL];
  if (instance) return { engine: 'argocd', shown: instance, mark: `label ${ARGO_INSTANCE_LABEL}` };
  return undefined;
}

/** Does the mark name this agent? Argo CD writes `name` in its own namespace and `namespace_name` elsewhere. */
function isAgent(owner: LiveOwner, agent: AgentView): boolean {
  if (owner.engine !== agent.engine) return false;
  if (owner.engine === 'flux') return owner.shown === `${agent.namespace}/${agent.name}`;
  return owner.shown === agent.name || owner.shown === `${agent.namespace}_${agent.name}`;
}

/**
 * Why committing through `agent` would make a second owner of the live OpenStackVersion, or
 * undefined when it would not (no agent named, no mark, or the mark names that agent).
 */
export function secondLiveOwner(osv: KubeObject | undefined, agent: AgentView | undefined): string | undefined {
  if (!osv || !agent) return undefined;
  const owner = liveOwnerOf(osv);
  if (!owner || isAgent(owner, agent)) return undefined;
  const kind = owner.engine === 'flux' ? 'Kustomization' : 'Application';
  const name = str(at(osv, 'metadata.name')) ?? '?';
  return `the live OpenStackVersion ${name} is applied by ${kind} ${owner.shown} (${owner.mark}), not by ${agent.engine === 'flux' ? 'Kustomization' : 'Application'} ${agent.namespace}/${agent.name} that our commits go through; both would own it and undo each other's targetVersion`;
}

