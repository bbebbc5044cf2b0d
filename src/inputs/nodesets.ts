/**
 * `OpenStackDataPlaneNodeSet` manifests from the repository (a file or a folder) or a status dump.
 */
import { statSync } from 'node:fs';
import { OsvError } from '../errors.js';
import { Field } from './field.js';
import { parseConditions, type Condition } from './openstack-version.js';
import { checkFolderSize, readObjects, yamlFilesIn, type SourcedObject } from './yaml.js';
import { compareText } from '../text/compare.js';

/** The CRD default of `spec.services` (facts §6.2). */
export const DEFAULT_NODESET_SERVICES: readonly string[] = [
  'redhat', 'download-cache', 'bootstrap', 'configure-network', 'validate-network', 'install-os',
  'configure-os', 'ssh-known-hosts', 'run-os', 'reboot-os', 'install-certs', 'ovn',
  'neutron-metadata', 'libvirt', 'nova', 'telemetry',
];

export interface NodeSetStatus {
  readonly observedGeneration: number | undefined;
  readonly deployedVersion: string | undefined;
  readonly containerImages: Readonly<Record<string, string>>;
  readonly conditions: readonly Condition[];
}

export interface NodeSetInput {
  readonly file: string;
  readonly name: string;
  readonly namespace: string | undefined;
  readonly generation: number | undefined;
  readonly nodes: readonly string[];
  readonly services: readonly string[];
  readonly status: NodeSetStatus | undefined;
  /** The object as read, carried into rendered phases when the repository holds it. */
  readonly manifest: Readonly<Record<string, unknown>>;
}

export const NODESET_API_VERSION = 'dataplane.openstack.org/v1beta1';

export function parseNodeSet(obj: SourcedObject): NodeSetInput {
  const ns = Field.of(obj, 'NODESET_INVALID');
  ns.expectApiVersion(NODESET_API_VERSION);
  const meta = ns.get('metadata');
  const spec = ns.get('spec');
  const services = spec.get('services').list().map((s) => s.string('service name'));
  const st = ns.get('status');
  return {
    file: obj.file,
    name: meta.get('name').name('nodeset', 'metadata.name'),
    namespace: meta.get('namespace').optName('namespace'),
    generation: meta.get('generation').optNumber(),
    nodes: spec.get('nodes').entries().map(([k]) => k),
    services: services.length > 0 ? services : DEFAULT_NODESET_SERVICES,
    status: st.exists
      ? {
          observedGeneration: st.get('observedGeneration').optNumber(),
          deployedVersion: st.get('deployedVersion').optVersion(),
          containerImages: st.get('containerImages').stringMap(),
          conditions: parseConditions(st.get('conditions')),
        }
      : undefined,
    manifest: obj.value,
  };
}

/** Nodesets from a file or a folder (searched recursively; other kinds are skipped). */
export function loadNodeSets(path: string): NodeSetInput[] {
  let files: string[];
  try {
    files = statSync(path).isDirectory() ? yamlFilesIn(path) : [path];
  } catch (e) {
    if (e instanceof OsvError) throw e; // a link leading outside the folder, said as such
    throw new OsvError('INPUT_NOT_FOUND', 'cannot read the nodesets: not found', { location: { file: path }, cause: e });
  }
  checkFolderSize(files, 'the nodesets', path);
  const nodesets: NodeSetInput[] = [];
  for (const file of files) {
    for (const obj of readObjects(file, 'the nodesets')) {
      if (obj.value['kind'] === 'OpenStackDataPlaneNodeSet') nodesets.push(parseNodeSet(obj));
    }
  }
  if (nodesets.length === 0) {
    throw new OsvError('NODESET_INVALID', 'no OpenStackDataPlaneNodeSet found', { location: { file: path } });
  }
  const seen = new Map<string, string>();
  for (const n of nodesets) {
    const other = seen.get(n.name);
    if (other !== undefined) {
      throw new OsvError('NODESET_INVALID', `nodeset "${n.name}" is defined twice (also in ${other})`, { location: { file: n.file } });
    }
    seen.set(n.name, n.file);
  }
  return nodesets.sort((a, b) => compareText(a.name, b.name));
}
