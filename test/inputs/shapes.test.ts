/**
 * Input reading never ends in a stack trace: each input file replaced by a malformed shape gives a
 * typed usage error (exit 2) through the CLI, never `internal error` (exit 70).
 */
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';

const example = join(import.meta.dirname, '..', '..', 'fixtures', 'example');
const base = mkdtempSync(join(tmpdir(), 'osv-shapes-'));
afterAll(() => rmSync(base, { recursive: true, force: true }));

const SHAPES: Record<string, string> = {
  empty: '',
  scalar: '42\n',
  list: '- a\n- b\n',
  binary: '\u0000\u0001\u0002\u00ff\ufffe',
  'kind only': 'kind: ClusterServiceVersion\n',
  'metadata a list': 'apiVersion: core.openstack.org/v1beta1\nkind: OpenStackVersion\nmetadata: []\nspec: {targetVersion: 18.0.3}\n',
  'spec a string': 'apiVersion: core.openstack.org/v1beta1\nkind: OpenStackVersion\nmetadata: {name: openstack}\nspec: nope\n',
  'deployments a string': 'apiVersion: operators.coreos.com/v1alpha1\nkind: ClusterServiceVersion\nmetadata: {name: x}\nspec: {install: {spec: {deployments: nope}}}\n',
  'env not objects': 'apiVersion: operators.coreos.com/v1alpha1\nkind: ClusterServiceVersion\nmetadata: {name: x}\nspec: {install: {spec: {deployments: [{name: d, spec: {template: {spec: {containers: [{name: c, env: [1, 2]}]}}}}]}}}\n',
  'List of scalars': 'kind: List\nitems: [1, 2]\n',
  'name a map': 'apiVersion: dataplane.openstack.org/v1beta1\nkind: OpenStackDataPlaneNodeSet\nmetadata: {name: {a: b}}\nspec: {}\n',
  'nodes a list': 'apiVersion: dataplane.openstack.org/v1beta1\nkind: OpenStackDataPlaneNodeSet\nmetadata: {name: compute-a}\nspec: {nodes: [a]}\n',
  'deep': `a: ${'['.repeat(3000)}${']'.repeat(3000)}\n`,
};

const INPUTS: Record<string, string> = {
  '--csv': 'csv.yaml',
  '--openstack-version': 'openstackversion.yaml',
  '--controlplane': 'controlplane.yaml',
  '--nodesets': 'nodesets/compute-a.yaml',
  '--custom-images': 'custom.yaml',
};

describe('malformed inputs give typed errors', () => {
  let n = 0;
  for (const [flag, target] of Object.entries(INPUTS)) {
    for (const [shape, content] of Object.entries(SHAPES)) {
      if (flag === '--custom-images' && (shape === 'empty' || shape === 'kind only')) continue; // valid: no custom images
      it(`${flag} ${shape}`, async () => {
        const dir = join(base, String(n++));
        cpSync(example, dir, { recursive: true });
        writeFileSync(join(dir, target), content);
        const args = ['plan', '--csv', 'csv.yaml', '--openstack-version', 'openstackversion.yaml', '--controlplane', 'controlplane.yaml', '--nodesets', 'nodesets', '--json'];
        if (flag === '--custom-images') args.push('--custom-images', 'custom.yaml');
        const res = await runCli(args, dir);
        expect(res.stderr).not.toContain('internal error');
        // a nodesets folder skips other kinds by design, and a custom-images OpenStackVersion without images is "none"
        const accepted = flag === '--nodesets' || flag === '--custom-images' ? [0, 2] : [2];
        expect(accepted, res.stderr).toContain(res.exitCode);
        if (res.exitCode === 2) expect((JSON.parse(res.stdout) as { error?: { code: string } }).error?.code).toMatch(/^[A-Z_]+$/);
      });
    }
  }
});
