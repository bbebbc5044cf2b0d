/**
 * API errors as the Kubernetes API server reports them: a `kind: Status` object with an HTTP code,
 * a machine-readable `reason` and `details` naming the resource (`kind` there is the plural
 * resource name, as the real server puts it).
 */
import type { ResourceType } from '../../cluster/resources.js';

export type StatusReason =
  | 'NotFound'
  | 'AlreadyExists'
  | 'Conflict'
  | 'Invalid'
  | 'BadRequest'
  | 'MethodNotAllowed'
  | 'Expired'
  | 'Unauthorized'
  | 'Forbidden'
  | 'UnsupportedMediaType'
  | 'RequestEntityTooLarge'
  | 'InternalError'
  | 'ServiceUnavailable'
  | 'TooManyRequests'
  | 'Timeout';

export interface StatusDetails {
  readonly name?: string;
  readonly group?: string;
  readonly kind?: string;
  readonly uid?: string;
  readonly causes?: readonly { reason: string; message: string; field: string }[];
  readonly retryAfterSeconds?: number;
}

export interface StatusObject {
  readonly kind: 'Status';
  readonly apiVersion: 'v1';
  readonly metadata: Record<string, never>;
  readonly status: 'Failure' | 'Success';
  readonly message?: string;
  readonly reason?: StatusReason;
  readonly details?: StatusDetails;
  readonly code: number;
}

/** Thrown anywhere below the HTTP layer; the router turns it into a Status response. */
export class ApiError extends Error {
  readonly code: number;
  readonly reason: StatusReason;
  readonly details: StatusDetails | undefined;

  constructor(code: number, reason: StatusReason, message: string, details?: StatusDetails) {
    super(message);
    this.name = 'ApiError';
    this.code = code;
    this.reason = reason;
    this.details = details;
  }

  toStatus(): StatusObject {
    return failureStatus(this.code, this.reason, this.message, this.details);
  }
}

export function failureStatus(code: number, reason: StatusReason, message: string, details?: StatusDetails): StatusObject {
  return {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message,
    reason,
    ...(details === undefined ? {} : { details }),
    code,
  };
}

/** `openstackversions.core.openstack.org`, or `configmaps` for the core group. */
export function qualifiedResource(t: ResourceType): string {
  return t.group === '' ? t.plural : `${t.plural}.${t.group}`;
}

/** `details` as the real server fills them: empty fields (the core group '') are left out. */
export function detailsOf(t: ResourceType, name: string): StatusDetails {
  return { ...(name === '' ? {} : { name }), ...(t.group === '' ? {} : { group: t.group }), kind: t.plural };
}

export type CauseReason = 'FieldValueInvalid' | 'FieldValueRequired' | 'FieldValueForbidden' | 'FieldValueTypeInvalid' | 'FieldValueNotSupported' | 'FieldManagerConflict';

export interface FieldProblem {
  readonly field: string;
  readonly message: string;
  /** Default: from the message (`Required value` → FieldValueRequired, `Forbidden` → FieldValueForbidden). */
  readonly reason?: CauseReason;
}

function causeReason(p: FieldProblem): CauseReason {
  if (p.reason !== undefined) return p.reason;
  if (p.message.startsWith('Required value')) return 'FieldValueRequired';
  if (p.message.startsWith('Forbidden')) return 'FieldValueForbidden';
  return 'FieldValueInvalid';
}

function problemList(problems: readonly FieldProblem[]): string {
  const list = problems.map((p) => `${p.field}: ${p.message}`);
  return list.length === 1 ? (list[0] ?? '') : `[${list.join(', ')}]`;
}

const causesOf = (problems: readonly FieldProblem[]): StatusDetails['causes'] =>
  problems.map((p) => ({ reason: causeReason(p), message: p.message, field: p.field }));

export const notFound = (t: ResourceType, name: string): ApiError =>
  new ApiError(404, 'NotFound', `${qualifiedResource(t)} "${name}" not found`, detailsOf(t, name));

export const alreadyExists = (t: ResourceType, name: string): ApiError =>
  new ApiError(409, 'AlreadyExists', `${qualifiedResource(t)} "${name}" already exists`, detailsOf(t, name));

export const conflict = (t: ResourceType, name: string): ApiError =>
  new ApiError(
    409,
    'Conflict',
    `Operation cannot be fulfilled on ${qualifiedResource(t)} "${name}": the object has been modified; please apply your changes to the latest version and try again`,
    detailsOf(t, name),
  );

/** 422 from object validation: `Kind.group "name" is invalid: field: message`, one cause per problem. */
export function invalid(t: ResourceType, name: string, problems: readonly FieldProblem[]): ApiError {
  const group = t.group === '' ? '' : `.${t.group}`;
  return new ApiError(422, 'Invalid', `${t.kind}${group} "${name}" is invalid: ${problemList(problems)}`, {
    ...(name === '' ? {} : { name }),
    ...(t.group === '' ? {} : { group: t.group }),
    kind: t.kind,
    causes: causesOf(problems),
  });
}

/** 422 from the registry (e.g. an update without resourceVersion): named by the plural resource. */
export function invalidResource(t: ResourceType, name: string, problems: readonly FieldProblem[]): ApiError {
  return new ApiError(422, 'Invalid', `${qualifiedResource(t)} "${name}" is invalid: ${problemList(problems)}`, { ...detailsOf(t, name), causes: causesOf(problems) });
}

/** 422 for bad request options (`PatchOptions`, `ListOptions`): `Kind.meta.k8s.io "" is invalid: ...`. */
export function invalidOptions(kind: 'PatchOptions' | 'ListOptions', problems: readonly FieldProblem[]): ApiError {
  return new ApiError(422, 'Invalid', `${kind}.meta.k8s.io "" is invalid: ${problemList(problems)}`, { group: 'meta.k8s.io', kind, causes: causesOf(problems) });
}

export const badRequest = (message: string): ApiError => new ApiError(400, 'BadRequest', message);

export const expired = (message: string): ApiError => new ApiError(410, 'Expired', message);
