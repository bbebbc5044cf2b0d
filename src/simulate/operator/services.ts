/**
 * Data-plane services as the operator sees them: the OpenStackDataPlaneService objects of the
 * namespace, else the operator's default service definitions (facts §6.3; the update-related
 * files are copied in reference-data/openstack-operator/services/, a test checks this table
 * against them).
 */
import { DEFAULT_NODESET_SERVICES } from '../../inputs/nodesets.js';
import { isRecord } from './conditions.js';
import type { KubeObject, ServiceDefinition } from './types.js';

const def = (name: string, containerImageFields: readonly string[] = [], edpmServiceType = name): ServiceDefinition => ({
  name,
  edpmServiceType,
  containerImageFields,
});

/** The operator's default services that matter to images and updates (facts §6.3). */
export const DEFAULT_SERVICES: ReadonlyMap<string, ServiceDefinition> = new Map(
  [
    def('ovn', ['OvnControllerImage']),
    def('update'),
    def('update-services'),
    def('update-system'),
    def('reboot-os'),
    def('neutron-metadata', ['EdpmNeutronMetadataAgentImage']),
    def('nova', ['NovaComputeImage']),
    def('telemetry', ['CeilometerComputeImage', 'EdpmNodeExporterImage']),
    def('neutron-ovn', ['EdpmNeutronOvnAgentImage']),
    def('ovn-bgp-agent', ['EdpmOvnBgpAgentImage']),
    def('neutron-sriov', ['EdpmNeutronSriovAgentImage']),
    def('neutron-dhcp', ['EdpmNeutronDhcpAgentImage']),
    def('frr', ['EdpmFrrImage']),
    def('run-os', ['EdpmLogrotateCrondImage']),
    def('telemetry-power-monitoring', ['CeilometerIpmiImage', 'EdpmKeplerImage']),
    def('swift', ['SwiftAccountImage', 'SwiftContainerImage', 'SwiftObjectImage', 'SwiftProxyImage']),
  ].map((s) => [s.name, s]),
);

/** A service object → its definition (the webhook defaults `edpmServiceType` to the name). */
export function serviceFromObject(obj: KubeObject): ServiceDefinition {
  const spec = obj.spec ?? {};
  const type = typeof spec['edpmServiceType'] === 'string' && spec['edpmServiceType'] !== '' ? spec['edpmServiceType'] : obj.metadata.name;
  const fields = Array.isArray(spec['containerImageFields'])
    ? spec['containerImageFields'].filter((f): f is string => typeof f === 'string')
    : [];
  return def(obj.metadata.name, fields, type);
}

/** Services by name: the namespace's objects over the defaults. */
export function serviceCatalog(objects: readonly KubeObject[]): ReadonlyMap<string, ServiceDefinition> {
  const out = new Map(DEFAULT_SERVICES);
  for (const o of objects) out.set(o.metadata.name, serviceFromObject(o));
  return out;
}

export function lookupService(catalog: ReadonlyMap<string, ServiceDefinition>, name: string): ServiceDefinition {
  return catalog.get(name) ?? def(name);
}

function stringList(v: unknown): string[] {
  return Array.isArray(v) ? v.filter((s): s is string => typeof s === 'string') : [];
}

/** A nodeset's `spec.services` (CRD default when absent). */
export function nodeSetServices(nodeSet: KubeObject | undefined): readonly string[] {
  const listed = stringList(nodeSet?.spec?.['services']);
  return listed.length > 0 ? listed : DEFAULT_NODESET_SERVICES;
}

/** The services a deployment runs on one nodeset: `servicesOverride` if non-empty, else the nodeset's. */
export function deploymentServices(deployment: KubeObject, nodeSet: KubeObject | undefined): readonly string[] {
  const override = stringList(deployment.spec?.['servicesOverride']);
  return override.length > 0 ? override : nodeSetServices(nodeSet);
}

export function deploymentNodeSets(deployment: KubeObject): readonly string[] {
  return stringList(deployment.spec?.['nodeSets']);
}

export function nodeCount(nodeSet: KubeObject): number {
  const nodes = nodeSet.spec?.['nodes'];
  return isRecord(nodes) ? Object.keys(nodes).length : 0;
}
