/** compareText orders plain names exactly as the (English) collator does, without building one. */
import { describe, expect, it } from 'vitest';
import { compareText } from '../../src/text/compare.js';

const PLAIN = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-./';

/** A small deterministic generator (mulberry32): the same strings every run. */
function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function words(alphabet: string, count: number, seed: number): string[] {
  const next = random(seed);
  return Array.from({ length: count }, () => Array.from({ length: Math.floor(next() * 7) }, () => alphabet[Math.floor(next() * alphabet.length)]).join(''));
}

const collator = (a: string, b: string) => Math.sign(a.localeCompare(b, 'en'));

describe('compareText', () => {
  it('agrees with the collator on plain names, camelCase fields and paths', () => {
    const fixed = ['compute-a', 'compute-b', 'compute', 'compute.a', 'compute/a', 'aodhAPIImage', 'aodhEvaluatorImage', 'aodhapiimage', 'AodhAPIImage', 'a-b', 'ab', 'a0', 'aZ', 'ab', 'Ab', 'aB', 'AB', ''];
    // few letters and a large count, so equal-but-for-case pairs and shared prefixes come up often
    const pool = [...fixed, ...words('aAbBzZ09-./', 400, 1), ...words(PLAIN, 400, 2)];
    const disagreements: string[] = [];
    for (const a of pool) for (const b of pool) if (Math.sign(compareText(a, b)) !== collator(a, b)) disagreements.push(`${a} ${b}`);
    expect(disagreements.slice(0, 10)).toEqual([]);
  });

  it('sorts as localeCompare did: lower case before upper case, case after the letters', () => {
    expect(['b', 'B', 'a', 'A', 'a-b', 'ab'].sort(compareText)).toEqual(['a', 'A', 'a-b', 'ab', 'b', 'B']);
  });

  it('hands any other character to the collator', () => {
    for (const [a, b] of [['a_b', 'a-b'], ['é', 'f'], ['a b', 'ab']] as const) expect(Math.sign(compareText(a, b))).toBe(Math.sign(a.localeCompare(b)));
  });
});
