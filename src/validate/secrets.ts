/**
 * Nothing secret is ever written to Git. Before the renderer writes a file it asks
 * `findSecrets` (or `assertNoSecrets`, which throws `SECRET_REFUSED`) about every object.
 *
 * What counts as secret material:
 * - any core `Secret` object (its `data`/`stringData` are secret by definition);
 * - a string that is a private key (PEM `-----BEGIN ... PRIVATE KEY-----`) or a well-known
 *   access-token shape (GitHub, GitLab, Slack, AWS access key id), anywhere in any object;
 * - a field named like a credential (`password`, `token`, `apiKey`, `privateKey`, `secretKey`,
 *   `accessKey`, `clientSecret`, `credentials`, ...) holding a non-empty literal string, and the same for
 *   `{name: PASSWORD, value: "..."}` pairs (env lists);
 * - in a ConfigMap: a data key named like a credential, or a line such as `password = x` or
 *   `token: x` inside a data value (an embedded config file); the same lines inside a string
 *   field whose name ends in `config` (`customServiceConfig` snippets of the OpenStack CRs).
 * Not secret: references to secrets (`secret: osp-secret`, `ansibleSSHPrivateKeySecret`,
 * `secretRef`, `passwordSelectors: {service: NovaPassword}`), empty values and templated values
 * (`{{ lookup(...) }}`, `${VAR}`), which are resolved elsewhere at run time.
 */
import { OsvError } from '../errors.js';
import { pointerSegment } from './prune.js';

export interface SecretFinding {
  /** Position of the object in the list given (0-based). */
  readonly index: number;
  /** `Kind/name` of the object. */
  readonly ref: string;
  /** JSON pointer inside the object ('' for the whole object). */
  readonly path: string;
  readonly reason: string;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Keys (lowercased, non-alphanumerics removed) that end like this name credential values. */
const CREDENTIAL_SUFFIXES = [
  'password',
  'passwd',
  'passphrase',
  'token',
  'apikey',
  'privatekey',
  'secretkey',
  'accesskey',
  'clientsecret',
  'credentials',
  'credential',
] as const;

/** A key under one of these holds selectors or references, not values. */
const REFERENCE_SUFFIXES = ['selector', 'selectors', 'ref', 'secretname', 'secret', 'file', 'path', 'url'] as const;

function normaliseKey(k: string): string {
  return k.toLowerCase().replace(/[^a-z0-9]/g, '');
}

/** A key that names a reference (`secretRef`, `passwordSelectors`, `ansibleSSHPrivateKeySecret`). */
function isReferenceKey(key: string): boolean {
  const n = normaliseKey(key);
  if (n.endsWith('clientsecret')) return false;
  return REFERENCE_SUFFIXES.some((s) => n.endsWith(s));
}

/** A key whose value would be a credential (`password`, `adminToken`, `clientSecret`, ...). */
export function isCredentialKey(key: string): boolean {
  const n = normaliseKey(key);
  return CREDENTIAL_SUFFIXES.some((s) => n.endsWith(s)) && !isReferenceKey(key);
}

/** A value that is filled in later (Ansible/Jinja, shell, Helm) rather than a literal secret. */
function isPlaceholder(value: string): boolean {
  const v = value.trim();
  return v === '' || /^\{\{.*\}\}$/s.test(v) || /^\$\{[^}]*\}$/.test(v) || /^\$\([^)]*\)$/.test(v) || /^<[^<>]*>$/.test(v);
}

const VALUE_PATTERNS: readonly { readonly re: RegExp; readonly what: string }[] = [
  { re: /-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----/, what: 'a PEM private key' },
  { re: /\b(?:ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9]{36}\b/, what: 'a GitHub token' },
  { re: /\bgithub_pat_[A-Za-z0-9_]{40,}\b/, what: 'a GitHub token' },
  { re: /\bglpat-[A-Za-z0-9_-]{20,}\b/, what: 'a GitLab token' },
  { re: /\bxox[abprs]-[A-Za-z0-9-]{10,}\b/, what: 'a Slack token' },
  { re: /\b(?:AKIA|ASIA)[0-9A-Z]{16}\b/, what: 'an AWS access key id' },
];

// `password = x`, `admin_password: x`, `export OS_TOKEN=x` inside an embedded file
const EMBEDDED_ASSIGNMENT_RE =
  /^[ \t]*(?:export[ \t]+)?([A-Za-z0-9_.-]*(?:password|passwd|passphrase|token|api_?key|secret_?key|access_?key|client_?secret))[ \t]*[=:][ \t]*(\S.*?)[ \t]*$/gim;

function embeddedCredentials(text: string): string[] {
  const found: string[] = [];
  for (const m of text.matchAll(EMBEDDED_ASSIGNMENT_RE)) {
    const name = m[1] ?? '';
    const value = (m[2] ?? '').replace(/^["']|["']$/g, '');
    if (!isPlaceholder(value)) found.push(name);
  }
  return found;
}

function refOf(obj: Record<string, unknown>, index: number): string {
  const kind = typeof obj['kind'] === 'string' ? obj['kind'] : 'object';
  const md = isObject(obj['metadata']) ? obj['metadata'] : {};
  return typeof md['name'] === 'string' ? `${kind}/${md['name']}` : `${kind} #${index + 1}`;
}

function isCoreSecret(obj: Record<string, unknown>): boolean {
  return obj['kind'] === 'Secret' && (obj['apiVersion'] === 'v1' || obj['apiVersion'] === undefined);
}

function isConfigMap(obj: Record<string, unknown>): boolean {
  return obj['kind'] === 'ConfigMap' && (obj['apiVersion'] === 'v1' || obj['apiVersion'] === undefined);
}

function scan(
  value: unknown,
  path: string,
  underReference: boolean,
  report: (path: string, reason: string) => void,
): void {
  if (typeof value === 'string') {
    for (const p of VALUE_PATTERNS) {
      if (p.re.test(value)) {
        report(path, `holds ${p.what}`);
        return;
      }
    }
    return;
  }
  if (Array.isArray(value)) {
    value.forEach((item, i) => scan(item, `${path}/${i}`, underReference, report));
    return;
  }
  if (!isObject(value)) return;
  // {name: DB_PASSWORD, value: "..."} (container env, Ansible env lists, Helm parameters)
  const pairName = value['name'];
  const pairValue = value['value'];
  if (typeof pairName === 'string' && typeof pairValue === 'string' && isCredentialKey(pairName) && !isPlaceholder(pairValue)) {
    report(`${path}/value`, `sets ${pairName} to a literal value`);
  }
  for (const [k, v] of Object.entries(value)) {
    const p = `${path}/${pointerSegment(k)}`;
    const ref = underReference || isReferenceKey(k);
    if (!ref && typeof v === 'string' && isCredentialKey(k) && !isPlaceholder(v)) {
      report(p, `field ${k} holds a literal value`);
      continue;
    }
    if (typeof v === 'string' && normaliseKey(k).endsWith('config')) {
      for (const name of embeddedCredentials(v)) report(p, `sets ${name} to a literal value`);
    }
    scan(v, p, ref, report);
  }
}

/** Every object (or part of one) that carries secret material; empty when none does. */
export function findSecrets(objs: readonly unknown[]): SecretFinding[] {
  const findings: SecretFinding[] = [];
  objs.forEach((obj, index) => {
    if (!isObject(obj)) return;
    const ref = refOf(obj, index);
    const report = (path: string, reason: string): void => {
      findings.push({ index, ref, path, reason });
    };
    if (isCoreSecret(obj)) {
      report('', 'is a Secret: keep it out of Git (use a sealed or external secret, or create it by hand)');
      return;
    }
    const { metadata: _metadata, ...body } = obj;
    if (isConfigMap(obj)) {
      for (const field of ['data', 'binaryData'] as const) {
        const data = body[field];
        if (!isObject(data)) continue;
        for (const [k, v] of Object.entries(data)) {
          const p = `/${field}/${pointerSegment(k)}`;
          if (typeof v !== 'string') continue;
          if (isCredentialKey(k) && !isPlaceholder(v)) report(p, `ConfigMap key ${k} holds a literal value`);
          else for (const name of embeddedCredentials(v)) report(p, `sets ${name} to a literal value`);
        }
      }
    }
    scan(body, '', false, report);
    // annotations are free text too (last-applied-configuration can carry a whole Secret)
    if (isObject(_metadata) && isObject(_metadata['annotations'])) {
      scan(_metadata['annotations'], '/metadata/annotations', false, report);
    }
  });
  // a ConfigMap value can be reported by the key rule and by the value scan: keep the first
  const seen = new Set<string>();
  return findings.filter((f) => {
    const id = `${f.index}|${f.path}`;
    if (seen.has(id)) return false;
    seen.add(id);
    return true;
  });
}

/** Throw `SECRET_REFUSED` listing every finding, unless there is none. */
export function assertNoSecrets(objs: readonly unknown[]): void {
  const findings = findSecrets(objs);
  if (findings.length === 0) return;
  const details = findings.map((f) => `${f.ref}${f.path === '' ? '' : ` ${f.path}`}: ${f.reason}`);
  throw new OsvError('SECRET_REFUSED', `refusing to write secret material to Git (${findings.length} finding${findings.length === 1 ? '' : 's'})`, {
    details,
    hint: 'Reference a Secret that exists in the cluster instead of putting its value in a manifest.',
  });
}
