/**
 * An internal error's stack with the bundles' positions mapped back to our .ts files. The bundles'
 * source maps are read here, only when such a stack is printed: turning them on for the whole
 * process would parse them on every start. A bundle's frames name it `osv-gitops/dist/cli/….cjs`
 * (bin/load-bundle.cjs: the name must not depend on where the package sits); a frame of any other
 * file with a `.map` beside it is mapped too.
 */
import { existsSync, readFileSync } from 'node:fs';
import { SourceMap, type SourceMapPayload } from 'node:module';
import { dirname, isAbsolute, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { projectRoot } from '../validate/project-root.js';

const FRAME = /(file:\/\/[^\s()]+?\.c?js|osv-gitops\/dist\/[^\s():]+?\.cjs):(\d+):(\d+)/g;
const BUNDLE_NAME = 'osv-gitops/';

/** The file a frame names: a bundle's name is its path in the package. */
function fileOf(name: string): string {
  return name.startsWith(BUNDLE_NAME) ? resolve(projectRoot(), name.slice(BUNDLE_NAME.length)) : fileURLToPath(name);
}

function loadMap(file: string): SourceMap | null {
  const mapFile = `${file}.map`;
  if (!existsSync(mapFile)) return null;
  try {
    return new SourceMap(JSON.parse(readFileSync(mapFile, 'utf8')) as SourceMapPayload);
  } catch {
    return null;
  }
}

/** `stack` with every frame in a file that has a `.map` beside it shown at its source position. */
export function mapStack(stack: string): string {
  const maps = new Map<string, SourceMap | null>();
  return stack.replace(FRAME, (frame: string, name: string, line: string, column: string) => {
    const file = fileOf(name);
    if (!maps.has(file)) maps.set(file, loadMap(file));
    const entry = maps.get(file)?.findEntry(Number(line) - 1, Number(column) - 1);
    if (!entry || !('originalSource' in entry) || !entry.originalSource) return frame;
    const source = entry.originalSource.startsWith('file:') ? fileURLToPath(entry.originalSource) : entry.originalSource;
    const abs = isAbsolute(source) ? source : resolve(dirname(file), source);
    const shown = relative(process.cwd(), abs).startsWith('..') ? abs : relative(process.cwd(), abs);
    return `${shown}:${entry.originalLine + 1}:${entry.originalColumn + 1}`;
  });
}
