/**
 * Stable, diff-friendly YAML: the key order cdk8s gives (apiVersion, kind, metadata, then sorted),
 * YAML 1.1-safe scalars, versions always quoted, no anchors, no line folding.
 */
import { Document, isPair, isScalar, visit } from 'yaml';

const ALWAYS_QUOTED = new Set(['targetVersion', 'osv-gitops.io/target-version', 'argocd.argoproj.io/sync-wave']);

export function toYaml(obj: unknown): string {
  const doc = new Document(obj, { version: '1.1', aliasDuplicateObjects: false });
  visit(doc, {
    Pair(_, pair) {
      if (isPair(pair) && isScalar(pair.key) && isScalar(pair.value) && ALWAYS_QUOTED.has(String(pair.key.value))) {
        pair.value.type = 'QUOTE_DOUBLE';
      }
    },
  });
  return doc.toString({ lineWidth: 0, indentSeq: false });
}
