/**
 * Writing rendered files into a folder: every path goes through the containment checks of
 * src/fs/contained.ts; each owned folder is replaced whole (built beside, swapped in), so a failure
 * never leaves half a tree.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { replaceOwnedFolder, safeRelativePath, writeContainedFiles } from '../fs/contained.js';
import type { RenderedFile } from '../render/render.js';
import { assertNoSecretsInFiles } from '../validate/secrets.js';

/**
 * Write `files` under `root`, each owned folder replaced whole. Returns whether anything was
 * written: false when every owned folder already held exactly its files and no file lies outside them.
 */
export function writeFiles(root: string, files: readonly RenderedFile[], ownedDirs: readonly string[] = []): boolean {
  assertNoSecretsInFiles(files);
  const owned = ownedDirs.map((d) => safeRelativePath('an owned folder', d));
  const inside = (f: RenderedFile, d: string) => f.path.startsWith(`${d}/`);
  let written = false;
  for (const d of owned) written = replaceOwnedFolder(root, d, files.filter((f) => inside(f, d))) || written;
  const others = files.filter((f) => !owned.some((d) => inside(f, d)));
  writeContainedFiles(root, others);
  return written || others.length > 0;
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
