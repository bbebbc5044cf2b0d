/**
 * The target CSV from an OLM `InstallPlan` (`plan --installplan FILE`), for a plan made before the
 * operator is upgraded, when no CSV file is at hand. OLM records each CSV it will install as a
 * step of `status.plan` whose `resource.manifest` is a JSON string: the CSV itself (embedded), or,
 * for a bundle unpacked from its image, a reference to the ConfigMap that holds the bundle's
 * manifests. `status.bundleLookups[].path` names the bundle image. Only the openstack-operator's
 * CSV is read; the other CSVs OLM bundled in are named so the user sees them.
 *
 * Pure: objects in (the InstallPlan, and that ConfigMap when the step refers to one), CSV out.
 */
import { OsvError } from '../errors.js';
import { csvFromObjects, type CsvInput } from '../inputs/csv.js';
import { fullYaml } from '../inputs/full-yaml.js';
import { isRecord, type SourcedObject } from '../inputs/yaml.js';
import { OPENSTACK_OPERATOR_PACKAGE } from './subscription.js';

const OLM_API_VERSION = 'operators.coreos.com/v1alpha1';

export interface InstallPlanCsv {
  readonly csv: CsvInput;
  /** Where the images came from, for the plan's output: the InstallPlan, the bundle, the ConfigMap. */
  readonly origin: string;
  /** The other CSVs of the same InstallPlan (OLM bundles several operators' upgrades). */
  readonly alsoInstalls: readonly string[];
}

const rec = (v: unknown): Record<string, unknown> => (isRecord(v) ? v : {});
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
const nameOf = (o: Record<string, unknown>) => str(rec(o['metadata'])['name']) ?? '?';
const isOperatorCsv = (name: string) => name.startsWith(`${OPENSTACK_OPERATOR_PACKAGE}.`);

/** The one InstallPlan of the file that installs an openstack-operator CSV. */
function pickInstallPlan(objects: readonly SourcedObject[], file: string): SourcedObject {
  const plans = objects.filter((o) => o.value['kind'] === 'InstallPlan' && o.value['apiVersion'] === OLM_API_VERSION);
  if (plans.length === 0) {
    throw new OsvError('INPUT_INVALID', `no InstallPlan (${OLM_API_VERSION}) found in ${file}`, { location: { file }, hint: 'Pass `oc get installplan -n <operator namespace> <name> -o yaml`.' });
  }
  const ours = plans.filter((p) => csvNames(p.value).some(isOperatorCsv));
  if (ours.length === 1) return ours[0]!;
  if (ours.length === 0) {
    throw new OsvError('INPUT_INVALID', `no InstallPlan in ${file} installs a CSV of the ${OPENSTACK_OPERATOR_PACKAGE} package`, {
      location: { file },
      details: plans.map((p) => `${nameOf(p.value)}: ${csvNames(p.value).join(', ') || '(no CSV)'}`),
    });
  }
  throw new OsvError('INPUT_INVALID', `${ours.length} InstallPlans in ${file} install an ${OPENSTACK_OPERATOR_PACKAGE} CSV; pass the one of the update`, {
    location: { file },
    details: ours.map((p) => `${nameOf(p.value)}: ${csvNames(p.value).join(', ')}`),
  });
}

function csvNames(plan: Record<string, unknown>): string[] {
  const names = rec(plan['spec'])['clusterServiceVersionNames'];
  return Array.isArray(names) ? names.filter((n): n is string => typeof n === 'string') : [];
}

function parseManifest(text: string, where: string, file: string): Record<string, unknown> {
  try {
    const v: unknown = JSON.parse(text);
    if (isRecord(v)) return v;
  } catch {
    // reported below
  }
  throw new OsvError('INPUT_INVALID', `${where}: resource.manifest is not a JSON object`, { location: { file } });
}

/** The CSV of an unpacked bundle, from the ConfigMap the step refers to (its data: the bundle's files). */
function csvFromBundleConfigMap(objects: readonly SourcedObject[], ref: Record<string, unknown>, csvName: string, file: string): SourcedObject {
  const name = str(ref['name']);
  const namespace = str(ref['namespace']);
  const cm = objects.find((o) => o.value['kind'] === 'ConfigMap' && nameOf(o.value) === name && (namespace === undefined || str(rec(o.value['metadata'])['namespace']) === namespace));
  if (!cm) {
    throw new OsvError('INPUT_NOT_FOUND', `the InstallPlan keeps ${csvName} in the bundle ConfigMap ${namespace ?? '?'}/${name ?? '?'}, which ${file} does not hold`, {
      location: { file },
      hint: `Add it to the file: oc get configmap -n ${namespace ?? '<namespace>'} ${name ?? '<name>'} -o yaml (a second YAML document after the InstallPlan).`,
    });
  }
  for (const [key, text] of Object.entries(rec(cm.value['data']))) {
    if (typeof text !== 'string') continue;
    for (const doc of fullYaml().parseAllDocuments(text)) {
      const v: unknown = doc.errors.length ? undefined : doc.toJS();
      if (isRecord(v) && v['kind'] === 'ClusterServiceVersion' && nameOf(v) === csvName) return { value: v, file: cm.file, document: cm.document, path: `data.${key}` };
    }
  }
  throw new OsvError('INPUT_INVALID', `the bundle ConfigMap ${namespace ?? '?'}/${name ?? '?'} holds no ClusterServiceVersion ${csvName}`, { location: { file: cm.file, document: cm.document, path: 'data' } });
}

/**
 * The bundle ConfigMap an InstallPlan's openstack-operator step refers to (undefined when the CSV
 * is embedded, or there is no such step yet): what a reader of the cluster must fetch beside it.
 */
export function bundleConfigMapOf(plan: Record<string, unknown>): { readonly namespace: string; readonly name: string } | undefined {
  const csvName = csvNames(plan).find(isOperatorCsv);
  const steps = rec(plan['status'])['plan'];
  const step = (Array.isArray(steps) ? steps : []).map((s) => rec(rec(s)['resource'])).find((r) => r['kind'] === 'ClusterServiceVersion' && r['name'] === csvName);
  let ref: unknown;
  try {
    ref = JSON.parse(String(step?.['manifest'] ?? ''));
  } catch {
    return undefined;
  }
  const namespace = str(rec(ref)['namespace']);
  const name = str(rec(ref)['name']);
  return rec(ref)['kind'] === 'ConfigMap' && namespace && name ? { namespace, name } : undefined;
}

/** Does this InstallPlan install a CSV of the openstack-operator package? Which one? */
export function operatorCsvOf(plan: Record<string, unknown>): string | undefined {
  return csvNames(plan).find(isOperatorCsv);
}

/** The openstack-operator CSV an InstallPlan will install, and where it was found. */
export function csvFromInstallPlan(objects: readonly SourcedObject[], file: string): InstallPlanCsv {
  const ip = pickInstallPlan(objects, file);
  const plan = ip.value;
  const ipName = `${str(rec(plan['metadata'])['namespace']) ?? '?'}/${nameOf(plan)}`;
  const names = csvNames(plan);
  const csvName = names.find(isOperatorCsv)!;
  const status = rec(plan['status']);
  const steps = Array.isArray(status['plan']) ? status['plan'] : [];
  const index = steps.findIndex((s) => {
    const r = rec(rec(s)['resource']);
    return r['kind'] === 'ClusterServiceVersion' && r['name'] === csvName;
  });
  if (index < 0) {
    throw new OsvError('INPUT_INVALID', `InstallPlan ${ipName} has no resolved step for ${csvName} yet (status.phase ${str(status['phase']) ?? 'unset'})`, {
      location: { file, document: ip.document, path: 'status.plan' },
      hint: 'OLM fills status.plan once it has unpacked the bundle: read the InstallPlan again in a minute, or pass the bundle CSV with --csv.',
    });
  }
  const where = `InstallPlan ${ipName} status.plan[${index}]`;
  const manifest = parseManifest(String(rec(rec(steps[index])['resource'])['manifest'] ?? ''), where, file);
  const lookups = Array.isArray(status['bundleLookups']) ? status['bundleLookups'].map(rec) : [];
  const bundle = str(lookups.find((l) => l['identifier'] === csvName)?.['path']);
  let csvObject: SourcedObject;
  let from = '';
  if (manifest['kind'] === 'ClusterServiceVersion') {
    csvObject = { value: manifest, file, document: ip.document, path: `status.plan[${index}].resource.manifest` };
  } else if (manifest['kind'] === 'ConfigMap') {
    csvObject = csvFromBundleConfigMap(objects, manifest, csvName, file);
    from = `, unpacked in ConfigMap ${str(manifest['namespace']) ?? '?'}/${str(manifest['name']) ?? '?'}`;
  } else {
    throw new OsvError('INPUT_INVALID', `${where}: resource.manifest is neither a CSV nor a bundle ConfigMap reference (kind ${String(manifest['kind'])})`, { location: { file } });
  }
  const csv = csvFromObjects([csvObject], file);
  if (csv.name !== csvName) {
    throw new OsvError('INPUT_INVALID', `${where} names ${csvName} but its manifest is ${csv.name}`, { location: { file } });
  }
  return {
    csv,
    origin: `InstallPlan ${ipName}${bundle ? `, bundle ${bundle}` : ''}${from}`,
    alsoInstalls: names.filter((n) => n !== csvName),
  };
}
