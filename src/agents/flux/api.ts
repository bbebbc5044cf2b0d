/**
 * Flux: Kustomizations apply our folders (commits mode: the user's Kustomization; directories
 * mode: one per phase chained by `dependsOn`), CEL health-check expressions judge the OpenStack
 * kinds, and `lastAppliedRevision` with a current Ready condition says what was applied.
 */
import { FLUX_KUSTOMIZATION } from '../../cluster/resources.js';
import type { KubeObject } from '../../status/snapshot.js';
import type { Agent, OwnerMark } from '../types.js';
import { stringMap } from '../marks.js';
import { fluxRevision } from './applied.js';

export const FLUX_NAME_LABEL = 'kustomize.toolkit.fluxcd.io/name';
export const FLUX_NAMESPACE_LABEL = 'kustomize.toolkit.fluxcd.io/namespace';

function ownerMarks(obj: KubeObject): OwnerMark[] {
  const labels = stringMap(obj, 'labels');
  const name = labels[FLUX_NAME_LABEL];
  return name ? [{ shown: `${labels[FLUX_NAMESPACE_LABEL] ?? '?'}/${name}`, mark: `labels ${FLUX_NAMESPACE_LABEL}/${FLUX_NAME_LABEL}`, strength: 'label' }] : [];
}

export const flux: Agent = {
  engine: 'flux',
  title: 'Flux',
  keepOnRemoval: { 'kustomize.toolkit.fluxcd.io/prune': 'Disabled' },
  status: {
    objectKind: 'Kustomization',
    objectType: FLUX_KUSTOMIZATION,
    defaultNamespace: 'flux-system',
    readApplied: fluxRevision,
    warnings: () => [],
    ownerMarks,
    names: (shown, agent) => shown === `${agent.namespace}/${agent.name}`,
  },
  rehearsal: async () => (await import('./rehearsal.js')).fluxRehearsal,
};
