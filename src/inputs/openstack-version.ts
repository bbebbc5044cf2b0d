/**
 * The `OpenStackVersion`: the live object (`oc get openstackversion -o yaml`, spec + status), or
 * only its spec as the GitOps repository holds it.
 */
import { OsvError } from '../errors.js';
import type { ContainerDefaults } from '../images/defaults.js';
import type { ImageSet } from '../images/image-set.js';
import { parseImageReference, parseReleaseVersion } from '../validate/grammar.js';
import { Field } from './field.js';
import { parseImageSet } from './custom-images.js';
import { readObjects, type SourcedObject } from './yaml.js';

export const SKIP_CUSTOM_IMAGES_ANNOTATION = 'core.openstack.org/skip-custom-images-validation';

export interface Condition {
  readonly type: string;
  readonly status: string;
  readonly reason?: string;
  readonly severity?: string;
  readonly message?: string;
  readonly lastTransitionTime?: string;
}

export interface OpenStackVersionStatus {
  readonly observedGeneration: number | undefined;
  readonly availableVersion: string | undefined;
  readonly deployedVersion: string | undefined;
  readonly containerImages: ImageSet | undefined;
  readonly containerImageVersionDefaults: Readonly<Record<string, ContainerDefaults>>;
  readonly trackedCustomImages: Readonly<Record<string, ImageSet>>;
  /** `availableServiceDefaults`: per version, what the operator running it published (glanceWsgi, rabbitmqVersion, …). */
  readonly availableServiceDefaults: Readonly<Record<string, Readonly<Record<string, string>>>>;
  readonly conditions: readonly Condition[];
}

export interface OpenStackVersionInput {
  readonly file: string;
  readonly name: string;
  readonly namespace: string | undefined;
  readonly generation: number | undefined;
  readonly annotations: Readonly<Record<string, string>>;
  readonly targetVersion: string;
  readonly customImages: ImageSet;
  /** Undefined when only the spec was given (a file from the GitOps repository). */
  readonly status: OpenStackVersionStatus | undefined;
  readonly warnings: readonly string[];
}

export function parseConditions(f: Field): Condition[] {
  return f.list().map((c) => {
    const reason = c.get('reason').optString();
    const severity = c.get('severity').optString();
    const message = c.get('message').optString();
    const lastTransitionTime = c.get('lastTransitionTime').optString();
    return {
      type: c.get('type').string('condition type'),
      status: c.get('status').string('condition status'),
      ...(reason !== undefined ? { reason } : {}),
      ...(severity !== undefined ? { severity } : {}),
      ...(message !== undefined ? { message } : {}),
      ...(lastTransitionTime !== undefined ? { lastTransitionTime } : {}),
    };
  });
}

export const OPENSTACK_VERSION_API_VERSION = 'core.openstack.org/v1beta1';

/** A status map keyed by version: the key obeys the version grammar (it becomes a plan target). */
function checkedVersionKey(version: string, at: Field): string {
  return parseReleaseVersion(version, 'release version', at.location);
}

/** An image defaults map: every non-empty value is an image reference. */
function imageMap(f: Field): Record<string, string> {
  const out = f.stringMap();
  for (const [k, v] of Object.entries(out)) if (v !== '') parseImageReference(v, 'image', f.get(k).location);
  return out;
}

export function parseOpenStackVersion(obj: SourcedObject): OpenStackVersionInput {
  const osv = Field.of(obj, 'OSV_INVALID');
  osv.expectApiVersion(OPENSTACK_VERSION_API_VERSION);
  const meta = osv.get('metadata');
  const name = meta.get('name').name('object', 'metadata.name');
  const spec = osv.get('spec');
  if (!spec.exists) spec.fail('missing spec');
  const targetVersion = spec.get('targetVersion').version('spec.targetVersion');
  const custom = parseImageSet(spec.get('customContainerImages'), 'spec');
  const warnings = [...custom.warnings];
  const st = osv.get('status');
  let status: OpenStackVersionStatus | undefined;
  if (st.exists) {
    const defaults: Record<string, ContainerDefaults> = {};
    for (const [version, d] of st.get('containerImageVersionDefaults').entries()) defaults[checkedVersionKey(version, d)] = imageMap(d);
    const tracked: Record<string, ImageSet> = {};
    for (const [version, t] of st.get('trackedCustomImages').entries()) tracked[checkedVersionKey(version, t)] = parseImageSet(t, 'spec').images;
    const serviceDefaults: Record<string, Record<string, string>> = {};
    for (const [version, d] of st.get('availableServiceDefaults').entries()) serviceDefaults[checkedVersionKey(version, d)] = d.stringMap();
    const ci = st.get('containerImages');
    status = {
      observedGeneration: st.get('observedGeneration').optNumber(),
      availableVersion: st.get('availableVersion').optVersion(),
      deployedVersion: st.get('deployedVersion').optVersion(),
      containerImages: ci.exists ? parseImageSet(ci, 'status').images : undefined,
      containerImageVersionDefaults: defaults,
      trackedCustomImages: tracked,
      availableServiceDefaults: serviceDefaults,
      conditions: parseConditions(st.get('conditions')),
    };
  }
  return {
    file: obj.file,
    name,
    namespace: meta.get('namespace').optName('namespace'),
    generation: meta.get('generation').optNumber(),
    annotations: meta.get('annotations').stringMap(),
    targetVersion,
    customImages: custom.images,
    status,
    warnings,
  };
}

export function loadOpenStackVersion(file: string): OpenStackVersionInput {
  const objs = readObjects(file, 'the OpenStackVersion').filter((o) => o.value['kind'] === 'OpenStackVersion');
  if (objs.length === 0) {
    throw new OsvError('OSV_INVALID', 'no OpenStackVersion found', {
      location: { file },
      hint: 'Pass `oc get openstackversion -o yaml`, or the OpenStackVersion file of your GitOps repository.',
    });
  }
  if (objs.length > 1) {
    // the webhook allows one per namespace (facts §2)
    throw new OsvError('OSV_INVALID', `${objs.length} OpenStackVersion objects found; the operator allows one per namespace`, {
      location: { file },
    });
  }
  return parseOpenStackVersion(objs[0]!);
}
