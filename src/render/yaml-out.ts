/**
 * Stable, diff-friendly YAML: the key order cdk8s gives (apiVersion, kind, metadata, then sorted),
 * YAML 1.1-safe scalars, versions always quoted, no anchors, no line folding.
 */
import { fullYaml } from '../inputs/full-yaml.js';
import { plainYamlOut } from './plain-yaml-out.js';

export const ALWAYS_QUOTED: ReadonlySet<string> = new Set(['targetVersion', 'osv-gitops.io/target-version', 'argocd.argoproj.io/sync-wave']);

/** The fast writer for plain JSON data, or `yaml` when the writer steps aside; the same text either way. */
export function toYaml(obj: unknown): string {
  return plainYamlOut(obj, ALWAYS_QUOTED) ?? toYamlSlow(obj);
}

/** The text through `yaml` alone (the reference the fast writer is tested against). */
export function toYamlSlow(obj: unknown): string {
  const yaml = fullYaml();
  const doc = new yaml.Document(obj, { version: '1.1', aliasDuplicateObjects: false });
  yaml.visit(doc, {
    Pair(_, pair) {
      if (yaml.isPair(pair) && yaml.isScalar(pair.key) && yaml.isScalar(pair.value) && ALWAYS_QUOTED.has(String(pair.key.value))) {
        pair.value.type = 'QUOTE_DOUBLE';
      }
    },
  });
  return doc.toString({ lineWidth: 0, indentSeq: false });
}
