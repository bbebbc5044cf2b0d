/**
 * The image fields of `OpenStackVersion` (the operator's `ContainerTemplate`, JSON names), who
 * consumes each one, and through which EDPM variable the data plane gets it.
 *
 * Facts: openstack-operator-facts §1.4 (table of every image field). The set of names is checked
 * against the CRD in `crds/` by a test, so a new operator release that adds a field fails loudly.
 */

export interface ImageFieldInfo {
  /** Service label used to group the image diff (the operator's own labels where it has one). */
  readonly service: string;
  /** True when an OpenStackControlPlane service takes this image from `status.containerImages`. */
  readonly controlPlane: boolean;
  /**
   * How the data plane gets it: an `edpm_*_image` inventory variable, `baremetal:<field>` for the
   * OpenStackBaremetalSet, `ansible-runner` for the AEE job image, or null when it never reaches nodes.
   */
  readonly edpm: string | null;
}

/** Scalar image fields of `spec.customContainerImages` / `status.containerImages`. */
export const IMAGE_FIELDS = {
  agentImage: { service: 'baremetal', controlPlane: false, edpm: 'baremetal:agentImageUrl' },
  ansibleeeImage: { service: 'ansibleee', controlPlane: false, edpm: 'ansible-runner' },
  aodhAPIImage: { service: 'telemetry', controlPlane: true, edpm: null },
  aodhEvaluatorImage: { service: 'telemetry', controlPlane: true, edpm: null },
  aodhListenerImage: { service: 'telemetry', controlPlane: true, edpm: null },
  aodhNotifierImage: { service: 'telemetry', controlPlane: true, edpm: null },
  apacheImage: { service: 'octavia', controlPlane: true, edpm: 'baremetal:apacheImageUrl' },
  barbicanAPIImage: { service: 'barbican', controlPlane: true, edpm: null },
  barbicanKeystoneListenerImage: { service: 'barbican', controlPlane: true, edpm: null },
  barbicanWorkerImage: { service: 'barbican', controlPlane: true, edpm: null },
  ceilometerCentralImage: { service: 'telemetry', controlPlane: true, edpm: null },
  ceilometerComputeImage: { service: 'telemetry', controlPlane: true, edpm: 'edpm_telemetry_ceilometer_compute_image' },
  ceilometerIpmiImage: { service: 'telemetry', controlPlane: true, edpm: 'edpm_telemetry_ceilometer_ipmi_image' },
  ceilometerNotificationImage: { service: 'telemetry', controlPlane: true, edpm: null },
  ceilometerSgcoreImage: { service: 'telemetry', controlPlane: true, edpm: null },
  ceilometerMysqldExporterImage: { service: 'telemetry', controlPlane: true, edpm: null },
  cinderAPIImage: { service: 'cinder', controlPlane: true, edpm: null },
  cinderBackupImage: { service: 'cinder', controlPlane: true, edpm: null },
  cinderSchedulerImage: { service: 'cinder', controlPlane: true, edpm: null },
  cloudkittyAPIImage: { service: 'telemetry', controlPlane: true, edpm: null },
  cloudkittyProcImage: { service: 'telemetry', controlPlane: true, edpm: null },
  designateAPIImage: { service: 'designate', controlPlane: true, edpm: null },
  designateBackendbind9Image: { service: 'designate', controlPlane: true, edpm: null },
  designateCentralImage: { service: 'designate', controlPlane: true, edpm: null },
  designateMdnsImage: { service: 'designate', controlPlane: true, edpm: null },
  designateProducerImage: { service: 'designate', controlPlane: true, edpm: null },
  designateUnboundImage: { service: 'designate', controlPlane: true, edpm: null },
  designateWorkerImage: { service: 'designate', controlPlane: true, edpm: null },
  edpmFrrImage: { service: 'frr', controlPlane: false, edpm: 'edpm_frr_image' },
  edpmIscsidImage: { service: 'iscsid', controlPlane: false, edpm: null },
  edpmLogrotateCrondImage: { service: 'logrotate', controlPlane: false, edpm: 'edpm_logrotate_crond_image' },
  edpmMultipathdImage: { service: 'multipathd', controlPlane: false, edpm: null },
  edpmNeutronDhcpAgentImage: { service: 'neutron', controlPlane: false, edpm: 'edpm_neutron_dhcp_image' },
  edpmNeutronMetadataAgentImage: { service: 'neutron', controlPlane: false, edpm: 'edpm_neutron_metadata_agent_image' },
  edpmNeutronOvnAgentImage: { service: 'neutron', controlPlane: false, edpm: 'edpm_neutron_ovn_agent_image' },
  edpmNeutronSriovAgentImage: { service: 'neutron', controlPlane: false, edpm: 'edpm_neutron_sriov_image' },
  edpmOvnBgpAgentImage: { service: 'ovn', controlPlane: false, edpm: 'edpm_ovn_bgp_agent_image' },
  edpmNodeExporterImage: { service: 'telemetry', controlPlane: false, edpm: 'edpm_telemetry_node_exporter_image' },
  edpmKeplerImage: { service: 'telemetry', controlPlane: false, edpm: 'edpm_telemetry_kepler_image' },
  edpmPodmanExporterImage: { service: 'telemetry', controlPlane: false, edpm: 'edpm_telemetry_podman_exporter_image' },
  edpmOpenstackNetworkExporterImage: { service: 'ovn', controlPlane: false, edpm: null },
  openstackNetworkExporterImage: { service: 'ovn', controlPlane: true, edpm: 'edpm_telemetry_openstack_network_exporter_image' },
  glanceAPIImage: { service: 'glance', controlPlane: true, edpm: null },
  heatAPIImage: { service: 'heat', controlPlane: true, edpm: null },
  heatCfnapiImage: { service: 'heat', controlPlane: true, edpm: null },
  heatEngineImage: { service: 'heat', controlPlane: true, edpm: null },
  horizonImage: { service: 'horizon', controlPlane: true, edpm: null },
  infraDnsmasqImage: { service: 'dnsmasq', controlPlane: true, edpm: null },
  infraMemcachedImage: { service: 'memcached', controlPlane: true, edpm: null },
  infraRedisImage: { service: 'redis', controlPlane: true, edpm: null },
  ironicAPIImage: { service: 'ironic', controlPlane: true, edpm: null },
  ironicConductorImage: { service: 'ironic', controlPlane: true, edpm: null },
  ironicInspectorImage: { service: 'ironic', controlPlane: true, edpm: null },
  ironicNeutronAgentImage: { service: 'ironic', controlPlane: true, edpm: null },
  ironicPxeImage: { service: 'ironic', controlPlane: true, edpm: null },
  ironicPythonAgentImage: { service: 'ironic', controlPlane: true, edpm: null },
  keystoneAPIImage: { service: 'keystone', controlPlane: true, edpm: null },
  ksmImage: { service: 'telemetry', controlPlane: true, edpm: null },
  manilaAPIImage: { service: 'manila', controlPlane: true, edpm: null },
  manilaSchedulerImage: { service: 'manila', controlPlane: true, edpm: null },
  mariadbImage: { service: 'galera', controlPlane: true, edpm: null },
  netUtilsImage: { service: 'designate', controlPlane: true, edpm: null },
  neutronAPIImage: { service: 'neutron', controlPlane: true, edpm: null },
  novaAPIImage: { service: 'nova', controlPlane: true, edpm: null },
  novaComputeImage: { service: 'nova', controlPlane: true, edpm: 'edpm_nova_compute_image' },
  novaConductorImage: { service: 'nova', controlPlane: true, edpm: null },
  novaNovncImage: { service: 'nova', controlPlane: true, edpm: null },
  novaSchedulerImage: { service: 'nova', controlPlane: true, edpm: null },
  octaviaAPIImage: { service: 'octavia', controlPlane: true, edpm: null },
  octaviaHealthmanagerImage: { service: 'octavia', controlPlane: true, edpm: null },
  octaviaHousekeepingImage: { service: 'octavia', controlPlane: true, edpm: null },
  octaviaWorkerImage: { service: 'octavia', controlPlane: true, edpm: null },
  octaviaRsyslogImage: { service: 'octavia', controlPlane: true, edpm: null },
  openstackClientImage: { service: 'instanceha', controlPlane: true, edpm: null },
  osContainerImage: { service: 'baremetal', controlPlane: false, edpm: 'baremetal:osContainerImageUrl' },
  ovnControllerImage: { service: 'ovn', controlPlane: true, edpm: 'edpm_ovn_controller_agent_image' },
  ovnControllerOvsImage: { service: 'ovn', controlPlane: true, edpm: null },
  ovnNbDbclusterImage: { service: 'ovn', controlPlane: true, edpm: null },
  ovnNorthdImage: { service: 'ovn', controlPlane: true, edpm: null },
  ovnSbDbclusterImage: { service: 'ovn', controlPlane: true, edpm: null },
  placementAPIImage: { service: 'placement', controlPlane: true, edpm: null },
  rabbitmqImage: { service: 'rabbitmq', controlPlane: true, edpm: null },
  swiftAccountImage: { service: 'swift', controlPlane: true, edpm: 'edpm_swift_account_image' },
  swiftContainerImage: { service: 'swift', controlPlane: true, edpm: 'edpm_swift_container_image' },
  swiftObjectImage: { service: 'swift', controlPlane: true, edpm: 'edpm_swift_object_image' },
  swiftProxyImage: { service: 'swift', controlPlane: true, edpm: 'edpm_swift_proxy_image' },
  telemetryNodeExporterImage: { service: 'telemetry', controlPlane: false, edpm: null },
  testTempestImage: { service: 'test', controlPlane: true, edpm: null },
  testTobikoImage: { service: 'test', controlPlane: true, edpm: null },
  testHorizontestImage: { service: 'test', controlPlane: true, edpm: null },
  testAnsibletestImage: { service: 'test', controlPlane: true, edpm: null },
  watcherAPIImage: { service: 'watcher', controlPlane: true, edpm: null },
  watcherApplierImage: { service: 'watcher', controlPlane: true, edpm: null },
  watcherDecisionEngineImage: { service: 'watcher', controlPlane: true, edpm: null },
} as const satisfies Record<string, ImageFieldInfo>;

export type ImageField = keyof typeof IMAGE_FIELDS;

/** Fields that exist only in `status.containerImages`; both are copied from `apacheImage` (facts §1.4). */
export const STATUS_ONLY_FIELDS = {
  octaviaApacheImage: { service: 'octavia', controlPlane: true, edpm: null },
  ceilometerProxyImage: { service: 'telemetry', controlPlane: true, edpm: null },
} as const satisfies Record<string, ImageFieldInfo>;

/** The per-backend maps; the key `default` always holds the RELATED_IMAGE default (facts §1.3). */
export const BACKEND_MAPS = {
  cinderVolumeImages: { service: 'cinder', controlPlane: true, edpm: null, defaultsField: 'cinderVolumeImage' },
  manilaShareImages: { service: 'manila', controlPlane: true, edpm: null, defaultsField: 'manilaShareImage' },
} as const;

export type BackendMap = keyof typeof BACKEND_MAPS;

/** Images the OVNController CR takes in the first update phase (facts §5): ovn, ovs, exporter. */
export const OVN_CONTROLLER_FIELDS: readonly string[] = [
  'ovnControllerImage',
  'ovnControllerOvsImage',
  'openstackNetworkExporterImage',
];

/** Deprecated fields: kept, shown, never rolled out (facts §1.4). */
export const DEPRECATED_FIELDS: readonly string[] = [
  'edpmIscsidImage',
  'edpmMultipathdImage',
  'edpmOpenstackNetworkExporterImage',
  'telemetryNodeExporterImage',
];

export function imageFieldInfo(field: string): ImageFieldInfo | undefined {
  if (Object.hasOwn(IMAGE_FIELDS, field)) return IMAGE_FIELDS[field as ImageField];
  if (Object.hasOwn(STATUS_ONLY_FIELDS, field)) return STATUS_ONLY_FIELDS[field as keyof typeof STATUS_ONLY_FIELDS];
  return undefined;
}

/** Go struct field name → JSON name. Only the CloudKitty fields differ from "lower-case first letter". */
const GO_NAME_EXCEPTIONS: Readonly<Record<string, string>> = {
  CloudKittyAPIImage: 'cloudkittyAPIImage',
  CloudKittyProcImage: 'cloudkittyProcImage',
};

export function jsonNameOfGoField(goName: string): string {
  return GO_NAME_EXCEPTIONS[goName] ?? goName.charAt(0).toLowerCase() + goName.slice(1);
}
