/**
 * The OpenStackControlPlane controller as a pure function (facts §5): on a target change it rolls
 * the OVN controller images, holds everything else until the data-plane OVN step is done, then
 * RabbitMQ → MariaDB → Memcached → Keystone (each waiting for the version's matching condition),
 * then the rest, and only then records `deployedVersion`. Each step takes a simulated duration.
 *
 * Simplifications: services are not real CRs; a step "runs" for its duration and then copies its
 * images from `OpenStackVersion.status.containerImages`. Ready is False for the whole minor update
 * (the real controller re-inits its conditions on every pass, so services not reconciled in that
 * pass leave Ready not True).
 */
import { ConditionSet, isRecord, isTrue, readConditions } from './conditions.js';
import { CONTROLPLANE_SERVICES, INFRA_STEPS, OVN_CONTROLLER_IMAGES, OVN_READY_CONDITION, serviceEnabled } from './controlplane-model.js';
import { imageOf } from './images.js';
import { advanceStep } from './steps.js';
import type { JsonObject, KubeObject, RunningStep, SimulatedDurations } from './types.js';
import { VERSION_CONDITIONS } from './reconcile-version.js';

export const VERSION_INIT_CONDITION = 'OpenStackControlPlaneOpenStackVersionInitializationReadyCondition';
const MSG_DONE = 'Setup complete';
const MSG_RUNNING = 'in progress';
const STAGE_MESSAGES: Readonly<Record<string, string>> = {
  'version-not-initialized': 'OpenStackVersion not initialized',
  held: 'minor update waiting for the data plane OVN update',
};

export interface ControlPlaneFaults {
  /** The last step leaves one image of an enabled service wrong, so `MinorUpdateControlplane` ends in Error. */
  readonly controlPlaneImageMismatch?: boolean;
}

export interface ReconcileControlPlaneInput {
  readonly controlPlane: KubeObject;
  /** The OpenStackVersion with the same name (its freshest status). */
  readonly version?: KubeObject | undefined;
  readonly now: number;
  readonly running?: RunningStep | undefined;
  readonly durations: SimulatedDurations;
  readonly faults?: ControlPlaneFaults;
}

export interface ReconcileControlPlaneResult {
  readonly status: JsonObject;
  readonly running: RunningStep | undefined;
  readonly wakeAt: number | undefined;
  /** The step this reconcile ended on, for logs: `ovn`, `held`, `rabbitmq`, …, `rest`, `normal`, `ready`. */
  readonly stage: string;
}

/** The field the image-mismatch fault leaves wrong: the first image of an enabled "rest" service. */
function mismatchField(controlPlane: KubeObject): string | undefined {
  const staged = new Set([...OVN_CONTROLLER_IMAGES, ...INFRA_STEPS.flatMap((s) => s.fields)]);
  for (const svc of CONTROLPLANE_SERVICES) {
    if (!serviceEnabled(controlPlane, svc.specKey)) continue;
    const f = svc.fields.find((x) => !staged.has(x));
    if (f !== undefined) return f;
  }
  return undefined;
}

/**
 * What "the rest" writes: every image of the version except those of disabled services (they run
 * nothing) and the one the fault keeps wrong.
 */
function desiredImages(controlPlane: KubeObject, current: JsonObject, versionImages: JsonObject, faultField: string | undefined): JsonObject {
  const disabled = new Set(CONTROLPLANE_SERVICES.filter((s) => !serviceEnabled(controlPlane, s.specKey)).flatMap((s) => [...s.fields, ...(s.maps ?? [])]));
  if (!serviceEnabled(controlPlane, 'ovn')) disabled.add('openstackNetworkExporterImage');
  const out: JsonObject = { ...current };
  for (const [k, v] of Object.entries(versionImages)) if (!disabled.has(k)) out[k] = structuredClone(v);
  if (faultField !== undefined) {
    const have = imageOf(current, faultField);
    out[faultField] = have !== undefined && have !== imageOf(versionImages, faultField) ? have : `sim.invalid/image-mismatch/${faultField}`;
  }
  return out;
}

export function reconcileControlPlane(input: ReconcileControlPlaneInput): ReconcileControlPlaneResult {
  const { controlPlane, version, now, durations } = input;
  const previousStatus: JsonObject = isRecord(controlPlane.status) ? controlPlane.status : {};
  const previous = readConditions(previousStatus);
  const status: JsonObject = { ...previousStatus };
  const conds = new ConditionSet(previous);
  let running: RunningStep | undefined;
  let wakeAt: number | undefined;
  if (controlPlane.metadata.generation !== undefined) status['observedGeneration'] = controlPlane.metadata.generation;

  const finish = (stage: string, ready = false): ReconcileControlPlaneResult => {
    if (ready) conds.markTrue('Ready', MSG_DONE);
    else conds.markFalse('Ready', 'Requested', 'Info', STAGE_MESSAGES[stage] ?? MSG_RUNNING);
    status['conditions'] = conds.finish(previous, now);
    return { status, running, wakeAt, stage };
  };
  /** Run `key` for `duration`; true once it is done in this reconcile. */
  const step = (key: string, duration: number): boolean => {
    const out = advanceStep(key, duration, input.running, now);
    running = out.running;
    wakeAt = out.wakeAt;
    return out.done;
  };

  if (version === undefined || !isTrue(version, 'Initialized')) {
    conds.markFalse(VERSION_INIT_CONDITION, 'Requested', 'Info', 'OpenStackVersion not initialized');
    return finish('version-not-initialized');
  }
  conds.markTrue(VERSION_INIT_CONDITION, MSG_DONE);

  const target = typeof version.spec?.['targetVersion'] === 'string' ? version.spec['targetVersion'] : '';
  const deployed = typeof previousStatus['deployedVersion'] === 'string' ? previousStatus['deployedVersion'] : undefined;
  const versionImages: JsonObject = isRecord(version.status?.['containerImages']) ? version.status['containerImages'] : {};
  const images: JsonObject = isRecord(previousStatus['containerImages']) ? { ...previousStatus['containerImages'] } : {};
  const faultField = input.faults?.controlPlaneImageMismatch ? mismatchField(controlPlane) : undefined;
  const ovnEnabled = serviceEnabled(controlPlane, 'ovn');
  const copy = (fields: readonly string[]): void => {
    for (const f of fields) {
      const v = imageOf(versionImages, f);
      if (v === undefined) delete images[f];
      else images[f] = v;
    }
    status['containerImages'] = images;
  };
  const fieldsMatch = (fields: readonly string[]): boolean => fields.every((f) => imageOf(images, f) === imageOf(versionImages, f));
  /** Every service condition True (or removed for a disabled service), as after a full pass. */
  const markAllReady = (): void => {
    if (ovnEnabled) conds.markTrue(OVN_READY_CONDITION, MSG_DONE);
    else conds.remove(OVN_READY_CONDITION);
    for (const s of INFRA_STEPS) {
      if (serviceEnabled(controlPlane, s.specKey)) conds.markTrue(s.controlPlaneCondition, MSG_DONE);
      else conds.remove(s.controlPlaneCondition);
    }
  };

  // normal path: greenfield, or the target is already deployed (custom images apply at once, unstaged)
  if (deployed === undefined || deployed === target) {
    const desired = desiredImages(controlPlane, images, versionImages, faultField);
    const upToDate = JSON.stringify(desired) === JSON.stringify(images) && deployed !== undefined && isTrue(controlPlane, 'Ready');
    if (upToDate) {
      markAllReady();
      return finish('ready', true);
    }
    if (!step(`${target}/normal`, durations.controlPlaneRest)) return finish('normal');
    status['containerImages'] = desired;
    markAllReady();
    status['deployedVersion'] = target;
    return finish('ready', true);
  }

  // minor update path
  if (!isTrue(version, VERSION_CONDITIONS.ovnControlplane)) {
    status['deployedOVNVersion'] = target;
    if (ovnEnabled && (!fieldsMatch(OVN_CONTROLLER_IMAGES) || !isTrue(controlPlane, OVN_READY_CONDITION))) {
      if (!step(`${target}/ovn`, durations.ovnControlPlane)) {
        conds.markFalse(OVN_READY_CONDITION, 'Requested', 'Info', MSG_RUNNING);
        return finish('ovn');
      }
      copy(OVN_CONTROLLER_IMAGES);
      conds.markTrue(OVN_READY_CONDITION, MSG_DONE);
    }
    // nothing runs now: every sub-condition is True, so Ready mirrors them (an Argo CD wave waits on it)
    return finish('ovn', true);
  }
  if (ovnEnabled) conds.markTrue(OVN_READY_CONDITION, MSG_DONE);
  // held until the data-plane OVN step is done; the services keep running their old images, Ready
  if (!isTrue(version, VERSION_CONDITIONS.ovnDataplane)) return finish('held', true);

  for (const s of INFRA_STEPS) {
    if (!serviceEnabled(controlPlane, s.specKey)) {
      // the operator removes the condition of a disabled service; the version then waits forever (facts §4.2)
      conds.remove(s.controlPlaneCondition);
    } else if (!fieldsMatch(s.fields) || !isTrue(controlPlane, s.controlPlaneCondition)) {
      if (!step(`${target}/${s.name}`, durations[s.name])) {
        conds.markFalse(s.controlPlaneCondition, 'Requested', 'Info', MSG_RUNNING);
        return finish(s.name);
      }
      copy(s.fields);
      conds.markTrue(s.controlPlaneCondition, MSG_DONE);
    }
    if (!isTrue(version, s.versionCondition)) return finish(s.name);
  }

  if (!step(`${target}/rest`, durations.controlPlaneRest)) return finish('rest');
  status['containerImages'] = desiredImages(controlPlane, images, versionImages, faultField);
  markAllReady();
  status['deployedVersion'] = target;
  return finish('ready', true);
}
