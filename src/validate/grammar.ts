/**
 * One grammar per input kind, checked once where the value enters the tool (a flag, a field of an
 * input file, a saved plan). Each `parse*` returns the value unchanged when it is valid and throws a
 * usage error (exit 2) naming the input otherwise; the value is echoed escaped and cut short
 * (`quoteInput`), never raw. Inner stages may then use these values in file names, Git trailers,
 * labels and commands without checking again.
 */
import { OsvError, type ErrorCode, type Location } from '../errors.js';
import { rfc1123Problems, RFC1123_LABEL_MAX, RFC1123_SUBDOMAIN_MAX } from './names.js';
import { hasNonPrintable, quoteInput } from './quote.js';

interface Where {
  /** What the value is, for the message: `--target`, `spec.targetVersion`, `nodeset name`. */
  readonly what: string;
  readonly location?: Location;
}

function refuse(code: ErrorCode, where: Where, value: string, problems: readonly string[], hint: string): never {
  throw new OsvError(code, `${where.what} ${quoteInput(value)} is not valid: ${problems.join('; ')}`, {
    ...(where.location ? { location: where.location } : {}),
    hint,
    details: problems,
  });
}

function whereOf(what: string, location?: Location): Where {
  return location ? { what, location } : { what };
}

// ---------------------------------------------------------------------------------------------
// Operator release versions (OPENSTACK_RELEASE_VERSION, targetVersion, status versions, --target)

export const VERSION_MAX = 64;

/**
 * The operator treats its release version as an opaque string, but we put it in folder names,
 * Git trailers and labels. Real values: `18.0.4`, `0.0.1-1784642724`, `18.0.10-20250603.1`,
 * `1.0.0.1234567890.p` (csvEpochAppend). Allowed: letters, digits, `.`, `_`, `+`, `~`, `-`;
 * starting and ending with a letter or digit; no `..`; at most 64 characters. Surrounding spaces
 * are refused, not trimmed: Git trims trailer values, and we would stop recognising our commits.
 */
export function releaseVersionProblems(value: string): string[] {
  if (value === '') return ['is empty'];
  const problems: string[] = [];
  if (value.length > VERSION_MAX) problems.push(`is ${value.length} characters long, at most ${VERSION_MAX} allowed`);
  if (/\s/.test(value)) problems.push('contains whitespace');
  if (/[/\\]/.test(value)) problems.push("contains '/' or '\\'");
  if (hasNonPrintable(value)) problems.push('contains control or non-ASCII characters');
  const other = [...new Set([...value].filter((c) => !/[A-Za-z0-9._+~\s/\\-]/.test(c) && !hasNonPrintable(c)))];
  if (other.length > 0) problems.push(`contains ${other.slice(0, 10).map((c) => quoteInput(c)).join(', ')} (only letters, digits, '.', '_', '+', '~' and '-' are allowed)`);
  if (!/^[A-Za-z0-9]/.test(value) || !/[A-Za-z0-9]$/.test(value)) problems.push('must start and end with a letter or a digit');
  if (value.includes('..')) problems.push("contains '..'");
  return problems;
}

export function isReleaseVersion(value: string): boolean {
  return releaseVersionProblems(value).length === 0;
}

/** An operator release version, or `VERSION_INVALID`. */
export function parseReleaseVersion(value: string, what = 'release version', location?: Location): string {
  const problems = releaseVersionProblems(value);
  if (problems.length === 0) return value;
  return refuse('VERSION_INVALID', whereOf(what, location), value, problems, 'A release version looks like 18.0.4 or 18.0.4-1764633600: letters, digits, ".", "_", "+", "~" and "-", at most 64 characters.');
}

// ---------------------------------------------------------------------------------------------
// Kubernetes names

/**
 * The name rules of the objects we read and write:
 * - `object`: OpenStackVersion, OpenStackControlPlane, CSV: an RFC 1123 subdomain (≤ 253);
 * - `namespace`: an RFC 1123 label (≤ 63);
 * - `nodeset`: a subdomain of at most 63 characters, because the operator puts the nodeset name in
 *   the `openstackdataplanenodeset` label of every Job it runs (label values stop at 63), and we put
 *   it in file names;
 * - `deployment`: our OpenStackDataPlaneDeployment names, a label of at most 53 (facts §6.1);
 * - `namePrefix`: the head of those names (`--name-prefix`), a label of at most 32 so that the
 *   version and phase still fit;
 * - `service`: an OpenStackDataPlaneService in `servicesOverride`; the operator names its Jobs
 *   `<service>-<deployment>-<nodeset>`, so at most 63.
 */
export const NAME_RULES = {
  object: { form: 'subdomain', maxLen: RFC1123_SUBDOMAIN_MAX },
  namespace: { form: 'label', maxLen: RFC1123_LABEL_MAX },
  nodeset: { form: 'subdomain', maxLen: 63 },
  deployment: { form: 'label', maxLen: 53 },
  namePrefix: { form: 'label', maxLen: 32 },
  service: { form: 'subdomain', maxLen: 63 },
} as const;

export type NameKind = keyof typeof NAME_RULES;

/** A Kubernetes name of the given kind, or `NAME_INVALID`. */
export function parseName(value: string, kind: NameKind, what: string, location?: Location): string {
  const rule = NAME_RULES[kind];
  const problems = rfc1123Problems(value, rule);
  if (problems.length === 0) return value;
  const chars = rule.form === 'label' ? "lowercase letters, digits and '-'" : "lowercase letters, digits, '-' and '.'";
  return refuse('NAME_INVALID', whereOf(what, location), value, problems, `Use at most ${rule.maxLen} ${chars}, starting and ending with a letter or digit (RFC 1123).`);
}

export function parseNamespace(value: string, what = 'namespace', location?: Location): string {
  return parseName(value, 'namespace', what, location);
}

// ---------------------------------------------------------------------------------------------
// Container image references

/** Longest repository name (domain and path), as the distribution reference grammar allows. */
export const IMAGE_NAME_MAX = 255;

// The distribution reference grammar, written out:
//   reference := name [":" tag] ["@" digest]
//   name      := [domain "/"] component ("/" component)*
//   domain    := host [":" port]; host := DNS name | IPv4 | "[" IPv6 "]"
//   component := [a-z0-9]+ (separator [a-z0-9]+)*; separator := "." | "_" | "__" | "-"+
//   tag       := [A-Za-z0-9_] [A-Za-z0-9_.-]{0,127}
//   digest    := algorithm ":" hex; algorithm := [A-Za-z][A-Za-z0-9]* ([+._-] [A-Za-z][A-Za-z0-9]*)*
const DOMAIN_LABEL = '(?:[A-Za-z0-9]|[A-Za-z0-9][A-Za-z0-9-]*[A-Za-z0-9])';
const HOST = `(?:${DOMAIN_LABEL}(?:\\.${DOMAIN_LABEL})*|\\[[0-9A-Fa-f:.]+\\])`;
const DOMAIN = `${HOST}(?::[0-9]{1,5})?`;
const COMPONENT = '[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*';
const NAME = `(?:${DOMAIN}/)?${COMPONENT}(?:/${COMPONENT})*`;
const TAG = '[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}';
const ALGORITHM = '[A-Za-z][A-Za-z0-9]*(?:[+._-][A-Za-z][A-Za-z0-9]*)*';
const IMAGE_RE = new RegExp(`^(${NAME})(?::(${TAG}))?(?:@(${ALGORITHM}):([0-9A-Fa-f]{32,}))?$`);

/** Hex lengths of the digest algorithms registries use; others only need 32+ hex digits. */
const DIGEST_HEX: Readonly<Record<string, number>> = { sha256: 64, sha384: 96, sha512: 128 };

export function imageReferenceProblems(value: string): string[] {
  if (value === '') return ['is empty'];
  if (hasNonPrintable(value) || /\s/.test(value)) return ['contains whitespace, control or non-ASCII characters'];
  const m = IMAGE_RE.exec(value);
  if (!m) {
    return ['is not an image reference of the form registry[:port]/path[:tag][@sha256:digest] (lowercase path, no shell or URL syntax)'];
  }
  const problems: string[] = [];
  const name = m[1] ?? '';
  if (name.length > IMAGE_NAME_MAX) problems.push(`its repository name is ${name.length} characters long, at most ${IMAGE_NAME_MAX} allowed`);
  const algorithm = m[3];
  const hex = m[4];
  if (algorithm !== undefined && hex !== undefined) {
    const want = DIGEST_HEX[algorithm];
    if (want !== undefined && hex.length !== want) problems.push(`its ${algorithm} digest has ${hex.length} hex digits, not ${want}`);
    if (algorithm === 'sha256' && /[A-F]/.test(hex)) problems.push('its sha256 digest must be lowercase hex');
  }
  return problems;
}

export function isImageReference(value: string): boolean {
  return imageReferenceProblems(value).length === 0;
}

/** A container image reference, or `IMAGE_INVALID`. */
export function parseImageReference(value: string, what = 'image', location?: Location): string {
  const problems = imageReferenceProblems(value);
  if (problems.length === 0) return value;
  return refuse('IMAGE_INVALID', whereOf(what, location), value, problems, 'An image looks like quay.io/org/name:tag or quay.io/org/name@sha256:<64 hex digits>.');
}

// ---------------------------------------------------------------------------------------------
// Repository URLs (--repo-url)

export const URL_MAX = 2048;

const SCP_RE = /^(?:([A-Za-z0-9._~-]+)@)?([A-Za-z0-9.-]+):([^\s]+)$/;

/**
 * A Git repository URL as agents take them: `https://`, `http://`, `ssh://`, `git://`, or the scp
 * form `git@host:org/repo.git`. Printable ASCII only (a newline would split a YAML value or a
 * Git argument), at most 2048 characters, and no credentials: http(s) URLs carry no user-info at
 * all (a token in the user field is as secret as a password), ssh ones a user but no password.
 */
export function repoUrlProblems(value: string): string[] {
  if (value === '') return ['is empty'];
  if (value.length > URL_MAX) return [`is ${value.length} characters long, at most ${URL_MAX} allowed`];
  if (hasNonPrintable(value) || /\s/.test(value)) return ['contains whitespace, control or non-ASCII characters'];
  const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):\/\//.exec(value)?.[1]?.toLowerCase();
  if (scheme === undefined) {
    const scp = SCP_RE.exec(value);
    if (!scp || value.startsWith('-')) return ['is neither a URL (https://, http://, ssh://, git://) nor the scp form user@host:path'];
    return [];
  }
  if (!['https', 'http', 'ssh', 'git'].includes(scheme)) return [`uses the scheme ${quoteInput(scheme)}; only https, http, ssh and git are allowed`];
  // WHATWG parsing skips extra slashes (`https:///host`); an authority must follow `://` directly
  if (value.charAt(scheme.length + 3) === '/') return ['has no host'];
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return ['is not a well-formed URL'];
  }
  const problems: string[] = [];
  if (url.hostname === '') problems.push('has no host');
  if (url.password !== '') problems.push('carries a password (user:password@): put credentials in a Secret of the agent, not in the URL');
  else if (url.username !== '' && (scheme === 'https' || scheme === 'http')) {
    problems.push('carries user-info (user@): an http(s) user name is often a token; put credentials in a Secret of the agent');
  }
  if (url.search !== '' || url.hash !== '') problems.push('has a query or a fragment');
  return problems;
}

/** A repository URL, or `URL_INVALID`. */
export function parseRepoUrl(value: string, what = '--repo-url'): string {
  const problems = repoUrlProblems(value);
  if (problems.length === 0) return value;
  return refuse('URL_INVALID', whereOf(what), value, problems, 'Use https://host/org/repo.git, ssh://git@host/org/repo.git or git@host:org/repo.git, without credentials.');
}

// ---------------------------------------------------------------------------------------------
// Phase indexes and dates

/**
 * A phase index as typed on the command line (`--phase 3`): decimal digits only (no sign, no
 * `0x`, no `1e1`), at most two; below `count` when the plan is known.
 */
export function parsePhaseIndex(value: string | number, what = '--phase', count?: number): number {
  const text = String(value);
  const problems: string[] = [];
  if (!/^[0-9]{1,2}$/.test(text)) problems.push('must be a phase number (0, 1, 2, …)');
  else if (count !== undefined && Number(text) >= count) problems.push(`the plan has phases 0 to ${count - 1}`);
  if (problems.length === 0) return Number(text);
  return refuse('PHASE_INVALID', whereOf(what), text, problems, '`osv-gitops plan` lists the phases with their numbers.');
}

// YYYY-MM-DDTHH:MM[:SS[.fraction]] with Z or an offset: a date-only or zone-less value would be
// read in the local time zone and make commits differ between machines.
const ISO_DATE_RE = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})$/;

/** An ISO 8601 date-time with a time zone (`2026-11-25T10:00:00Z`), or `DATE_INVALID`. */
export function parseIsoDate(value: string, what = '--date'): string {
  const m = ISO_DATE_RE.exec(value);
  const problems: string[] = [];
  if (!m) {
    problems.push('must be an ISO 8601 date and time with a time zone, e.g. 2026-11-25T10:00:00Z');
  } else {
    const [y, mo, d, h, mi, s] = [m[1], m[2], m[3], m[4], m[5], m[6] ?? '00'].map(Number) as [number, number, number, number, number, number];
    const t = new Date(Date.UTC(y, mo - 1, d, h, mi, s));
    const real = t.getUTCFullYear() === y && t.getUTCMonth() === mo - 1 && t.getUTCDate() === d && h < 24 && mi < 60 && s < 60;
    if (!real) problems.push('is not a real calendar date and time');
    else if (y < 1970 || y > 2099) problems.push('must be between 1970 and 2099');
    const zone = m[7] ?? 'Z';
    if (zone !== 'Z' && !/^[+-](?:0\d|1[0-4]):?[0-5]\d$/.test(zone)) problems.push('has an impossible time-zone offset');
  }
  if (problems.length === 0) return value;
  return refuse('DATE_INVALID', whereOf(what), value, problems, 'Pass e.g. --date 2026-11-25T10:00:00Z.');
}

/** `--attempt`: the re-run number of the data-plane deployments, 1 to 99. */
export function parseAttempt(value: string, what = '--attempt'): number {
  if (/^[1-9][0-9]?$/.test(value)) return Number(value);
  return refuse('USAGE', whereOf(what), value, ['must be a whole number from 1 to 99'], 'Raise it by one to give a re-run new deployment names.');
}

// ---------------------------------------------------------------------------------------------
// Git ref names (--branch, --revision)

export const GIT_REF_MAX = 255;

/**
 * A branch or tag name as `git check-ref-format --allow-onelevel` accepts it, and safe as an
 * argument: no blanks or control bytes, none of `~ ^ : ? * [ \`, no `..`, `@{` or `//`, no part
 * starting with `.` or ending with `.lock`, not starting with `-` or `/`, not ending with `/` or
 * `.`, not `@` alone, at most 255 characters.
 */
export function gitRefProblems(value: string): string[] {
  if (value === '') return ['is empty'];
  const problems: string[] = [];
  if (value.length > GIT_REF_MAX) problems.push(`is ${value.length} characters long, at most ${GIT_REF_MAX} allowed`);
  if (hasNonPrintable(value) || /\s/.test(value)) problems.push('contains whitespace, control or non-ASCII characters');
  if (/[~^:?*[\\]/.test(value)) problems.push('contains one of ~ ^ : ? * [ \\');
  if (value.includes('..') || value.includes('@{') || value.includes('//')) problems.push("contains '..', '@{' or '//'");
  if (value.startsWith('-') || value.startsWith('/') || value.endsWith('/') || value.endsWith('.')) problems.push("starts with '-' or '/', or ends with '/' or '.'");
  if (value === '@') problems.push("is '@'");
  if (value.split('/').some((part) => part.startsWith('.') || part.endsWith('.lock'))) problems.push("has a part starting with '.' or ending with '.lock'");
  return problems;
}

/** A Git branch or tag name, or `USAGE` (the flags that take one are plain usage errors). */
export function parseGitRef(value: string, what: string): string {
  const problems = gitRefProblems(value);
  if (problems.length === 0) return value;
  return refuse('USAGE', whereOf(what), value, problems, 'Use a branch or tag name such as main or osv-update/18.0.4.');
}
