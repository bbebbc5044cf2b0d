/**
 * The bundled CLI keeps internal errors readable: a stack frame in dist/cli/*.cjs is shown at its
 * line in src/*.ts, through the source map esbuild writes beside each bundle file.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { mapStack } from '../../src/cli/source-stack.js';
import { ensureBuilt } from '../safety/built-cli.js';
import { PROJECT_ROOT } from '../safety/sandbox.js';

/** 1-based line and column of the first occurrence of `needle` in `file`. */
function positionOf(file: string, needle: string): { line: number; column: number } {
  const lines = readFileSync(file, 'utf8').split('\n');
  const index = lines.findIndex((l) => l.includes(needle));
  expect(index, `${needle} in ${file}`).toBeGreaterThanOrEqual(0);
  return { line: index + 1, column: lines[index]!.indexOf(needle) + 1 };
}

describe('stack traces of the bundled CLI', () => {
  beforeAll(() => ensureBuilt(), 300_000);

  it.each([
    ['the name the launcher gives the bundle', () => 'osv-gitops/dist/cli/cli.cjs'],
    ['its file URL', () => pathToFileURL(join(PROJECT_ROOT, 'dist', 'cli', 'cli.cjs')).href],
  ])('maps a frame in the bundle, named by %s, to the TypeScript source line', (_, name) => {
    const bundle = join(PROJECT_ROOT, 'dist', 'cli', 'cli.cjs');
    const at = positionOf(bundle, 'async function readableStack(');
    const source = positionOf(join(PROJECT_ROOT, 'src', 'cli', 'main.ts'), 'async function readableStack(');
    const stack = `Error: boom\n    at readableStack (${name()}:${at.line}:${at.column})\n    at node:internal/x:1:1`;
    const mapped = mapStack(stack);
    expect(mapped).toMatch(new RegExp(`at readableStack \\(\\S*src/cli/main\\.ts:${source.line}:\\d+\\)`));
    expect(mapped).toContain('at node:internal/x:1:1');
  });

  it('an internal error of the built CLI is shown at its TypeScript line, whoever compiled the bundle', async () => {
    // the bundle's functions come from the code cache; the frames still name the bundle so it can be mapped
    const { loadBundle } = (await import(pathToFileURL(join(PROJECT_ROOT, 'bin', 'load-bundle.cjs')).href)) as { loadBundle: (file: string) => { run: (argv: string[], io: unknown) => Promise<number> } };
    const cli = loadBundle(join(PROJECT_ROOT, 'dist', 'cli', 'cli.cjs'));
    let stderr = '';
    const io = { cwd: PROJECT_ROOT, stdout: () => { throw new Error('boom in stdout'); }, stderr: (t: string) => (stderr += t), color: false };
    expect(await cli.run(['plan', '--example'], io)).toBe(70);
    expect(stderr).toMatch(/^internal error: Error: boom in stdout\n/);
    expect(stderr).toMatch(/\(src\/cli\/plan\.ts:\d+:\d+\)/);
    expect(stderr).not.toContain('dist/cli/');
  });

  it('leaves a frame without a source map as it was', () => {
    const stack = `Error: boom\n    at f (${pathToFileURL(join(PROJECT_ROOT, 'bin', 'osv-gitops.cjs')).href}:4:1)`;
    expect(mapStack(stack)).toBe(stack);
  });
});
