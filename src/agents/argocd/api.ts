/**
 * Argo CD: Applications apply our folders (commits mode: the user's Application; directories
 * mode: an app-of-apps with one Application per phase), Lua health checks judge the OpenStack
 * kinds, and the Application's sync and operation state say what was applied.
 */
import { ARGOCD_APPLICATION } from '../../cluster/resources.js';
import type { KubeObject } from '../../status/snapshot.js';
import type { Agent, OwnerMark } from '../types.js';
import { stringMap } from '../marks.js';
import { argoRevision, argoWarnings } from './applied.js';

/** Annotation tracking (the default since Argo CD 3.0): `<app>:<group>/<kind>:<namespace>/<name>`. */
export const ARGO_TRACKING_ID = 'argocd.argoproj.io/tracking-id';
/** Label tracking (the default before 3.0, still common; Helm writes the same label). */
export const ARGO_INSTANCE_LABEL = 'app.kubernetes.io/instance';

function ownerMarks(obj: KubeObject): OwnerMark[] {
  const marks: OwnerMark[] = [];
  const tracking = stringMap(obj, 'annotations')[ARGO_TRACKING_ID];
  // the app part is `<namespace>_<name>` for Applications outside the control namespace
  if (tracking && tracking.includes(':')) marks.push({ shown: tracking.slice(0, tracking.indexOf(':')), mark: `annotation ${ARGO_TRACKING_ID}`, strength: 'tracking' });
  const instance = stringMap(obj, 'labels')[ARGO_INSTANCE_LABEL];
  if (instance) marks.push({ shown: instance, mark: `label ${ARGO_INSTANCE_LABEL}`, strength: 'shared' });
  return marks;
}

export const argocd: Agent = {
  engine: 'argocd',
  title: 'Argo CD',
  keepOnRemoval: { 'argocd.argoproj.io/sync-options': 'Prune=false' },
  status: {
    objectKind: 'Application',
    objectType: ARGOCD_APPLICATION,
    defaultNamespace: 'argocd',
    readApplied: argoRevision,
    warnings: argoWarnings,
    ownerMarks,
    // Argo CD writes `name` in its own namespace and `namespace_name` elsewhere
    names: (shown, agent) => shown === agent.name || shown === `${agent.namespace}_${agent.name}`,
  },
  rehearsal: async () => (await import('./rehearsal.js')).argoRehearsal,
};
