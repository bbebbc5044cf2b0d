/**
 * `spec.customContainerImages`: from a `--custom-images` file (strict: unknown names are errors)
 * or from an OpenStackVersion (lenient: the API server prunes unknown names, so they are warned).
 */
import { OsvError } from '../errors.js';
import { BACKEND_MAPS, IMAGE_FIELDS, STATUS_ONLY_FIELDS } from '../images/fields.js';
import { sortedRecord, type ImageSet } from '../images/image-set.js';
import { parseImageReference } from '../validate/grammar.js';
import { escapeControls, quoteInput } from '../validate/quote.js';
import { Field } from './field.js';
import { isRecord, readObjects } from './yaml.js';

const KNOWN = new Set(Object.keys(IMAGE_FIELDS));

function suggest(name: string): string | undefined {
  const lower = name.toLowerCase();
  return [...KNOWN, ...Object.keys(BACKEND_MAPS)].find((k) => k.toLowerCase() === lower);
}

export { isImageReference } from '../validate/grammar.js';

export interface ParsedImages {
  readonly images: ImageSet;
  readonly warnings: readonly string[];
}

/**
 * - `custom-file`: a `--custom-images` file; unknown names are errors.
 * - `spec`: `spec.customContainerImages` of an object; unknown names are warned (the API server drops them).
 * - `status`: written by the operator, the truth about its own API; every `*Image` name is kept.
 */
export type ImageSetMode = 'custom-file' | 'spec' | 'status';

export function parseImageSet(f: Field, mode: ImageSetMode): ParsedImages {
  const strict = mode === 'custom-file';
  const fields: Record<string, string> = {};
  const maps: Record<string, Record<string, string>> = { cinderVolumeImages: {}, manilaShareImages: {} };
  const warnings: string[] = [];
  for (const [key, value] of f.entries()) {
    if (value.value === null || value.value === undefined) continue;
    if (key in BACKEND_MAPS) {
      const m = value.stringMap();
      for (const [backend, ref] of Object.entries(m)) {
        parseImageReference(ref, 'image', value.get(backend).location);
      }
      if ('default' in m && mode !== 'status') {
        warnings.push(
          `${key}.default is always overwritten by the operator with the release default (facts §1.3); the value given is not used`,
        );
      }
      maps[key] = m;
      continue;
    }
    const acceptedHere = mode === 'status' && (key in STATUS_ONLY_FIELDS || key.endsWith('Image'));
    if (!KNOWN.has(key) && !acceptedHere) {
      const hint = suggest(key);
      const msg = `${quoteInput(key)} is not an image field of OpenStackVersion${hint ? ` (did you mean "${hint}"?)` : ''}`;
      if (strict) value.fail(msg);
      warnings.push(`${escapeControls(value.location.path ?? key)}: ${msg}; the API server drops it`);
      continue;
    }
    fields[key] = value.image();
  }
  return {
    images: {
      fields: sortedRecord(fields),
      cinderVolumeImages: sortedRecord(maps['cinderVolumeImages'] ?? {}),
      manilaShareImages: sortedRecord(maps['manilaShareImages'] ?? {}),
    },
    warnings,
  };
}

/**
 * A `--custom-images` file: the complete `customContainerImages` for the target version. Accepts the
 * bare map, `{customContainerImages: …}` or an OpenStackVersion (its `spec.customContainerImages`).
 * An empty file or `{}` means "no custom images".
 */
export function loadCustomImages(file: string): ParsedImages {
  const objs = readObjects(file, 'the custom images file');
  if (objs.length === 0) return { images: { fields: {}, cinderVolumeImages: {}, manilaShareImages: {} }, warnings: [] };
  if (objs.length > 1) {
    throw new OsvError('CUSTOM_IMAGES_INVALID', 'expected one YAML document with the custom images', { location: { file } });
  }
  const obj = objs[0]!;
  let f = Field.of(obj, 'CUSTOM_IMAGES_INVALID');
  if (obj.value['kind'] === 'OpenStackVersion') f = f.get('spec').get('customContainerImages');
  else if (isRecord(obj.value['customContainerImages'])) f = f.get('customContainerImages');
  return parseImageSet(f, 'custom-file');
}
