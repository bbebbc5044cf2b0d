/** Pure parts of the rehearsal API server: selectors, patches, apply bookkeeping, discovery, routing. */
import { describe, expect, it } from 'vitest';
import { ALL_TYPES, OPENSTACK_VERSION } from '../../src/cluster/resources.js';
import { discoveryDocument } from '../../src/simulate/apiserver/discovery.js';
import { routeResource } from '../../src/simulate/apiserver/http.js';
import { appliedFieldPaths, fromFieldsV1, jsonPatch, mergePatch, removePath, toFieldsV1, type JsonObject, type PatchError } from '../../src/simulate/apiserver/patch.js';
import { labelsMatch, parseFieldSelector, parseLabelSelector } from '../../src/simulate/apiserver/selectors.js';
import { ApiError } from '../../src/simulate/apiserver/status.js';

describe('label selectors', () => {
  const cases: [string, Record<string, string>, boolean][] = [
    ['a=b', { a: 'b' }, true],
    ['a==b', { a: 'c' }, false],
    ['a!=b', {}, true],
    ['a!=b', { a: 'b' }, false],
    ['a in (x, y)', { a: 'y' }, true],
    ['a in (x,y)', {}, false],
    ['a notin (x,y)', {}, true],
    ['a notin (x,y)', { a: 'x' }, false],
    ['a', { a: '' }, true],
    ['!a', { a: '' }, false],
    ['a,b=c', { a: '1', b: 'c' }, true],
    ['example.com/x=1,b', { 'example.com/x': '1' }, false],
    ['n>3', { n: '4' }, true],
    ['n<3', { n: 'x' }, false],
  ];
  it.each(cases)('%s on %j → %s', (sel, labels, want) => {
    expect(labelsMatch(parseLabelSelector(sel), labels)).toBe(want);
  });

  it('rejects bad syntax with a 400', () => {
    for (const bad of ['a in (', 'a=b=c', 'Bad Key=1', 'a in ()', ',']) {
      expect(() => parseLabelSelector(bad), bad).toThrow(ApiError);
    }
  });

  it('parses field selectors with escapes and refuses unsupported fields', () => {
    expect(parseFieldSelector('metadata.name=a\\,b,metadata.namespace!=x')).toEqual([
      { field: 'metadata.name', op: 'eq', value: 'a,b' },
      { field: 'metadata.namespace', op: 'ne', value: 'x' },
    ]);
    expect(() => parseFieldSelector('status.phase=Running')).toThrow(/field label not supported/);
  });
});

describe('patches', () => {
  it('merge patch: objects merge, null deletes, arrays replace', () => {
    expect(mergePatch({ a: { b: 1, c: 2 }, l: [1, 2] }, { a: { b: null, d: 3 }, l: [3] })).toEqual({ a: { c: 2, d: 3 }, l: [3] });
  });

  it('JSON patch: all six operations, failures as 422 and malformed as 400', () => {
    const doc = { a: [1, 2], b: { c: 'x' } };
    const out = jsonPatch(doc, [
      { op: 'add', path: '/a/-', value: 3 },
      { op: 'add', path: '/a/0', value: 0 },
      { op: 'remove', path: '/a/1' },
      { op: 'replace', path: '/b/c', value: 'y' },
      { op: 'copy', from: '/b', path: '/d' },
      { op: 'move', from: '/d/c', path: '/e~1f' },
      { op: 'test', path: '/e~1f', value: 'y' },
    ]);
    expect(out).toEqual({ a: [0, 2, 3], b: { c: 'y' }, d: {}, 'e/f': 'y' });
    expect(doc).toEqual({ a: [1, 2], b: { c: 'x' } });
    const fail = (ops: unknown): PatchError => {
      try {
        jsonPatch(doc, ops as never);
      } catch (e) {
        return e as PatchError;
      }
      throw new Error('expected a PatchError');
    };
    expect(fail([{ op: 'remove', path: '/nope' }]).malformed).toBe(false);
    expect(fail([{ op: 'test', path: '/b/c', value: 'z' }]).malformed).toBe(false);
    expect(fail([{ op: 'frobnicate', path: '/a' }]).malformed).toBe(true);
    expect(fail({ op: 'add' }).malformed).toBe(true);
  });

  it('apply bookkeeping: leaf paths, fieldsV1 round trip, removal prunes empty maps', () => {
    const applied: JsonObject = { apiVersion: 'v1', kind: 'X', metadata: { name: 'n', labels: { a: 'b' } }, spec: { x: { y: 1 }, list: [1] } };
    const paths = appliedFieldPaths(applied);
    expect(paths).toEqual([['metadata', 'labels', 'a'], ['spec', 'x', 'y'], ['spec', 'list']]);
    const fields = toFieldsV1(paths);
    expect(fields).toEqual({ 'f:metadata': { 'f:labels': { 'f:a': {} } }, 'f:spec': { 'f:x': { 'f:y': {} }, 'f:list': {} } });
    expect(fromFieldsV1(fields)).toEqual(paths);
    const obj: JsonObject = { spec: { x: { y: 1 }, keep: true } };
    removePath(obj, ['spec', 'x', 'y']);
    expect(obj).toEqual({ spec: { keep: true } });
  });
});

describe('routing and discovery', () => {
  it('maps URLs to types, namespaces, names and the status subresource', () => {
    expect(routeResource('/apis/core.openstack.org/v1beta1/namespaces/os/openstackversions/v/status', ALL_TYPES)).toEqual({
      type: OPENSTACK_VERSION,
      namespace: 'os',
      name: 'v',
      subresource: 'status',
    });
    expect(routeResource('/apis/core.openstack.org/v1beta1/openstackversions', ALL_TYPES)?.namespace).toBeUndefined();
    expect(routeResource('/api/v1/namespaces/os', ALL_TYPES)?.type.kind).toBe('Namespace');
    expect(routeResource('/api/v1/namespaces/os/configmaps/cm', ALL_TYPES)).toMatchObject({ namespace: 'os', name: 'cm' });
    expect(routeResource('/api/v1/namespaces/os/configmaps/cm/status', ALL_TYPES)).toBeUndefined();
    expect(routeResource('/apis/core.openstack.org/v1beta1/openstackversions/v', ALL_TYPES)).toBeUndefined();
    expect(routeResource('/apis/nope.example.com/v1/things', ALL_TYPES)).toBeUndefined();
  });

  it('lists resources with their status subresources', () => {
    const doc = discoveryDocument('/apis/core.openstack.org/v1beta1', ALL_TYPES, '127.0.0.1:1') as { resources: { name: string; kind: string }[] };
    expect(doc.resources.map((r) => r.name)).toEqual(['openstackversions', 'openstackversions/status', 'openstackcontrolplanes', 'openstackcontrolplanes/status']);
    expect(discoveryDocument('/apis', ALL_TYPES, '')).toMatchObject({ kind: 'APIGroupList' });
    expect(discoveryDocument('/apis/nope', ALL_TYPES, '')).toBeUndefined();
  });
});
