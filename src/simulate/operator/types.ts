/**
 * Shapes the simulated openstack-operator works on. Objects are plain JSON as the API server
 * returns them; the reconcilers read only the fields the real operator reads (facts §4–§6).
 */

export type JsonObject = Record<string, unknown>;

export interface ObjectMeta {
  readonly name: string;
  readonly namespace?: string;
  readonly uid?: string;
  readonly generation?: number;
  readonly resourceVersion?: string;
  readonly creationTimestamp?: string;
  readonly deletionTimestamp?: string;
  readonly annotations?: Readonly<Record<string, string>>;
  readonly labels?: Readonly<Record<string, string>>;
}

export interface KubeObject {
  readonly apiVersion?: string;
  readonly kind?: string;
  readonly metadata: ObjectMeta;
  readonly spec?: JsonObject;
  readonly status?: JsonObject;
}

export type ConditionStatus = 'True' | 'False' | 'Unknown';
export type Severity = 'Info' | 'Warning' | 'Error';

/** A lib-common condition (`type,status,reason,severity,message,lastTransitionTime`). */
export interface Condition {
  readonly type: string;
  readonly status: ConditionStatus;
  readonly reason: string;
  readonly message: string;
  /** Present only on False conditions, as lib-common writes it (omitempty). */
  readonly severity?: Severity;
  readonly lastTransitionTime: string;
}

/** What the data-plane reconcilers need of an OpenStackDataPlaneService. */
export interface ServiceDefinition {
  readonly name: string;
  /** Defaults to the service name (the service webhook does that). */
  readonly edpmServiceType: string;
  /** Go field names of ContainerImages, e.g. `OvnControllerImage`. */
  readonly containerImageFields: readonly string[];
}

/**
 * A simulated step in progress: which step (`key`, unique per object and target) and when it began.
 * The real operator has no such field; the controller keeps it in memory (see controller.ts).
 */
export interface RunningStep {
  readonly key: string;
  readonly startedAt: number;
}

/** Milliseconds each simulated step takes. */
export interface SimulatedDurations {
  /** Control plane: the OVNController CR rolling to the new images. */
  readonly ovnControlPlane: number;
  readonly rabbitmq: number;
  readonly galera: number;
  readonly memcached: number;
  readonly keystone: number;
  /** Control plane: "the rest" (reconcileNormal), also the greenfield / custom-image pass. */
  readonly controlPlaneRest: number;
  /** Data plane: one service of one deployment (nodesets run in parallel, services in order). */
  readonly deploymentService: number;
}

export const DEFAULT_DURATIONS: SimulatedDurations = {
  ovnControlPlane: 300,
  rabbitmq: 200,
  galera: 200,
  memcached: 150,
  keystone: 200,
  controlPlaneRest: 400,
  deploymentService: 150,
};
