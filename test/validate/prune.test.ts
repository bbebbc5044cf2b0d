import { describe, expect, it } from 'vitest';
import { findUnknownFields, pointerSegment, suggest } from '../../src/validate/prune.js';

const schema = {
  type: 'object',
  properties: {
    apiVersion: { type: 'string' },
    kind: { type: 'string' },
    metadata: { type: 'object' },
    spec: {
      type: 'object',
      properties: {
        list: { type: 'array', items: { type: 'object', properties: { name: { type: 'string' } } } },
        map: { type: 'object', additionalProperties: { type: 'object', properties: { image: { type: 'string' } } } },
        free: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true, properties: { known: { type: 'object', properties: { a: { type: 'string' } } } } },
        open: { type: 'object', additionalProperties: true },
        empty: { type: 'object' },
        size: { 'x-kubernetes-int-or-string': true, anyOf: [{ type: 'integer' }, { type: 'string' }] },
      },
    },
  },
};

describe('unknown-field (pruning) walk', () => {
  it('reports what the API server would prune, and nothing else', () => {
    const obj = {
      apiVersion: 'x/v1',
      kind: 'X',
      metadata: { name: 'n', anything: { at: 'all' } },
      spec: {
        list: [{ name: 'a' }, { name: 'b', nmae: 'typo' }],
        map: { one: { image: 'i' }, two: { imgae: 'typo' } },
        free: { whatever: { deep: 1 }, known: { a: 'x', b: 'pruned below a preserved node' } },
        open: { anything: 1 },
        empty: { dropped: true },
        size: { not: 'an object field' },
        'a/b~c': 1,
      },
    };
    expect(findUnknownFields(obj, schema)).toEqual([
      { path: '/spec/list/1/nmae', suggestion: 'name' },
      { path: '/spec/map/two/imgae', suggestion: 'image' },
      { path: '/spec/free/known/b', suggestion: undefined },
      { path: '/spec/empty/dropped', suggestion: undefined },
      { path: '/spec/a~1b~0c', suggestion: undefined },
    ]);
  });

  it('escapes JSON pointer segments and suggests only clear matches', () => {
    expect(pointerSegment('a/b~c')).toBe('a~1b~0c');
    expect(suggest('cinderApiImage', ['cinderAPIImage', 'cinderVolumeImages'])).toBe('cinderAPIImage');
    expect(suggest('selfHael', ['prune', 'selfHeal', 'allowEmpty'])).toBe('selfHeal');
    expect(suggest('zzzzzz', ['prune', 'selfHeal'])).toBeUndefined();
    expect(suggest('abcd', ['abce', 'abcf'])).toBeUndefined();
    expect(suggest('ab', ['abc'])).toBeUndefined();
  });
});
