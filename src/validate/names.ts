/**
 * Kubernetes object names (RFC 1123, as the API server checks them).
 * - label: at most 63 characters of `a-z`, `0-9` and `-`, starting and ending alphanumeric
 *   (namespaces, and names that end up in label values or host names);
 * - subdomain: at most 253 characters, one or more labels joined by `.` (most object names).
 */
import { OsvError } from '../errors.js';
import { quoteInput } from './quote.js';

export const RFC1123_LABEL_MAX = 63;
export const RFC1123_SUBDOMAIN_MAX = 253;

const LABEL_RE = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const SUBDOMAIN_RE = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

export function isRfc1123Label(s: string): boolean {
  return s.length <= RFC1123_LABEL_MAX && LABEL_RE.test(s);
}

export function isRfc1123Subdomain(s: string): boolean {
  return s.length <= RFC1123_SUBDOMAIN_MAX && SUBDOMAIN_RE.test(s);
}

export interface NameRule {
  /** `label` forbids dots. Default `subdomain`. */
  readonly form?: 'label' | 'subdomain';
  /** Longest allowed name. Default 63 for a label, 253 for a subdomain. */
  readonly maxLen?: number;
}

/** Why `name` breaks the rule, in words; empty when it is fine. */
export function rfc1123Problems(name: string, rule: NameRule = {}): string[] {
  const form = rule.form ?? 'subdomain';
  const maxLen = Math.min(rule.maxLen ?? Infinity, form === 'label' ? RFC1123_LABEL_MAX : RFC1123_SUBDOMAIN_MAX);
  const problems: string[] = [];
  if (name.length === 0) return ['is empty'];
  if (name.length > maxLen) problems.push(`is ${name.length} characters long, at most ${maxLen} allowed`);
  const allowed = form === 'label' ? /[a-z0-9-]/ : /[a-z0-9.-]/;
  const bad = [...new Set([...name].filter((c) => !allowed.test(c)))];
  if (bad.length > 0) {
    // escaped, so a control byte or a homoglyph shows as \uXXXX; a few are enough to see the problem
    const list = bad.slice(0, 10).map((c) => quoteInput(c)).join(', ') + (bad.length > 10 ? `, … (${bad.length} in all)` : '');
    const what = form === 'label' ? "lowercase letters, digits and '-'" : "lowercase letters, digits, '-' and '.'";
    problems.push(`contains ${list} (only ${what} are allowed)`);
  }
  if (!/^[a-z0-9]/.test(name) || !/[a-z0-9]$/.test(name)) {
    problems.push('must start and end with a lowercase letter or a digit');
  } else if (form === 'subdomain' && bad.length === 0 && !SUBDOMAIN_RE.test(name)) {
    problems.push("each '.'-separated part must start and end with a lowercase letter or a digit");
  }
  return problems;
}

/**
 * Throw `NAME_INVALID` unless `name` is an RFC 1123 subdomain of at most `maxLen` characters
 * (`maxLen` ≤ 63 and `{ form: 'label' }` for names that must also be labels).
 */
export function assertRfc1123Name(
  name: string,
  maxLen: number,
  opts: { readonly form?: 'label' | 'subdomain'; readonly what?: string } = {},
): void {
  const form = opts.form ?? 'subdomain';
  const problems = rfc1123Problems(name, { form, maxLen });
  if (problems.length === 0) return;
  const limit = Math.min(maxLen, form === 'label' ? RFC1123_LABEL_MAX : RFC1123_SUBDOMAIN_MAX);
  const what = opts.what ?? 'name';
  throw new OsvError('NAME_INVALID', `${what} ${quoteInput(name)} is not a valid RFC 1123 name: ${problems.join('; ')}`, {
    hint: `Use at most ${limit} lowercase letters, digits and '-'${form === 'label' ? '' : " (and '.')"}, starting and ending with a letter or digit.`,
    details: problems,
  });
}
