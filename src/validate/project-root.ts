/**
 * Where the project's data folders (`crds/`, `templates/`) are, found from this module's own
 * location so it works from `src/` (vitest, tsx), from `dist/src/` (compiled) and from an
 * installed package (`node_modules/osv-gitops/dist/src/`): walk up until a folder holds `crds/`.
 */
import { existsSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

function isDir(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

/** The nearest folder at or above `start` that contains a `crds/` folder; null when none does. */
export function findRootWithCrds(start: string): string | null {
  let dir = start;
  for (;;) {
    if (isDir(join(dir, 'crds'))) return dir;
    const parent = dirname(dir);
    if (parent === dir) return null;
    dir = parent;
  }
}

let cached: string | undefined;

/** The project (or installed package) root. Throws when no `crds/` folder is found above this module. */
export function projectRoot(): string {
  if (cached !== undefined) return cached;
  const here = dirname(fileURLToPath(import.meta.url));
  const root = findRootWithCrds(here);
  if (root === null || !existsSync(join(root, 'crds'))) {
    throw new Error(`osv-gitops: no crds/ folder found above ${here}; the package is incomplete`);
  }
  cached = root;
  return root;
}

/** The folder holding the CRD files osv-gitops validates against. */
export function crdsDir(): string {
  return join(projectRoot(), 'crds');
}
