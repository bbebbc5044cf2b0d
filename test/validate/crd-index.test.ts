import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { scanCrdHeaders, splitApiVersion } from '../../src/validate/crd-index.js';
import { findRootWithCrds, projectRoot } from '../../src/validate/project-root.js';

const root = join(import.meta.dirname, '..', '..');

function yamlFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) return yamlFiles(p);
    return /\.ya?ml$/.test(name) ? [p] : [];
  });
}

describe('the line scan that indexes crds/ without parsing it', () => {
  it('finds what a full parse finds, for every CRD file of the project', () => {
    const files = yamlFiles(join(root, 'crds'));
    expect(files.length).toBeGreaterThanOrEqual(8);
    for (const file of files) {
      const text = readFileSync(file, 'utf8');
      const parsed = parseAllDocuments(text)
        .map((d) => d.toJS() as { kind?: string; spec?: { group: string; names: { kind: string }; versions: { name: string; served: boolean }[] } })
        .filter((c) => c?.kind === 'CustomResourceDefinition')
        .map((c) => ({ group: c.spec?.group, kind: c.spec?.names.kind, versions: c.spec?.versions.map((v) => ({ name: v.name, served: v.served })) }));
      const scanned = scanCrdHeaders(text)
        .filter((d) => d.kind === 'CustomResourceDefinition')
        .map((d) => ({ group: d.group, kind: d.namesKind, versions: d.versions }));
      expect(scanned, file).toEqual(parsed);
    }
  });

  it('follows block scalars, comments, quotes, indented and indentless lists, and several documents', () => {
    const text = [
      '# leading comment',
      '---',
      'apiVersion: apiextensions.k8s.io/v1',
      'kind: CustomResourceDefinition',
      'metadata:',
      '  name: a.example.com',
      '  annotations:',
      '    note: |',
      '      spec:',
      '        group: not.this',
      'spec:',
      '  group: "example.com"   # the real group',
      '  names:',
      "    kind: 'Alpha'",
      '  versions:',
      '    - name: v2',
      '      served: true',
      '      schema:',
      '        openAPIV3Schema:',
      '          description: >-',
      '            name: nope',
      '          properties:',
      '            name: {type: string}',
      '    -   served: false',
      '        name: v1',
      '---',
      'apiVersion: v1',
      'kind: ConfigMap',
      '...',
      '---',
      'kind: CustomResourceDefinition',
      'spec:',
      '  versions:',
      '  - name: v1',
      '  names:',
      '    kind: Beta',
      '  group: b.example.com',
      '',
    ].join('\n');
    expect(scanCrdHeaders(text)).toEqual([
      {
        apiVersion: 'apiextensions.k8s.io/v1',
        kind: 'CustomResourceDefinition',
        group: 'example.com',
        namesKind: 'Alpha',
        versions: [
          { name: 'v2', served: true },
          { name: 'v1', served: false },
        ],
      },
      { apiVersion: 'v1', kind: 'ConfigMap', group: undefined, namesKind: undefined, versions: [] },
      { apiVersion: undefined, kind: 'CustomResourceDefinition', group: 'b.example.com', namesKind: 'Beta', versions: [{ name: 'v1', served: true }] },
    ]);
  });

  it('splits apiVersions', () => {
    expect(splitApiVersion('core.openstack.org/v1beta1')).toEqual({ group: 'core.openstack.org', version: 'v1beta1' });
    expect(splitApiVersion('v1')).toEqual({ group: '', version: 'v1' });
  });
});

describe('finding the project root from a module file', () => {
  it('walks up from src/validate (and would from dist/src/validate) to the folder holding crds/', () => {
    expect(projectRoot()).toBe(root);
    expect(findRootWithCrds(join(root, 'dist', 'src', 'validate'))).toBe(root);
    expect(findRootWithCrds('/')).toBeNull();
  });
});
