/**
 * From the operator's environment to `containerImageVersionDefaults[v]`, exactly as
 * `InitializeOpenStackVersionImageDefaults` does it (facts §3.2), and from there with the custom
 * images to `status.containerImages`, as `GetContainerImages` does (facts §1.3, §1.4).
 */
import { IMAGE_FIELDS, jsonNameOfGoField } from './fields.js';
import type { ImageSet } from './image-set.js';
import { sortedRecord } from './image-set.js';

/** `containerImageVersionDefaults[v]`: scalar fields plus the singular `cinderVolumeImage` / `manilaShareImage`. */
export type ContainerDefaults = Readonly<Record<string, string>>;

export interface EnvNotice {
  readonly code: 'IMAGE_ENV_UNMAPPED' | 'IMAGE_ENV_IGNORED';
  readonly name: string;
  readonly message: string;
}

export interface DefaultsResult {
  readonly defaults: ContainerDefaults;
  /** Variables that map to no field: never dropped silently. */
  readonly warnings: readonly EnvNotice[];
}

/** JSON names the defaults struct accepts: every ContainerTemplate field plus the two singular ones. */
const DEFAULTS_FIELDS: ReadonlySet<string> = new Set([...Object.keys(IMAGE_FIELDS), 'cinderVolumeImage', 'manilaShareImage']);

/** The Go field name the operator computes for a `RELATED_IMAGE_*` variable, or '' for other names. */
export function goFieldNameForEnv(name: string): string {
  const tokens = name.match(/[A-Za-z0-9]+/g) ?? [];
  if (tokens[0] !== 'RELATED' || tokens[1] !== 'IMAGE') return '';
  let field = '';
  // drop the first two ("RELATED", "IMAGE") and the last two ("URL", "DEFAULT") tokens
  for (let i = 2; i < tokens.length - 2; i++) {
    const t = tokens[i] as string;
    field += t.charAt(0).toUpperCase() + t.slice(1).toLowerCase();
  }
  return field.replaceAll('Api', 'API').replaceAll('Cloudkitty', 'CloudKitty');
}

const EXPLICIT: ReadonlyArray<readonly [env: string, field: string]> = [
  ['RELATED_IMAGE_CINDER_VOLUME_IMAGE_URL_DEFAULT', 'cinderVolumeImage'],
  ['RELATED_IMAGE_MANILA_SHARE_IMAGE_URL_DEFAULT', 'manilaShareImage'],
  ['RELATED_IMAGE_NEUTRON_API_IMAGE_URL_DEFAULT', 'infraDnsmasqImage'],
  ['TEST_TOBIKO_IMAGE_URL_DEFAULT', 'testTobikoImage'],
  ['TEST_ANSIBLETEST_IMAGE_URL_DEFAULT', 'testAnsibletestImage'],
  ['TEST_HORIZONTEST_IMAGE_URL_DEFAULT', 'testHorizontestImage'],
];
/** Variables the operator reads that are known not to be OpenStackVersion images (facts §3.4). */
const KNOWN_NON_IMAGES: Readonly<Record<string, string>> = {
  RELATED_IMAGE_OPENSTACK_MUST_GATHER_DEFAULT: 'the must-gather image; the operator computes the field name "OpenstackMust", which does not exist, and skips it',
};

const EXPLICIT_NAMES: ReadonlySet<string> = new Set(EXPLICIT.map(([e]) => e));

/** The variables the operator collects: every `RELATED_IMAGE_*` and `TEST_*` (facts §3.2). */
export function isImageEnvName(name: string): boolean {
  return name.startsWith('RELATED_IMAGE_') || name.startsWith('TEST_');
}

/**
 * Compute the defaults from the image variables the OpenStackVersion controller sees.
 * `extraFields` lets a newer operator's field names (known from its own status) be accepted.
 */
export function defaultsFromEnv(env: Readonly<Record<string, string>>, extraFields: ReadonlySet<string> = new Set()): DefaultsResult {
  const out: Record<string, string> = {};
  const warnings: EnvNotice[] = [];
  for (const name of Object.keys(env).sort()) {
    if (!isImageEnvName(name)) continue;
    const value = env[name] as string;
    const field = jsonNameOfGoField(goFieldNameForEnv(name));
    if (field !== '' && (DEFAULTS_FIELDS.has(field) || extraFields.has(field))) {
      out[field] = value;
    } else if (KNOWN_NON_IMAGES[name] !== undefined) {
      warnings.push({ code: 'IMAGE_ENV_IGNORED', name, message: `${name} is ${KNOWN_NON_IMAGES[name]}` });
    } else if (!EXPLICIT_NAMES.has(name)) {
      warnings.push({
        code: 'IMAGE_ENV_UNMAPPED',
        name,
        message:
          field === ''
            ? `${name} is not a RELATED_IMAGE_* variable the operator maps to an image field; it is not used`
            : `${name} maps to field "${field}", which this operator API does not have; the operator ignores it ("Field not found")`,
      });
    }
  }
  for (const [name, field] of EXPLICIT) {
    const value = env[name];
    if (value !== undefined) out[field] = value;
  }
  return { defaults: sortedRecord(out), warnings };
}

/** `getImg(custom, default)`: the custom value when set, else the default. */
function pick(custom: string | undefined, def: string | undefined): string | undefined {
  return custom !== undefined && custom !== '' ? custom : def;
}

/**
 * `status.containerImages` for a target version: defaults overlaid with custom images.
 * Every field comes from `getImg`; the apache copies, the network-exporter fallback and the
 * forced `default` backend keys follow the operator (facts §1.3, §1.4).
 */
export function computeContainerImages(defaults: ContainerDefaults, custom: ImageSet): ImageSet {
  const fields: Record<string, string> = {};
  const names = new Set<string>([...Object.keys(IMAGE_FIELDS), ...Object.keys(defaults), ...Object.keys(custom.fields)]);
  names.delete('cinderVolumeImage');
  names.delete('manilaShareImage');
  // deprecated: only a fallback source for openstackNetworkExporterImage; the status field is never set
  names.delete('edpmOpenstackNetworkExporterImage');
  for (const f of names) {
    const v = pick(custom.fields[f], defaults[f]);
    if (v !== undefined) fields[f] = v;
  }
  const exporter =
    pick(custom.fields['openstackNetworkExporterImage'], undefined) ??
    pick(custom.fields['edpmOpenstackNetworkExporterImage'], defaults['openstackNetworkExporterImage']);
  if (exporter !== undefined) fields['openstackNetworkExporterImage'] = exporter;
  else delete fields['openstackNetworkExporterImage'];
  const apache = pick(custom.fields['apacheImage'], defaults['apacheImage']);
  if (apache !== undefined) {
    fields['octaviaApacheImage'] = apache;
    fields['ceilometerProxyImage'] = apache;
  }
  const withDefault = (map: Readonly<Record<string, string>>, def: string | undefined): Record<string, string> => {
    const m: Record<string, string> = { ...map };
    if (def !== undefined) m['default'] = def;
    else delete m['default'];
    return sortedRecord(m);
  };
  return {
    fields: sortedRecord(fields),
    cinderVolumeImages: withDefault(custom.cinderVolumeImages, defaults['cinderVolumeImage']),
    manilaShareImages: withDefault(custom.manilaShareImages, defaults['manilaShareImage']),
  };
}
