/**
 * Discovery documents built from the served resource types: `/api`, `/api/v1`, `/apis`,
 * `/apis/<group>`, `/apis/<group>/<version>` and `/version` — what `KubernetesObjectApi` and
 * kubectl read before touching a resource.
 */
import type { ResourceType } from '../../cluster/resources.js';
import { apiVersionOf } from '../../cluster/resources.js';

const VERBS = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];
const STATUS_VERBS = ['get', 'patch', 'update'];

/** Reported by `/version`; the minor matches the kube-apiserver the end-to-end tier runs. */
export const SERVER_VERSION = {
  major: '1',
  minor: '31',
  gitVersion: 'v1.31.0-rehearsal',
  gitCommit: '',
  gitTreeState: 'clean',
  buildDate: '1970-01-01T00:00:00Z',
  goVersion: 'none',
  compiler: 'node',
  platform: 'node',
} as const;

function groupVersions(types: readonly ResourceType[]): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const t of types) {
    if (t.group === '') continue;
    const versions = out.get(t.group) ?? [];
    if (!versions.includes(t.version)) versions.push(t.version);
    out.set(t.group, versions);
  }
  return out;
}

function apiGroup(name: string, versions: readonly string[]): Record<string, unknown> {
  const list = versions.map((v) => ({ groupVersion: `${name}/${v}`, version: v }));
  return { name, versions: list, preferredVersion: list[0] };
}

function resourceList(groupVersion: string, types: readonly ResourceType[]): Record<string, unknown> {
  const resources: Record<string, unknown>[] = [];
  for (const t of types) {
    if (apiVersionOf(t) !== groupVersion) continue;
    resources.push({ name: t.plural, singularName: t.kind.toLowerCase(), namespaced: t.namespaced, kind: t.kind, verbs: VERBS });
    if (t.statusSubresource) {
      resources.push({ name: `${t.plural}/status`, singularName: '', namespaced: t.namespaced, kind: t.kind, verbs: STATUS_VERBS });
    }
  }
  return { kind: 'APIResourceList', apiVersion: 'v1', groupVersion, resources };
}

/** The discovery document served at `path`, or undefined when the path is not a discovery path. */
export function discoveryDocument(path: string, types: readonly ResourceType[], serverAddress: string): Record<string, unknown> | undefined {
  const parts = path.split('/').filter((p) => p !== '');
  if (parts.length === 1 && parts[0] === 'version') return { ...SERVER_VERSION };
  if (parts[0] === 'api') {
    if (parts.length === 1) {
      return { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress }] };
    }
    if (parts.length === 2 && types.some((t) => t.group === '' && t.version === parts[1])) return resourceList(parts[1] ?? '', types);
    return undefined;
  }
  if (parts[0] !== 'apis') return undefined;
  const groups = groupVersions(types);
  if (parts.length === 1) {
    const list = [...groups.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([g, v]) => apiGroup(g, v));
    return { kind: 'APIGroupList', apiVersion: 'v1', groups: list };
  }
  const versions = groups.get(parts[1] ?? '');
  if (versions === undefined) return undefined;
  if (parts.length === 2) return { kind: 'APIGroup', apiVersion: 'v1', ...apiGroup(parts[1] ?? '', versions) };
  if (parts.length === 3 && versions.includes(parts[2] ?? '')) return resourceList(`${parts[1]}/${parts[2]}`, types);
  return undefined;
}
