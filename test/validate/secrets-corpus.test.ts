/**
 * No false positives on real material: every input and rendered golden of the fixtures, and the
 * operator's own samples and CRDs, hold no secret, so the detector must find none there.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { describeFinding, findSecrets } from '../../src/validate/secrets.js';
import { parseAllDocuments } from 'yaml';

const root = join(import.meta.dirname, '..', '..');

function yamlFiles(dir: string): string[] {
  return readdirSync(dir)
    .sort()
    .flatMap((e) => {
      const p = join(dir, e);
      if (statSync(p).isDirectory()) return yamlFiles(p);
      return /\.ya?ml$/.test(e) ? [p] : [];
    });
}

describe('secret detection on real material', () => {
  const files = [...yamlFiles(join(root, 'fixtures')), ...yamlFiles(join(root, 'reference-data'))];

  it('reads a corpus worth the name', () => {
    expect(files.length).toBeGreaterThan(150);
  });

  it('finds nothing in the fixtures, the rendered goldens and the operator samples', () => {
    const found: string[] = [];
    for (const file of files) {
      let objs: unknown[];
      try {
        objs = parseAllDocuments(readFileSync(file, 'utf8'))
          .filter((d) => d.errors.length === 0)
          .map((d) => d.toJS({ maxAliasCount: 100 }) as unknown);
      } catch {
        continue; // the alias-bomb fixture
      }
      const name = relative(root, file);
      found.push(...findSecrets(objs, { files: objs.map(() => name) }).map(describeFinding));
    }
    expect(found).toEqual([]);
  });
});
