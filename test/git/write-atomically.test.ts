/**
 * syncPaths writes every file of a landed commit into the work tree through writeFileAtomically;
 * a run remembers the folders it already checked (`swept`), so a folder of thousands of files is
 * checked once. A link in such a folder is still refused, file by file.
 */
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { OsvError } from '../../src/errors.js';
import { writeFileAtomically } from '../../src/fs/contained.js';

function code(fn: () => void): string {
  try {
    fn();
  } catch (e) {
    if (e instanceof OsvError) return e.code;
    throw e;
  }
  return 'none';
}

describe('writeFileAtomically with the folders a run has checked', () => {
  it('writes every file, checking and clearing each folder once', () => {
    const root = mkdtempSync(join(tmpdir(), 'osv-atomic-'));
    mkdirSync(join(root, 'a'));
    writeFileSync(join(root, 'a', '.osv-gitops-tmp-1-x.yaml'), 'left by a killed run');
    const swept = new Set<string>();
    for (const dir of ['a', 'a/b', 'c']) for (let i = 0; i < 3; i++) writeFileAtomically(root, `${dir}/f${i}.yaml`, `${dir} ${i}\n`, false, swept);
    expect([...swept].sort()).toEqual([join(root, 'a'), join(root, 'a', 'b'), join(root, 'c')]);
    expect(readdirSync(join(root, 'a')).sort()).toEqual(['b', 'f0.yaml', 'f1.yaml', 'f2.yaml']);
    expect(readFileSync(join(root, 'a', 'b', 'f2.yaml'), 'utf8')).toBe('a/b 2\n');
  });

  it('refuses a file that is a link, in a folder already checked, and leaves its target alone', () => {
    const root = mkdtempSync(join(tmpdir(), 'osv-atomic-'));
    const outside = mkdtempSync(join(tmpdir(), 'osv-outside-'));
    writeFileSync(join(outside, 'target'), 'theirs');
    const swept = new Set<string>();
    writeFileAtomically(root, 'a/first.yaml', 'ours\n', false, swept);
    expect(swept.has(join(root, 'a'))).toBe(true);
    symlinkSync(join(outside, 'target'), join(root, 'a', 'second.yaml'));
    expect(code(() => writeFileAtomically(root, 'a/second.yaml', 'ours\n', false, swept))).toBe('PATH_UNSAFE');
    expect(readFileSync(join(outside, 'target'), 'utf8')).toBe('theirs');
  });

  it('refuses a folder on the way that is a link, when the run has not checked it', () => {
    const root = mkdtempSync(join(tmpdir(), 'osv-atomic-'));
    const outside = mkdtempSync(join(tmpdir(), 'osv-outside-'));
    symlinkSync(outside, join(root, 'a'));
    expect(code(() => writeFileAtomically(root, 'a/f.yaml', 'ours\n', false, new Set()))).toBe('PATH_UNSAFE');
    expect(readdirSync(outside)).toEqual([]);
  });
});
