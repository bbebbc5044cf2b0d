/**
 * The update plan: plain, deterministic, serialisable data. `plan --output plan.json` writes it;
 * `render` and `commit` read it back, so what a reviewer approved is exactly what gets rendered.
 */
import type { ImageChange, DiffSummary } from '../images/diff.js';

export const PLAN_API_VERSION = 'osv-gitops.io/v1alpha1';

export type PhaseName =
  /** Phase 0 (opt-in with `--subscription`): the OLM upgrade of the openstack-operator itself. */
  | 'operator'
  | 'preflight'
  | 'ovn-controlplane'
  | 'ovn-dataplane'
  | 'controlplane'
  | 'dataplane'
  | 'dataplane-system'
  | 'complete';

export type DurationClass = 'minutes' | 'tens-of-minutes' | 'hours';

export interface ObjectRef {
  readonly kind: string;
  readonly name: string;
}

/** One thing a gate reads on the cluster. Each is judged by the status stage. */
export type GateCheck =
  | { readonly kind: 'csv-succeeded'; readonly csv: string | undefined }
  /**
   * The OLM operator upgrade (src/olm/gate.ts): the InstallPlan for exactly `csv` in
   * `operatorNamespace` approved, the CSV Succeeded, availableVersion = its release.
   */
  | { readonly kind: 'olm-upgrade'; readonly csv: string; readonly operatorNamespace: string }
  /** `field` at `path` of `object` equals (or, with `negate`, differs from) `value`. */
  | { readonly kind: 'field'; readonly object: ObjectRef; readonly path: string; readonly value: string; readonly negate?: boolean }
  /** The live object carries our target and the operator has observed its latest generation. */
  | { readonly kind: 'version-observed'; readonly object: ObjectRef; readonly targetVersion: string }
  /** A condition with `status`; only counted on a fresh generation with our target (DESIGN.md rules). */
  | { readonly kind: 'condition'; readonly object: ObjectRef; readonly type: string; readonly status: 'True' }
  | { readonly kind: 'nodesets-ready'; readonly nodeSets: readonly string[] }
  | { readonly kind: 'no-deployment-running' }
  /** The deployment exists, `status.deployed` is true and `Ready` is True. */
  | { readonly kind: 'deployment-ready'; readonly name: string }
  | { readonly kind: 'nodeset-deployed-version'; readonly nodeSets: readonly string[]; readonly version: string }
  /** The agent's applied revision contains this phase's commit (ancestry). */
  | { readonly kind: 'agent-applied' };

export interface Gate {
  /** One line: what must be true to leave the phase. */
  readonly summary: string;
  readonly checks: readonly GateCheck[];
  /** Conditions shown as progress while waiting (e.g. the control-plane sub-steps). */
  readonly progress: readonly string[];
  /** What ends the wait with a failure instead of waiting on. */
  readonly failWhen: readonly string[];
  /** Every object field the gate reads, spelled out for the reviewer. */
  readonly reads: readonly string[];
  readonly deadlineSeconds: number;
}

export interface DeploymentPlan {
  readonly name: string;
  readonly nodeSets: readonly string[];
  readonly servicesOverride: readonly string[];
  readonly ansibleLimit?: string;
  readonly ansibleExtraVars?: Readonly<Record<string, string>>;
}

export interface PhasePlan {
  /** Position in the plan, 0 = preflight (or `operator` when the plan has it). Used for `NN-<id>` folder names. */
  readonly index: number;
  /** Unique id: the phase name, with `-b<k>` for nodeset batches. */
  readonly id: string;
  readonly phase: PhaseName;
  readonly title: string;
  readonly batch?: { readonly index: number; readonly count: number };
  /** What Git gets in this phase. */
  readonly git: {
    readonly changes: boolean;
    readonly summary: string;
    readonly setsTargetVersion: boolean;
    readonly deployments: readonly DeploymentPlan[];
  };
  readonly gate: Gate;
  readonly durationClass: DurationClass;
  readonly notes: readonly string[];
}

export interface PlanWarning {
  readonly code: string;
  readonly message: string;
}

export interface UpdatePlan {
  readonly apiVersion: typeof PLAN_API_VERSION;
  readonly kind: 'UpdatePlan';
  /** Content hash of everything below: names the plan in commit trailers. */
  readonly id: string;
  readonly namespace: string;
  readonly openStackVersion: string;
  readonly controlPlane: string;
  readonly versions: {
    readonly deployed: string;
    readonly available: string;
    readonly target: string;
    readonly deployedFrom: 'status.deployedVersion' | 'spec.targetVersion';
  };
  /** Where the target's image defaults came from. */
  readonly imageSource: {
    readonly kind: 'csv' | 'openstackversion-status';
    readonly csv?: string;
    readonly detail: string;
  };
  readonly currentImagesFrom: string;
  /** The operator release that runs the update (the target CSV's) and the rules of it that the plan applied. */
  readonly operatorRelease: OperatorReleaseRecord;
  /** Service defaults the target release's control plane acts on, deployed → target (facts §1.2, §10). */
  readonly serviceDefaults: readonly ServiceDefaultChange[];
  readonly ovnEnabled: boolean;
  readonly ovnImageChanged: boolean;
  readonly customContainerImages: Readonly<Record<string, unknown>>;
  readonly skipCustomImagesValidation: boolean;
  readonly targetContainerImages: Readonly<Record<string, unknown>>;
  readonly imageDiff: readonly ImageChange[];
  readonly diffSummary: DiffSummary;
  readonly nodeSets: readonly { readonly name: string; readonly nodes: number; readonly batch: number | null }[];
  readonly options: PlanOptionsRecord;
  /** Present only when the plan starts with phase 0 `operator` (`--subscription`). */
  readonly operatorUpgrade?: OperatorUpgradeRecord;
  readonly phases: readonly PhasePlan[];
  readonly warnings: readonly PlanWarning[];
  readonly notes: readonly string[];
}

/** The options the plan was made with, recorded so a saved plan renders the same way. */
export interface PlanOptionsRecord {
  readonly dataplaneService: 'update' | 'update-services';
  readonly ovnServices: readonly string[];
  readonly updateSystem: boolean;
  readonly reboot: boolean;
  readonly attempt: number;
  readonly namePrefix: string;
}

/** Phase 0: the user's Subscription pinned to the target CSV. */
export interface OperatorUpgradeRecord {
  /** The target CSV, e.g. `openstack-operator.v1.0.6`. */
  readonly csv: string;
  readonly channel: string;
  readonly subscription: string;
  /** Where OLM runs the operator: the Subscription's namespace, its InstallPlans and CSVs. */
  readonly operatorNamespace: string;
  /** The Subscription's startingCSV before the pin, if it had one. */
  readonly fromCsv?: string;
}

export interface OperatorReleaseRecord {
  readonly release: string;
  readonly branch: string;
  /** How the release was recognised (bundle version, layout, image list). */
  readonly via: string;
  readonly ovnUnchangedRule: boolean;
  readonly trackedCustomImages: boolean;
  readonly ovnDisabledGuard: boolean;
  readonly inventoryImages: readonly string[];
}

/** One service default, as the target release's control plane reads it (the value it acts on when unset included). */
export interface ServiceDefaultChange {
  readonly service: string;
  readonly field: string;
  readonly change: 'changed' | 'unchanged' | 'unknown';
  /** What the control plane acts on now; absent when the deployed version's defaults are unknown. */
  readonly from?: string;
  readonly to: string;
  readonly effect: string;
  /** Where the target value came from: the operator's published `availableServiceDefaults` or the release table. */
  readonly source: 'openstackversion-status' | 'release-rules';
}
