import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { validateObjects } from '../../src/validate/crd-schema.js';
import { findKustomize, kustomizeBuild } from '../helpers/kustomize.js';

const work = mkdtempSync(join(tmpdir(), 'osv-kustomize-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

function writeTree(dir: string, files: Record<string, string>): string {
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(join(dir, name, '..'), { recursive: true });
    writeFileSync(join(dir, name), text);
  }
  return dir;
}

describe('kustomize (the binary from scripts/install-kustomize.sh)', () => {
  it('is installed in .cache/bin', () => {
    expect(findKustomize(), 'run `bash scripts/install-kustomize.sh`').not.toBeNull();
  });

  it('builds a small phase directory: namespace set, generator applied, output valid against the CRDs', async () => {
    const dir = writeTree(join(work, 'phase'), {
      'kustomization.yaml': [
        'apiVersion: kustomize.config.k8s.io/v1beta1',
        'kind: Kustomization',
        'namespace: openstack',
        'resources:',
        '- openstackversion.yaml',
        '- deployments/edpm-ovn-update.yaml',
        'configMapGenerator:',
        '- name: osv-gitops-plan',
        '  literals:',
        '  - phase=02-ovn-dataplane',
        'generatorOptions:',
        '  disableNameSuffixHash: true',
        '',
      ].join('\n'),
      'openstackversion.yaml': [
        'apiVersion: core.openstack.org/v1beta1',
        'kind: OpenStackVersion',
        'metadata:',
        '  name: openstack',
        'spec:',
        '  targetVersion: "1.0.2"',
        '',
      ].join('\n'),
      'deployments/edpm-ovn-update.yaml': [
        'apiVersion: dataplane.openstack.org/v1beta1',
        'kind: OpenStackDataPlaneDeployment',
        'metadata:',
        '  name: edpm-1-0-2-ovn',
        'spec:',
        '  nodeSets: [openstack-edpm]',
        '  servicesOverride: [ovn]',
        '',
      ].join('\n'),
    });
    const out = await kustomizeBuild(dir);
    const objs = parseAllDocuments(out).map((d) => d.toJS() as { kind: string; metadata: { name: string; namespace?: string } });
    expect(objs.map((o) => `${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`).sort()).toEqual([
      'ConfigMap/openstack/osv-gitops-plan',
      'OpenStackDataPlaneDeployment/openstack/edpm-1-0-2-ovn',
      'OpenStackVersion/openstack/openstack',
    ]);
    expect(out).toContain('phase: 02-ovn-dataplane');
    expect(validateObjects(objs)).toEqual({ ok: true, errors: [], warnings: [] });
  });

  it('fails with kustomize’s own message when a resource is missing', async () => {
    const dir = writeTree(join(work, 'broken'), {
      'kustomization.yaml': 'resources:\n- missing.yaml\n',
    });
    await expect(kustomizeBuild(dir)).rejects.toThrow(/kustomize build .* failed: .*missing\.yaml/s);
  });
});
