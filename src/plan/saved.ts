/**
 * A plan read back from `plan --output` is an input like any other: its structure is checked
 * field by field against the same grammars as the inputs it was built from (PLAN_INVALID), then
 * its `id` is recomputed from its content and must match (PLAN_TAMPERED), so what a reviewer
 * approved is what gets rendered. The hash is not a signature (anyone can recompute it): the
 * structural check is what keeps a crafted plan from reaching file names, trailers or manifests.
 */
import { OsvError } from '../errors.js';
import { imageReferenceProblems, NAME_RULES, releaseVersionProblems, type NameKind } from '../validate/grammar.js';
import { rfc1123Problems } from '../validate/names.js';
import { quoteInput } from '../validate/quote.js';
import { planId } from './build.js';
import { PLAN_API_VERSION, type UpdatePlan } from './types.js';

const PHASE_NAMES = ['operator', 'preflight', 'ovn-controlplane', 'ovn-dataplane', 'controlplane', 'dataplane', 'dataplane-system', 'complete'] as const;
const DURATIONS = ['minutes', 'tens-of-minutes', 'hours'] as const;
const CHANGE_KINDS = ['changed', 'added', 'removed', 'unchanged'] as const;
const ROLLOUT_PHASES = ['ovn-controlplane', 'ovn-dataplane', 'controlplane', 'dataplane'] as const;
/** Phase ids become folder names (`NN-<id>`) and branch names. */
const PHASE_ID_RE = /^[a-z0-9]+(?:-[a-z0-9]+)*$/;
/** Image field and service names of OpenStackVersion (`novaAPIImage`, `cinderVolumeImages`). */
const FIELD_RE = /^[A-Za-z][A-Za-z0-9_]{0,127}$/;
/** Condition types and object kinds the gates read (`MinorUpdateOVNDataplane`, `OpenStackVersion`). */
const IDENT_RE = /^[A-Za-z][A-Za-z0-9]{0,127}$/;

type Json = Record<string, unknown>;

function isRecord(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A path-aware reader that throws PLAN_INVALID naming the JSON path of the first problem. */
class At {
  constructor(
    readonly value: unknown,
    readonly path: string,
    private readonly file: string,
  ) {}

  fail(problem: string): never {
    throw new OsvError('PLAN_INVALID', `${this.path || 'the plan'} ${problem}`, {
      location: { file: this.file },
      hint: 'Make the plan again with `osv-gitops plan --output`; a saved plan is not meant to be edited.',
    });
  }

  get(key: string): At {
    const obj = this.object();
    return new At(Object.hasOwn(obj, key) ? obj[key] : undefined, this.path ? `${this.path}.${key}` : key, this.file);
  }

  has(key: string): boolean {
    return Object.hasOwn(this.object(), key) && this.object()[key] !== undefined;
  }

  object(): Json {
    if (!isRecord(this.value)) this.fail(`must be an object, not ${kindOf(this.value)}`);
    return this.value;
  }

  list(): At[] {
    if (!Array.isArray(this.value)) this.fail(`must be a list, not ${kindOf(this.value)}`);
    return this.value.map((v, i) => new At(v, `${this.path}[${i}]`, this.file));
  }

  string(): string {
    if (typeof this.value !== 'string') this.fail(`must be a string, not ${kindOf(this.value)}`);
    return this.value;
  }

  optString(): string | undefined {
    return this.value === undefined ? undefined : this.string();
  }

  matching(re: RegExp, what: string): string {
    const s = this.string();
    if (!re.test(s)) this.fail(`${quoteInput(s)} is not ${what}`);
    return s;
  }

  oneOf<T extends string>(choices: readonly T[]): T {
    const s = this.string();
    if (!(choices as readonly string[]).includes(s)) this.fail(`${quoteInput(s)} is not one of ${choices.join(', ')}`);
    return s as T;
  }

  boolean(): boolean {
    if (typeof this.value !== 'boolean') this.fail(`must be true or false, not ${kindOf(this.value)}`);
    return this.value;
  }

  integer(min: number, max: number): number {
    const v = this.value;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) this.fail(`must be a whole number from ${min} to ${max}, not ${kindOf(v)}`);
    return v;
  }

  strings(): string[] {
    return this.list().map((s) => s.string());
  }

  version(): string {
    const s = this.string();
    const problems = releaseVersionProblems(s);
    if (problems.length) this.fail(`${quoteInput(s)} is not a release version: ${problems.join('; ')}`);
    return s;
  }

  name(kind: NameKind): string {
    const s = this.string();
    const problems = rfc1123Problems(s, NAME_RULES[kind]);
    if (problems.length) this.fail(`${quoteInput(s)} is not a valid ${kind} name: ${problems.join('; ')}`);
    return s;
  }

  image(): string {
    const s = this.string();
    const problems = imageReferenceProblems(s);
    if (problems.length) this.fail(`${quoteInput(s)} is not an image reference: ${problems.join('; ')}`);
    return s;
  }
}

function kindOf(v: unknown): string {
  if (v === undefined) return 'missing';
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'string') return `the string ${quoteInput(v, 40)}`;
  return typeof v === 'object' ? 'an object' : `${typeof v} ${String(v)}`;
}

/** `spec.customContainerImages` shape: image fields, plus the two per-backend maps. */
function checkImageSpec(at: At): void {
  for (const [k, v] of Object.entries(at.object())) {
    const f = at.get(k);
    if (!FIELD_RE.test(k)) f.fail('is not an image field name');
    if (isRecord(v)) {
      for (const backend of Object.keys(v)) {
        const b = f.get(backend);
        if (!/^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/.test(backend)) b.fail('is not a backend name');
        b.image();
      }
    } else f.image();
  }
}

function checkGateCheck(c: At, target: string): void {
  const ref = (o: At) => {
    o.get('kind').matching(IDENT_RE, 'a kind');
    o.get('name').name('object');
  };
  switch (c.get('kind').string()) {
    case 'csv-succeeded':
      if (c.has('csv')) c.get('csv').name('object');
      return;
    case 'olm-upgrade':
      c.get('csv').name('object');
      c.get('operatorNamespace').name('namespace');
      return;
    case 'field':
      ref(c.get('object'));
      c.get('path').matching(/^[A-Za-z0-9_.[\]=-]{1,256}$/, 'a field path');
      c.get('value').string();
      if (c.has('negate')) c.get('negate').boolean();
      return;
    case 'version-observed':
      ref(c.get('object'));
      if (c.get('targetVersion').version() !== target) c.get('targetVersion').fail(`must be the plan's target ${target}`);
      return;
    case 'condition':
      ref(c.get('object'));
      c.get('type').matching(IDENT_RE, 'a condition type');
      c.get('status').oneOf(['True']);
      return;
    case 'nodesets-ready':
      c.get('nodeSets').list().forEach((n) => n.name('nodeset'));
      return;
    case 'deployment-ready':
      c.get('name').name('deployment');
      return;
    case 'nodeset-deployed-version':
      c.get('nodeSets').list().forEach((n) => n.name('nodeset'));
      c.get('version').version();
      return;
    case 'no-deployment-running':
    case 'agent-applied':
      return;
    default:
      c.get('kind').fail('is not a gate check this tool knows');
  }
}

/** Throws PLAN_INVALID at the first field that is not what `plan` writes. */
export function checkPlanStructure(data: unknown, file: string): UpdatePlan {
  const p = new At(data, '', file);
  p.object();
  if (p.get('apiVersion').value !== PLAN_API_VERSION || p.get('kind').value !== 'UpdatePlan') {
    p.fail(`is not an osv-gitops plan (expected apiVersion ${PLAN_API_VERSION}, kind UpdatePlan)`);
  }
  p.get('id').matching(/^[0-9a-f]{16}$/, 'a plan id (16 hex digits)');
  p.get('namespace').name('namespace');
  const osv = p.get('openStackVersion').name('object');
  const cp = p.get('controlPlane').name('object');
  if (osv !== cp) p.get('controlPlane').fail(`must equal openStackVersion ${quoteInput(osv)} (facts §8.14)`);
  const versions = p.get('versions');
  versions.get('deployed').version();
  versions.get('available').version();
  const target = versions.get('target').version();
  versions.get('deployedFrom').oneOf(['status.deployedVersion', 'spec.targetVersion']);
  const source = p.get('imageSource');
  source.get('kind').oneOf(['csv', 'openstackversion-status']);
  if (source.has('csv')) source.get('csv').name('object');
  source.get('detail').string();
  p.get('currentImagesFrom').string();
  p.get('ovnEnabled').boolean();
  p.get('ovnImageChanged').boolean();
  checkImageSpec(p.get('customContainerImages'));
  p.get('skipCustomImagesValidation').boolean();
  checkImageSpec(p.get('targetContainerImages'));
  for (const d of p.get('imageDiff').list()) {
    d.get('service').matching(FIELD_RE, 'a service name');
    d.get('field').matching(FIELD_RE, 'an image field name');
    if (d.has('backend')) d.get('backend').matching(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/, 'a backend name');
    d.get('change').oneOf(CHANGE_KINDS);
    if (d.has('from')) d.get('from').image();
    if (d.has('to')) d.get('to').image();
    d.get('phases').list().forEach((ph) => ph.oneOf(ROLLOUT_PHASES));
  }
  for (const k of ['changed', 'added', 'removed', 'unchanged']) p.get('diffSummary').get(k).integer(0, 100000);
  const nodeSetNames = new Set<string>();
  for (const n of p.get('nodeSets').list()) {
    const name = n.get('name').name('nodeset');
    if (nodeSetNames.has(name)) n.get('name').fail('is listed twice');
    nodeSetNames.add(name);
    n.get('nodes').integer(0, 100000);
    if (n.get('batch').value !== null) n.get('batch').integer(1, 1000);
  }
  const o = p.get('options');
  o.get('dataplaneService').oneOf(['update', 'update-services']);
  o.get('ovnServices').list().forEach((s) => s.name('service'));
  o.get('updateSystem').boolean();
  o.get('reboot').boolean();
  o.get('attempt').integer(1, 99);
  o.get('namePrefix').name('namePrefix');
  const phases = p.get('phases').list();
  if (phases.length === 0) p.get('phases').fail('is empty');
  const ids = new Set<string>();
  const deploymentNames = new Set<string>();
  phases.forEach((ph, i) => {
    if (ph.get('index').integer(0, 99) !== i) ph.get('index').fail(`must be ${i}: phases are listed in order`);
    const id = ph.get('id').matching(PHASE_ID_RE, 'a phase id (lowercase letters, digits and -)');
    if (id.length > 40) ph.get('id').fail('is too long for a phase id');
    if (ids.has(id)) ph.get('id').fail('is used twice');
    ids.add(id);
    ph.get('phase').oneOf(PHASE_NAMES);
    ph.get('title').string();
    if (ph.has('batch')) {
      ph.get('batch').get('index').integer(1, 1000);
      ph.get('batch').get('count').integer(1, 1000);
    }
    const git = ph.get('git');
    git.get('changes').boolean();
    git.get('summary').string();
    git.get('setsTargetVersion').boolean();
    for (const d of git.get('deployments').list()) {
      const name = d.get('name').name('deployment');
      if (deploymentNames.has(name)) d.get('name').fail('names two deployments');
      deploymentNames.add(name);
      const sets = d.get('nodeSets').list();
      if (sets.length === 0) d.get('nodeSets').fail('is empty');
      for (const s of sets) if (!nodeSetNames.has(s.name('nodeset'))) s.fail('is not among the nodeSets of the plan');
      d.get('servicesOverride').list().forEach((s) => s.name('service'));
      if (d.has('ansibleLimit')) d.get('ansibleLimit').matching(/^[A-Za-z0-9_.,:*!&-]{1,1024}$/, 'an Ansible limit');
      if (d.has('ansibleExtraVars')) {
        const vars = d.get('ansibleExtraVars');
        for (const k of Object.keys(vars.object())) {
          if (!/^[A-Za-z_][A-Za-z0-9_]{0,127}$/.test(k)) vars.get(k).fail('is not an Ansible variable name');
          vars.get(k).string();
        }
      }
    }
    const gate = ph.get('gate');
    gate.get('summary').string();
    gate.get('checks').list().forEach((c) => checkGateCheck(c, target));
    gate.get('progress').strings();
    gate.get('failWhen').strings();
    gate.get('reads').strings();
    gate.get('deadlineSeconds').integer(1, 7 * 24 * 3600);
    ph.get('durationClass').oneOf(DURATIONS);
    ph.get('notes').strings();
  });
  for (const w of p.get('warnings').list()) {
    w.get('code').matching(/^[A-Z][A-Z0-9_]{0,63}$/, 'a warning code');
    w.get('message').string();
  }
  p.get('notes').strings();
  // recorded by newer plans; older ones lack them
  if (p.has('operatorRelease')) {
    const r = p.get('operatorRelease');
    for (const k of Object.keys(r.object())) {
      const v = r.get(k);
      if (Array.isArray(v.value)) v.strings();
      else if (typeof v.value !== 'boolean') v.string();
    }
  }
  if (p.has('operatorUpgrade')) {
    const u = p.get('operatorUpgrade');
    u.get('csv').name('object');
    u.get('channel').matching(/^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/, 'a channel name');
    u.get('subscription').name('object');
    u.get('operatorNamespace').name('namespace');
    if (u.has('fromCsv')) u.get('fromCsv').name('object');
    if (phases[0]?.get('phase').value !== 'operator') p.get('phases').fail('must start with phase operator when operatorUpgrade is set');
  } else if (phases.some((ph) => ph.get('phase').value === 'operator')) p.get('phases').fail('has an operator phase without operatorUpgrade');
  if (p.has('serviceDefaults')) {
    for (const d of p.get('serviceDefaults').list()) {
      d.get('service').matching(FIELD_RE, 'a service name');
      d.get('field').matching(FIELD_RE, 'a field name');
      d.get('change').oneOf(['changed', 'unchanged', 'unknown']);
      if (d.has('from')) d.get('from').string();
      d.get('to').string();
      d.get('effect').string();
      d.get('source').string();
    }
  }
  return data as UpdatePlan;
}

/** Deepest nesting `plan` writes is 7; a document nested far deeper is not a plan (and would exhaust the stack). */
const PLAN_DEPTH_MAX = 16;

function tooDeep(data: unknown): boolean {
  const stack: [unknown, number][] = [[data, 0]];
  while (stack.length > 0) {
    const [v, depth] = stack.pop()!;
    if (typeof v !== 'object' || v === null) continue;
    if (depth > PLAN_DEPTH_MAX) return true;
    for (const child of Array.isArray(v) ? v : Object.values(v)) stack.push([child, depth + 1]);
  }
  return false;
}

/** The id the plan would have if nothing in it had been changed. */
export function recomputePlanId(plan: Readonly<Record<string, unknown>>): string {
  // buildPlan hashes the plan before adding `id`; JSON keeps the key order, so dropping it is enough
  const { id: _id, ...rest } = plan;
  return planId(rest as unknown as Omit<UpdatePlan, 'id'>);
}

/** A saved plan: structure first (PLAN_INVALID), then the id against the content (PLAN_TAMPERED). */
export function parseSavedPlan(data: unknown, file: string): UpdatePlan {
  if (tooDeep(data)) new At(data, '', file).fail(`is nested deeper than ${PLAN_DEPTH_MAX} levels`);
  const plan = checkPlanStructure(data, file);
  const expected = recomputePlanId(plan as unknown as Record<string, unknown>);
  if (plan.id !== expected) {
    throw new OsvError('PLAN_TAMPERED', `the plan's id ${plan.id} does not match its content (which hashes to ${expected}): it was edited after \`plan --output\` wrote it`, {
      location: { file },
      hint: 'Make the plan again with `osv-gitops plan --output` and review that one; an edited plan is never rendered.',
    });
  }
  return plan;
}
