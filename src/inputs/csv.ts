/**
 * The openstack-operator ClusterServiceVersion as users have it (`oc get csv -o yaml`, a bundle
 * file, a List or several documents). The release version and the image list live on the env of
 * the init deployment, which forwards them to the manager it creates (facts §3.1, §3.3, §8.1).
 */
import { OsvError } from '../errors.js';
import { isImageEnvName } from '../images/defaults.js';
import { parseImageReference, parseReleaseVersion } from '../validate/grammar.js';
import { quoteInput } from '../validate/quote.js';
import { Field } from './field.js';
import { readObjects, type SourcedObject } from './yaml.js';

export const INIT_DEPLOYMENT = 'openstack-operator-controller-init';
/** The init deployment's name in FR2–FR4 bundles (renamed upstream in 889c3965). */
export const OLD_INIT_DEPLOYMENT = 'openstack-operator-controller-operator';
export const MANAGER_DEPLOYMENT = 'openstack-operator-controller-manager';
const CSV_EPOCH_APPEND = 'csvEpochAppend';

export interface CsvInput {
  readonly file: string;
  readonly name: string;
  /** `status.phase` when the CSV came from a cluster (`Succeeded`, `Installing`, …). */
  readonly phase: string | undefined;
  /** `spec.version` (upstream bundles carry their branch's Makefile VERSION there). */
  readonly version: string | undefined;
  readonly deployment: string;
  readonly container: string;
  /** The env sits on the init operator, which forwards only RELATED_IMAGE_* to the manager it creates. */
  readonly initOperator: boolean;
  /** The version as the operator computes it (with the csvEpochAppend suffix when that scheme applies). */
  readonly releaseVersion: string;
  /** `OPENSTACK_RELEASE_VERSION` as written in the CSV. */
  readonly rawReleaseVersion: string;
  /** The image variables the OpenStackVersion controller will see, by name. */
  readonly imageEnv: Readonly<Record<string, string>>;
  /** What was read but deliberately not used, and why (never silent). */
  readonly notes: readonly string[];
  readonly warnings: readonly string[];
  /** Where the CSV was found when not in a CSV file of its own (`--installplan`: the InstallPlan and bundle). */
  readonly origin?: string;
}

interface EnvVar {
  readonly name: string;
  readonly value: string | undefined;
  readonly valueFrom: boolean;
}

interface ContainerEnv {
  readonly deployment: string;
  readonly container: string;
  readonly env: readonly EnvVar[];
  readonly where: Field;
}

function containersOf(csv: Field): ContainerEnv[] {
  const out: ContainerEnv[] = [];
  for (const dep of csv.get('spec').get('install').get('spec').get('deployments').list()) {
    const depName = dep.get('name').optString() ?? '';
    const containers = dep.get('spec').get('template').get('spec').get('containers').list();
    for (const c of containers) {
      const env = c.get('env').list().map((e) => ({
        name: e.get('name').string('env name'),
        value: e.get('value').optString(),
        valueFrom: e.get('valueFrom').exists,
      }));
      out.push({ deployment: depName, container: c.get('name').optString() ?? '', env, where: c });
    }
  }
  return out;
}

// epoch suffix of the CSV name, e.g. openstack-operator.v1.0.0-0.1234567890.p → .1234567890.p (facts §3.1)
const EPOCH_RE = /\.[0-9]{10,}\.p/;

export function applyReleaseVersionScheme(version: string, scheme: string | undefined, csvName: string): string {
  if (scheme !== CSV_EPOCH_APPEND) return version;
  const m = EPOCH_RE.exec(csvName);
  return m ? version + m[0] : version;
}

/**
 * The init operator by what it does, not by its name (`-controller-init`, or `-controller-operator`
 * in FR2–FR4 bundles): it announces the release and deploys the operators, so its env carries
 * OPENSTACK_RELEASE_VERSION and their `*_OPERATOR_MANAGER_IMAGE_URL` images (facts §3.5, §10).
 */
function isInitOperator(c: ContainerEnv): boolean {
  if (!c.env.some((e) => e.name === 'OPENSTACK_RELEASE_VERSION')) return false;
  if (c.deployment === INIT_DEPLOYMENT || c.deployment === OLD_INIT_DEPLOYMENT) return true;
  return c.deployment !== MANAGER_DEPLOYMENT && c.env.some((e) => e.name.startsWith('RELATED_IMAGE_') && e.name.endsWith('_OPERATOR_MANAGER_IMAGE_URL'));
}

function pickCsv(objects: SourcedObject[], file: string): SourcedObject {
  const csvs = objects.filter((o) => o.value['kind'] === 'ClusterServiceVersion');
  if (csvs.length === 0) {
    const kinds = [...new Set(objects.map((o) => String(o.value['kind'] ?? '?')))].join(', ') || 'nothing';
    throw new OsvError('INPUT_INVALID', `no ClusterServiceVersion found (the file holds: ${kinds})`, {
      location: { file },
      hint: 'Pass `oc get csv <openstack-operator CSV> -o yaml`, or the bundle CSV file.',
    });
  }
  const withRelease = csvs.filter((o) => JSON.stringify(o.value).includes('"OPENSTACK_RELEASE_VERSION"'));
  const candidates = withRelease.length > 0 ? withRelease : csvs;
  const names = new Set(candidates.map((o) => String((o.value['metadata'] as Record<string, unknown> | undefined)?.['name'])));
  if (names.size > 1) {
    throw new OsvError('CSV_CONFLICT', `several operator CSVs found: ${[...names].sort().join(', ')}`, {
      location: { file },
      hint: 'Pass the one CSV of the openstack-operator you are updating to.',
    });
  }
  return candidates[0] as SourcedObject;
}

export function loadCsv(file: string): CsvInput {
  return csvFromObjects(readObjects(file, 'the CSV'), file);
}

/** The same reading from objects already at hand (a live CSV read from the cluster); `file` names them in messages. */
export function csvFromObjects(objects: SourcedObject[], file: string): CsvInput {
  const obj = pickCsv(objects, file);
  const csv = Field.of(obj, 'INPUT_INVALID');
  csv.expectApiVersion(CSV_API_VERSION);
  const name = csv.get('metadata').get('name').name('object', 'metadata.name');
  const containers = containersOf(csv);
  if (containers.length === 0) {
    csv.get('spec').get('install').get('spec').get('deployments').fail(
      'no operator deployments in spec.install.spec.deployments',
      'This looks like a CSV base without an install strategy; pass the CSV of an installed operator or a built bundle.',
    );
  }
  const hasRelease = (c: ContainerEnv) => c.env.some((e) => e.name === 'OPENSTACK_RELEASE_VERSION');
  // the init deployment is what OLM installs today; older bundles put the env on the manager directly
  const rank = (c: ContainerEnv) => (isInitOperator(c) ? 0 : c.deployment === MANAGER_DEPLOYMENT ? 1 : 2);
  const chosen = containers.filter(hasRelease).sort((a, b) => rank(a) - rank(b))[0];
  if (!chosen) {
    throw new OsvError('CSV_NO_RELEASE_VERSION', 'no container of the operator deployments sets OPENSTACK_RELEASE_VERSION', {
      location: { file, document: obj.document, path: 'spec.install.spec.deployments' },
      hint: `Expected it on the ${INIT_DEPLOYMENT} deployment (facts §3.1); without it the operator cannot announce a version.`,
    });
  }
  checkOperatorEnv(chosen);
  checkSingleAnnouncer(containers.filter((c) => hasRelease(c) && rank(c) === rank(chosen)));
  const env: Record<string, string> = {};
  const notes: string[] = [];
  const warnings: string[] = [];
  for (const e of chosen.env) {
    if (e.value === undefined) {
      if (e.valueFrom && (isImageEnvName(e.name) || e.name === 'OPENSTACK_RELEASE_VERSION')) {
        warnings.push(`${e.name} uses valueFrom; its value cannot be read from the CSV and is left out`);
      }
      continue;
    }
    env[e.name] = e.value;
  }
  const raw = env['OPENSTACK_RELEASE_VERSION'];
  if (raw === undefined || raw.trim() === '') {
    throw new OsvError('CSV_NO_RELEASE_VERSION', 'OPENSTACK_RELEASE_VERSION is empty', {
      location: { ...chosen.where.location, path: `${chosen.where.location.path}.env` },
    });
  }
  const scheme = env['OPENSTACK_RELEASE_VERSION_SCHEME'];
  const fromInit = isInitOperator(chosen);
  if (scheme === CSV_EPOCH_APPEND && fromInit) {
    warnings.push(
      'OPENSTACK_RELEASE_VERSION_SCHEME=csvEpochAppend is set on the init deployment; the upstream init operator does not forward it to the manager, so the announced version may lack the epoch suffix',
    );
  }
  const imageEnv: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) {
    if (!isImageEnvName(k)) continue;
    if (k.endsWith('_OPERATOR_MANAGER_IMAGE_URL')) {
      continue; // operator images: consumed by the init operator, never reach OpenStackVersion (facts §3.5)
    }
    if (fromInit && !k.startsWith('RELATED_IMAGE_')) {
      // facts §3.3: the init operator forwards only RELATED_IMAGE_* to the manager
      notes.push(`${k} is on ${chosen.deployment}, which does not forward TEST_* variables: the operator leaves that image unset`);
      continue;
    }
    imageEnv[k] = v;
  }
  const operatorImages = Object.keys(env).filter((k) => k.endsWith('_OPERATOR_MANAGER_IMAGE_URL')).length;
  if (operatorImages > 0) notes.push(`${operatorImages} operator images (*_OPERATOR_MANAGER_IMAGE_URL) belong to the operators, not to OpenStackVersion`);
  const phase = csv.get('status').get('phase').optString();
  return {
    file,
    name,
    phase,
    version: csv.get('spec').get('version').optString(),
    deployment: chosen.deployment,
    container: chosen.container,
    initOperator: fromInit,
    rawReleaseVersion: raw,
    releaseVersion: parseReleaseVersion(applyReleaseVersionScheme(raw, scheme, name), 'OPENSTACK_RELEASE_VERSION with its epoch suffix', { file }),
    imageEnv,
    notes,
    warnings,
  };
}

const CSV_API_VERSION = 'operators.coreos.com/v1alpha1';

/**
 * The env we read is checked where it enters: a variable we use set twice is refused (Kubernetes
 * keeps the last one silently, and a second OPENSTACK_RELEASE_VERSION would pick the target), the
 * release version obeys the version grammar and every image variable holds an image reference.
 */
function checkOperatorEnv(c: ContainerEnv): void {
  const entries = c.where.get('env').list();
  const seen = new Map<string, number>();
  c.env.forEach((e, i) => {
    const at = entries[i] ?? c.where;
    // Kubernetes' own rule for env names; they reach notes and warnings as text
    if (!/^[-._a-zA-Z][-._a-zA-Z0-9]*$/.test(e.name)) at.get('name').fail(`${quoteInput(e.name)} is not an environment variable name`);
    const used = e.name === 'OPENSTACK_RELEASE_VERSION' || e.name === 'OPENSTACK_RELEASE_VERSION_SCHEME' || isImageEnvName(e.name);
    const first = seen.get(e.name);
    if (used && first !== undefined) {
      throw new OsvError('CSV_CONFLICT', `${e.name} is set twice in the env of ${c.deployment}/${c.container} (env[${first}] and env[${i}])`, {
        location: at.location,
        hint: 'Kubernetes keeps the last one without a word; remove the duplicate so that the value is the one you meant.',
      });
    }
    seen.set(e.name, i);
    if (e.value === undefined) return;
    // an empty one is reported as missing (CSV_NO_RELEASE_VERSION) by the caller
    if (e.name === 'OPENSTACK_RELEASE_VERSION' && e.value.trim() !== '') parseReleaseVersion(e.value, e.name, at.get('value').location);
    else if (isImageEnvName(e.name) && e.value !== '') parseImageReference(e.value, e.name, at.get('value').location);
  });
}

/** Two containers of the same standing both announcing a release: which one OLM runs is not ours to guess. */
function checkSingleAnnouncer(candidates: readonly ContainerEnv[]): void {
  if (candidates.length < 2) return;
  const [a, b] = candidates as [ContainerEnv, ContainerEnv];
  throw new OsvError('CSV_CONFLICT', `both ${a.deployment}/${a.container} and ${b.deployment}/${b.container} set OPENSTACK_RELEASE_VERSION`, {
    location: b.where.location,
    hint: 'A CSV announces one release from one operator container; pass the CSV as OLM installed it.',
  });
}
