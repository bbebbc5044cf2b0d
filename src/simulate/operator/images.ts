/**
 * Image bookkeeping shared by the simulated reconcilers: `status.containerImages` in the operator's
 * JSON shape (scalar fields plus the per-backend maps), computed with the project's own image code.
 */
import { computeContainerImages, type ContainerDefaults } from '../../images/defaults.js';
import { BACKEND_MAPS } from '../../images/fields.js';
import { sortedRecord, type ImageSet } from '../../images/image-set.js';
import { isRecord } from './conditions.js';
import type { JsonObject } from './types.js';

export type ContainerImagesStatus = Readonly<Record<string, string | Readonly<Record<string, string>>>>;

function stringRecord(v: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (!isRecord(v)) return out;
  for (const [k, val] of Object.entries(v)) if (typeof val === 'string') out[k] = val;
  return out;
}

/** A defaults entry (`containerImageVersionDefaults[v]` or the CSV's) with only its string values. */
export function toContainerDefaults(v: unknown): ContainerDefaults {
  return sortedRecord(stringRecord(v));
}

/** `spec.customContainerImages` as an ImageSet (the API server already validated the names). */
export function customImagesOf(spec: JsonObject | undefined): ImageSet {
  const raw = isRecord(spec?.['customContainerImages']) ? (spec['customContainerImages'] as JsonObject) : {};
  const fields: Record<string, string> = {};
  for (const [k, v] of Object.entries(raw)) if (typeof v === 'string' && v !== '') fields[k] = v;
  return {
    fields: sortedRecord(fields),
    cinderVolumeImages: sortedRecord(stringRecord(raw['cinderVolumeImages'])),
    manilaShareImages: sortedRecord(stringRecord(raw['manilaShareImages'])),
  };
}

/** `status.containerImages` for a target: the defaults overlaid with the custom images (facts §1.3, §1.4). */
export function versionContainerImages(defaults: ContainerDefaults, custom: ImageSet): ContainerImagesStatus {
  const set = computeContainerImages(defaults, custom);
  const out: Record<string, string | Record<string, string>> = { ...set.fields };
  for (const m of Object.keys(BACKEND_MAPS) as (keyof typeof BACKEND_MAPS)[]) {
    if (Object.keys(set[m]).length > 0) out[m] = sortedRecord(set[m]);
  }
  return sortedRecord(out);
}

/** One scalar image of a `containerImages` block, or undefined. */
export function imageOf(containerImages: unknown, field: string): string | undefined {
  if (!isRecord(containerImages)) return undefined;
  const v = containerImages[field];
  return typeof v === 'string' && v !== '' ? v : undefined;
}

/** Nil-aware image comparison, as the operator's `*ImageMatch` helpers do. */
export function sameImage(a: unknown, b: unknown, field: string): boolean {
  return imageOf(a, field) === imageOf(b, field);
}

/** One per-backend map of a `containerImages` block. */
export function backendMapOf(containerImages: unknown, map: string): Record<string, string> {
  return isRecord(containerImages) ? stringRecord(containerImages[map]) : {};
}

/** Go field name (`OvnControllerImage`) → JSON name (`ovnControllerImage`). */
export { jsonNameOfGoField } from '../../images/fields.js';
