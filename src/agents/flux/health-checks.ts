/**
 * Builders for Flux `Kustomization.spec.healthCheckExprs` entries (conventions d6/d7).
 *
 * How Flux evaluates them (fluxcd/pkg `runtime/cel/status_evaluator.go`, `expression.go`):
 * - each expression is only *parsed*, never type-checked, and runs against the object's top-level
 *   fields as variables (`apiVersion`, `kind`, `metadata`, `spec`, `status`);
 * - before any expression, when `status.observedGeneration` is an integer that differs from
 *   `metadata.generation`, the verdict is InProgress;
 * - then `inProgress`, `failed`, `current` in that order; the first that is true wins, and when
 *   none is, the verdict is InProgress;
 * - an evaluation error makes the kstatus reader report Unknown (fluxcd/cli-utils
 *   `statusreaders/generic.go`), which the wait loop treats as "not ready yet".
 *
 * Rules every expression here follows:
 * - "condition X is True" is `exists(c, c.type == 'X' && c.status == 'True')`, never
 *   `filter(...).all(...)`, which is true when X is missing (d7);
 * - every optional field is guarded with `has(...)`, and CEL's `&&` absorbs an error when another
 *   operand is false, so a missing field never turns a verdict into an error;
 * - a missing top-level `status` cannot be guarded: a variable that is not bound is an error in
 *   cel-go even inside `has()`, and `has(status)` does not parse. Flux then reports Unknown and
 *   keeps waiting, which is the right outcome for a gate. This happens only before the operator's
 *   first reconcile (and only while the target version already matches, because a false term
 *   absorbs the error).
 */
import { DEFAULT_HEALTH_GATE, type OpenStackVersionGate } from '../../health/annotations.js';

/** One `healthCheckExprs` entry, as Flux's `CustomHealthCheck` type defines it. */
export interface FluxHealthCheckExpr {
  readonly apiVersion: string;
  /** When omitted, the entry applies to every kind of the API group. */
  readonly kind?: string;
  readonly current: string;
  readonly failed?: string;
  readonly inProgress?: string;
}

/** What our builders return: kind and failed are always set. */
export interface GateHealthCheckExpr extends FluxHealthCheckExpr {
  readonly kind: string;
  readonly failed: string;
}

export const OPENSTACK_VERSION_API_VERSION = 'core.openstack.org/v1beta1';
export const DATAPLANE_API_VERSION = 'dataplane.openstack.org/v1beta1';

export interface OpenStackVersionGateOptions {
  /** The condition type the phase waits for. */
  readonly conditionType: OpenStackVersionGate;
  /** The `spec.targetVersion` of this update; the gate never passes for another version. */
  readonly targetVersion: string;
  /**
   * Also require `status.deployedVersion == targetVersion`, which the operator sets only once
   * the whole update (data plane included) is done (facts §4.4).
   * @default true for the `Ready` gate, false otherwise
   */
  readonly requireDeployedVersion?: boolean;
}

/**
 * Quotes a string as a CEL string literal. Backslashes, quotes and control characters are
 * escaped, so any version string is safe to embed.
 */
export function celString(value: string): string {
  let out = "'";
  for (const ch of value) {
    const code = ch.codePointAt(0) ?? 0;
    if (ch === '\\') out += '\\\\';
    else if (ch === "'") out += "\\'";
    else if (ch === '"') out += '\\"';
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else if (code < 0x20 || code === 0x7f || (code >= 0x80 && code <= 0x9f) || code === 0x2028 || code === 0x2029) {
      out += `\\u${code.toString(16).padStart(4, '0')}`;
    } else out += ch;
  }
  return `${out}'`;
}

/** All terms must hold; each term is self-guarded. */
function allOf(...terms: string[]): string {
  return terms.join(' && ');
}

/** `status.observedGeneration` is present and equals `metadata.generation`. */
const FRESH_GENERATION =
  'has(status.observedGeneration) && has(metadata.generation) && status.observedGeneration == metadata.generation';

function hasCondition(conditionType: string, predicate: string): string {
  return `has(status.conditions) && status.conditions.exists(c, c.type == ${celString(conditionType)} && ${predicate})`;
}

function specTargetIs(target: string): string {
  return `has(spec.targetVersion) && spec.targetVersion == ${celString(target)}`;
}

/**
 * Health expressions for `OpenStackVersion` that pass only when the named condition is True for
 * this update's target version, on a status the operator computed for the current generation.
 *
 * - current: target matches, generation observed, condition True (and, when required,
 *   `status.deployedVersion` equals the target);
 * - failed: target matches, generation observed, condition False with reason `Error`;
 * - anything else (no conditions, `Unknown/Init`, `False/Requested`, a `True` left over from the
 *   previous update, an older target) is InProgress.
 */
export function openStackVersionGateExprs(options: OpenStackVersionGateOptions): GateHealthCheckExpr {
  const { conditionType, targetVersion } = options;
  const requireDeployed = options.requireDeployedVersion ?? conditionType === DEFAULT_HEALTH_GATE;
  const scope = [specTargetIs(targetVersion), FRESH_GENERATION];
  const current = [...scope, hasCondition(conditionType, "c.status == 'True'")];
  if (requireDeployed) {
    current.push(`has(status.deployedVersion) && status.deployedVersion == ${celString(targetVersion)}`);
  }
  return {
    apiVersion: OPENSTACK_VERSION_API_VERSION,
    kind: 'OpenStackVersion',
    current: allOf(...current),
    failed: allOf(...scope, hasCondition(conditionType, "c.status == 'False' && has(c.reason) && c.reason == 'Error'")),
  };
}

/**
 * Health expressions for `OpenStackDataPlaneDeployment` (facts §6.1).
 *
 * - current: `status.deployed` is true and `Ready` is True, on a fresh generation;
 * - failed: `DeploymentReady` or `Ready` is False with severity `Error`, the terminal state the
 *   controller never retries (reason `BackoffLimitExceeded`);
 * - anything else is InProgress. A stale generation never reaches the expressions: Flux's own
 *   observedGeneration check answers InProgress first.
 */
export function dataPlaneDeploymentExprs(): GateHealthCheckExpr {
  return {
    apiVersion: DATAPLANE_API_VERSION,
    kind: 'OpenStackDataPlaneDeployment',
    current: allOf(
      FRESH_GENERATION,
      'has(status.deployed) && status.deployed == true',
      hasCondition('Ready', "c.status == 'True'"),
    ),
    failed:
      "has(status.conditions) && status.conditions.exists(c, (c.type == 'DeploymentReady' || c.type == 'Ready') && " +
      "c.status == 'False' && has(c.severity) && c.severity == 'Error')",
  };
}

/**
 * Health expressions for a kind whose only verdict is its `Ready` condition
 * (`OpenStackControlPlane`, `OpenStackDataPlaneNodeSet`): current when `Ready` is True on a fresh
 * generation. There is no failed expression: lib-common reports work in progress as
 * `Ready=False`, so False only means "not yet".
 */
export function readyConditionExprs(apiVersion: string, kind: string): FluxHealthCheckExpr & { readonly kind: string } {
  return {
    apiVersion,
    kind,
    current: allOf(FRESH_GENERATION, hasCondition('Ready', "c.status == 'True'")),
  };
}

/**
 * Health expression for phase 0's OLM `Subscription`. kstatus alone calls a Subscription Current
 * as soon as it exists: it has no `observedGeneration`, no `Ready`, `Reconciling` or `Stalled`
 * condition (fluxcd/cli-utils `status.Compute`). This one holds it InProgress until OLM reports
 * the pinned CSV installed; the approval Job still decides (CSV `Succeeded`, `availableVersion`).
 * No failed expression: OLM's conditions (`ResolutionFailed`, `CatalogSourcesUnhealthy`) can
 * clear by themselves, and the Job ends with the reason at its deadline.
 */
export function subscriptionInstalledExprs(csv: string): FluxHealthCheckExpr & { readonly kind: string } {
  return {
    apiVersion: 'operators.coreos.com/v1alpha1',
    kind: 'Subscription',
    current: `has(status.installedCSV) && status.installedCSV == ${celString(csv)}`,
  };
}
