/**
 * inputs → images → plan. Pure: takes what the input stage read, returns the plan or throws a
 * policy error. The version policy is stricter than the operator's webhook (facts §2, §8.2–§8.3).
 */
import { createHash } from 'node:crypto';
import { OsvError } from '../errors.js';
import { computeContainerImages, defaultsFromEnv, type ContainerDefaults } from '../images/defaults.js';
import { diffImages, summarizeDiff, type ImageChange } from '../images/diff.js';
import { EMPTY_IMAGE_SET, imageSetsEqual, isEmptyImageSet, toSpecShape, type ImageSet } from '../images/image-set.js';
import type { ControlPlaneInput } from '../inputs/controlplane.js';
import type { CsvInput } from '../inputs/csv.js';
import type { ParsedImages } from '../inputs/custom-images.js';
import type { NodeSetInput } from '../inputs/nodesets.js';
import type { OpenStackVersionInput } from '../inputs/openstack-version.js';
import { assertDeploymentName } from './names.js';
import { operatorHold } from './operator-hold.js';
import { buildPhases } from './phases.js';
import { detectRelease, effectiveServiceDefaults, type DetectedRelease, type ReleaseEvidence } from './releases.js';
import { compareReleaseVersions, majorOf } from './versions.js';
import type { SubscriptionInput } from '../olm/subscription.js';
import { PLAN_API_VERSION, type OperatorUpgradeRecord, type PlanOptionsRecord, type PlanWarning, type ServiceDefaultChange, type UpdatePlan } from './types.js';

export interface PlanInputs {
  readonly csv?: CsvInput;
  readonly openStackVersion: OpenStackVersionInput;
  /** `--custom-images`: the complete custom images of the target (replaces the current ones). */
  readonly customImages?: ParsedImages;
  readonly nodeSets: readonly NodeSetInput[];
  readonly controlPlane?: ControlPlaneInput;
}

export interface PlanOptions {
  readonly target?: string;
  readonly namespace?: string;
  readonly dataplaneService?: 'update' | 'update-services';
  readonly ovnServices?: readonly string[];
  readonly updateSystem?: boolean;
  readonly reboot?: boolean;
  /** Nodeset batches for the data-plane phases, in order; nodesets not listed form a last batch. */
  readonly batches?: readonly (readonly string[])[];
  readonly skipCustomImagesValidation?: boolean;
  readonly attempt?: number;
  readonly namePrefix?: string;
  /** Start the plan with phase 0 `operator`: this Subscription pinned to the target CSV (`--csv`). */
  readonly operator?: OperatorPhaseOptions;
}

export interface OperatorPhaseOptions {
  readonly subscription: SubscriptionInput;
  /** `--channel`; default the Subscription's own. */
  readonly channel?: string;
}

/** Where OLM runs the operator when the Subscription file leaves the namespace to a kustomization. */
export const DEFAULT_OPERATOR_NAMESPACE = 'openstack-operators';

function operatorUpgradeRecord(op: OperatorPhaseOptions, inputs: PlanInputs): OperatorUpgradeRecord {
  if (!inputs.csv) {
    policy('USAGE', '--subscription needs --csv: phase 0 pins the Subscription to the target CSV', 'Pass the CSV of the release to update to (from the catalog bundle, or `oc get csv NAME -o yaml` after OLM resolved it).');
  }
  const channel = op.channel ?? op.subscription.channel;
  if (channel === undefined) policy('USAGE', 'the Subscription has no spec.channel; pass --channel', 'The channel that serves the target CSV in your catalog, e.g. stable-v1.0.');
  return {
    csv: inputs.csv.name,
    channel,
    subscription: op.subscription.name,
    operatorNamespace: op.subscription.namespace ?? DEFAULT_OPERATOR_NAMESPACE,
    ...(op.subscription.startingCSV !== undefined ? { fromCsv: op.subscription.startingCSV } : {}),
  };
}

function policy(code: ConstructorParameters<typeof OsvError>[0], message: string, hint?: string): never {
  throw new OsvError(code, message, hint ? { hint } : {});
}

interface TargetDefaults {
  readonly defaults: ContainerDefaults;
  readonly source: UpdatePlan['imageSource'];
  readonly warnings: PlanWarning[];
}

/** ` (from InstallPlan …, bundle …)` when the CSV came from an InstallPlan: the output says where the images came from. */
const originOf = (csv: CsvInput) => (csv.origin ? ` (from ${csv.origin})` : '');

function chooseTargetDefaults(inputs: PlanInputs, target: string, notes: string[]): TargetDefaults {
  const status = inputs.openStackVersion.status;
  const fromStatus = status?.containerImageVersionDefaults[target];
  const warnings: PlanWarning[] = [];
  const statusSource: TargetDefaults['source'] = {
    kind: 'openstackversion-status',
    detail: `status.containerImageVersionDefaults["${target}"] of OpenStackVersion/${inputs.openStackVersion.name}`,
  };
  if (inputs.csv && inputs.csv.releaseVersion === target) {
    // field names a newer operator already reports are accepted as fields
    const known = new Set(Object.values(status?.containerImageVersionDefaults ?? {}).flatMap((d) => Object.keys(d)));
    const computed = defaultsFromEnv(inputs.csv.imageEnv, known);
    for (const w of computed.warnings) {
      if (w.code === 'IMAGE_ENV_IGNORED') notes.push(w.message);
      else warnings.push({ code: w.code, message: w.message });
    }
    // the operator running this CSV already wrote its defaults with its own code (rules we may not know
    // yet included, e.g. PR #2038's one watcher image): that entry is the truth (facts §10)
    const published = fromStatus !== undefined && status?.availableVersion === target;
    if (fromStatus) {
      const names = [...new Set([...Object.keys(fromStatus), ...Object.keys(computed.defaults)])].sort();
      for (const f of names) {
        if (fromStatus[f] !== computed.defaults[f]) {
          warnings.push({
            code: 'DEFAULTS_MISMATCH',
            message: published
              ? `${f}: the operator reports ${fromStatus[f] ?? '(unset)'} for ${target}, recomputing from the CSV gives ${computed.defaults[f] ?? '(unset)'}; using the operator's (it computed them from the CSV it runs)`
              : `${f}: the CSV gives ${computed.defaults[f] ?? '(unset)'}, the operator reports ${fromStatus[f] ?? '(unset)'} for ${target}; using the CSV (the operator does not run it yet and rewrites its defaults once it does)`,
          });
        }
      }
    }
    if (published) {
      return { defaults: fromStatus, source: { kind: statusSource.kind, csv: inputs.csv.name, detail: `${statusSource.detail}, published by the operator running ${inputs.csv.name}${originOf(inputs.csv)}` }, warnings };
    }
    return {
      defaults: computed.defaults,
      source: {
        kind: 'csv',
        csv: inputs.csv.name,
        detail: `${inputs.csv.deployment}/${inputs.csv.container} env of ${inputs.csv.name}${originOf(inputs.csv)}`,
      },
      warnings,
    };
  }
  if (fromStatus) return { defaults: fromStatus, source: statusSource, warnings };
  return policy(
    'POLICY_NO_DEFAULTS',
    `no image defaults known for version ${target}`,
    inputs.csv
      ? `The CSV announces ${inputs.csv.releaseVersion}, not ${target}.`
      : 'Pass --csv with the operator CSV that announces this version, or an OpenStackVersion dump whose status already lists it.',
  );
}

/** The release that will run the update: the target CSV's, or without one what the operator's status shows. */
function releaseOf(inputs: PlanInputs, target: string): DetectedRelease {
  const status = inputs.openStackVersion.status;
  const published = status?.availableVersion === target ? status.availableServiceDefaults[target] : undefined;
  const csv = inputs.csv;
  const evidence: ReleaseEvidence = csv
    ? {
        versions: [csv.version, /\.v(\d[^/]*)$/.exec(csv.name)?.[1], csv.rawReleaseVersion].filter((v): v is string => v !== undefined),
        ...(csv.initOperator ? { initDeployment: csv.deployment } : {}),
        imageFields: new Set(Object.keys(defaultsFromEnv(csv.imageEnv).defaults)),
        ...(published ? { publishedServiceDefaults: published } : {}),
      }
    : {
        versions: [target],
        imageFields: new Set(Object.keys(status?.containerImageVersionDefaults[target] ?? {})),
        ...(published ? { publishedServiceDefaults: published } : {}),
      };
  return detectRelease(evidence);
}

/**
 * Service defaults as the target release's control plane acts on them: before the update it reads
 * `availableServiceDefaults[deployed]` (empty when the old operator published none), after it the
 * target's entry, published or from the release table (facts §1.2, §10).
 */
function serviceDefaultChanges(osv: OpenStackVersionInput, deployed: string, target: string, release: DetectedRelease): ServiceDefaultChange[] {
  const rules = release.rules;
  const st = osv.status;
  const publishedTarget = st?.availableServiceDefaults[target];
  const to = effectiveServiceDefaults(rules, publishedTarget ?? rules.serviceDefaults);
  const from = st ? effectiveServiceDefaults(rules, st.availableServiceDefaults[deployed] ?? {}) : undefined;
  return Object.keys(rules.serviceDefaultUses)
    .sort()
    .map((field) => {
      const use = rules.serviceDefaultUses[field]!;
      const before = from?.[field];
      return {
        service: use.service,
        field,
        change: before === undefined ? 'unknown' : before === to[field] ? 'unchanged' : 'changed',
        ...(before !== undefined ? { from: before } : {}),
        to: to[field]!,
        effect: use.effect,
        source: publishedTarget ? 'openstackversion-status' : 'release-rules',
      };
    });
}

function currentImages(osv: OpenStackVersionInput, deployed: string): { images: ImageSet; from: string } {
  const st = osv.status;
  if (st?.containerImages && osv.targetVersion === deployed) {
    return { images: st.containerImages, from: 'status.containerImages (live)' };
  }
  const defaults = st?.containerImageVersionDefaults[deployed];
  if (defaults) {
    const custom = st?.trackedCustomImages[deployed] ?? (osv.targetVersion === deployed ? osv.customImages : EMPTY_IMAGE_SET);
    return { images: computeContainerImages(defaults, custom), from: `status.containerImageVersionDefaults["${deployed}"] + custom images` };
  }
  return { images: EMPTY_IMAGE_SET, from: 'unknown (no status in the OpenStackVersion given)' };
}

function hasAnyCustomImage(set: ImageSet): boolean {
  return !isEmptyImageSet(set);
}

function sortedNodeSetBatches(nodeSets: readonly NodeSetInput[], batches: readonly (readonly string[])[] | undefined): string[][] {
  const withNodes = nodeSets.filter((n) => n.nodes.length > 0).map((n) => n.name);
  if (!batches || batches.length === 0) return withNodes.length ? [withNodes] : [];
  const known = new Set(nodeSets.map((n) => n.name));
  const used = new Set<string>();
  const out: string[][] = [];
  for (const b of batches) {
    const batch: string[] = [];
    for (const name of b) {
      if (!known.has(name)) {
        throw new OsvError('NODESET_UNKNOWN', `batch names nodeset "${name}", which is not among the nodesets given (${[...known].join(', ')})`);
      }
      if (used.has(name)) throw new OsvError('NODESET_UNKNOWN', `nodeset "${name}" is in two batches`);
      used.add(name);
      if (withNodes.includes(name)) batch.push(name);
    }
    if (batch.length) out.push(batch);
  }
  const rest = withNodes.filter((n) => !used.has(n));
  if (rest.length) out.push(rest);
  return out;
}

export function planId(plan: Omit<UpdatePlan, 'id'>): string {
  return createHash('sha256').update(JSON.stringify(plan)).digest('hex').slice(0, 16);
}

export function buildPlan(inputs: PlanInputs, opts: PlanOptions = {}): UpdatePlan {
  const osv = inputs.openStackVersion;
  const status = osv.status;
  const warnings: PlanWarning[] = [];
  const notes: string[] = [];
  for (const w of osv.warnings) warnings.push({ code: 'OSV_FIELD_IGNORED', message: w });
  if (inputs.csv) {
    for (const w of inputs.csv.warnings) warnings.push({ code: 'CSV', message: w });
    notes.push(...inputs.csv.notes);
  }

  // versions
  const deployedFrom = status?.deployedVersion !== undefined ? 'status.deployedVersion' : 'spec.targetVersion';
  const deployed = status?.deployedVersion ?? (status ? undefined : osv.targetVersion);
  if (deployed === undefined) {
    policy('POLICY_NOT_DEPLOYED', `OpenStackVersion/${osv.name} has no status.deployedVersion: nothing is deployed yet, so there is nothing to update`);
  }
  if (!status) notes.push(`No status in the OpenStackVersion given: the deployed version is taken from spec.targetVersion (${deployed}).`);
  const available = inputs.csv?.releaseVersion ?? status?.availableVersion;
  if (available === undefined) {
    policy('POLICY_NO_DEFAULTS', 'the available version is unknown', 'Pass --csv, or an OpenStackVersion dump with status.availableVersion.');
  }
  if (inputs.csv && status?.availableVersion !== undefined && status.availableVersion !== inputs.csv.releaseVersion) {
    warnings.push({
      code: 'OPERATOR_NOT_ROLLED',
      message: `the CSV announces ${inputs.csv.releaseVersion} but the operator reports availableVersion ${status.availableVersion}: ${opts.operator ? 'phase 0 installs it through OLM' : 'the preflight gate waits until the operator runs the new CSV'}`,
    });
  }
  const target = opts.target ?? available;
  const recorded = Object.keys(status?.containerImageVersionDefaults ?? {});
  if (target !== available && !recorded.includes(target)) {
    policy(
      'POLICY_TARGET_NOT_AVAILABLE',
      `target ${target} is not the available version ${available}${recorded.length ? ` nor a recorded one (${recorded.join(', ')})` : ''}`,
      'The webhook only accepts the available version or one listed in status.containerImageVersionDefaults (facts §2).',
    );
  }
  if (target === deployed) {
    policy('POLICY_NOTHING_TO_DO', `version ${target} is already deployed: nothing to update`);
  }
  const order = compareReleaseVersions(target, deployed);
  if (order === undefined) {
    policy('POLICY_ROLLBACK', `cannot order versions "${deployed}" and "${target}", so a rollback cannot be ruled out`, 'Versions must look like 18.0.1 or 19.0.0-1784642723.');
  }
  if (order < 0) {
    policy('POLICY_ROLLBACK', `target ${target} is older than the deployed ${deployed}: rollbacks are not supported`, 'The operator would run it, but OpenStack does not support going back (facts §8.3).');
  }
  if (majorOf(target) !== majorOf(deployed)) {
    policy('POLICY_MAJOR', `${deployed} → ${target} is a major update; only minor updates are supported`);
  }

  // the rules of the operator release that runs the update (facts §10)
  const release = releaseOf(inputs, target);
  const rules = release.rules;
  for (const w of release.warnings) warnings.push({ code: 'OPERATOR_RELEASE', message: w });

  // images
  const chosen = chooseTargetDefaults(inputs, target, notes);
  warnings.push(...chosen.warnings);
  const custom = inputs.customImages?.images ?? osv.customImages;
  if (inputs.customImages) for (const w of inputs.customImages.warnings) warnings.push({ code: 'CUSTOM_IMAGES', message: w });
  const targetImages = computeContainerImages(chosen.defaults, custom);
  const current = currentImages(osv, deployed);
  if (current.images === EMPTY_IMAGE_SET) {
    warnings.push({ code: 'CURRENT_IMAGES_UNKNOWN', message: 'the deployed images are unknown (no status given): every image shows as added' });
  }
  const ovnEnabled = inputs.controlPlane?.ovnEnabled ?? true;
  if (!inputs.controlPlane) notes.push('No OpenStackControlPlane given: OVN is assumed enabled (the CRD default).');
  const diff: ImageChange[] = diffImages(current.images, targetImages, ovnEnabled, rules.inventoryImages);
  const deployedDefaults = status?.containerImageVersionDefaults[deployed];
  const oldOvn = deployedDefaults?.['ovnControllerImage'] ?? current.images.fields['ovnControllerImage'];
  const ovnImageChanged = oldOvn === undefined || oldOvn !== targetImages.fields['ovnControllerImage'];

  // the webhook's custom-images rule (facts §2, §8.9); older releases have neither it nor the annotation
  const skip = (opts.skipCustomImagesValidation ?? false) && rules.trackedCustomImages;
  if (opts.skipCustomImagesValidation && !rules.trackedCustomImages) {
    warnings.push({ code: 'OPERATOR_RELEASE', message: `${rules.branch} has no custom-images validation: the skip-custom-images-validation annotation is not set, it would have no effect` });
  }
  if (hasAnyCustomImage(custom) && !skip && rules.trackedCustomImages) {
    const previous = status?.trackedCustomImages[osv.targetVersion] ?? osv.customImages;
    if (imageSetsEqual(previous, custom)) {
      policy(
        'POLICY_CUSTOM_IMAGES_UNCHANGED',
        `customContainerImages are set and identical to those of ${osv.targetVersion}; the operator webhook refuses a version change that keeps them`,
        'Pass --custom-images with the images for the new version (an empty file drops them), or --skip-custom-images-validation to keep them as they are.',
      );
    }
  }
  if (skip) notes.push('The skip-custom-images-validation annotation is set on the OpenStackVersion; the operator removes it once the version is deployed (expect that drift).');
  for (const k of ['cinderVolumeImages', 'manilaShareImages'] as const) {
    const backends = k === 'cinderVolumeImages' ? inputs.controlPlane?.cinderBackends : inputs.controlPlane?.manilaBackends;
    if (!backends) continue;
    for (const b of Object.keys(custom[k])) {
      if (b !== 'default' && !backends.includes(b)) {
        warnings.push({ code: 'CUSTOM_IMAGE_UNUSED', message: `${k}.${b} names no backend of the control plane (${backends.join(', ') || 'none'}); it will not be used` });
      }
    }
  }

  // nodesets and phases
  const namespace = opts.namespace ?? osv.namespace ?? inputs.controlPlane?.namespace ?? 'openstack';
  const cpName = inputs.controlPlane?.name ?? osv.name;
  if (inputs.controlPlane && inputs.controlPlane.name !== osv.name) {
    throw new OsvError('CONTROLPLANE_INVALID', `OpenStackControlPlane "${inputs.controlPlane.name}" and OpenStackVersion "${osv.name}" must have the same name (facts §8.14)`);
  }
  const batches = sortedNodeSetBatches(inputs.nodeSets, opts.batches);
  if (ovnEnabled && !ovnImageChanged && rules.ovnUnchangedRule && batches.length === 0) {
    warnings.push({
      code: 'OVN_DATAPLANE_STALL',
      message:
        `the OVN controller image is the same in ${deployed} and ${target} and no nodeset has nodes: ${rules.branch} sets MinorUpdateOVNDataplane=True only after it sees an OVN deployment run on a nodeset with nodes, so the update would stall at ovn-dataplane. ` +
        'Before committing, add the nodesets with their nodes to the inputs (if they exist), or set customContainerImages.ovnControllerImage to the same image under another reference (its digest) so the operator sees a change.',
    });
  }
  if (!ovnEnabled && !rules.ovnDisabledGuard) {
    warnings.push({
      code: 'OVN_DISABLED_STALL',
      message: `OVN is disabled, but ${rules.branch} runs the OVN steps of the update anyway and waits for an OVN Ready condition that a disabled OVN never reports: the update would stall at MinorUpdateOVNControlplane`,
    });
  }
  const hold = operatorHold({ annotations: osv.annotations, conditions: status?.conditions ?? [] });
  if (hold) warnings.push({ code: 'OPERATOR_HOLD', message: hold.message });
  if (inputs.nodeSets.length === 0) notes.push('No nodesets: the update has no data-plane deployments.');
  for (const n of inputs.nodeSets) if (n.nodes.length === 0) notes.push(`Nodeset ${n.name} has no nodes: it is left out of the data-plane deployments.`);
  const options: PlanOptionsRecord = {
    dataplaneService: opts.dataplaneService ?? 'update',
    ovnServices: opts.ovnServices ?? ['ovn'],
    updateSystem: opts.updateSystem ?? false,
    reboot: opts.reboot ?? false,
    attempt: opts.attempt ?? 1,
    namePrefix: opts.namePrefix ?? 'edpm',
  };
  if (options.reboot && !options.updateSystem) {
    throw new OsvError('USAGE', '--reboot needs --update-system: reboots run in the dataplane-system phase');
  }
  const operatorUpgrade = opts.operator ? operatorUpgradeRecord(opts.operator, inputs) : undefined;
  const phases = buildPhases({
    target,
    osvName: osv.name,
    cpName,
    csvName: inputs.csv?.name,
    ovnEnabled,
    ovnImageChanged,
    ovnUnchangedRule: rules.ovnUnchangedRule,
    releaseBranch: rules.branch,
    nodeSetNames: inputs.nodeSets.map((n) => n.name),
    batches,
    options,
    ...(operatorUpgrade ? { operator: operatorUpgrade } : {}),
  });
  for (const p of phases) for (const d of p.git.deployments) assertDeploymentName(d.name);

  const plan: Omit<UpdatePlan, 'id'> = {
    apiVersion: PLAN_API_VERSION,
    kind: 'UpdatePlan',
    namespace,
    openStackVersion: osv.name,
    controlPlane: cpName,
    versions: { deployed, available, target, deployedFrom },
    imageSource: chosen.source,
    currentImagesFrom: current.from,
    operatorRelease: {
      release: rules.release,
      branch: rules.branch,
      via: release.via,
      ovnUnchangedRule: rules.ovnUnchangedRule,
      trackedCustomImages: rules.trackedCustomImages,
      ovnDisabledGuard: rules.ovnDisabledGuard,
      inventoryImages: rules.inventoryImages,
    },
    serviceDefaults: serviceDefaultChanges(osv, deployed, target, release),
    ovnEnabled,
    ovnImageChanged,
    customContainerImages: toSpecShape(custom),
    skipCustomImagesValidation: skip,
    targetContainerImages: toSpecShape(targetImages),
    imageDiff: diff,
    diffSummary: summarizeDiff(diff),
    nodeSets: inputs.nodeSets.map((n) => ({
      name: n.name,
      nodes: n.nodes.length,
      batch: n.nodes.length === 0 ? null : batches.findIndex((b) => b.includes(n.name)) + 1,
    })),
    options,
    ...(operatorUpgrade ? { operatorUpgrade } : {}),
    phases,
    warnings,
    notes,
  };
  const { apiVersion, kind, ...rest } = plan;
  return { apiVersion, kind, id: planId(plan), ...rest };
}
