/**
 * Annotations our renderer sets on the `OpenStackVersion` object so that one Argo CD health script
 * can gate every phase of a minor update (conventions d2). Annotations are metadata: changing
 * them does not bump `metadata.generation`, and the operator leaves them alone.
 */

/** Prefix of every annotation osv-gitops owns. */
export const ANNOTATION_PREFIX = 'osv-gitops.io/';

/**
 * The `OpenStackVersion` condition type the current phase waits for, e.g.
 * `MinorUpdateControlplane`. The Argo CD script defaults to `Ready` when it is absent.
 */
export const HEALTH_GATE_ANNOTATION = `${ANNOTATION_PREFIX}health-gate`;

/** The `spec.targetVersion` the update moves to; the health script waits for the live spec to match. */
export const TARGET_VERSION_ANNOTATION = `${ANNOTATION_PREFIX}target-version`;

/** Gate used when the health-gate annotation is missing. */
export const DEFAULT_HEALTH_GATE = 'Ready';

/** Condition types of `OpenStackVersion` a phase may wait for (facts §4.1). */
export const OPENSTACK_VERSION_GATES = [
  'MinorUpdateOVNControlplane',
  'MinorUpdateOVNDataplane',
  'MinorUpdateControlplane',
  'MinorUpdateDataplane',
  'Ready',
] as const;

export type OpenStackVersionGate = (typeof OPENSTACK_VERSION_GATES)[number];

export function isOpenStackVersionGate(value: string): value is OpenStackVersionGate {
  return (OPENSTACK_VERSION_GATES as readonly string[]).includes(value);
}
