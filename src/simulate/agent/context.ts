/** What a simulated controller gets from the agent that runs it. */
import { posix } from 'node:path';
import { OsvError } from '../../errors.js';
import { buildKustomization } from './build.js';
import type { Checkout, GitSource } from './git-source.js';
import type { KubeClient, KubeObject } from './kube.js';

export interface AgentContext {
  readonly kube: KubeClient;
  readonly source: GitSource;
  readonly branch: string;
  /** The OpenStack namespace (Argo CD's destination; the default for objects without one). */
  readonly namespace: string;
  /** Durations read from manifests (timeouts, retry intervals) are divided by this. */
  readonly timeScale: number;
  readonly log: (line: string) => void;
  now(): number;
  /** The objects of `path` at the checked-out revision (memoised per revision). */
  build(checkout: Checkout, path: string, flavor: 'flux' | 'argocd'): KubeObject[];
}

/** `./a/b/`, `a/b`, `/a/b` → `a/b`; `./` → `.`; a path leaving the repository is refused. */
export function repoPath(path: string): string {
  const normal = posix.normalize(`./${path.replace(/^\/+/, '')}`).replace(/\/+$/, '');
  if (normal === '..' || normal.startsWith('../')) throw new OsvError('AGENT_BUILD_INVALID', `path "${path}" leaves the repository`);
  return normal === '' ? '.' : normal;
}

export function makeBuilder(): AgentContext['build'] {
  const cache = new Map<string, KubeObject[]>();
  return (checkout, path, flavor) => {
    const key = `${checkout.sha}\0${flavor}\0${repoPath(path)}`;
    const hit = cache.get(key);
    if (hit) return structuredClone(hit);
    const built = buildKustomization(repoPath(path), { root: checkout.dir, plainDirectory: flavor });
    if (cache.size > 64) cache.clear();
    cache.set(key, built);
    return structuredClone(built);
  };
}
