/**
 * plan → manifests. Pure: builds cdk8s charts in memory (the user's objects are carried as plain
 * data) and returns the files to write, in a stable order, as text. Every phase renders the whole
 * desired state of the namespace at that phase (DESIGN.md, "Two delivery modes"), so an agent that
 * prunes can apply any phase alone.
 */
import { type App, type Chart } from 'cdk8s';
import { posix } from 'node:path';
import { DataPlaneDeploymentsChart } from '../../charts/dataplane-deployments-chart.js';
import { OpenStackVersionChart } from '../../charts/openstack-version-chart.js';
import { agentFor } from '../agents/index.js';
import type { AgentWiring, Engine, PhaseExtras, PhaseGate, WiringOptions } from '../agents/types.js';
import { wiringFor } from '../agents/wiring.js';
import { OsvError } from '../errors.js';
import { assertNoEmptyFields } from '../validate/empty-fields.js';
import { freezeForScan } from '../validate/secrets.js';
import { pinnedSubscriptionObject } from '../olm/subscription.js';
import { versionSlug } from '../plan/names.js';
import { phaseSlug } from '../plan/numbering.js';
import { compareText } from '../text/compare.js';
import type { PhasePlan, UpdatePlan } from '../plan/types.js';
import { carriedObjects } from './carried-objects.js';
import { kustomizeFolder, synthObjects, type RenderedFile } from './kustomize-folder.js';

export type { ArgoProfile, Engine } from '../agents/types.js';
export { kustomizeFolder, type RenderedFile } from './kustomize-folder.js';

export interface RenderInputs {
  readonly plan: UpdatePlan;
  /** The user's OpenStackControlPlane manifest, carried through unchanged. */
  readonly controlPlane?: Readonly<Record<string, unknown>>;
  /** The nodeset manifests the repository holds. */
  readonly nodeSets?: readonly Readonly<Record<string, unknown>>[];
  /** Phase 0: the user's Subscription file (absolute path inside the repository), pinned in place. */
  readonly subscriptionFile?: string;
  /** Its text: directories mode renders the Subscription pinned into the `operator` folder. */
  readonly subscriptionText?: string;
}

export interface RenderOptions extends WiringOptions {
  readonly engine: Engine;
  /** Path of the output folder inside the Git repository, for agent paths. @default '.' */
  readonly repoPath?: string;
  /** Gate deadlines in seconds by phase id, over the plan's (Argo CD gate Jobs, Flux timeouts). */
  readonly gateDeadlines?: Readonly<Record<string, number>>;
}

/** The OpenStackVersion condition a phase waits for, and whether it also needs deployedVersion. */
export function phaseGateCondition(phase: PhasePlan): PhaseGate | undefined {
  const cond = phase.gate.checks.find((c) => c.kind === 'condition' && c.object.kind === 'OpenStackVersion');
  if (!cond || cond.kind !== 'condition') return undefined;
  const requireDeployedVersion = phase.gate.checks.some((c) => c.kind === 'field' && c.path === 'status.deployedVersion' && !c.negate);
  return { condition: cond.type, requireDeployedVersion };
}

/**
 * Phases that own a folder: phase 0 `operator` when the plan has it, then from the one that sets
 * the target version on (preflight changes nothing).
 */
export function renderedPhases(plan: UpdatePlan): PhasePlan[] {
  const first = plan.phases.findIndex((p) => p.git.setsTargetVersion);
  const operator = plan.phases.filter((p) => p.phase === 'operator');
  return first < 0 ? operator : [...operator, ...plan.phases.slice(first)];
}

/** `NN-<id>`: the phase folder, numbered as everywhere else (src/plan/numbering.ts). */
export function phaseDirName(p: PhasePlan): string {
  return phaseSlug(p);
}

/** The gate deadline of a phase: the override named by its id (or by its batch's), else the plan's. */
export function gateDeadlineSeconds(phase: PhasePlan, overrides: Readonly<Record<string, number>> = {}): number {
  const batchOf = /^(.*)-b\d+$/.exec(phase.id)?.[1];
  return overrides[phase.id] ?? (batchOf !== undefined ? overrides[batchOf] : undefined) ?? phase.gate.deadlineSeconds;
}

interface PhaseSetOptions extends PhaseExtras {
  readonly engine: Engine;
}

let lastCarried: { readonly controlPlane: unknown; readonly nodeSets: unknown; readonly namespace: string; readonly objects: readonly Record<string, unknown>[] } | undefined;

/**
 * The user's control plane and nodesets as every phase carries them: the same objects in each
 * phase, so made once for the inputs of the last call (a render asks for each phase in turn).
 */
function carriedOnce(inputs: RenderInputs): readonly Record<string, unknown>[] {
  const { controlPlane, nodeSets, plan } = inputs;
  if (lastCarried && lastCarried.controlPlane === controlPlane && lastCarried.nodeSets === nodeSets && lastCarried.namespace === plan.namespace) return lastCarried.objects;
  const carried = [...(controlPlane ? [controlPlane] : []), ...(nodeSets ?? [])];
  const objects = carriedObjects(carried, plan.namespace);
  assertNoEmptyFields(objects);
  // the same objects in every phase: frozen, they stand for their own content in the scan and
  // YAML caches, so no phase turns them into JSON text again
  for (const o of objects) freezeForScan(o);
  lastCarried = { controlPlane, nodeSets, namespace: plan.namespace, objects };
  return objects;
}

/**
 * Objects that recur from phase to phase, each synthesized once per plan and frozen: the
 * OpenStackVersion is the same in every phase of a render (one health-gate for all), and a
 * deployment stays in every phase after its own. Frozen, each stands for its own content in the
 * secret scan and the YAML writer (src/validate/secrets.ts, freezeForScan), so a later phase costs
 * neither a synthesis nor a scan of it again.
 */
const madeOnce = new WeakMap<UpdatePlan, Map<string, Record<string, unknown>>>();

function onceFor(plan: UpdatePlan, key: string, make: () => Record<string, unknown>): Record<string, unknown> {
  let made = madeOnce.get(plan);
  if (made === undefined) {
    made = new Map();
    madeOnce.set(plan, made);
  }
  let obj = made.get(key);
  if (obj === undefined) {
    obj = make();
    freezeForScan(obj);
    made.set(key, obj);
  }
  return obj;
}

/** The one object a synthesis of `build` makes. */
function onlyObject(build: (app: App) => Chart, what: string): Record<string, unknown> {
  const objects = synthObjects((app) => [build(app)]);
  if (objects.length !== 1) throw new Error(`the ${what} chart must make exactly one object`);
  return objects[0]!;
}

/** The whole desired state at one phase: OpenStackVersion, control plane, nodesets, deployments so far. */
export function phaseObjects(inputs: RenderInputs, phase: PhasePlan, opts: PhaseSetOptions): Record<string, unknown>[] {
  const plan = inputs.plan;
  const deployments = plan.phases.filter((p) => p.index <= phase.index).flatMap((p) => p.git.deployments);
  const noPrune = agentFor(opts.engine).keepOnRemoval;
  const annotations = Object.keys(noPrune).length ? { annotations: noPrune } : {};
  const version = onceFor(plan, JSON.stringify(['OpenStackVersion', opts.healthGate ?? null]), () =>
    onlyObject(
      (app) =>
        new OpenStackVersionChart(app, 'version', {
          name: plan.openStackVersion,
          namespace: plan.namespace,
          targetVersion: plan.versions.target,
          customContainerImages: plan.customContainerImages,
          skipCustomImagesValidation: plan.skipCustomImagesValidation,
          ...(opts.healthGate ? { healthGate: opts.healthGate } : {}),
        }),
      'OpenStackVersion',
    ),
  );
  const deploymentObjects = deployments.map((d) =>
    onceFor(plan, JSON.stringify(['OpenStackDataPlaneDeployment', d, noPrune]), () =>
      onlyObject((app) => new DataPlaneDeploymentsChart(app, 'dataplane', { namespace: plan.namespace, deployments: [d], ...annotations }), 'deployment'),
    ),
  );
  const extras = opts.charts ? synthObjects((app) => opts.charts!(app)) : [];
  // the OpenStackVersion first, then the user's objects, as they always have been; scanned for secrets
  // where they are written (kustomizeFolder)
  return [version, ...carriedOnce(inputs), ...deploymentObjects, ...extras];
}

/**
 * Phase 0's folder: the user's Subscription pinned to the target CSV, and what the agent needs to
 * hold the next phase until OLM installed it (Argo CD: the approval Job and its RBAC). It carries
 * no OpenStack object: the target version is set only once the operator runs the new release.
 */
function operatorObjects(inputs: RenderInputs, phase: PhasePlan, wiring: AgentWiring, deadlineSeconds: number, opts: RenderOptions): Record<string, unknown>[] {
  const op = inputs.plan.operatorUpgrade!;
  if (inputs.subscriptionText === undefined) throw new OsvError('USAGE', `the plan starts with phase 0 operator: pass --subscription with your Subscription ${op.subscription}`);
  const file = inputs.subscriptionFile ?? 'the Subscription';
  const { object, before } = pinnedSubscriptionObject(inputs.subscriptionText, file, { csv: op.csv, channel: op.channel }, op.operatorNamespace);
  if (before.name !== op.subscription) throw new OsvError('INPUT_INVALID', `${file} holds Subscription ${before.name}, but the plan pins ${op.subscription}`);
  const gate = wiring.operatorPhase!({ plan: inputs.plan, phase, deadlineSeconds, options: opts });
  // scanned for secrets where they are written (kustomizeFolder)
  return [object, ...synthObjects((app) => gate(app))];
}

function objectKey(o: Readonly<Record<string, unknown>>): string {
  const meta = (o['metadata'] ?? {}) as { name?: string; namespace?: string };
  return `${String(o['apiVersion'])}/${String(o['kind'])}/${meta.namespace ?? ''}/${meta.name ?? ''}`;
}

/** Directories mode: `updates/<version>/<NN>-<phase>/` plus the agent's wiring, in one commit. */
export function renderDirectories(inputs: RenderInputs, opts: RenderOptions): RenderedFile[] {
  const plan = inputs.plan;
  const wiring = wiringFor(opts.engine);
  if (plan.operatorUpgrade && !wiring.operatorPhase) {
    // the agent would start the next phase before OLM installed the operator: nothing would wait on it
    throw new OsvError('USAGE', `directories mode renders phase 0 operator for Argo CD and Flux only; ${opts.engine} has nothing to wait on it`, {
      hint: 'Use --engine argocd or --engine flux; or upgrade the operator first (osv-gitops operator-upgrade) and render without --subscription; or use commits mode (commit/advance), which gates phase 0.',
    });
  }
  const base = posix.join('updates', plan.versions.target);
  const repoBase = posix.join(opts.repoPath ?? '.', base);
  const phases = renderedPhases(plan);
  const files: RenderedFile[] = [];
  wiring.validate(opts);
  const deadline = (p: PhasePlan) => gateDeadlineSeconds(p, opts.gateDeadlines);
  // one constant health-gate for every folder, so the shared OpenStackVersion never flips between
  // agents' objects; later gates are held by Flux CEL expressions or Argo CD gate Jobs
  const firstGate = phases.map(phaseGateCondition).find((g) => g !== undefined)?.condition;
  // an agent that tracks each live object in one of its objects only (Argo CD) would flip that
  // tracking between the phase objects that all applied it: the object lives in the folder of the
  // phase that introduces it, and the first phase owns the shared ones
  const owned = new Set<string>();
  for (const p of phases) {
    if (p.phase === 'operator') {
      files.push(...kustomizeFolder(posix.join(base, phaseDirName(p)), operatorObjects(inputs, p, wiring, deadline(p), opts)));
      continue;
    }
    const extras = wiring.phaseExtras({ plan, phase: p, gate: phaseGateCondition(p), firstGate, deadlineSeconds: deadline(p), options: opts });
    let objects = phaseObjects(inputs, p, { engine: opts.engine, ...extras });
    if (wiring.oneFolderPerObject) {
      objects = objects.filter((o) => !owned.has(objectKey(o)));
      for (const o of objects) owned.add(objectKey(o));
    }
    files.push(...kustomizeFolder(posix.join(base, phaseDirName(p)), objects));
  }
  const wiringName = (p: PhasePlan) => `osv-${versionSlug(plan.versions.target)}-${phaseDirName(p)}`.slice(0, 63).replace(/-+$/, '');
  files.push(...wiring.render({ plan, phases, base, repoBase, wiringName, dirName: phaseDirName, gate: phaseGateCondition, deadlineSeconds: deadline, options: opts }));
  return files.sort((a, b) => compareText(a.path, b.path));
}
