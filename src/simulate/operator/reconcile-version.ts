/**
 * The OpenStackVersion controller as a pure function (facts §4.2): the stored object and what the
 * operator would read from the cluster in, the new status out.
 *
 * Left out on purpose: the finalizer (step 1; the simulator never deletes), `trackedCustomImages`
 * is kept but not used (the webhook is not simulated), and the owner reference.
 */
import { SKIP_CUSTOM_IMAGES_ANNOTATION } from '../../inputs/openstack-version.js';
import { ConditionSet, isRecord, isTrue, readConditions } from './conditions.js';
import {
  controlPlaneImageMismatches,
  INFRA_STEPS,
  OVN_READY_CONDITION,
  serviceEnabled,
} from './controlplane-model.js';
import { customImagesOf, imageOf, toContainerDefaults, versionContainerImages } from './images.js';
import { deploymentNodeSets, deploymentServices, lookupService, nodeCount, serviceCatalog } from './services.js';
import type { JsonObject, KubeObject } from './types.js';

export const VERSION_CONDITIONS = {
  initialized: 'Initialized',
  ovnControlplane: 'MinorUpdateOVNControlplane',
  ovnDataplane: 'MinorUpdateOVNDataplane',
  rabbitmq: 'MinorUpdateRabbitMQ',
  mariadb: 'MinorUpdateMariaDB',
  memcached: 'MinorUpdateMemcached',
  keystone: 'MinorUpdateKeystone',
  controlplane: 'MinorUpdateControlplane',
  dataplane: 'MinorUpdateDataplane',
  available: 'MinorUpdateAvailable',
} as const;

/** The eight conditions reset when an update starts, in the order the controller checks them. */
export const MINOR_UPDATE_CONDITIONS: readonly string[] = [
  VERSION_CONDITIONS.ovnControlplane,
  VERSION_CONDITIONS.ovnDataplane,
  VERSION_CONDITIONS.rabbitmq,
  VERSION_CONDITIONS.mariadb,
  VERSION_CONDITIONS.memcached,
  VERSION_CONDITIONS.keystone,
  VERSION_CONDITIONS.controlplane,
  VERSION_CONDITIONS.dataplane,
];

const MSG_INIT = 'not started';
const MSG_RUNNING = 'in progress';
const MSG_DONE = 'completed';
const MSG_AVAILABLE = 'update available';
const MSG_SETUP_COMPLETE = 'Setup complete';

/** Service defaults the operator records per version (facts §1.2). */
export const SERVICE_DEFAULTS: Readonly<Record<string, string>> = {
  glanceLocationAPI: 'false',
  glanceWsgi: 'true',
  manilaSharev1: 'true',
  rabbitmqVersion: '4.2',
};

export interface ReconcileVersionInput {
  readonly version: KubeObject;
  /** The OpenStackControlPlane with the same name, if any. */
  readonly controlPlane?: KubeObject | undefined;
  readonly nodeSets: readonly KubeObject[];
  readonly deployments: readonly KubeObject[];
  /** OpenStackDataPlaneService objects of the namespace (the defaults fill in the rest). */
  readonly services: readonly KubeObject[];
  /** version → containerImages defaults (the CSV's RELATED_IMAGE_* map for that version). */
  readonly defaults: Readonly<Record<string, Readonly<Record<string, unknown>>>>;
  /** The operator's OPENSTACK_RELEASE_VERSION. */
  readonly availableVersion: string;
  /** Epoch milliseconds. */
  readonly now: number;
}

export interface ReconcileVersionResult {
  readonly status: JsonObject;
  /** Annotations the controller deletes from metadata (a metadata write, not a status write). */
  readonly removeAnnotations: readonly string[];
  /** Where this reconcile returned: a condition type, a gate name, or `done`. */
  readonly stoppedAt: string;
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v : undefined;
}

/** `containerImageVersionDefaults[v]`, falling back to the defaults the simulator was given. */
function defaultsFor(
  recorded: Readonly<Record<string, unknown>>,
  given: ReconcileVersionInput['defaults'],
  version: string,
): Readonly<Record<string, string>> | undefined {
  const r = recorded[version] ?? given[version];
  return r === undefined ? undefined : toContainerDefaults(r);
}

/** `DataplaneNodesetsOVNControllerImagesMatch` (facts §4.3). */
function nodeSetsOvnImagesMatch(nodeSets: readonly KubeObject[], versionImages: unknown): boolean {
  const want = imageOf(versionImages, 'ovnControllerImage');
  for (const ns of nodeSets) {
    if (ns.metadata.generation !== ns.status?.['observedGeneration']) return false;
    const recorded = isRecord(ns.status?.['containerImages']) ? str(ns.status['containerImages']['OvnControllerImage']) : undefined;
    if (nodeCount(ns) > 0 && recorded !== undefined && recorded !== want) return false;
  }
  return true;
}

/** `DataplaneNodesetsDeployed` (facts §4.3). */
function nodeSetsDeployed(nodeSets: readonly KubeObject[], target: string): boolean {
  for (const ns of nodeSets) {
    if (ns.metadata.generation !== ns.status?.['observedGeneration']) return false;
    if (nodeCount(ns) === 0) continue;
    if (!isTrue(ns, 'Ready') || ns.status?.['deployedVersion'] !== target) return false;
  }
  return true;
}

/** `IsDataplaneDeploymentRunningForServiceType` (facts §4.3). */
export function deploymentRunningForServiceType(
  deployments: readonly KubeObject[],
  nodeSets: readonly KubeObject[],
  services: readonly KubeObject[],
  serviceType: string,
): boolean {
  const catalog = serviceCatalog(services);
  for (const d of deployments) {
    if (d.status?.['deployed'] === true) continue;
    for (const name of deploymentNodeSets(d)) {
      const ns = nodeSets.find((n) => n.metadata.name === name);
      if (ns === undefined || nodeCount(ns) === 0) continue;
      if (deploymentServices(d, ns).some((s) => lookupService(catalog, s).edpmServiceType === serviceType)) return true;
    }
  }
  return false;
}

export function reconcileVersion(input: ReconcileVersionInput): ReconcileVersionResult {
  const { version, controlPlane, nodeSets, availableVersion, now } = input;
  const previousStatus: JsonObject = isRecord(version.status) ? version.status : {};
  const previous = readConditions(previousStatus);
  const status: JsonObject = { ...previousStatus };
  const target = str(version.spec?.['targetVersion']) ?? '';
  const deployedBefore = str(previousStatus['deployedVersion']);
  const removeAnnotations: string[] = [];

  // step 2: Conditions.Init — Ready and Initialized reset, other stored conditions kept
  const conds = new ConditionSet(previous);
  conds.markUnknown('Ready', MSG_INIT);
  conds.markUnknown(VERSION_CONDITIONS.initialized, MSG_INIT);
  const updating = deployedBefore !== undefined && target !== deployedBefore;
  if (updating) for (const t of MINOR_UPDATE_CONDITIONS) conds.markUnknown(t, MSG_INIT);

  const finish = (stoppedAt: string): ReconcileVersionResult => {
    conds.mirrorReady(MSG_SETUP_COMPLETE); // deferred in the real controller: runs on every return
    status['conditions'] = conds.finish(previous, now);
    return { status, removeAnnotations, stoppedAt };
  };

  // step 3
  if (version.metadata.generation !== undefined) status['observedGeneration'] = version.metadata.generation;

  // step 4: the image bookkeeping
  conds.markFalse(VERSION_CONDITIONS.initialized, 'Requested', 'Info', MSG_RUNNING);
  status['availableVersion'] = availableVersion;
  const recorded: JsonObject = isRecord(previousStatus['containerImageVersionDefaults'])
    ? { ...previousStatus['containerImageVersionDefaults'] }
    : {};
  const available = input.defaults[availableVersion];
  if (available !== undefined) recorded[availableVersion] = toContainerDefaults(available);
  status['containerImageVersionDefaults'] = recorded;
  const targetDefaults = defaultsFor(recorded, input.defaults, target);
  if (targetDefaults === undefined) {
    conds.markFalse(
      VERSION_CONDITIONS.initialized,
      'Error',
      'Warning',
      `error occured target version ${target} has no container image defaults`,
    );
    return finish(VERSION_CONDITIONS.initialized);
  }
  const versionImages = versionContainerImages(targetDefaults, customImagesOf(version.spec));
  status['containerImages'] = versionImages;
  const tracked = isRecord(previousStatus['trackedCustomImages']) ? { ...previousStatus['trackedCustomImages'] } : {};
  tracked[target] = isRecord(version.spec?.['customContainerImages']) ? version.spec['customContainerImages'] : {};
  status['trackedCustomImages'] = tracked;
  const serviceDefaults = isRecord(previousStatus['availableServiceDefaults']) ? { ...previousStatus['availableServiceDefaults'] } : {};
  serviceDefaults[availableVersion] = { ...SERVICE_DEFAULTS };
  status['availableServiceDefaults'] = serviceDefaults;
  status['serviceDefaults'] = isRecord(serviceDefaults[target]) ? serviceDefaults[target] : {};
  conds.markTrue(VERSION_CONDITIONS.initialized, MSG_SETUP_COMPLETE);

  // step 5: the control plane with the same name
  if (controlPlane === undefined) return finish('controlplane-missing');

  // step 7: greenfield gate
  const cpDeployed = str(controlPlane.status?.['deployedVersion']);
  const allNodeSetsDeployed = nodeSets.every((ns) => str(ns.status?.['deployedVersion']) !== undefined);
  if (cpDeployed === undefined && !allNodeSetsDeployed) return finish('greenfield');

  // step 8: the minor update block; each step returns while it is not done
  if (updating) {
    const cpImages = controlPlane.status?.['containerImages'];
    const imagesMatch = (fields: readonly string[]): boolean => fields.every((f) => imageOf(cpImages, f) === imageOf(versionImages, f));
    const running = (type: string): ReconcileVersionResult => {
      conds.markFalse(type, 'Requested', 'Info', MSG_RUNNING);
      return finish(type);
    };
    const ovnEnabled = serviceEnabled(controlPlane, 'ovn');

    // a
    if (ovnEnabled && (!imagesMatch(['ovnControllerImage', 'ovnControllerOvsImage']) || !isTrue(controlPlane, OVN_READY_CONDITION))) {
      return running(VERSION_CONDITIONS.ovnControlplane);
    }
    conds.markTrue(VERSION_CONDITIONS.ovnControlplane, MSG_DONE);

    // b
    if (ovnEnabled) {
      if (!nodeSetsOvnImagesMatch(nodeSets, versionImages)) return running(VERSION_CONDITIONS.ovnDataplane);
      const deployedDefaults = defaultsFor(recorded, input.defaults, deployedBefore);
      const sameOvnImage = imageOf(deployedDefaults, 'ovnControllerImage') === imageOf(versionImages, 'ovnControllerImage');
      if (sameOvnImage) {
        // the image did not change: the controller must see an ovn deployment run, then finish
        if (deploymentRunningForServiceType(input.deployments, nodeSets, input.services, 'ovn')) {
          return running(VERSION_CONDITIONS.ovnDataplane);
        }
        // True only once a run was seen (previous reason Requested). A previous True counts as seen
        // too: read literally the rule would flip the condition back to Init on the next reconcile
        // [inferred; the facts do not cover the reconcile after it turned True].
        const before = previous.find((c) => c.type === VERSION_CONDITIONS.ovnDataplane);
        if (before?.reason !== 'Requested' && before?.status !== 'True') {
          conds.markFalse(VERSION_CONDITIONS.ovnDataplane, 'Init', 'Info', MSG_INIT);
          return finish(VERSION_CONDITIONS.ovnDataplane);
        }
      }
    }
    conds.markTrue(VERSION_CONDITIONS.ovnDataplane, MSG_DONE);

    // c–f: the image check is skipped for a disabled service, the condition check is not (facts §4.2 edge case)
    const infraConditions = [VERSION_CONDITIONS.rabbitmq, VERSION_CONDITIONS.mariadb, VERSION_CONDITIONS.memcached, VERSION_CONDITIONS.keystone];
    for (const [i, step] of INFRA_STEPS.entries()) {
      const type = infraConditions[i] as string;
      const imageOk = !serviceEnabled(controlPlane, step.specKey) || imagesMatch(step.fields);
      if (!imageOk || !isTrue(controlPlane, step.controlPlaneCondition)) return running(type);
      conds.markTrue(type, MSG_DONE);
    }

    // g
    if (!isTrue(controlPlane, 'Ready')) return running(VERSION_CONDITIONS.controlplane);
    const mismatched = controlPlaneImageMismatches(controlPlane, versionImages);
    if (mismatched.length > 0) {
      conds.markFalse(
        VERSION_CONDITIONS.controlplane,
        'Error',
        'Warning',
        `error occured Controlplane images do not match the target version for the following services: ${mismatched.join(', ')}`,
      );
      return finish(VERSION_CONDITIONS.controlplane);
    }
    conds.markTrue(VERSION_CONDITIONS.controlplane, MSG_DONE);

    // h
    if (!nodeSetsDeployed(nodeSets, target)) return running(VERSION_CONDITIONS.dataplane);
    conds.markTrue(VERSION_CONDITIONS.dataplane, MSG_DONE);
  }

  // step 9
  if (isTrue(controlPlane, 'Ready')) {
    status['deployedVersion'] = target;
    if (version.metadata.annotations?.[SKIP_CUSTOM_IMAGES_ANNOTATION] !== undefined) removeAnnotations.push(SKIP_CUSTOM_IMAGES_ANNOTATION);
  }
  // step 10
  const deployedNow = str(status['deployedVersion']);
  if (deployedNow !== undefined && availableVersion !== deployedNow) conds.markTrue(VERSION_CONDITIONS.available, MSG_AVAILABLE);
  else conds.remove(VERSION_CONDITIONS.available);
  return finish('done');
}
