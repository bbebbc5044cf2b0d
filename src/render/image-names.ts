/**
 * The typed OpenStackVersion class from `cdk8s import` uses camelCase property names
 * (`novaApiImage`) and maps them back to the CRD's (`novaAPIImage`) when it writes JSON. Learn
 * that mapping from the generated code itself, so it can never drift from it.
 */
import { toJson_OpenStackVersionSpecCustomContainerImages } from '../imports/openstackversion-core.openstack.org.js';

let jsonToProp: Map<string, string> | undefined;

function mapping(): Map<string, string> {
  if (jsonToProp) return jsonToProp;
  // a proxy answers every property read with its own name; the output shows which JSON key each feeds
  const probe = new Proxy({}, { get: (_t, key) => (typeof key === 'string' ? `prop:${key}` : undefined) });
  const out = toJson_OpenStackVersionSpecCustomContainerImages(probe as never) as Record<string, unknown>;
  jsonToProp = new Map();
  for (const [json, v] of Object.entries(out)) {
    if (typeof v === 'string' && v.startsWith('prop:')) jsonToProp.set(json, v.slice(5));
  }
  // the two per-backend maps keep their names (their values are maps, which the probe cannot name)
  jsonToProp.set('cinderVolumeImages', 'cinderVolumeImages');
  jsonToProp.set('manilaShareImages', 'manilaShareImages');
  return jsonToProp;
}

/** `{ novaAPIImage: x, cinderVolumeImages: {...} }` → `{ novaApiImage: x, cinderVolumeImages: {...} }`. */
export function customImagesToProps(images: Readonly<Record<string, unknown>>): Record<string, unknown> {
  const m = mapping();
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(images)) {
    const prop = m.get(k);
    if (prop === undefined) throw new Error(`no property of the generated OpenStackVersion class writes "${k}"`);
    out[prop] = v;
  }
  return out;
}
