/**
 * Typed errors with stable codes. Library code only throws; the CLI catches once at the top,
 * prints the message (no stack for known errors) and sets the exit code by contract.
 */
import { escapeControls } from './validate/quote.js';

/**
 * Exit codes by contract: 0 ok, 1 failure reported, 2 usage/input error, 3 waiting, 4 the cluster
 * could not be reached (nothing was judged: not a failed gate), 70 internal.
 */
export const EXIT = { ok: 0, failure: 1, usage: 2, waiting: 3, unreachable: 4, internal: 70 } as const;

export type ErrorCode =
  // usage and input (exit 2)
  | 'USAGE'
  | 'INPUT_NOT_FOUND'
  | 'INPUT_TOO_LARGE'
  | 'INPUT_YAML'
  | 'INPUT_INVALID'
  | 'CSV_NO_OPERATOR_DEPLOYMENT'
  | 'CSV_NO_RELEASE_VERSION'
  | 'CSV_CONFLICT'
  | 'OSV_INVALID'
  | 'NODESET_INVALID'
  | 'NODESET_UNKNOWN'
  | 'CONTROLPLANE_INVALID'
  | 'CUSTOM_IMAGES_INVALID'
  | 'PLAN_INVALID'
  | 'NAME_INVALID'
  | 'VERSION_INVALID'
  | 'IMAGE_INVALID'
  | 'URL_INVALID'
  | 'PHASE_INVALID'
  | 'DATE_INVALID'
  | 'PLAN_TAMPERED'
  | 'OUTPUT_INVALID'
  | 'VERSION_FILE_NOT_FOUND'
  | 'VERSION_FILE_INVALID'
  | 'VERSION_FILE_MISMATCH'
  | 'KUSTOMIZATION_INVALID'
  | 'PATH_UNSAFE'
  | 'GIT_REMOTE_INVALID'
  // the forge options of --pull-request: a bad value, an unset token variable
  | 'FORGE_CONFIG'
  // policy refusals (exit 1: the inputs were read fine, the update is not allowed)
  | 'POLICY_NO_DEFAULTS'
  | 'POLICY_TARGET_NOT_AVAILABLE'
  | 'POLICY_ROLLBACK'
  | 'POLICY_MAJOR'
  | 'POLICY_NOTHING_TO_DO'
  | 'POLICY_CUSTOM_IMAGES_UNCHANGED'
  | 'POLICY_NOT_DEPLOYED'
  // an InstallPlan that holds more (or other) than the CSVs asked for is never approved
  | 'OLM_APPROVAL_REFUSED'
  // side effects (exit 1)
  | 'GIT_FAILED'
  | 'GIT_DIRTY'
  | 'GIT_PUSH_REJECTED'
  | 'GIT_PUSH_REFUSED'
  | 'GIT_HOOK_REJECTED'
  | 'GIT_LOCKED'
  | 'SECOND_OWNER'
  | 'WRITE_FAILED'
  | 'RENDER_INVALID'
  | 'SECRET_REFUSED'
  // the rehearsal agent's kustomize-lite builder
  | 'AGENT_BUILD_INVALID'
  | 'AGENT_BUILD_UNSUPPORTED'
  // the cluster and the update loop
  | 'CLUSTER_CONFIG'
  | 'CLUSTER_UNAVAILABLE'
  // no answer at all from the API server (refused, timed out, no route): exit 4
  | 'CLUSTER_UNREACHABLE'
  | 'STATUS_NOT_FOUND'
  | 'GIT_DIVERGED'
  // the forge refused or failed a request of the pull-request flow (exit 1)
  | 'FORGE_FAILED';

const USAGE_CODES: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  'USAGE',
  'INPUT_NOT_FOUND',
  'INPUT_TOO_LARGE',
  'INPUT_YAML',
  'INPUT_INVALID',
  'CSV_NO_OPERATOR_DEPLOYMENT',
  'CSV_NO_RELEASE_VERSION',
  'CSV_CONFLICT',
  'OSV_INVALID',
  'NODESET_INVALID',
  'NODESET_UNKNOWN',
  'CONTROLPLANE_INVALID',
  'CUSTOM_IMAGES_INVALID',
  'PLAN_INVALID',
  'NAME_INVALID',
  'VERSION_INVALID',
  'IMAGE_INVALID',
  'URL_INVALID',
  'PHASE_INVALID',
  'DATE_INVALID',
  'PLAN_TAMPERED',
  'OUTPUT_INVALID',
  'VERSION_FILE_NOT_FOUND',
  'VERSION_FILE_INVALID',
  'VERSION_FILE_MISMATCH',
  'KUSTOMIZATION_INVALID',
  'PATH_UNSAFE',
  'GIT_REMOTE_INVALID',
  'FORGE_CONFIG',
  'CLUSTER_CONFIG',
  'STATUS_NOT_FOUND',
]);

/** Where in an input a problem sits: the file and the path inside the document. */
export interface Location {
  readonly file?: string;
  /** Document index in a multi-document file (0-based). */
  readonly document?: number;
  /** Path inside the object, e.g. `spec.install.spec.deployments[0]`. */
  readonly path?: string;
}

export function formatLocation(loc: Location): string {
  const parts: string[] = [];
  if (loc.file !== undefined) parts.push(loc.file);
  if (loc.document !== undefined && loc.document > 0) parts.push(`document ${loc.document + 1}`);
  if (loc.path !== undefined && loc.path !== '') parts.push(loc.path);
  // paths are built from the input's own keys: never let them drive the terminal
  return escapeControls(parts.join(': '));
}

export class OsvError extends Error {
  readonly code: ErrorCode;
  readonly location: Location | undefined;
  readonly hint: string | undefined;
  readonly details: readonly string[];

  constructor(
    code: ErrorCode,
    message: string,
    opts: { location?: Location; hint?: string; details?: readonly string[]; cause?: unknown } = {},
  ) {
    const where = opts.location ? formatLocation(opts.location) : '';
    super(where ? `${where}: ${message}` : message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'OsvError';
    this.code = code;
    this.location = opts.location;
    this.hint = opts.hint;
    this.details = opts.details ?? [];
  }

  get exitCode(): number {
    // "already at that version" is an answer, not a failure
    if (this.code === 'POLICY_NOTHING_TO_DO') return EXIT.ok;
    if (this.code === 'CLUSTER_UNREACHABLE') return EXIT.unreachable;
    return USAGE_CODES.has(this.code) ? EXIT.usage : EXIT.failure;
  }

  toJSON(): Record<string, unknown> {
    return {
      code: this.code,
      message: this.message,
      ...(this.location ? { location: this.location } : {}),
      ...(this.hint ? { hint: this.hint } : {}),
      ...(this.details.length ? { details: this.details } : {}),
    };
  }
}

export function isOsvError(e: unknown): e is OsvError {
  return e instanceof OsvError;
}
