/**
 * The user's objects are written without cdk8s (src/render/carried-objects.ts), as cdk8s 2's
 * `ApiObject.toJson()` writes them: the same JSON, key order included, for every control plane and
 * nodeset of the fixtures, for the edge cases of its rules, and for seeded random data.
 */
import { ApiObject, App, Chart } from 'cdk8s';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { carriedObjects, carriedProps, plainApiObjectJson } from '../../src/render/carried-objects.js';
import { PROJECT_ROOT } from '../safety/sandbox.js';

type Data = Record<string, unknown>;

/** What cdk8s writes for the same props: the reference. */
function viaCdk8s(props: Data & { metadata: Data }): Data {
  const chart = new Chart(new App({ outdir: '.' }), 'carried', { disableResourceNameHashes: true });
  new ApiObject(chart, 'object', props as unknown as ConstructorParameters<typeof ApiObject>[2]);
  return chart.toJson()[0] as Data;
}

function expectSame(obj: Data, namespace = 'openstack'): void {
  const props = carriedProps(obj, namespace);
  const mine = plainApiObjectJson(carriedProps(obj, namespace));
  const theirs = viaCdk8s(props);
  // JSON text compares key order too; the YAML writer writes keys in that order
  expect(JSON.stringify(mine)).toBe(JSON.stringify(theirs));
  expect(mine).toEqual(theirs);
}

function fixtureObjects(): Data[] {
  const out: Data[] = [];
  const fixtures = join(PROJECT_ROOT, 'fixtures');
  for (const name of readdirSync(fixtures)) {
    const dir = join(fixtures, name);
    const files = [join(dir, 'controlplane.yaml'), ...(existsSync(join(dir, 'nodesets')) ? readdirSync(join(dir, 'nodesets')).map((f) => join(dir, 'nodesets', f)) : [])];
    for (const file of files.filter((f) => existsSync(f) && f.endsWith('.yaml'))) {
      for (const doc of parseAllDocuments(readFileSync(file, 'utf8'))) {
        if (doc.errors.length) continue;
        const js = doc.toJS({ maxAliasCount: 100 }) as unknown;
        if (js && typeof js === 'object' && !Array.isArray(js) && (js as Data)['metadata']) out.push(js as Data);
      }
    }
  }
  return out;
}

/** A small seeded generator (mulberry32): the same cases every run. */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const KEYS = ['a', 'B', 'b', '10', '2', 'é', 'Z', '_x', 'name', 'value', 'spec', 'items', '', 'z-z', 'a.b/c'];

function randomValue(next: () => number, depth: number): unknown {
  const r = next();
  if (depth > 3 || r < 0.3) return [null, 0, -1.5, true, false, '', 'text', '18.0.4', 'yes'][Math.floor(next() * 9)];
  if (r < 0.55) return Array.from({ length: Math.floor(next() * 4) }, () => randomValue(next, depth + 1));
  const o: Data = {};
  for (let i = Math.floor(next() * 5); i > 0; i--) o[KEYS[Math.floor(next() * KEYS.length)]!] = randomValue(next, depth + 1);
  return o;
}

describe('carried objects are written as cdk8s writes them', () => {
  afterEach(() => {
    delete process.env['CDK8S_DISABLE_SORT'];
  });

  it('every control plane and nodeset of the fixtures', () => {
    const objects = fixtureObjects();
    expect(objects.length).toBeGreaterThan(20);
    for (const o of objects) expectSame(o);
  });

  it('the edge cases of its rules: empty metadata maps and lists dropped, nulls dropped, empty spec values kept, key order', () => {
    const cases: Data[] = [
      { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'a', labels: {}, annotations: {}, finalizers: [], ownerReferences: [] }, data: {} },
      { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'b', annotations: { 'kubectl.kubernetes.io/last-applied-configuration': '{}' }, generateName: 'x-', extra: { empty: {}, list: [] } } },
      { kind: 'K', apiVersion: 'g/v1', metadata: { name: 'c', namespace: 'other', labels: { z: '1', a: '2' } }, spec: { z: null, a: [], b: {}, c: [null, 1, { y: null, x: [] }], '10': 1, '2': 2 }, status: { dropped: true } },
      { apiVersion: 'g/v1', kind: 'K', metadata: { name: 'd', uid: 'u', resourceVersion: '1', managedFields: [{}], creationTimestamp: 't', generation: 3 }, zeta: 1, alpha: { 'é': 1, Z: 2, _: 3 } },
      { apiVersion: 'g/v1', kind: 'K', metadata: { name: 7 }, spec: { n: 0, f: false, s: '' } },
      JSON.parse('{"apiVersion":"g/v1","kind":"K","metadata":{"name":"e"},"spec":{"__proto__":{"x":1},"y":2}}') as Data,
    ];
    for (const c of cases) expectSame(c);
  });

  it('seeded random data, sorted and (CDK8S_DISABLE_SORT) unsorted', () => {
    const next = random(14);
    const objects = Array.from({ length: 300 }, (_, i) => ({
      apiVersion: 'g/v1',
      kind: 'K',
      metadata: { ...(randomValue(next, 2) as Data | undefined), name: `n${i}` },
      spec: randomValue(next, 0),
      [KEYS[i % KEYS.length]!]: randomValue(next, 1),
    }));
    for (const o of objects) expectSame(o as Data);
    process.env['CDK8S_DISABLE_SORT'] = '1';
    for (const o of objects.slice(0, 50)) expectSame(o as Data);
  });

  it('refuses what is not plain data, as cdk8s does', () => {
    const obj = { apiVersion: 'g/v1', kind: 'K', metadata: { name: 'd' }, spec: { when: new Date(0) } };
    expect(() => viaCdk8s(carriedProps(obj, 'openstack'))).toThrow(/non-simple object of type 'Date'/);
    expect(() => carriedObjects([obj], 'openstack')).toThrow(/non-simple object of type 'Date'/);
  });
});
