/**
 * One shape for every image collection the operator keeps: `spec.customContainerImages`,
 * `status.containerImages` and `status.containerImageVersionDefaults[v]` all reduce to scalar
 * fields plus the two per-backend maps.
 */
import { BACKEND_MAPS, type BackendMap } from './fields.js';

export interface ImageSet {
  /** Scalar image fields by JSON name, e.g. `glanceAPIImage`. */
  readonly fields: Readonly<Record<string, string>>;
  /** Per-backend images, e.g. `{ default: …, pure: … }`. */
  readonly cinderVolumeImages: Readonly<Record<string, string>>;
  readonly manilaShareImages: Readonly<Record<string, string>>;
}

export const BACKEND_MAP_NAMES = Object.keys(BACKEND_MAPS) as BackendMap[];

export const EMPTY_IMAGE_SET: ImageSet = { fields: {}, cinderVolumeImages: {}, manilaShareImages: {} };

export function sortedRecord<T>(rec: Readonly<Record<string, T>>): Record<string, T> {
  const out: Record<string, T> = {};
  for (const k of Object.keys(rec).sort()) out[k] = rec[k] as T;
  return out;
}

export function isEmptyImageSet(set: ImageSet): boolean {
  return (
    Object.keys(set.fields).length === 0 &&
    Object.keys(set.cinderVolumeImages).length === 0 &&
    Object.keys(set.manilaShareImages).length === 0
  );
}

export function imageSetsEqual(a: ImageSet, b: ImageSet): boolean {
  return JSON.stringify(toSpecShape(a)) === JSON.stringify(toSpecShape(b));
}

/** The operator's JSON shape: scalar fields and the maps (omitted when empty), keys sorted. */
export function toSpecShape(set: ImageSet): Record<string, string | Record<string, string>> {
  const out: Record<string, string | Record<string, string>> = { ...set.fields };
  for (const m of BACKEND_MAP_NAMES) {
    if (Object.keys(set[m]).length > 0) out[m] = sortedRecord(set[m]);
  }
  return sortedRecord(out);
}
