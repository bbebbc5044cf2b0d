/**
 * plan → manifests. Pure: builds cdk8s charts in memory and returns the files to write, in a
 * stable order, as text. Every phase renders the whole desired state of the namespace at that
 * phase (DESIGN.md, "Two delivery modes"), so an agent that prunes can apply any phase alone.
 */
import { App, type Chart } from 'cdk8s';
import { createHash } from 'node:crypto';
import { posix } from 'node:path';
import { ArgoApplicationsChart, ArgoCdHealthPatchChart, ArgoHealthConfigChart, ArgoRootApplicationChart } from '../../charts/argocd-chart.js';
import { CarriedObjectsChart } from '../../charts/carried-objects-chart.js';
import { DataPlaneDeploymentsChart } from '../../charts/dataplane-deployments-chart.js';
import { FluxChart, type FluxPhase } from '../../charts/flux-chart.js';
import { GateJobChart } from '../../charts/gate-job-chart.js';
import { OpenStackVersionChart } from '../../charts/openstack-version-chart.js';
import { OsvError } from '../errors.js';
import { dataPlaneDeploymentExprs, openStackVersionGateExprs, type FluxHealthCheckExpr } from '../health/cel.js';
import { isOpenStackVersionGate } from '../health/annotations.js';
import { versionSlug } from '../plan/names.js';
import { phaseNumberText, phaseSlug } from '../plan/numbering.js';
import type { PhasePlan, UpdatePlan } from '../plan/types.js';
import { assertNoEmptyFields } from '../validate/empty-fields.js';
import { assertNoSecrets, vouchForYaml } from '../validate/secrets.js';
import { toYaml } from './yaml-out.js';

export type Engine = 'flux' | 'argocd' | 'plain';

/**
 * How Argo CD is installed: `argocd` (upstream manifests: health checks in `argocd-cm`) or
 * `openshift-gitops` (the operator owns `argocd-cm`: health checks in the `ArgoCD` resource,
 * gate Jobs under the `restricted-v2` SCC).
 */
export type ArgoProfile = 'argocd' | 'openshift-gitops';

/** The Argo CD namespace and the name of the `ArgoCD` resource OpenShift GitOps installs. */
export const OPENSHIFT_GITOPS = { namespace: 'openshift-gitops', argoCdName: 'openshift-gitops' } as const;

/** The fixed UID of gate containers outside OpenShift (distroless `nonroot`). */
const GATE_UID = 65532;

export interface RenderInputs {
  readonly plan: UpdatePlan;
  /** The user's OpenStackControlPlane manifest, carried through unchanged. */
  readonly controlPlane?: Readonly<Record<string, unknown>>;
  /** The nodeset manifests the repository holds. */
  readonly nodeSets?: readonly Readonly<Record<string, unknown>>[];
  /** Phase 0: the user's Subscription file (absolute path inside the repository), pinned in place. */
  readonly subscriptionFile?: string;
}

export interface RenderOptions {
  readonly engine: Engine;
  /** Path of the output folder inside the Git repository, for agent paths. @default '.' */
  readonly repoPath?: string;
  readonly flux?: { readonly namespace?: string; readonly source?: string };
  readonly argo?: {
    readonly namespace?: string;
    readonly project?: string;
    /** Required with the argocd engine: the Applications must name the repository they read. */
    readonly repoURL?: string;
    readonly revision?: string;
    /** @default 'argocd' */
    readonly profile?: ArgoProfile;
  };
  /** Image with sh + kubectl for the Argo CD gate Jobs. */
  readonly gateImage?: string;
  /** Gate deadlines in seconds by phase id, over the plan's (Argo CD gate Jobs, Flux timeouts). */
  readonly gateDeadlines?: Readonly<Record<string, number>>;
}

export interface RenderedFile {
  readonly path: string;
  readonly content: string;
}

export const DEFAULT_GATE_IMAGE = 'quay.io/openshift/origin-cli:4.18';

/** The OpenStackVersion condition a phase waits for, and whether it also needs deployedVersion. */
export function phaseGateCondition(phase: PhasePlan): { condition: string; requireDeployedVersion: boolean } | undefined {
  const cond = phase.gate.checks.find((c) => c.kind === 'condition' && c.object.kind === 'OpenStackVersion');
  if (!cond || cond.kind !== 'condition') return undefined;
  const requireDeployedVersion = phase.gate.checks.some((c) => c.kind === 'field' && c.path === 'status.deployedVersion' && !c.negate);
  return { condition: cond.type, requireDeployedVersion };
}

/** Phases that own a folder: from the one that sets the target version on (preflight changes nothing). */
export function renderedPhases(plan: UpdatePlan): PhasePlan[] {
  const first = plan.phases.findIndex((p) => p.git.setsTargetVersion);
  return first < 0 ? [] : plan.phases.slice(first);
}

/** `NN-<id>`: the phase folder, numbered as everywhere else (src/plan/numbering.ts). */
export function phaseDirName(p: PhasePlan): string {
  return phaseSlug(p);
}

function synthObjects(build: (app: App) => Chart[]): Record<string, unknown>[] {
  const app = new App({ outdir: '.' });
  const objects = build(app).flatMap((c) => c.toJson() as Record<string, unknown>[]);
  // every object we render, in every mode and engine
  assertNoEmptyFields(objects);
  return objects;
}

/** The gate deadline of a phase: the override named by its id (or by its batch's), else the plan's. */
export function gateDeadlineSeconds(phase: PhasePlan, overrides: Readonly<Record<string, number>> = {}): number {
  const batchOf = /^(.*)-b\d+$/.exec(phase.id)?.[1];
  return overrides[phase.id] ?? (batchOf !== undefined ? overrides[batchOf] : undefined) ?? phase.gate.deadlineSeconds;
}

/** Longest file name we derive from an object (filesystems stop at 255 bytes). */
const MAX_FILE_NAME = 120;

/** `<kind>-<name>.yaml`; a long name (Kubernetes allows 253 characters) keeps its head and a hash of the whole. */
function fileName(obj: Record<string, unknown>): string {
  const meta = obj['metadata'] as { name?: string } | undefined;
  const base = `${String(obj['kind']).toLowerCase()}-${meta?.name ?? 'unnamed'}`;
  if (base.length + 5 <= MAX_FILE_NAME) return `${base}.yaml`;
  const hash = createHash('sha256').update(base).digest('hex').slice(0, 12);
  return `${base.slice(0, MAX_FILE_NAME - 5 - 13)}-${hash}.yaml`;
}

interface PhaseSetOptions {
  readonly engine: Engine;
  /** The OpenStackVersion health-gate annotation value (Argo CD). */
  readonly healthGate?: string;
  readonly gateJob?: { readonly image: string; readonly runAsUser?: number; readonly deadlineSeconds?: number };
}

let lastCarried: { readonly controlPlane: unknown; readonly nodeSets: unknown; readonly namespace: string; readonly objects: readonly Record<string, unknown>[] } | undefined;

/**
 * The user's control plane and nodesets as every phase carries them: the same objects in each
 * phase, so synthesized once for the inputs of the last call (a render asks for each phase in turn).
 */
function carriedObjects(inputs: RenderInputs): readonly Record<string, unknown>[] {
  const { controlPlane, nodeSets, plan } = inputs;
  if (lastCarried && lastCarried.controlPlane === controlPlane && lastCarried.nodeSets === nodeSets && lastCarried.namespace === plan.namespace) return lastCarried.objects;
  const carried = [...(controlPlane ? [controlPlane] : []), ...(nodeSets ?? [])];
  const objects = carried.length ? synthObjects((app) => [new CarriedObjectsChart(app, 'carried', { objects: carried, namespace: plan.namespace })]) : [];
  lastCarried = { controlPlane, nodeSets, namespace: plan.namespace, objects };
  return objects;
}

/** The whole desired state at one phase: OpenStackVersion, control plane, nodesets, deployments so far. */
export function phaseObjects(inputs: RenderInputs, phase: PhasePlan, opts: PhaseSetOptions): Record<string, unknown>[] {
  const plan = inputs.plan;
  const deployments = plan.phases.filter((p) => p.index <= phase.index).flatMap((p) => p.git.deployments);
  const noPrune: Record<string, string> =
    opts.engine === 'argocd'
      ? { 'argocd.argoproj.io/sync-options': 'Prune=false' }
      : opts.engine === 'flux'
        ? { 'kustomize.toolkit.fluxcd.io/prune': 'Disabled' }
        : {};
  const gate = phaseGateCondition(phase);
  const [version, ...rest] = synthObjects((app) => {
    const charts: Chart[] = [
      new OpenStackVersionChart(app, 'version', {
        name: plan.openStackVersion,
        namespace: plan.namespace,
        targetVersion: plan.versions.target,
        customContainerImages: plan.customContainerImages,
        skipCustomImagesValidation: plan.skipCustomImagesValidation,
        ...(opts.healthGate ? { healthGate: opts.healthGate } : {}),
      }),
    ];
    if (deployments.length) {
      charts.push(new DataPlaneDeploymentsChart(app, 'dataplane', { namespace: plan.namespace, deployments, ...(Object.keys(noPrune).length ? { annotations: noPrune } : {}) }));
    }
    if (opts.gateJob && gate) {
      charts.push(
        new GateJobChart(app, 'gate', {
          namespace: plan.namespace,
          name: `osv-gate-${versionSlug(plan.versions.target)}-${phaseNumberText(phase)}`.slice(0, 63).replace(/-+$/, ''),
          openStackVersion: plan.openStackVersion,
          targetVersion: plan.versions.target,
          condition: gate.condition,
          requireDeployedVersion: gate.requireDeployedVersion,
          deadlineSeconds: opts.gateJob.deadlineSeconds ?? phase.gate.deadlineSeconds,
          image: opts.gateJob.image,
          ...(opts.gateJob.runAsUser !== undefined ? { runAsUser: opts.gateJob.runAsUser } : {}),
        }),
      );
    }
    return charts;
  });
  // the OpenStackVersion chart makes one object; the user's objects follow it, as they always have
  if (version?.['kind'] !== 'OpenStackVersion') throw new Error('the OpenStackVersion chart must make exactly the first object');
  const objects = [version, ...carriedObjects(inputs), ...rest];
  // named by the file each object gets inside its phase folder (kustomizeFolder)
  assertNoSecrets(objects, { files: objects.map((o) => posix.join(phaseDirName(phase), fileName(o))) });
  return objects;
}

// every phase folder holds the same nodesets again: write each distinct object's YAML once per process
const yamlByJson = new Map<string, string>();

/** `toYaml` of an object rendered by cdk8s (plain JSON data, so its JSON text names its YAML). */
function objectYaml(o: Record<string, unknown>): string {
  const json = JSON.stringify(o);
  let yaml = yamlByJson.get(json);
  if (yaml === undefined) {
    yaml = toYaml(o);
    yamlByJson.set(json, yaml);
  }
  return yaml;
}

/** A kustomize folder: one file per object plus `kustomization.yaml` listing them in order. */
export function kustomizeFolder(dir: string, objects: readonly Record<string, unknown>[]): RenderedFile[] {
  const files: RenderedFile[] = [];
  const names: string[] = [];
  const taken = new Set<string>();
  for (const o of objects) {
    const name = fileName(o);
    if (taken.has(name)) throw new OsvError('RENDER_INVALID', `two objects would be written to ${posix.join(dir, name)}`);
    taken.add(name);
    names.push(name);
  }
  // every folder we write, the agents' wiring included (a repoURL with a password)
  assertNoSecrets(objects, { files: names.map((n) => posix.join(dir, n)) });
  objects.forEach((o, i) => {
    const content = objectYaml(o);
    vouchForYaml(o, content);
    files.push({ path: posix.join(dir, names[i]!), content });
  });
  files.push({
    path: posix.join(dir, 'kustomization.yaml'),
    content: toYaml({ apiVersion: 'kustomize.config.k8s.io/v1beta1', kind: 'Kustomization', resources: names }),
  });
  return files;
}

function fluxExprs(plan: UpdatePlan, phase: PhasePlan): FluxHealthCheckExpr[] {
  const exprs: FluxHealthCheckExpr[] = [];
  const gate = phaseGateCondition(phase);
  if (gate && isOpenStackVersionGate(gate.condition)) {
    exprs.push(openStackVersionGateExprs({ conditionType: gate.condition, targetVersion: plan.versions.target, requireDeployedVersion: gate.requireDeployedVersion }));
  }
  if (phase.git.deployments.length) exprs.push(dataPlaneDeploymentExprs());
  return exprs;
}

function objectKey(o: Readonly<Record<string, unknown>>): string {
  const meta = (o['metadata'] ?? {}) as { name?: string; namespace?: string };
  return `${String(o['apiVersion'])}/${String(o['kind'])}/${meta.namespace ?? ''}/${meta.name ?? ''}`;
}

/** Directories mode: `updates/<version>/<NN>-<phase>/` plus the agent's wiring, in one commit. */
export function renderDirectories(inputs: RenderInputs, opts: RenderOptions): RenderedFile[] {
  const plan = inputs.plan;
  if (plan.operatorUpgrade) {
    // the agent would start phase 1 before OLM installed the operator: no folder waits on it yet
    throw new OsvError('USAGE', 'directories mode does not render phase 0 operator yet', {
      hint: 'Upgrade the operator first (osv-gitops operator-upgrade), then render without --subscription; or use commits mode (commit/advance), which gates phase 0.',
    });
  }
  const base = posix.join('updates', plan.versions.target);
  const repoBase = posix.join(opts.repoPath ?? '.', base);
  const phases = renderedPhases(plan);
  const files: RenderedFile[] = [];
  const profile = opts.argo?.profile ?? 'argocd';
  const repoURL = opts.argo?.repoURL;
  if (opts.engine === 'argocd' && (repoURL === undefined || repoURL === '')) {
    throw new OsvError('USAGE', 'Argo CD output needs the URL of the repository the Applications read', { hint: 'Pass --repo-url, e.g. --repo-url https://git.example.com/ops/openstack.git.' });
  }
  const deadline = (p: PhasePlan) => gateDeadlineSeconds(p, opts.gateDeadlines);
  // one constant health-gate for every folder, so the shared OpenStackVersion never flips between
  // agents' objects; later gates are held by Flux CEL expressions or Argo CD gate Jobs
  const firstGate = phases.map(phaseGateCondition).find((g) => g !== undefined)?.condition;
  // Argo CD tracks each live object in one Application only; objects that several phase
  // Applications applied would flip their tracking between them. So with Argo CD an object lives
  // in the folder of the phase that introduces it, and the first phase owns the shared ones.
  const owned = new Set<string>();
  for (const p of phases) {
    let objects = phaseObjects(inputs, p, {
      engine: opts.engine,
      ...(opts.engine === 'argocd' && firstGate ? { healthGate: firstGate } : {}),
      ...(opts.engine === 'argocd'
        ? { gateJob: { image: opts.gateImage ?? DEFAULT_GATE_IMAGE, deadlineSeconds: deadline(p), ...(profile === 'openshift-gitops' ? {} : { runAsUser: GATE_UID }) } }
        : {}),
    });
    if (opts.engine === 'argocd') {
      objects = objects.filter((o) => !owned.has(objectKey(o)));
      for (const o of objects) owned.add(objectKey(o));
    }
    files.push(...kustomizeFolder(posix.join(base, phaseDirName(p)), objects));
  }
  const wiringName = (p: PhasePlan) => `osv-${versionSlug(plan.versions.target)}-${phaseDirName(p)}`.slice(0, 63).replace(/-+$/, '');
  if (opts.engine === 'flux') {
    const fluxPhases: FluxPhase[] = phases.map((p, i) => ({
      name: wiringName(p),
      path: `./${posix.normalize(posix.join(repoBase, phaseDirName(p)))}`,
      ...(i > 0 ? { dependsOn: wiringName(phases[i - 1]!) } : {}),
      timeoutSeconds: deadline(p),
      healthChecks: [
        { apiVersion: 'core.openstack.org/v1beta1', kind: 'OpenStackVersion', name: plan.openStackVersion, namespace: plan.namespace },
        ...p.git.deployments.map((d) => ({ apiVersion: 'dataplane.openstack.org/v1beta1', kind: 'OpenStackDataPlaneDeployment', name: d.name, namespace: plan.namespace })),
      ],
      healthCheckExprs: fluxExprs(plan, p),
    }));
    const objects = synthObjects((app) => [new FluxChart(app, 'flux', { namespace: opts.flux?.namespace ?? 'flux-system', sourceName: opts.flux?.source ?? 'flux-system', phases: fluxPhases })]);
    files.push(...kustomizeFolder(posix.join(base, 'flux'), objects));
  } else if (opts.engine === 'argocd') {
    const argoNs = opts.argo?.namespace ?? (profile === 'openshift-gitops' ? OPENSHIFT_GITOPS.namespace : 'argocd');
    const common = { argoNamespace: argoNs, project: opts.argo?.project ?? 'default', repoURL: repoURL ?? '', targetRevision: opts.argo?.revision ?? 'HEAD', destinationNamespace: plan.namespace };
    const objects = synthObjects((app) => [
      new ArgoApplicationsChart(app, 'argocd', {
        ...common,
        phases: phases.map((p) => ({ name: wiringName(p), path: posix.normalize(posix.join(repoBase, phaseDirName(p))), wave: p.index })),
      }),
    ]);
    files.push(...kustomizeFolder(posix.join(base, 'argocd'), objects));
    // applied once by hand, outside the folder it applies (an Application must not manage itself)
    const root = synthObjects((app) => [
      new ArgoRootApplicationChart(app, 'root', { ...common, name: `osv-${versionSlug(plan.versions.target)}`.slice(0, 63).replace(/-+$/, ''), path: posix.normalize(posix.join(repoBase, 'argocd')) }),
    ]);
    assertNoSecrets(root, { files: [posix.join(base, 'argocd-root-application.yaml')] });
    files.push({ path: posix.join(base, 'argocd-root-application.yaml'), content: toYaml(root[0]) });
    // not part of the app-of-apps: merged into the installation's own configuration
    if (profile === 'openshift-gitops') {
      const patch = synthObjects((app) => [new ArgoCdHealthPatchChart(app, 'health', { argoNamespace: argoNs, name: OPENSHIFT_GITOPS.argoCdName })]);
      files.push({ path: posix.join(base, 'argocd-health-checks-patch.yaml'), content: toYaml(patch[0]) });
    } else {
      const health = synthObjects((app) => [new ArgoHealthConfigChart(app, 'health', { argoNamespace: argoNs })]);
      files.push({ path: posix.join(base, 'argocd-cm-health-checks.yaml'), content: toYaml(health[0]) });
    }
  }
  return files.sort((a, b) => a.path.localeCompare(b.path));
}
