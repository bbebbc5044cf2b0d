/**
 * The user's OLM `Subscription` of the openstack-operator (`operators.coreos.com/v1alpha1`), read
 * and pinned to one target CSV: `spec.startingCSV: <csv>`, `spec.channel`, and
 * `spec.installPlanApproval: Manual`, so that OLM prepares the upgrade as an InstallPlan that waits
 * for a person (or `operator-upgrade --approve`) instead of rolling on its own.
 *
 * A file of the user's repository is edited in place: the three values are spliced into the source
 * text (comments and every other byte kept) and the result is read back to check it. A file from
 * elsewhere (`oc get subscription -o yaml`) is rendered afresh without the fields the cluster owns.
 */
import { isDeepStrictEqual } from 'node:util';
import type { Document, Node, Pair, YAMLMap } from 'yaml';
import { OsvError } from '../errors.js';
import { Field } from '../inputs/field.js';
import { fullYaml } from '../inputs/full-yaml.js';
import { isRecord, type SourcedObject } from '../inputs/yaml.js';
import { endOfLine, lineStart, plainSafe } from '../git/yaml-text.js';
import { parseName } from '../validate/grammar.js';

export const SUBSCRIPTION_API_VERSION = 'operators.coreos.com/v1alpha1';
/** The OLM package of the openstack-operator (the Subscription's `spec.name`). */
export const OPENSTACK_OPERATOR_PACKAGE = 'openstack-operator';

export interface SubscriptionInput {
  readonly name: string;
  /** undefined: the user's kustomization sets it. */
  readonly namespace: string | undefined;
  /** `spec.name`: the package. */
  readonly packageName: string;
  readonly channel: string | undefined;
  readonly source: string;
  readonly sourceNamespace: string;
  readonly startingCSV: string | undefined;
  readonly installPlanApproval: 'Automatic' | 'Manual' | undefined;
}

export interface PinRequest {
  /** The target CSV, e.g. `openstack-operator.v1.0.6`. */
  readonly csv: string;
  /** The channel; undefined keeps the Subscription's own (which must then exist). */
  readonly channel?: string;
}

/**
 * OLM channel names are free text in the catalog, but we put them in YAML and commit messages:
 * letters, digits, `.`, `_`, `-`, at most 63 characters (every real channel: `stable-v1.0`, `alpha`).
 */
export function parseChannel(value: string, what = '--channel'): string {
  if (/^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/.test(value)) return value;
  throw new OsvError('NAME_INVALID', `${what} ${JSON.stringify(value.slice(0, 80))} is not a channel name`, { hint: 'A channel looks like stable-v1.0: letters, digits, ".", "_" and "-", at most 63 characters.' });
}

/** Read one Subscription object, validated: names by the project's grammar, the package the openstack-operator. */
export function parseSubscription(obj: SourcedObject): SubscriptionInput {
  const f = Field.of(obj, 'INPUT_INVALID');
  f.expectApiVersion(SUBSCRIPTION_API_VERSION);
  if (f.get('kind').optString() !== 'Subscription') f.get('kind').fail('expected kind Subscription');
  const name = f.get('metadata').get('name').name('object', 'metadata.name');
  const nsField = f.get('metadata').get('namespace');
  const namespace = nsField.exists ? nsField.name('namespace', 'metadata.namespace') : undefined;
  const spec = f.get('spec');
  const packageName = spec.get('name').name('object', 'spec.name');
  if (packageName !== OPENSTACK_OPERATOR_PACKAGE) {
    spec.get('name').fail(`this Subscription is for the package "${packageName}", not ${OPENSTACK_OPERATOR_PACKAGE}`, 'Pass the Subscription of the openstack-operator (spec.name: openstack-operator).');
  }
  const channelField = spec.get('channel');
  const channel = channelField.exists ? parseChannel(channelField.string('spec.channel'), 'spec.channel') : undefined;
  const startField = spec.get('startingCSV');
  const startingCSV = startField.exists ? startField.name('object', 'spec.startingCSV') : undefined;
  const approval = spec.get('installPlanApproval').optString();
  if (approval !== undefined && approval !== 'Automatic' && approval !== 'Manual') spec.get('installPlanApproval').fail('must be Automatic or Manual');
  return {
    name,
    namespace,
    packageName,
    channel,
    source: spec.get('source').name('object', 'spec.source'),
    sourceNamespace: spec.get('sourceNamespace').name('namespace', 'spec.sourceNamespace'),
    startingCSV,
    installPlanApproval: approval as 'Automatic' | 'Manual' | undefined,
  };
}

/** The object of a Subscription document, with `file` for messages. */
function subscriptionDocs(docs: readonly Document.Parsed[]): number[] {
  const { isMap } = fullYaml();
  const out: number[] = [];
  docs.forEach((d, i) => {
    const js: unknown = d.contents && isMap(d.contents) ? d.toJS() : undefined;
    if (isRecord(js) && js['kind'] === 'Subscription' && js['apiVersion'] === SUBSCRIPTION_API_VERSION) {
      const spec = js['spec'];
      if (isRecord(spec) && spec['name'] === OPENSTACK_OPERATOR_PACKAGE) out.push(i);
    }
  });
  return out;
}

/** Parse a file's text and find the one openstack-operator Subscription in it. */
export function readSubscriptionText(text: string, file: string): { sub: SubscriptionInput; object: Record<string, unknown>; docs: Document.Parsed[]; index: number } {
  const docs = fullYaml().parseAllDocuments(text, { keepSourceTokens: true });
  if (!Array.isArray(docs)) throw new OsvError('INPUT_YAML', 'cannot parse the file', { location: { file } });
  const broken = docs.findIndex((d) => d.errors.length > 0);
  if (broken >= 0) throw new OsvError('INPUT_YAML', `not valid YAML: ${docs[broken]!.errors[0]!.message.split('\n')[0] ?? ''}`, { location: { file, document: broken } });
  let found: number[];
  try {
    found = subscriptionDocs(docs);
  } catch (e) {
    throw new OsvError('INPUT_YAML', `cannot read the file: ${e instanceof Error ? e.message : String(e)}`, { location: { file } });
  }
  if (found.length === 0) {
    throw new OsvError('INPUT_INVALID', `no Subscription of the ${OPENSTACK_OPERATOR_PACKAGE} package found (${SUBSCRIPTION_API_VERSION}, spec.name: ${OPENSTACK_OPERATOR_PACKAGE})`, {
      location: { file },
      hint: 'Pass the file of your repository that holds the openstack-operator Subscription, or `oc get subscription -n openstack-operators openstack-operator -o yaml`.',
    });
  }
  if (found.length > 1) throw new OsvError('INPUT_INVALID', `holds ${found.length} openstack-operator Subscriptions; cannot tell which one to pin`, { location: { file } });
  const index = found[0]!;
  const object = docs[index]!.toJS() as Record<string, unknown>;
  const sub = parseSubscription({ value: object, file, document: index, path: '' });
  return { sub, object, docs, index };
}

function pinnedSpec(sub: SubscriptionInput, req: PinRequest): { channel: string; startingCSV: string; installPlanApproval: 'Manual' } {
  parseName(req.csv, 'object', '--csv');
  const channel = req.channel !== undefined ? parseChannel(req.channel) : sub.channel;
  if (channel === undefined) {
    throw new OsvError('USAGE', 'the Subscription has no spec.channel; pass --channel', { hint: 'The channel that holds the target CSV in your catalog, e.g. stable-v1.0 (see `oc get packagemanifest openstack-operator -o yaml`).' });
  }
  return { channel, startingCSV: req.csv, installPlanApproval: 'Manual' };
}

/** What the pinned object must read as: the original with the three spec values set. */
function expected(object: Record<string, unknown>, pin: Record<string, string>): Record<string, unknown> {
  const out = structuredClone(object);
  out['spec'] = { ...(out['spec'] as Record<string, unknown>), ...pin };
  return out;
}

function scalarText(value: string): string {
  return plainSafe(value) ? value : JSON.stringify(value);
}

/**
 * Edit the text of the user's Subscription file so that it is pinned to `req.csv`. Returns the new
 * text (the same text when it is pinned already). Only the three values of `spec` change.
 */
export function pinSubscriptionText(text: string, file: string, req: PinRequest): { text: string; before: SubscriptionInput } {
  const { isMap, isScalar, parseAllDocuments } = fullYaml();
  const { sub, object, docs, index } = readSubscriptionText(text, file);
  const pin = pinnedSpec(sub, req);
  const root = docs[index]!.contents as YAMLMap;
  const specPair = (root.items as Pair[]).find((p) => isScalar(p.key) && p.key.value === 'spec');
  const spec = specPair?.value as Node | null | undefined;
  const fail = (why: string): never => {
    throw new OsvError('INPUT_INVALID', `cannot edit the Subscription in place: ${why}`, { location: { file, document: index, path: 'spec' }, hint: 'Write spec as a plain block map (no flow style, anchors or aliases), then run again.' });
  };
  if (!isMap(spec) || spec.flow || spec.items.length === 0) return fail('spec is not a block map');
  const edits: { start: number; end: number; text: string }[] = [];
  const items = spec.items as Pair[];
  const firstKey = items[0]!.key as Node;
  if (!firstKey.range) return fail('no source positions');
  const column = firstKey.range[0] - lineStart(text, firstKey.range[0]);
  const missing: string[] = [];
  for (const [key, value] of Object.entries(pin)) {
    const pair = items.find((p) => isScalar(p.key) && p.key.value === key);
    if (!pair) {
      missing.push(`${' '.repeat(column)}${key}: ${scalarText(value)}\n`);
      continue;
    }
    const node = pair.value as Node | null;
    if (!isScalar(node) || !node.range) return fail(`spec.${key} is not a scalar`);
    if (node.value === value) continue;
    const [start, end] = node.range;
    edits.push({ start, end, text: node.type === 'QUOTE_SINGLE' ? `'${value}'` : node.type === 'QUOTE_DOUBLE' ? JSON.stringify(value) : scalarText(value) });
  }
  if (missing.length) {
    const last = items[items.length - 1]!;
    const lastNode = (last.value ?? last.key) as Node;
    if (!lastNode.range) return fail('no source positions');
    const at = endOfLine(text, lastNode.range[1]);
    edits.push({ start: at, end: at, text: (at === text.length && !text.endsWith('\n') ? '\n' : '') + missing.join('') });
  }
  let out = text;
  for (const e of edits.sort((a, b) => b.start - a.start)) out = out.slice(0, e.start) + e.text + out.slice(e.end);
  const after = parseAllDocuments(out);
  const ok =
    Array.isArray(after) &&
    after.length === docs.length &&
    after.every((d) => d.errors.length === 0) &&
    after.every((d, i) => isDeepStrictEqual(d.toJS(), i === index ? expected(object, pin) : docs[i]!.toJS()));
  if (!ok) return fail('the edited file would not read back as intended');
  return { text: out, before: sub };
}

/**
 * A Subscription from elsewhere (a cluster dump), rendered afresh and pinned: apiVersion, kind,
 * name, namespace and the spec the user gave; status, managed fields and the like are left out.
 */
export function renderPinnedSubscription(text: string, file: string, req: PinRequest): { text: string; before: SubscriptionInput } {
  const { object, before } = pinnedSubscriptionObject(text, file, req);
  return { text: fullYaml().stringify(object, { lineWidth: 0 }), before };
}

/**
 * The same as an object: `namespace` fills in a namespace the file leaves to a kustomization
 * (directories mode writes the Subscription into a folder applied to another namespace).
 */
export function pinnedSubscriptionObject(text: string, file: string, req: PinRequest, namespace?: string): { object: Record<string, unknown>; before: SubscriptionInput } {
  const { sub, object } = readSubscriptionText(text, file);
  const pin = pinnedSpec(sub, req);
  const spec: Record<string, unknown> = { ...(object['spec'] as Record<string, unknown>), ...pin };
  const ns = sub.namespace ?? namespace;
  const out = {
    apiVersion: SUBSCRIPTION_API_VERSION,
    kind: 'Subscription',
    metadata: { name: sub.name, ...(ns !== undefined ? { namespace: ns } : {}) },
    spec: Object.fromEntries(Object.keys(spec).sort().map((k) => [k, spec[k]])),
  };
  return { object: out, before: sub };
}
