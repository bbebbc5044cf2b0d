/**
 * Label and field selectors with the API server's syntax and matching rules (pure functions).
 * Labels: `k=v`, `k==v`, `k!=v`, `k in (a,b)`, `k notin (a,b)`, `k` (exists), `!k` (absent),
 * `k>n`, `k<n`. Fields: `metadata.name` and `metadata.namespace` with `=`, `==`, `!=` — the only
 * fields a custom resource supports; anything else is a 400 as on the real server.
 */
import { badRequest } from './status.js';

export type LabelRequirement =
  | { readonly op: 'eq' | 'ne'; readonly key: string; readonly value: string }
  | { readonly op: 'in' | 'notin'; readonly key: string; readonly values: readonly string[] }
  | { readonly op: 'exists' | 'absent'; readonly key: string }
  | { readonly op: 'gt' | 'lt'; readonly key: string; readonly value: number };

export interface FieldRequirement {
  readonly field: 'metadata.name' | 'metadata.namespace';
  readonly op: 'eq' | 'ne';
  readonly value: string;
}

const NAME_PART = /^[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

function checkKey(key: string, whole: string): string {
  const slash = key.indexOf('/');
  const prefix = slash < 0 ? undefined : key.slice(0, slash);
  const name = slash < 0 ? key : key.slice(slash + 1);
  const prefixOk = prefix === undefined || (prefix.length <= 253 && DNS_SUBDOMAIN.test(prefix));
  if (!prefixOk || !NAME_PART.test(name)) {
    throw badRequest(`unable to parse requirement: invalid label key "${key}" in selector "${whole}"`);
  }
  return key;
}

function checkValue(value: string, whole: string): string {
  if (value.length > 63 || !LABEL_VALUE.test(value)) {
    throw badRequest(`unable to parse requirement: invalid label value "${value}" in selector "${whole}"`);
  }
  return value;
}

/** Split on commas that are not inside parentheses. */
function splitTopLevel(s: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let cur = '';
  for (const ch of s) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === ',' && depth === 0) {
      parts.push(cur);
      cur = '';
    } else {
      cur += ch;
    }
  }
  parts.push(cur);
  return parts;
}

const SET_RE = /^([^\s!=<>(),]+)\s+(in|notin)\s*\(([^()]*)\)$/;
const BINARY_RE = /^([^\s!=<>(),]+)\s*(==|=|!=|>|<)\s*([^\s!=<>(),]*)$/;

export function parseLabelSelector(selector: string | undefined): LabelRequirement[] {
  if (selector === undefined || selector.trim() === '') return [];
  const out: LabelRequirement[] = [];
  for (const raw of splitTopLevel(selector)) {
    const part = raw.trim();
    if (part === '') throw badRequest(`unable to parse requirement: found '', expected: identifier in selector "${selector}"`);
    const set = SET_RE.exec(part);
    if (set) {
      const values = (set[3] ?? '')
        .split(',')
        .map((v) => v.trim())
        .filter((v) => v !== '');
      if (values.length === 0 && set[2] === 'in') {
        throw badRequest(`unable to parse requirement: values: Invalid value: for 'in', 'notin' operators, values set can't be empty in selector "${selector}"`);
      }
      values.forEach((v) => checkValue(v, selector));
      out.push({ op: set[2] === 'in' ? 'in' : 'notin', key: checkKey(set[1] ?? '', selector), values });
      continue;
    }
    if (part.startsWith('!')) {
      out.push({ op: 'absent', key: checkKey(part.slice(1).trim(), selector) });
      continue;
    }
    const bin = BINARY_RE.exec(part);
    if (bin) {
      const key = checkKey(bin[1] ?? '', selector);
      const value = bin[3] ?? '';
      const op = bin[2];
      if (op === '>' || op === '<') {
        const n = Number(value);
        if (value === '' || !Number.isInteger(n)) {
          throw badRequest(`unable to parse requirement: for 'Gt', 'Lt' operators, the value must be an integer in selector "${selector}"`);
        }
        out.push({ op: op === '>' ? 'gt' : 'lt', key, value: n });
      } else {
        out.push({ op: op === '!=' ? 'ne' : 'eq', key, value: checkValue(value, selector) });
      }
      continue;
    }
    out.push({ op: 'exists', key: checkKey(part, selector) });
  }
  return out;
}

export function labelsMatch(reqs: readonly LabelRequirement[], labels: Readonly<Record<string, string>> | undefined): boolean {
  const get = (k: string): string | undefined => (labels !== undefined && Object.hasOwn(labels, k) ? labels[k] : undefined);
  return reqs.every((r) => {
    const v = get(r.key);
    switch (r.op) {
      case 'eq':
        return v === r.value;
      case 'ne':
        return v !== r.value;
      case 'in':
        return v !== undefined && r.values.includes(v);
      case 'notin':
        return v === undefined || !r.values.includes(v);
      case 'exists':
        return v !== undefined;
      case 'absent':
        return v === undefined;
      case 'gt':
      case 'lt': {
        if (v === undefined || !/^-?\d+$/.test(v)) return false;
        return r.op === 'gt' ? Number(v) > r.value : Number(v) < r.value;
      }
    }
    return false;
  });
}

/** Split on unescaped commas, then undo `\,` `\=` `\\` escapes in values. */
function splitFieldTerms(s: string): string[] {
  const terms: string[] = [];
  let cur = '';
  for (let i = 0; i < s.length; i++) {
    const ch = s[i];
    if (ch === '\\' && i + 1 < s.length) {
      cur += ch + s[i + 1];
      i++;
    } else if (ch === ',') {
      terms.push(cur);
      cur = '';
    } else {
      cur += ch;
    }
  }
  terms.push(cur);
  return terms;
}

const unescape = (s: string): string => s.replace(/\\(.)/g, '$1');

export function parseFieldSelector(selector: string | undefined): FieldRequirement[] {
  if (selector === undefined || selector.trim() === '') return [];
  const out: FieldRequirement[] = [];
  for (const raw of splitFieldTerms(selector)) {
    const term = raw.trim();
    const m = /^([^=!]+?)\s*(==|=|!=)\s*(.*)$/.exec(term);
    if (!m) throw badRequest(`invalid selector: '${selector}'; can't understand '${term}'`);
    const field = (m[1] ?? '').trim();
    if (field !== 'metadata.name' && field !== 'metadata.namespace') {
      throw badRequest(`field label not supported: ${field}`);
    }
    out.push({ field, op: m[2] === '!=' ? 'ne' : 'eq', value: unescape(m[3] ?? '') });
  }
  return out;
}

export function fieldsMatch(reqs: readonly FieldRequirement[], name: string, namespace: string): boolean {
  return reqs.every((r) => {
    const actual = r.field === 'metadata.name' ? name : namespace;
    return r.op === 'eq' ? actual === r.value : actual !== r.value;
  });
}

/** A compiled label + field selector, applied to stored objects. */
export interface Selector {
  readonly labels: readonly LabelRequirement[];
  readonly fields: readonly FieldRequirement[];
}

export function parseSelector(labelSelector: string | undefined, fieldSelector: string | undefined): Selector {
  return { labels: parseLabelSelector(labelSelector), fields: parseFieldSelector(fieldSelector) };
}

interface MetaLike {
  readonly metadata?: { readonly name?: unknown; readonly namespace?: unknown; readonly labels?: unknown };
}

export function selectorMatches(sel: Selector, obj: MetaLike): boolean {
  const md = obj.metadata ?? {};
  const labels = typeof md.labels === 'object' && md.labels !== null ? (md.labels as Record<string, string>) : undefined;
  const name = typeof md.name === 'string' ? md.name : '';
  const ns = typeof md.namespace === 'string' ? md.namespace : '';
  return labelsMatch(sel.labels, labels) && fieldsMatch(sel.fields, name, ns);
}
