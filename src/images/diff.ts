/**
 * The image diff a reviewer reads: what is deployed now against what the update deploys, per
 * field and per cinder/manila backend, grouped by service and by the phase each image rolls out in.
 */
import { BACKEND_MAPS, DEPRECATED_FIELDS, OVN_CONTROLLER_FIELDS, imageFieldInfo } from './fields.js';
import { BACKEND_MAP_NAMES, type ImageSet } from './image-set.js';
import { compareText } from '../text/compare.js';

export type ChangeKind = 'changed' | 'added' | 'removed' | 'unchanged';

/** Phases in which an image reaches running containers. */
export type RolloutPhase = 'ovn-controlplane' | 'ovn-dataplane' | 'controlplane' | 'dataplane';

export interface ImageChange {
  readonly service: string;
  /** JSON field name, or the map name for a backend entry. */
  readonly field: string;
  /** Backend key for `cinderVolumeImages` / `manilaShareImages` entries. */
  readonly backend?: string;
  readonly change: ChangeKind;
  readonly from?: string;
  readonly to?: string;
  readonly phases: readonly RolloutPhase[];
}

/**
 * Where a field rolls out (facts §1.4, §5, §6.4). With OVN disabled the OVN steps fold into the others.
 * `inventoryImages`: deprecated fields the target release still writes into the nodeset inventory
 * (iscsid, multipathd up to fr6; facts §10).
 */
export function rolloutPhases(field: string, ovnEnabled: boolean, inventoryImages: readonly string[] = []): RolloutPhase[] {
  if (inventoryImages.includes(field)) return ['dataplane'];
  if (DEPRECATED_FIELDS.includes(field)) return [];
  const info = imageFieldInfo(field);
  const phases = new Set<RolloutPhase>();
  if (OVN_CONTROLLER_FIELDS.includes(field)) phases.add(ovnEnabled ? 'ovn-controlplane' : 'controlplane');
  else if (!info || info.controlPlane) phases.add('controlplane');
  // the exporter also runs beside the OVN databases and northd, which move with the control plane (ovn.go)
  if (field === 'openstackNetworkExporterImage') phases.add('controlplane');
  if (field === 'ovnControllerImage') phases.add(ovnEnabled ? 'ovn-dataplane' : 'dataplane');
  else if (field === 'ansibleeeImage') {
    // the runner image of every data-plane job, the OVN one included
    if (ovnEnabled) phases.add('ovn-dataplane');
    phases.add('dataplane');
  } else if (info?.edpm) phases.add('dataplane');
  const order: RolloutPhase[] = ['ovn-controlplane', 'ovn-dataplane', 'controlplane', 'dataplane'];
  return order.filter((p) => phases.has(p));
}

function kindOf(from: string | undefined, to: string | undefined): ChangeKind {
  if (from === undefined) return 'added';
  if (to === undefined) return 'removed';
  return from === to ? 'unchanged' : 'changed';
}

function entry(service: string, field: string, from: string | undefined, to: string | undefined, phases: RolloutPhase[], backend?: string): ImageChange {
  return {
    service,
    field,
    ...(backend !== undefined ? { backend } : {}),
    change: kindOf(from, to),
    ...(from !== undefined ? { from } : {}),
    ...(to !== undefined ? { to } : {}),
    phases,
  };
}

/** Every field and backend present on either side, sorted by service, field, backend. */
export function diffImages(current: ImageSet, target: ImageSet, ovnEnabled: boolean, inventoryImages: readonly string[] = []): ImageChange[] {
  const out: ImageChange[] = [];
  const fields = new Set([...Object.keys(current.fields), ...Object.keys(target.fields)]);
  for (const f of fields) {
    const service = imageFieldInfo(f)?.service ?? 'other';
    out.push(entry(service, f, current.fields[f], target.fields[f], rolloutPhases(f, ovnEnabled, inventoryImages)));
  }
  for (const m of BACKEND_MAP_NAMES) {
    const keys = new Set([...Object.keys(current[m]), ...Object.keys(target[m])]);
    for (const k of keys) {
      out.push(entry(BACKEND_MAPS[m].service, m, current[m][k], target[m][k], ['controlplane'], k));
    }
  }
  return out.sort(
    (a, b) =>
      compareText(a.service, b.service) || compareText(a.field, b.field) || compareText(a.backend ?? '', b.backend ?? ''),
  );
}

export interface DiffSummary {
  readonly changed: number;
  readonly added: number;
  readonly removed: number;
  readonly unchanged: number;
}

export function summarizeDiff(diff: readonly ImageChange[]): DiffSummary {
  const s = { changed: 0, added: 0, removed: 0, unchanged: 0 };
  for (const d of diff) s[d.change]++;
  return s;
}

function repository(ref: string): string {
  return ref.replace(/@sha256:.*$/, '').replace(/:[^/:]*$/, '');
}

/** `old → new`, naming the repository once when only the tag or digest moves. */
export function shortChange(from: string | undefined, to: string | undefined): string {
  if (from !== undefined && to !== undefined && repository(from) === repository(to)) {
    return `${shortImage(from)} → ${shortImage(to).slice(repository(to).length)}`;
  }
  return `${shortImage(from)} → ${shortImage(to)}`;
}

/** `quay.io/x/nova-api@sha256:0123456789abcdef…` → `quay.io/x/nova-api@sha256:0123456789ab`. */
export function shortImage(ref: string | undefined, digestChars = 12): string {
  if (ref === undefined) return '—';
  const at = ref.indexOf('@sha256:');
  if (at < 0) return ref;
  return ref.slice(0, at + 8 + digestChars);
}
