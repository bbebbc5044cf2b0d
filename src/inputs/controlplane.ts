/**
 * The `OpenStackControlPlane`, read only for what the plan needs (its name, OVN and the enabled
 * services) and carried through unchanged into the rendered phases.
 */
import { OsvError } from '../errors.js';
import { Field } from './field.js';
import { parseConditions, type Condition } from './openstack-version.js';
import { readObjects } from './yaml.js';

/** `spec.<service>.enabled` defaults from the OpenStackControlPlane CRD. */
export const SERVICE_ENABLED_DEFAULTS: Readonly<Record<string, boolean>> = {
  barbican: true, cinder: true, designate: false, dns: true, galera: true, glance: true, heat: false,
  horizon: false, ironic: false, keystone: true, manila: false, memcached: true, neutron: true, nova: true,
  octavia: false, ovn: true, placement: true, rabbitmq: true, redis: false, swift: true, telemetry: true,
  watcher: false,
};

export const CONTROLPLANE_API_VERSION = 'core.openstack.org/v1beta1';

export interface ControlPlaneInput {
  readonly file: string;
  readonly name: string;
  readonly namespace: string | undefined;
  readonly generation: number | undefined;
  readonly ovnEnabled: boolean;
  readonly enabledServices: readonly string[];
  readonly cinderBackends: readonly string[];
  readonly manilaBackends: readonly string[];
  readonly status:
    | { readonly observedGeneration: number | undefined; readonly deployedVersion: string | undefined; readonly conditions: readonly Condition[] }
    | undefined;
  readonly manifest: Readonly<Record<string, unknown>>;
}

export function loadControlPlane(file: string): ControlPlaneInput {
  const objs = readObjects(file, 'the OpenStackControlPlane').filter((o) => o.value['kind'] === 'OpenStackControlPlane');
  if (objs.length !== 1) {
    throw new OsvError(
      'CONTROLPLANE_INVALID',
      objs.length === 0 ? 'no OpenStackControlPlane found' : `${objs.length} OpenStackControlPlane objects found; the operator allows one per namespace`,
      { location: { file } },
    );
  }
  const obj = objs[0]!;
  const cp = Field.of(obj, 'CONTROLPLANE_INVALID');
  cp.expectApiVersion(CONTROLPLANE_API_VERSION);
  const spec = cp.get('spec');
  if (!spec.exists) spec.fail('missing spec');
  const enabled = Object.keys(SERVICE_ENABLED_DEFAULTS)
    .filter((s) => spec.get(s).get('enabled').optBoolean() ?? SERVICE_ENABLED_DEFAULTS[s])
    .sort();
  const st = cp.get('status');
  return {
    file,
    name: cp.get('metadata').get('name').name('object', 'metadata.name'),
    namespace: cp.get('metadata').get('namespace').optName('namespace'),
    generation: cp.get('metadata').get('generation').optNumber(),
    ovnEnabled: enabled.includes('ovn'),
    enabledServices: enabled,
    cinderBackends: spec.get('cinder').get('template').get('cinderVolumes').entries().map(([k]) => k),
    manilaBackends: spec.get('manila').get('template').get('manilaShares').entries().map(([k]) => k),
    status: st.exists
      ? {
          observedGeneration: st.get('observedGeneration').optNumber(),
          deployedVersion: st.get('deployedVersion').optVersion(),
          conditions: parseConditions(st.get('conditions')),
        }
      : undefined,
    manifest: obj.value,
  };
}
