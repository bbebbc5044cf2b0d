/**
 * Names of the one-shot OpenStackDataPlaneDeployments: deterministic, RFC 1123, at most 53
 * characters, unique per version, phase, batch and attempt (DESIGN.md; facts §6.1).
 */
import { createHash } from 'node:crypto';
import { OsvError } from '../errors.js';

export const MAX_DEPLOYMENT_NAME = 53;
const RFC1123_LABELISH = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** `19.0.1-1784642724` → `19-0-1-1784642724`. */
export function versionSlug(version: string): string {
  return version
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '');
}

function shortHash(s: string): string {
  return createHash('sha256').update(s).digest('hex').slice(0, 8);
}

export interface DeploymentNameParts {
  readonly prefix: string;
  readonly step: string;
  readonly version: string;
  readonly batch?: number;
  readonly attempt?: number;
}

export function deploymentName(parts: DeploymentNameParts): string {
  const prefix = versionSlug(parts.prefix);
  if (prefix === '') throw new OsvError('NAME_INVALID', `name prefix "${parts.prefix}" has no usable characters`);
  const tail = [parts.batch !== undefined ? `b${parts.batch}` : '', parts.attempt && parts.attempt > 1 ? `r${parts.attempt}` : '']
    .filter(Boolean)
    .join('-');
  const full = [prefix, parts.step, versionSlug(parts.version), tail].filter(Boolean).join('-');
  if (full.length <= MAX_DEPLOYMENT_NAME) return full;
  // too long: keep a readable head, then a hash of the whole name so that it stays unique
  const suffix = `-${shortHash(full)}${tail ? `-${tail}` : ''}`;
  const head = full.slice(0, MAX_DEPLOYMENT_NAME - suffix.length).replace(/-+$/, '');
  return `${head}${suffix}`;
}

export function assertDeploymentName(name: string): void {
  if (name.length > MAX_DEPLOYMENT_NAME || !RFC1123_LABELISH.test(name)) {
    throw new OsvError('NAME_INVALID', `"${name}" is not an RFC 1123 name of at most ${MAX_DEPLOYMENT_NAME} characters`);
  }
}
