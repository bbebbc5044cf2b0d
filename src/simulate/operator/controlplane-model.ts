/**
 * What the operator knows about the OpenStackControlPlane's services: which spec key enables each
 * one, which images it runs, and the labels `ControlplaneContainerImageMatch` reports (facts §4.2 g).
 */
import { SERVICE_ENABLED_DEFAULTS } from '../../inputs/controlplane.js';
import { backendMapOf, imageOf } from './images.js';
import { isRecord } from './conditions.js';
import type { KubeObject } from './types.js';

export interface ControlPlaneService {
  /** The label in the operator's mismatch message. */
  readonly label: string;
  /** `spec.<key>.enabled`; null for services that are always deployed (openstackclient). */
  readonly specKey: string | null;
  readonly fields: readonly string[];
  /** Per-backend maps compared key by key (every key the version has). */
  readonly maps?: readonly string[];
}

export const CONTROLPLANE_SERVICES: readonly ControlPlaneService[] = [
  { label: 'Barbican', specKey: 'barbican', fields: ['barbicanAPIImage', 'barbicanKeystoneListenerImage', 'barbicanWorkerImage'] },
  { label: 'Cinder', specKey: 'cinder', fields: ['cinderAPIImage', 'cinderBackupImage', 'cinderSchedulerImage'], maps: ['cinderVolumeImages'] },
  {
    label: 'Designate',
    specKey: 'designate',
    fields: ['designateAPIImage', 'designateBackendbind9Image', 'designateCentralImage', 'designateMdnsImage', 'designateProducerImage', 'designateUnboundImage', 'designateWorkerImage'],
  },
  { label: 'Dnsmasq', specKey: 'dns', fields: ['infraDnsmasqImage'] },
  { label: 'Galera', specKey: 'galera', fields: ['mariadbImage'] },
  { label: 'Glance', specKey: 'glance', fields: ['glanceAPIImage'] },
  { label: 'Heat', specKey: 'heat', fields: ['heatAPIImage', 'heatCfnapiImage', 'heatEngineImage'] },
  { label: 'Horizon', specKey: 'horizon', fields: ['horizonImage'] },
  {
    label: 'Ironic',
    specKey: 'ironic',
    fields: ['ironicAPIImage', 'ironicConductorImage', 'ironicInspectorImage', 'ironicNeutronAgentImage', 'ironicPxeImage', 'ironicPythonAgentImage'],
  },
  { label: 'Keystone', specKey: 'keystone', fields: ['keystoneAPIImage'] },
  { label: 'Manila', specKey: 'manila', fields: ['manilaAPIImage', 'manilaSchedulerImage'], maps: ['manilaShareImages'] },
  { label: 'Memcached', specKey: 'memcached', fields: ['infraMemcachedImage'] },
  { label: 'Redis', specKey: 'redis', fields: ['infraRedisImage'] },
  { label: 'Neutron', specKey: 'neutron', fields: ['neutronAPIImage'] },
  { label: 'Nova', specKey: 'nova', fields: ['novaAPIImage', 'novaComputeImage', 'novaConductorImage', 'novaNovncImage', 'novaSchedulerImage'] },
  {
    label: 'Octavia',
    specKey: 'octavia',
    fields: ['octaviaAPIImage', 'octaviaApacheImage', 'octaviaHealthmanagerImage', 'octaviaHousekeepingImage', 'octaviaRsyslogImage', 'octaviaWorkerImage'],
  },
  { label: 'OpenstackClient', specKey: null, fields: ['openstackClientImage'] },
  { label: 'OVNController', specKey: 'ovn', fields: ['ovnControllerImage', 'ovnControllerOvsImage'] },
  { label: 'OVNNorth', specKey: 'ovn', fields: ['ovnNorthdImage'] },
  { label: 'OVNDbCluster', specKey: 'ovn', fields: ['ovnNbDbclusterImage', 'ovnSbDbclusterImage'] },
  { label: 'Placement', specKey: 'placement', fields: ['placementAPIImage'] },
  { label: 'Rabbitmq', specKey: 'rabbitmq', fields: ['rabbitmqImage'] },
  { label: 'Swift', specKey: 'swift', fields: ['swiftAccountImage', 'swiftContainerImage', 'swiftObjectImage', 'swiftProxyImage'] },
  {
    label: 'Telemetry',
    specKey: 'telemetry',
    fields: [
      'aodhAPIImage', 'aodhEvaluatorImage', 'aodhListenerImage', 'aodhNotifierImage', 'ceilometerCentralImage',
      'ceilometerComputeImage', 'ceilometerIpmiImage', 'ceilometerNotificationImage', 'ceilometerProxyImage', 'ceilometerSgcoreImage',
    ],
  },
  { label: 'Watcher', specKey: 'watcher', fields: ['watcherAPIImage', 'watcherApplierImage', 'watcherDecisionEngineImage'] },
];

/** The staged infrastructure steps of a minor update (facts §5), in order. */
export interface InfraStep {
  readonly name: 'rabbitmq' | 'galera' | 'memcached' | 'keystone';
  readonly specKey: string;
  readonly fields: readonly string[];
  /** Control plane condition the version controller reads. */
  readonly controlPlaneCondition: string;
  /** Version condition the control plane waits for before the next step. */
  readonly versionCondition: string;
}

export const INFRA_STEPS: readonly InfraStep[] = [
  { name: 'rabbitmq', specKey: 'rabbitmq', fields: ['rabbitmqImage'], controlPlaneCondition: 'OpenStackControlPlaneRabbitMQReady', versionCondition: 'MinorUpdateRabbitMQ' },
  { name: 'galera', specKey: 'galera', fields: ['mariadbImage'], controlPlaneCondition: 'OpenStackControlPlaneMariaDBReady', versionCondition: 'MinorUpdateMariaDB' },
  { name: 'memcached', specKey: 'memcached', fields: ['infraMemcachedImage'], controlPlaneCondition: 'OpenStackControlPlaneMemcachedReady', versionCondition: 'MinorUpdateMemcached' },
  { name: 'keystone', specKey: 'keystone', fields: ['keystoneAPIImage'], controlPlaneCondition: 'OpenStackControlPlaneKeystoneAPIReady', versionCondition: 'MinorUpdateKeystone' },
];

export const OVN_READY_CONDITION = 'OpenStackControlPlaneOVNReady';
/** The images the OVNController CR takes in the first phase; the version compares the first two. */
export const OVN_CONTROLLER_IMAGES: readonly string[] = ['ovnControllerImage', 'ovnControllerOvsImage', 'openstackNetworkExporterImage'];

/** `spec.<key>.enabled`, with the CRD default when unset. */
export function serviceEnabled(controlPlane: KubeObject, specKey: string | null): boolean {
  if (specKey === null) return true;
  const section = controlPlane.spec?.[specKey];
  const enabled = isRecord(section) ? section['enabled'] : undefined;
  return typeof enabled === 'boolean' ? enabled : (SERVICE_ENABLED_DEFAULTS[specKey] ?? false);
}

/** Labels of enabled services whose control plane images differ from the version's (facts §4.2 g). */
export function controlPlaneImageMismatches(controlPlane: KubeObject, versionImages: unknown): string[] {
  const cpImages = controlPlane.status?.['containerImages'];
  const out: string[] = [];
  for (const svc of CONTROLPLANE_SERVICES) {
    if (!serviceEnabled(controlPlane, svc.specKey)) continue;
    let differs = svc.fields.some((f) => imageOf(cpImages, f) !== imageOf(versionImages, f));
    for (const m of svc.maps ?? []) {
      const want = backendMapOf(versionImages, m);
      const have = backendMapOf(cpImages, m);
      if (Object.keys(want).some((k) => have[k] !== want[k])) differs = true;
    }
    if (differs) out.push(svc.label);
  }
  return out;
}
