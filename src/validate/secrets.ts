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
import { parseAllDocuments } from '../inputs/full-yaml.js';
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
  /** The file the object is written to, when the caller said. */
  readonly file?: string;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The words of a key: `ansibleSSHPrivateKeySecret` → ansible ssh private key secret; `db_password` → db password. */
export function keyWords(key: string): string[] {
  return splitKey(key).slice();
}

// the same few hundred keys recur in every object of a render: split each once per process
const keyWordsMemo = new Map<string, readonly string[]>();
const KEY_MEMO_MAX = 50_000;

function splitKey(key: string): readonly string[] {
  const known = keyWordsMemo.get(key);
  if (known !== undefined) return known;
  if (keyWordsMemo.size >= KEY_MEMO_MAX) keyWordsMemo.clear();
  const words = splitKeyNow(key);
  keyWordsMemo.set(key, words);
  return words;
}

function splitKeyNow(key: string): string[] {
  return key
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1 $2')
    .split(/[^A-Za-z0-9]+/)
    .filter(Boolean)
    .map((w) => w.toLowerCase());
}

/** Trailing words that qualify the credential without changing what it is (`adminPasswordValue`). */
const QUALIFIERS = new Set(['value', 'string', 'plain', 'plaintext', 'raw', 'literal', 'data', 'b64', 'base64', 'encoded']);

/**
 * A key ending in one of these names where the value is kept or how it behaves, not the value:
 * `secretName`, `passwordSelectors`, `tokenFile`, `keyId`, `tokenExpiration`, `passwordType`.
 * The first group also covers everything under the key (a `secretKeyRef: {name, key}`).
 */
const REFERENCE_LAST = new Set(['name', 'names', 'ref', 'refs', 'reference', 'references', 'selector', 'selectors', 'file', 'files', 'path', 'paths', 'url', 'urls', 'uri', 'dir', 'directory']);
const DESCRIPTOR_LAST = new Set([
  'id', 'ids', 'type', 'types', 'kind', 'length', 'size', 'ttl', 'expiration', 'expiry', 'expire', 'expires', 'lifetime', 'duration', 'validity',
  'timeout', 'time', 'seconds', 'enabled', 'enable', 'disabled', 'required', 'count', 'format', 'algorithm', 'algo', 'version', 'rotation',
  'policy', 'mode', 'source', 'field', 'fields', 'template', 'class', 'prefix', 'suffix', 'location', 'env', 'provider', 'store', 'backend',
  'header', 'method', 'endpoint', 'namespace', 'label', 'labels', 'annotation', 'annotations', 'volume', 'mount', 'hash', 'length', 'roles',
  'role', 'bind', 'cache', 'caching', 'secrets', 'keys', 'tokens', 'ring', 'usage', 'strategy', 'interval', 'period',
]);

/** Words before `key` that make it public or a name of something: `ssh_public_key`, `authorized_key`. */
const PUBLIC_KEY_WORDS = new Set(['public', 'pub', 'authorized', 'known', 'host', 'partition', 'sort', 'primary', 'foreign', 'cache', 'routing', 'hash', 'label', 'node', 'topology', 'match', 'lookup', 'map', 'dict', 'index', 'object', 'tls', 'ssl', 'ca', 'cert']);

/** The significant last word of a key and the words up to it. */
function lastWord(key: string): { words: string[]; last: string; glued: string } | undefined {
  const words = splitKey(key);
  let i = words.length - 1;
  while (i > 0 && QUALIFIERS.has(words[i] ?? '')) i--;
  const last = words[i];
  if (last === undefined) return undefined;
  const kept = words.slice(0, i + 1);
  return { words: kept, last, glued: kept.join('') };
}

type KeyWords = ReturnType<typeof lastWord>;

/** A key that names a reference (`secretRef`, `passwordSelectors`, `secret`, `ansibleSSHPrivateKeySecret`): nothing under it is a value. */
function isReferenceKey(w: KeyWords): boolean {
  if (!w) return false;
  if (w.last === 'secret') return !isSharedSecretKey(w.words);
  return REFERENCE_LAST.has(w.last);
}

/** `clientSecret`, `sharedSecret`: a secret value, unlike `secret: osp-secret` (the name of a Secret). */
function isSharedSecretKey(words: readonly string[]): boolean {
  const before = words[words.length - 2];
  return before === 'client' || before === 'shared' || before === 'app' || before === 'consumer' || before === 'webhook' || before === 'hmac';
}

/**
 * A key whose value would be a credential, judged by its last word (after `Value`-like
 * qualifiers): `password`, `adminPassword`, `ansible_become_pass`, `ansible_ssh_pass`, `pwd`,
 * `bearerToken`, `apiKey`, `AWS_SECRET_KEY`, `ssh_private_key`, `memcache_secret_key`,
 * `clientSecret`, `credentials`. The last word, not any word: OpenStack options such as
 * `enforce_token_bind`, `service_token_roles` or `keystone_*` hold no credential.
 */
export function isCredentialKey(key: string): boolean {
  return credentialWords(lastWord(key));
}

function credentialWords(w: KeyWords): boolean {
  if (!w) return false;
  const { words, last, glued } = w;
  if (REFERENCE_LAST.has(last) || DESCRIPTOR_LAST.has(last)) return false;
  if (/(?:password|passwd|passphrase|credentials?)$/.test(last)) return true;
  if (last === 'pass' || last === 'pwd' || /^(?:ssh|sudo|become|login|root|admin|db|user)pass$/.test(last)) return true;
  if (last.endsWith('token')) return true;
  if (last === 'secret') return isSharedSecretKey(words);
  if (/(?:apikey|privatekey|secretkey|accesskey|privkey|clientsecret)$/.test(glued)) return true;
  if (last === 'key' && words.length >= 2) return !words.slice(0, -1).some((x) => PUBLIC_KEY_WORDS.has(x));
  return false;
}

/** `secret: osp-secret`: a key that holds the name of a Secret; its value must look like one. */
function isSecretNameKey(w: KeyWords): boolean {
  return w !== undefined && w.last === 'secret' && !isSharedSecretKey(w.words);
}

export interface KeyFacts {
  readonly reference: boolean;
  readonly credential: boolean;
  readonly secretName: boolean;
  /** A string under this key holds a whole file (`customServiceConfig`, `nova.conf`). */
  readonly file: boolean;
  /** Each string of a map under this key holds a whole file (`defaultConfigOverwrite`). */
  readonly filesBelow: boolean;
}

// what a key's name says, asked of every field of every object: judged once per key per process
const keyFactsMemo = new Map<string, KeyFacts>();

const SAYS_NOTHING: KeyFacts = Object.freeze({ reference: false, credential: false, secretName: false, file: false, filesBelow: false });

/**
 * A key that ends in a digit (`compute-0-1`: the nodes of a nodeset, thousands of keys each seen
 * once) ends in a word that no rule above names and that is no qualifier to skip, unless that word
 * is `b64` or `base64`. Such a key says nothing, known without splitting it into words.
 */
function saysNothingByItsEnd(key: string): boolean {
  const last = key.charCodeAt(key.length - 1);
  return last >= 48 && last <= 57 && !/b(?:ase)?64$/i.test(key);
}

/** What a key's name says, as the scan asks it. */
export function keyFacts(key: string): KeyFacts {
  // before the memo: these keys are many, and most are seen once
  if (saysNothingByItsEnd(key)) return SAYS_NOTHING;
  let facts = keyFactsMemo.get(key);
  if (facts === undefined) {
    facts = keyFactsOfWords(key);
    if (keyFactsMemo.size >= KEY_MEMO_MAX) keyFactsMemo.clear();
    keyFactsMemo.set(key, facts);
  }
  return facts;
}

/** What a key says, judged from its words (`keyFacts` without its memo and its shortcut). */
export function keyFactsOfWords(key: string): KeyFacts {
  const w = lastWord(key);
  const n = normaliseKey(key);
  return {
    reference: isReferenceKey(w),
    credential: credentialWords(w),
    secretName: isSecretNameKey(w),
    file: /(?:config|conf|cfg|ini|overwrite|script)$/.test(n) || /\.(?:conf|cfg|ini|env|sh|ya?ml|json|properties|toml|txt)$/i.test(key),
    filesBelow: /(?:overwrite|configs|files)$/.test(n),
  };
}

const K8S_NAME_RE = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** A value that is filled in later (Ansible/Jinja, shell, Helm), masked, or a file path, rather than a literal secret. */
function isPlaceholder(value: string): boolean {
  const v = value.trim();
  return (
    v === '' ||
    /^\{\{.*\}\}$/s.test(v) ||
    /^\$\{[^}]*\}$/.test(v) ||
    /^\$\([^)]*\)$/.test(v) ||
    /^<[^<>]*>$/.test(v) ||
    /^\*+$/.test(v) ||
    // a path to where the secret is kept (`/run/secrets/db`, `~/.ssh/id_rsa`), or a key file name
    /^(?:\/|~\/)[^\s]*$/.test(v) ||
    /^[\w.-]+\.(?:key|pem|crt|pub)$/.test(v)
  );
}

const VALUE_PATTERNS: readonly { readonly re: RegExp; readonly what: string }[] = [
  { re: /-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----/, what: 'a PEM private key' },
  { re: /\b(?:ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9]{36}\b/, what: 'a GitHub token' },
  { re: /\bgithub_pat_[A-Za-z0-9_]{40,}\b/, what: 'a GitHub token' },
  { re: /\bglpat-[A-Za-z0-9_-]{20,}\b/, what: 'a GitLab token' },
  { re: /\bxox[abprs]-[A-Za-z0-9-]{10,}\b/, what: 'a Slack token' },
  { re: /\b(?:AKIA|ASIA)[0-9A-Z]{16}\b/, what: 'an AWS access key id' },
];

// every VALUE_PATTERNS match contains one of these: most strings are cleared by one test, not six
const VALUE_PATTERN_HINT = /PRIVATE KEY-----|gh[oprsu]_|github_pat_|glpat-|xox[abprs]-|AKIA|ASIA/;

/** What secret a string's shape says it is (`holds a GitHub token`), or undefined. */
function valuePattern(value: string): string | undefined {
  if (!VALUE_PATTERN_HINT.test(value)) return undefined;
  return VALUE_PATTERNS.find((x) => x.re.test(value))?.what;
}

// scheme://user:password@host — oslo `connection`/`transport_url`, Git remotes, proxies
const URL_USERINFO_RE = /\b[A-Za-z][A-Za-z0-9+.-]*:\/\/([^\s:/?#@'"]*):([^\s/?#@'"]+)@(?=[^\s/?#@'"])/g;

/** The URL schemes of the first URL in `text` that carries a literal password; undefined when none. */
function urlWithPassword(text: string): boolean {
  if (!text.includes('@') || !text.includes('://')) return false;
  for (const m of text.matchAll(URL_USERINFO_RE)) {
    if (!isPlaceholder(m[2] ?? '')) return true;
  }
  return false;
}

// `password = x`, `admin_password: x`, `export OS_TOKEN=x`, `ansible_become_pass=x` inside an embedded file
const EMBEDDED_ASSIGNMENT_RE = /^[ \t]*(?:export[ \t]+)?([A-Za-z_][A-Za-z0-9_.-]*)[ \t]*[=:][ \t]*(\S.*?)[ \t]*$/gm;

function embeddedCredentials(text: string): string[] {
  const found: string[] = [];
  for (const m of text.matchAll(EMBEDDED_ASSIGNMENT_RE)) {
    const name = m[1] ?? '';
    const value = (m[2] ?? '').replace(/^["']|["']$/g, '');
    if (isCredentialKey(name) && !isPlaceholder(value)) found.push(name);
  }
  return found;
}

/** A string field that holds a whole file: `customServiceConfig`, `defaultConfigOverwrite` entries, `nova.conf`. */
function holdsFile(key: string, parentKey: string | undefined): boolean {
  return keyFacts(key).file || (parentKey !== undefined && keyFacts(parentKey).filesBelow);
}

function normaliseKey(k: string): string {
  return k.toLowerCase().replace(/[^a-z0-9]/g, '');
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

/** `{name: s, key: k}` (a SecretKeySelector): a reference even under a key named `password`. */
function isKeySelector(v: Record<string, unknown>): boolean {
  const keys = Object.keys(v);
  return typeof v['name'] === 'string' && typeof v['key'] === 'string' && keys.every((k) => k === 'name' || k === 'key' || k === 'optional');
}

/**
 * A JSON pointer inside the object scanned, joined into text only when something is reported
 * there: a render scans every field of every object, and reports none.
 */
type Path = string | { readonly parent: Path; readonly key: string | number };

function pathText(path: Path): string {
  const keys: (string | number)[] = [];
  let at = path;
  while (typeof at !== 'string') {
    keys.push(at.key);
    at = at.parent;
  }
  return at + keys.reverse().map((k) => `/${pointerSegment(k)}`).join('');
}

type Report = (path: Path, reason: string) => void;

/** The path of `at` under `parent`; `parent` itself when `at` is undefined (a whole text). */
function pathAt(parent: Path, at: string | number | undefined): Path {
  return at === undefined ? parent : { parent, key: at };
}

/** Longest string we try to read as embedded JSON or YAML (annotations stop at 256 KiB). */
const EMBEDDED_MAX = 512 * 1024;
/** Embedded documents inside embedded documents: enough for last-applied-configuration. */
const EMBED_DEPTH_MAX = 3;

/** JSON (anywhere) or YAML (`yamlToo`: annotations) inside a string, as data; undefined when it is neither. */
function embeddedDocument(text: string, yamlToo: boolean): unknown {
  if (text.length > EMBEDDED_MAX) return undefined;
  const t = text.trim();
  if ((t.startsWith('{') && t.endsWith('}')) || (t.startsWith('[') && t.endsWith(']'))) {
    try {
      return JSON.parse(t) as unknown;
    } catch {
      // not JSON: maybe YAML flow style below
    }
  }
  if (!yamlToo || !/[:\n]/.test(t)) return undefined;
  try {
    const docs = parseAllDocuments(t, { uniqueKeys: false });
    const list = Array.isArray(docs) ? docs : [];
    const values = list.filter((d) => d.errors.length === 0).map((d) => d.toJS({ maxAliasCount: 10 }) as unknown);
    const objects = values.filter((v) => isObject(v) || Array.isArray(v));
    return objects.length === 0 ? undefined : objects.length === 1 ? objects[0] : objects;
  } catch {
    return undefined;
  }
}

/** Secret material inside a document embedded in a string: reported at the string, with the inner path. */
function scanEmbedded(doc: unknown, path: Path, depth: number, report: Report): void {
  const inner: Report = (at, reason) => {
    const p = pathText(at);
    report(path, `embeds a document that ${p === '' ? '' : `at ${p} `}${reason.replace(/^is /, 'is ')}`);
  };
  const visit = (v: unknown, p: Path): void => {
    if (Array.isArray(v)) {
      v.forEach((item, i) => visit(item, { parent: p, key: i }));
      return;
    }
    if (!isObject(v)) return;
    if (isCoreSecret(v)) {
      inner(p, 'is a Secret');
      return;
    }
    scan(v, p, false, undefined, depth + 1, inner);
    if (isObject(v['metadata']) && isObject(v['metadata']['annotations'])) {
      scan(v['metadata']['annotations'], { parent: { parent: p, key: 'metadata' }, key: 'annotations' }, false, 'annotations', depth + 1, inner, true);
    }
  };
  visit(doc, '');
}

/**
 * The checks of a string at `pathAt(parent, at)`, a path made only when something is reported: a
 * render scans tens of thousands of strings and reports none. `key` names the field for the rules.
 */
function scanString(value: string, parent: Path, at: string | number | undefined, key: string | undefined, parentKey: string | undefined, depth: number, report: Report, yamlToo: boolean, patternsTested = false): void {
  const what = patternsTested ? undefined : valuePattern(value);
  if (what !== undefined) {
    report(pathAt(parent, at), `holds ${what}`);
    return;
  }
  if (urlWithPassword(value)) {
    report(pathAt(parent, at), 'holds a URL with a password (scheme://user:password@host)');
    return;
  }
  if (key !== undefined && holdsFile(key, parentKey)) {
    for (const name of embeddedCredentials(value)) report(pathAt(parent, at), `sets ${name} to a literal value`);
  }
  if (depth < EMBED_DEPTH_MAX) {
    const doc = embeddedDocument(value, yamlToo);
    if (doc !== undefined) scanEmbedded(doc, pathAt(parent, at), depth, report);
  }
}

function scan(
  value: unknown,
  path: Path,
  underReference: boolean,
  parentKey: string | undefined,
  depth: number,
  report: Report,
  yamlToo = false,
): void {
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const item: unknown = value[i];
      if (typeof item === 'string') scanString(item, path, i, parentKey, undefined, depth, report, yamlToo);
      // numbers, booleans and nulls hold nothing: no path is made for them
      else if (typeof item === 'object' && item !== null) scan(item, { parent: path, key: i }, underReference, parentKey, depth, report, yamlToo);
    }
    return;
  }
  if (!isObject(value)) return;
  // {name: DB_PASSWORD, value: "..."} (container env, Ansible env lists, Helm parameters)
  const pairName = value['name'];
  const pairValue = value['value'];
  if (typeof pairName === 'string' && typeof pairValue === 'string' && isCredentialKey(pairName) && !isPlaceholder(pairValue)) {
    report({ parent: path, key: 'value' }, `sets ${pairName} to a literal value`);
  }
  const selector = isKeySelector(value);
  for (const k of Object.keys(value)) {
    const v = value[k];
    const facts = keyFacts(k);
    const ref = underReference || selector || facts.reference;
    if (typeof v === 'string') {
      // what the value is says more than what its key is called
      const what = valuePattern(v);
      if (what !== undefined) {
        report({ parent: path, key: k }, `holds ${what}`);
        continue;
      }
      if (!ref && facts.credential && !isPlaceholder(v)) {
        report({ parent: path, key: k }, `field ${k} holds a literal value`);
        continue;
      }
      if (!underReference && !selector && facts.secretName && !isPlaceholder(v) && !K8S_NAME_RE.test(v)) {
        report({ parent: path, key: k }, `field ${k} should name a Secret, but holds a value that is not a Secret name`);
        continue;
      }
      scanString(v, path, k, k, parentKey, depth, report, yamlToo, true);
      continue;
    }
    if (typeof v === 'object' && v !== null) scan(v, { parent: path, key: k }, ref, k, depth, report, yamlToo);
  }
}

export interface SecretScanOptions {
  /** The file each object will be written to (same order as the objects), named in the findings. */
  readonly files?: readonly (string | undefined)[];
}

/** Every object (or part of one) that carries secret material; empty when none does. */
export function findSecrets(objs: readonly unknown[], opts: SecretScanOptions = {}): SecretFinding[] {
  const findings: SecretFinding[] = [];
  objs.forEach((obj, index) => {
    if (!isObject(obj)) return;
    const ref = refOf(obj, index);
    const file = opts.files?.[index];
    const report: Report = (path, reason) => {
      findings.push({ index, ref, path: pathText(path), reason, ...(file !== undefined ? { file } : {}) });
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
    scan(body, '', false, undefined, 0, report);
    // annotations are free text too: last-applied-configuration can carry a whole Secret, as JSON or YAML
    if (isObject(_metadata) && isObject(_metadata['annotations'])) {
      scan(_metadata['annotations'], '/metadata/annotations', false, 'annotations', 0, report, true);
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

/** One line per finding: the file when known, the object, the JSON pointer and why; never the value. */
export function describeFinding(f: SecretFinding): string {
  return `${f.file !== undefined ? `${f.file}: ` : ''}${f.ref}${f.path === '' ? '' : ` ${f.path}`}: ${f.reason}`;
}

function refuse(findings: readonly SecretFinding[]): never {
  const files = [...new Set(findings.map((f) => f.file).filter((f): f is string => f !== undefined))];
  const where = files.length === 1 ? ` in ${files[0]}` : files.length > 1 ? ` in ${files.length} files` : '';
  throw new OsvError('SECRET_REFUSED', `refusing to write secret material to Git (${findings.length} finding${findings.length === 1 ? '' : 's'}${where})`, {
    details: findings.map(describeFinding),
    hint: 'Reference a Secret that exists in the cluster instead of putting its value in a manifest.',
  });
}

/** Throw `SECRET_REFUSED` listing every finding, unless there is none. */
export function assertNoSecrets(objs: readonly unknown[], opts: SecretScanOptions = {}): void {
  assertNoSecretsIn(objs, objs.map(contentKey), opts);
}

/** `assertNoSecrets` with each object's content key made by the caller (`keys[i]` of `objs[i]`). */
function assertNoSecretsIn(objs: readonly unknown[], keys: readonly (string | undefined)[], opts: SecretScanOptions): void {
  // every phase of a render carries the same nodesets: scan each distinct object once per process
  const fresh = objs.filter((_, i) => keys[i] === undefined || !cleanObjects.has(keys[i]));
  if (fresh.length === 0) return;
  // a finding is reported from a scan of all the objects, so its index and file are the caller's
  if (findSecrets(fresh).length > 0) refuse(findSecrets(objs, opts));
  for (const k of keys) if (k !== undefined) cleanObjects.add(k);
}

/**
 * The one secret scan of objects about to be written, `objs[i]` to `files[i]`: throws
 * `SECRET_REFUSED` as `assertNoSecrets` does, else returns each file's content, `yamlOf` the
 * object (src/render/yaml-out.ts), vouched for so the files gate need not read it back. Each
 * object's content key (`contentKey`) is made once, for the scan, the vouching and `yamlOf`.
 */
export function scannedYaml(
  objs: readonly Record<string, unknown>[],
  files: readonly string[],
  yamlOf: (obj: Record<string, unknown>, key: string | undefined) => string,
): string[] {
  const keys = objs.map(contentKey);
  assertNoSecretsIn(objs, keys, { files });
  return objs.map((o, i) => {
    const content = yamlOf(o, keys[i]);
    vouchFor(o, keys[i], content);
    return content;
  });
}

/** Objects already scanned and found clean, by their content key (the check is pure: same content, same answer). */
const cleanObjects = new Set<string>();

/**
 * What names an object's content in the caches of this module and of the YAML writer: its JSON
 * text, or for an object frozen whole by `freezeForScan`, a token of its own (it cannot change, so
 * it stands for its content; a token starts with a NUL, JSON never does, so the two never meet).
 */
function contentKey(obj: unknown): string | undefined {
  const token = typeof obj === 'object' && obj !== null ? frozenTokens.get(obj) : undefined;
  if (token !== undefined) return token;
  try {
    return JSON.stringify(obj);
  } catch {
    return undefined; // a cycle or a bigint: never remembered, always scanned
  }
}

const frozenTokens = new WeakMap<object, string>();
let frozenCount = 0;

/**
 * Freeze `obj` and everything in it, so that it stands for its own content: every phase of a
 * render writes the user's same nodesets again, and turning 2,000 of them into JSON text per
 * phase (the key of what was already scanned and written) cost time and memory.
 */
export function freezeForScan(obj: Record<string, unknown>): void {
  deepFreeze(obj, new Set());
  frozenTokens.set(obj, `\u0000frozen ${++frozenCount}`);
}

function deepFreeze(value: unknown, seen: Set<object>): void {
  if (typeof value !== 'object' || value === null || seen.has(value)) return;
  seen.add(value);
  Object.freeze(value);
  for (const v of Object.values(value)) deepFreeze(v, seen);
}

/**
 * `content` is the YAML of `obj` (src/render/yaml-out.ts) and `obj` has passed `assertNoSecrets`:
 * the files gate need not parse it back. Reading that YAML back gives the same object, or one
 * where some strings became numbers or booleans (YAML 1.1 output read as 1.2), never a string
 * that was not there, so the object's scan was at least as strict as the file's. A `List` is not
 * vouched for: the files gate scans its items as objects of their own.
 */
export function vouchForYaml(obj: Record<string, unknown>, content: string): void {
  vouchFor(obj, contentKey(obj), content);
}

function vouchFor(obj: Record<string, unknown>, key: string | undefined, content: string): void {
  const kind = obj['kind'];
  if (typeof kind === 'string' && kind.endsWith('List')) return;
  if (key === undefined || !cleanObjects.has(key)) return;
  rememberClean(content);
}

/**
 * The last gate before files reach Git: every YAML document of every file is scanned as an
 * object, and any other file (a commit message, a pull-request description) as text (private
 * keys, tokens, URLs with passwords). Throws `SECRET_REFUSED` naming the file and the path.
 */
export function assertNoSecretsInFiles(files: readonly { readonly path: string; readonly content: string }[]): void {
  const findings: SecretFinding[] = [];
  const scanned: string[] = [];
  for (const f of files) {
    // every phase carries the same nodesets: scan each distinct content once per process
    if (cleanContents.has(f.content)) continue;
    scanned.push(f.content);
    if (/\.ya?ml$/i.test(f.path)) {
      let docs: unknown[];
      try {
        docs = parseAllDocuments(f.content)
          .filter((d) => d.errors.length === 0)
          .map((d) => d.toJS({ maxAliasCount: 100 }) as unknown);
      } catch {
        docs = [];
      }
      const objs = docs.flatMap((d) => (isObject(d) && Array.isArray(d['items']) && typeof d['kind'] === 'string' && d['kind'].endsWith('List') ? (d['items'] as unknown[]) : [d]));
      findings.push(...findSecrets(objs, { files: objs.map(() => f.path) }));
      if (docs.length > 0) continue;
    }
    const report: Report = (path, reason) => findings.push({ index: 0, ref: 'text', path: pathText(path), reason, file: f.path });
    scanString(f.content, '', undefined, undefined, undefined, EMBED_DEPTH_MAX, report, false);
  }
  if (findings.length > 0) refuse(findings);
  for (const content of scanned) rememberClean(content);
}

/**
 * Contents already scanned and found clean (the check is pure: same bytes, same answer), kept as
 * the strings themselves: a Set hashes a string several times faster than sha256 does, and the
 * strings are the files being written. Forgotten past a bound, so a long-lived process stays small.
 */
const cleanContents = new Set<string>();
const CLEAN_CONTENTS_MAX_CHARS = 256 * 1024 * 1024;
let cleanContentsChars = 0;

function rememberClean(content: string): void {
  if (cleanContents.has(content)) return;
  if (cleanContentsChars + content.length > CLEAN_CONTENTS_MAX_CHARS) {
    cleanContents.clear();
    cleanContentsChars = 0;
  }
  cleanContents.add(content);
  cleanContentsChars += content.length;
}
