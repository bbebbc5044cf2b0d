/**
 * Writing rendered files: everything is rendered and checked in memory first, then written, so a
 * failure never leaves half a tree. The folders we own are cleared of stale files we wrote before.
 */
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { RenderedFile } from '../render/render.js';

export function writeFiles(root: string, files: readonly RenderedFile[], ownedDirs: readonly string[] = []): void {
  for (const d of ownedDirs) rmSync(join(root, d), { recursive: true, force: true });
  for (const f of files) {
    const p = join(root, f.path);
    mkdirSync(dirname(p), { recursive: true });
    writeFileSync(p, f.content);
  }
}

export function listFiles(dir: string, base = ''): string[] {
  let entries;
  try {
    entries = readdirSync(join(dir, base), { withFileTypes: true });
  } catch {
    return [];
  }
  return entries.flatMap((e) => (e.isDirectory() ? listFiles(dir, join(base, e.name)) : [join(base, e.name)])).sort();
}
