/** Reading the marks agents leave on the objects they apply. */
import { at, rec, type KubeObject } from '../status/snapshot.js';

/** `metadata.labels` or `metadata.annotations`, string values only. */
export function stringMap(obj: KubeObject, field: 'labels' | 'annotations'): Readonly<Record<string, string>> {
  const r = rec(at(obj, `metadata.${field}`)) ?? {};
  return Object.fromEntries(Object.entries(r).filter((e): e is [string, string] => typeof e[1] === 'string'));
}
