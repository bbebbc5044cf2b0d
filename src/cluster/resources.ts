/**
 * The Kubernetes resources osv-gitops reads and the rehearsal cluster serves: one table, so the
 * client, the simulated controllers and the rehearsal API server agree on group, version and plural.
 */

export interface ResourceType {
  readonly group: string; // '' for the core group
  readonly version: string;
  readonly kind: string;
  readonly plural: string;
  readonly namespaced: boolean;
  /** Has a `/status` subresource (spec and status written separately). */
  readonly statusSubresource: boolean;
}

export function apiVersionOf(t: ResourceType): string {
  return t.group ? `${t.group}/${t.version}` : t.version;
}

/** The URL path of a collection (namespaced when `namespace` is given). */
export function collectionPath(t: ResourceType, namespace?: string): string {
  const base = t.group ? `/apis/${t.group}/${t.version}` : `/api/${t.version}`;
  return t.namespaced && namespace !== undefined ? `${base}/namespaces/${namespace}/${t.plural}` : `${base}/${t.plural}`;
}

const crd = (group: string, version: string, kind: string, plural: string): ResourceType => ({
  group,
  version,
  kind,
  plural,
  namespaced: true,
  statusSubresource: true,
});

export const OPENSTACK_VERSION = crd('core.openstack.org', 'v1beta1', 'OpenStackVersion', 'openstackversions');
export const OPENSTACK_CONTROLPLANE = crd('core.openstack.org', 'v1beta1', 'OpenStackControlPlane', 'openstackcontrolplanes');
export const DATAPLANE_NODESET = crd('dataplane.openstack.org', 'v1beta1', 'OpenStackDataPlaneNodeSet', 'openstackdataplanenodesets');
export const DATAPLANE_DEPLOYMENT = crd('dataplane.openstack.org', 'v1beta1', 'OpenStackDataPlaneDeployment', 'openstackdataplanedeployments');
export const DATAPLANE_SERVICE = crd('dataplane.openstack.org', 'v1beta1', 'OpenStackDataPlaneService', 'openstackdataplaneservices');
export const CLUSTER_SERVICE_VERSION = crd('operators.coreos.com', 'v1alpha1', 'ClusterServiceVersion', 'clusterserviceversions');
export const INSTALL_PLAN = crd('operators.coreos.com', 'v1alpha1', 'InstallPlan', 'installplans');
export const SUBSCRIPTION = crd('operators.coreos.com', 'v1alpha1', 'Subscription', 'subscriptions');
export const FLUX_KUSTOMIZATION = crd('kustomize.toolkit.fluxcd.io', 'v1', 'Kustomization', 'kustomizations');
export const FLUX_GITREPOSITORY = crd('source.toolkit.fluxcd.io', 'v1', 'GitRepository', 'gitrepositories');
export const ARGOCD_APPLICATION = { ...crd('argoproj.io', 'v1alpha1', 'Application', 'applications'), statusSubresource: false };

/** Built-in kinds that rendered manifests contain (gate Jobs, their RBAC, the argocd-cm patch). */
export const CORE_TYPES: readonly ResourceType[] = [
  { group: '', version: 'v1', kind: 'Namespace', plural: 'namespaces', namespaced: false, statusSubresource: true },
  { group: '', version: 'v1', kind: 'ConfigMap', plural: 'configmaps', namespaced: true, statusSubresource: false },
  { group: '', version: 'v1', kind: 'Secret', plural: 'secrets', namespaced: true, statusSubresource: false },
  { group: '', version: 'v1', kind: 'ServiceAccount', plural: 'serviceaccounts', namespaced: true, statusSubresource: false },
  { group: 'batch', version: 'v1', kind: 'Job', plural: 'jobs', namespaced: true, statusSubresource: true },
  { group: 'rbac.authorization.k8s.io', version: 'v1', kind: 'Role', plural: 'roles', namespaced: true, statusSubresource: false },
  { group: 'rbac.authorization.k8s.io', version: 'v1', kind: 'RoleBinding', plural: 'rolebindings', namespaced: true, statusSubresource: false },
];

export const OPENSTACK_TYPES: readonly ResourceType[] = [
  OPENSTACK_VERSION,
  OPENSTACK_CONTROLPLANE,
  DATAPLANE_NODESET,
  DATAPLANE_DEPLOYMENT,
  DATAPLANE_SERVICE,
];

/** Everything the rehearsal cluster serves. */
export const ALL_TYPES: readonly ResourceType[] = [
  ...OPENSTACK_TYPES,
  CLUSTER_SERVICE_VERSION,
  INSTALL_PLAN,
  SUBSCRIPTION,
  FLUX_KUSTOMIZATION,
  FLUX_GITREPOSITORY,
  ARGOCD_APPLICATION,
  ...CORE_TYPES,
];

export function typeOfKind(apiVersion: string, kind: string): ResourceType | undefined {
  return ALL_TYPES.find((t) => apiVersionOf(t) === apiVersion && t.kind === kind);
}
