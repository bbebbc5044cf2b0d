/**
 * The build's checks of the CLI's bundles (scripts/bundle-checks.mjs): the Kubernetes client's
 * bundle is made of the `k8s.Name`s our sources use, so a source that takes the client any other
 * way must stop the build rather than leave a name out (it would fail only when that code runs);
 * and a bundle that keeps an `import()` would fail the same way.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkNoDynamicImport, kubernetesClientNames, typeScriptSources } from '../../scripts/bundle-checks.mjs';
import { PROJECT_ROOT } from '../safety/sandbox.js';

const EXPORTED = new Set(['KubeConfig', 'CoreV1Api', 'Watch', 'CustomObjectsApi']);
const source = (file: string, text: string) => ({ file, text });

describe('kubernetesClientNames', () => {
  it('collects the exported names used as k8s.Name, once each, sorted, from the files that import the client', () => {
    const names = kubernetesClientNames(
      [
        source('a.ts', "import * as k8s from '@kubernetes/client-node';\nconst kc = new k8s.KubeConfig();\nconst api = kc.makeApiClient(k8s.CoreV1Api);\n"),
        source('b.ts', "import * as kube from '@kubernetes/client-node';\nnew kube.Watch(kc);\nlet t: kube.V1Pod; new kube.KubeConfig();\n"),
        source('c.ts', "// mentions k8s.CustomObjectsApi but does not import the client\n"),
      ],
      EXPORTED,
    );
    // V1Pod is a type (not exported at run time); CustomObjectsApi is named in a file without the client
    expect(names).toEqual(['CoreV1Api', 'KubeConfig', 'Watch']);
  });

  it('lets a type-only import through', () => {
    const text = "import type { V1Pod } from '@kubernetes/client-node';\nimport * as k8s from '@kubernetes/client-node';\nnew k8s.Watch(kc);\n";
    expect(kubernetesClientNames([source('t.ts', text)], EXPORTED)).toEqual(['Watch']);
  });

  it.each([
    ['a named import', "import { KubeConfig } from '@kubernetes/client-node';\n", 'imports the Kubernetes client as'],
    ['a default import', "import k8s from '@kubernetes/client-node';\n", 'imports the Kubernetes client as'],
    ['the namespace passed on', "import * as k8s from '@kubernetes/client-node';\nuse(k8s);\n", 'other than as `k8s.Name`'],
    ['the namespace destructured', "import * as k8s from '@kubernetes/client-node';\nconst { Watch } = k8s;\n", 'other than as `k8s.Name`'],
  ])('stops the build on %s, naming the file', (_what, text, message) => {
    expect(() => kubernetesClientNames([source('src/bad.ts', text)], EXPORTED)).toThrow(message);
    expect(() => kubernetesClientNames([source('src/bad.ts', text)], EXPORTED)).toThrow('src/bad.ts');
  });

  it("takes from our own sources names the client really exports (the bundle's list is not empty)", async () => {
    const exported = new Set(Object.keys(await import('@kubernetes/client-node')));
    const sources = typeScriptSources(join(PROJECT_ROOT, 'src'));
    expect(sources.some((s) => s.file.endsWith(join('src', 'cli', 'main.ts')))).toBe(true);
    const names = kubernetesClientNames(sources, exported);
    expect(names).toContain('KubeConfig');
    for (const name of names) expect(exported.has(name)).toBe(true);
  }, 60_000);
});

describe('checkNoDynamicImport', () => {
  it('passes bundles whose imports are all requires', () => {
    const metafile = { outputs: { 'dist/cli/cli.cjs': { imports: [{ path: './vendor/yaml.cjs', kind: 'require-call' }] } } };
    expect(() => checkNoDynamicImport([metafile])).not.toThrow();
  });

  it('stops the build on a bundle that keeps import(), naming the bundle and the module', () => {
    const ok = { outputs: { 'dist/cli/vendor/cdk8s.cjs': { imports: [] } } };
    const bad = { outputs: { 'dist/cli/cli.cjs': { imports: [{ path: '@bufbuild/cel', kind: 'dynamic-import' }] } } };
    expect(() => checkNoDynamicImport([ok, bad])).toThrow('dist/cli/cli.cjs keeps import() of @bufbuild/cel');
  });
});
