/**
 * The operator holding an update on purpose (upstream PR #1913): the annotation
 * `core.openstack.org/update-target-stage` on the OpenStackVersion lets the update run up to and
 * including that stage; the condition of the next stage is then False with reason `Gated`. That is
 * a hold someone asked for, not a failure: a gate waits on it and says how to release it.
 */

export const UPDATE_TARGET_STAGE_ANNOTATION = 'core.openstack.org/update-target-stage';
export const GATED_REASON = 'Gated';

/** The stages in the operator's order, with the OpenStackVersion condition each one completes. */
export const UPDATE_STAGES = [
  ['ovn-controlplane', 'MinorUpdateOVNControlplane'],
  ['ovn-dataplane', 'MinorUpdateOVNDataplane'],
  ['rabbitmq', 'MinorUpdateRabbitMQ'],
  ['mariadb', 'MinorUpdateMariaDB'],
  ['memcached', 'MinorUpdateMemcached'],
  ['keystone', 'MinorUpdateKeystone'],
  ['controlplane', 'MinorUpdateControlplane'],
] as const;

export interface OperatorHold {
  /** The stage named by the annotation (as written), when there is one. */
  readonly stage: string | undefined;
  /** The condition held `Gated`, when one is. */
  readonly condition: string | undefined;
  readonly message: string;
}

interface ConditionLike {
  readonly type: string;
  readonly status: string;
  readonly reason?: string;
  readonly message?: string;
}

/** A condition the operator holds on purpose: False with reason `Gated`. */
export function isOperatorHold(c: ConditionLike | undefined): boolean {
  return c !== undefined && c.status === 'False' && c.reason === GATED_REASON;
}

/** The condition types the annotation lets complete, in order; undefined for a stage the operator does not define. */
export function conditionsAllowedBy(stage: string): readonly string[] | undefined {
  const i = UPDATE_STAGES.findIndex(([s]) => s === stage);
  return i < 0 ? undefined : UPDATE_STAGES.slice(0, i + 1).map(([, c]) => c);
}

/**
 * Whether the operator holds the update, from the OpenStackVersion's annotations and conditions.
 * Pass `conditionType` to ask about one gate: held when that condition is `Gated`, or when the
 * annotation stops the update before it.
 */
export function operatorHold(
  osv: { readonly annotations: Readonly<Record<string, string>>; readonly conditions?: readonly ConditionLike[] },
  conditionType?: string,
): OperatorHold | undefined {
  const stage = osv.annotations[UPDATE_TARGET_STAGE_ANNOTATION];
  const gated = (osv.conditions ?? []).filter(isOperatorHold).filter((c) => conditionType === undefined || c.type === conditionType);
  const release = `move the annotation ${UPDATE_TARGET_STAGE_ANNOTATION} to a later stage, or remove it, to resume`;
  if (gated.length > 0) {
    const c = gated[0]!;
    return { stage, condition: c.type, message: `held by the operator: ${c.type}=False (Gated)${c.message ? `: ${c.message}` : ''}; ${release}` };
  }
  if (stage === undefined) return undefined;
  const allowed = conditionsAllowedBy(stage);
  if (allowed === undefined) {
    return { stage, condition: undefined, message: `${UPDATE_TARGET_STAGE_ANNOTATION}: "${stage}" names no stage the operator knows (${UPDATE_STAGES.map(([s]) => s).join(', ')})` };
  }
  const stages: readonly string[] = UPDATE_STAGES.map(([, c]) => c);
  // conditions after the last stage (MinorUpdateDataplane, Ready) are held unless every stage is allowed
  if (conditionType !== undefined && (stages.includes(conditionType) ? allowed.includes(conditionType) : allowed.length === stages.length)) return undefined;
  return { stage, condition: undefined, message: `the operator holds the update after stage ${stage}; ${release}` };
}
