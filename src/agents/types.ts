/**
 * What a GitOps agent means to osv-gitops, behind one interface: each agent (Argo CD, Flux, plain
 * kustomize) lives in its own folder under `src/agents/`, and callers reach it through the
 * registry (`src/agents/index.ts`) instead of comparing engine names.
 *
 * An agent has two faces, kept apart for start-up cost (test/startup): `api.ts` is light (no
 * cdk8s, no Kubernetes client, no Lua VM) and holds how the agent's status is read, so `status
 * --from-files` and `plan` can use it; `wiring.ts` renders the agent's own objects with cdk8s and
 * is reached only through `src/agents/wiring.ts`, which `render` alone imports. The rehearsal
 * model (the simulated controller) is loaded on demand.
 */
import type { ResourceType } from '../cluster/resources.js';
import type { KubeObject } from '../status/snapshot.js';
import type { Chart } from 'cdk8s';
import type { Construct } from 'constructs';
import type { RenderedFile } from '../render/kustomize-folder.js';
import type { PhasePlan, UpdatePlan } from '../plan/types.js';
import type { AgentContext } from '../simulate/agent/context.js';
import type { Checkout } from '../simulate/agent/git-source.js';
import type { KubeClient } from '../simulate/agent/kube.js';

/** The `--engine` ids. */
export type Engine = 'flux' | 'argocd' | 'plain';

/** The engines that have an object of their own to read back (`--agent ENGINE:NS/NAME`). */
export type AgentEngine = Exclude<Engine, 'plain'>;

/** What the agent object says about the revision it applied. */
export interface AgentRevision {
  /** The commit the agent applied, when it reports one it has finished applying. */
  readonly sha: string | undefined;
  /** Why the revision cannot be used yet (sync running, health untrusted, stale status). */
  readonly notYet: string | undefined;
  /** A failure the agent reports for that revision. */
  readonly failure: string | undefined;
  /** The revision text as the agent wrote it, for messages. */
  readonly shown: string;
}

export type MarkStrength = 'tracking' | 'label' | 'shared';

/** The mark an agent left on an object it applies, naming the agent object. */
export interface OwnerMark {
  /** As the agent writes it (Argo CD: `name` or `namespace_name`; Flux: `namespace/name`). */
  readonly shown: string;
  /** Where it was read, for messages. */
  readonly mark: string;
  /**
   * How surely it names the owner, when an object carries marks of several agents: `tracking`
   * names the exact resource (Argo CD's tracking id), `label` the agent object only, `shared` is a
   * label other tools write too (Helm's `app.kubernetes.io/instance`).
   */
  readonly strength: MarkStrength;
}

/** How the agent's own object is read back (`status`, `advance`, `watch`). */
export interface AgentStatusReader {
  /** The kind `--agent` names, for messages: `Application`, `Kustomization`. */
  readonly objectKind: string;
  readonly objectType: ResourceType;
  /** The namespace `--agent ENGINE:NAME` means. */
  readonly defaultNamespace: string;
  /** The revision the agent applied, and whether it can be trusted yet. */
  readApplied(obj: unknown): AgentRevision;
  /** What the object says that holds no gate but the user must hear. */
  warnings(obj: unknown): string[];
  /** The agent object that applied `obj`, from the marks this agent leaves on what it applies. */
  ownerMarks(obj: KubeObject): OwnerMark[];
  /** Does this mark name that agent object? */
  names(shown: string, agent: { readonly namespace: string; readonly name: string }): boolean;
}

export interface Agent {
  readonly engine: Engine;
  /** For messages: `Argo CD`, `Flux`. */
  readonly title: string;
  /** Marks that keep the agent from deleting an object when a later revision no longer holds it. */
  readonly keepOnRemoval: Readonly<Record<string, string>>;
  /** undefined: the agent has no object to read back (plain kustomize folders). */
  readonly status: AgentStatusReader | undefined;
  /** The simulated agent of `simulate`; undefined: not rehearsed. Loaded on demand (Kubernetes client, Lua VM). */
  readonly rehearsal: (() => Promise<RehearsalModel>) | undefined;
}

// ---------------------------------------------------------------------------------------------
// Directories-mode wiring (heavy: cdk8s), reached through src/agents/wiring.ts
// ---------------------------------------------------------------------------------------------

/** What the agent's wiring is rendered from. */
export interface WiringInput {
  readonly plan: UpdatePlan;
  readonly phases: readonly PhasePlan[];
  /** `updates/<version>`, relative to the output folder. */
  readonly base: string;
  /** The same folder as the agent sees it in the repository. */
  readonly repoBase: string;
  /** The Kubernetes name of a phase's own wiring object. */
  wiringName(phase: PhasePlan): string;
  /** The phase folder's name, `NN-<phase>`. */
  dirName(phase: PhasePlan): string;
  gate(phase: PhasePlan): PhaseGate | undefined;
  deadlineSeconds(phase: PhasePlan): number;
  readonly options: WiringOptions;
}

/** The agent options of `render` (CLI flags, validated at the edge). */
export interface WiringOptions {
  readonly flux?: { readonly namespace?: string; readonly source?: string };
  readonly argo?: {
    readonly namespace?: string;
    /** Required with the argocd engine: the Applications must name the repository they read. */
    readonly repoURL?: string;
    readonly project?: string;
    readonly revision?: string;
    /** @default 'argocd' */
    readonly profile?: ArgoProfile;
  };
  readonly gateImage?: string;
}

/**
 * How Argo CD is installed: `argocd` (upstream manifests: health checks in `argocd-cm`) or
 * `openshift-gitops` (the operator owns `argocd-cm`: health checks in the `ArgoCD` resource,
 * gate Jobs under the `restricted-v2` SCC).
 */
export type ArgoProfile = 'argocd' | 'openshift-gitops';

/** The OpenStackVersion condition a phase waits for, and whether it also needs deployedVersion. */
export interface PhaseGate {
  readonly condition: string;
  readonly requireDeployedVersion: boolean;
}

/** What a phase folder carries for this agent beyond the desired state. */
export interface PhaseExtras {
  /** The OpenStackVersion health-gate annotation value. */
  readonly healthGate?: string;
  /** Charts the folder holds after the desired state (Argo CD: the Job that waits on the phase's condition). */
  readonly charts?: (scope: Construct) => Chart[];
}

export interface PhaseExtrasInput {
  readonly plan: UpdatePlan;
  readonly phase: PhasePlan;
  readonly gate: PhaseGate | undefined;
  /** The first rendered phase's gate condition. */
  readonly firstGate: string | undefined;
  readonly deadlineSeconds: number;
  readonly options: WiringOptions;
}

export interface AgentWiring {
  /** Refuses options the wiring cannot be rendered from, before anything is rendered. */
  validate(options: WiringOptions): void;
  phaseExtras(input: PhaseExtrasInput): PhaseExtras;
  /**
   * The agent tracks each live object in one of its objects only: an object lives in the folder
   * of the phase that introduces it (Argo CD), instead of in every folder.
   */
  readonly oneFolderPerObject: boolean;
  /** The agent's own objects for directories mode (Kustomizations, Applications, health checks). */
  render(input: WiringInput): RenderedFile[];
  /**
   * Phase 0 `operator`: what holds the next phase until OLM installed the target CSV (Argo CD, Flux: an
   * approval Job). undefined: this agent cannot gate phase 0 in directories mode yet.
   */
  operatorPhase?(input: OperatorPhaseInput): (scope: Construct) => Chart[];
}

export interface OperatorPhaseInput {
  readonly plan: UpdatePlan;
  readonly phase: PhasePlan;
  readonly deadlineSeconds: number;
  readonly options: WiringOptions;
}

// ---------------------------------------------------------------------------------------------
// Rehearsal model (simulate)
// ---------------------------------------------------------------------------------------------

export interface RehearsalControllerOptions {
  readonly mode: 'commits' | 'directories';
  /** The agent object that reports on our commits; created when missing. */
  readonly agentObject: { readonly namespace: string; readonly name: string };
  /** The folder the agent object applies. */
  readonly path: string;
  readonly repoUrl: string;
}

/** One simulated controller: reconciles the agent object (and what it applies) at a revision. */
export interface RehearsalController {
  ensureAgentObject(): Promise<void>;
  /** One pass; returns the sha the agent object has applied successfully, if any. */
  reconcile(checkout: Checkout): Promise<string | undefined>;
  /** Set by a pass that needs another one right away. */
  readonly requeue: boolean;
  /** Releases what the controller holds besides the agent's own source (other repositories' clones). */
  close?(): void;
}

export interface RehearsalModel {
  controller(ctx: AgentContext, opts: RehearsalControllerOptions): RehearsalController;
  /** Kinds of the OpenStack namespace the controller watches besides the OpenStack ones (Argo CD: gate Jobs). */
  readonly watchedKinds: readonly ResourceType[];
  /** The rendered wiring holds gate Jobs a kubelet must run. */
  readonly runsGateJobs: boolean;
  /** Why the agent's objects say the rehearsal stopped, for the report. */
  stopCauses(kube: KubeClient, agentNamespace: string): Promise<string[]>;
}
