/**
 * The secret scan runs once per distinct object (a render carries the same nodesets in every
 * phase). What it remembers is content, or the identity of an object frozen whole (which cannot
 * change): an object changed after its scan is scanned again, and only YAML made from a scanned,
 * clean object skips the files gate.
 */
import { describe, expect, it } from 'vitest';
import { OsvError } from '../../src/errors.js';
import { kustomizeFolder } from '../../src/render/kustomize-folder.js';
import { toYaml } from '../../src/render/yaml-out.js';
import { assertNoSecrets, assertNoSecretsInFiles, freezeForScan, vouchForYaml } from '../../src/validate/secrets.js';

const nodeset = (name: string, vars: Record<string, string>) => ({
  apiVersion: 'dataplane.openstack.org/v1beta1',
  kind: 'OpenStackDataPlaneNodeSet',
  metadata: { name, namespace: 'openstack' },
  spec: { nodeTemplate: { ansible: { ansibleVars: vars } } },
});

function refusal(fn: () => void): OsvError {
  try {
    fn();
  } catch (e) {
    if (e instanceof OsvError) return e;
    throw e;
  }
  throw new Error('expected SECRET_REFUSED');
}

describe('the secret scan, once per distinct object', () => {
  it('scans an object again when it changed after a clean scan', () => {
    const obj = nodeset('once-a', { edpm_user: 'cloud-admin' });
    assertNoSecrets([obj]);
    obj.spec.nodeTemplate.ansible.ansibleVars['ansible_become_pass'] = 'hunter2';
    expect(refusal(() => assertNoSecrets([obj])).code).toBe('SECRET_REFUSED');
  });

  it('an object frozen for the scan (it stands for its own content, no JSON made) cannot change after, and is still scanned', () => {
    const clean = nodeset('once-frozen-a', { edpm_user: 'cloud-admin' });
    freezeForScan(clean);
    assertNoSecrets([clean]);
    // strict mode (ES modules): a write to a frozen object throws, at any depth
    expect(() => {
      clean.spec.nodeTemplate.ansible.ansibleVars['ansible_become_pass'] = 'hunter2';
    }).toThrow(TypeError);
    const leaky = nodeset('once-frozen-b', { ansible_become_pass: 'hunter2' });
    freezeForScan(leaky);
    expect(refusal(() => assertNoSecrets([leaky])).code).toBe('SECRET_REFUSED');
    expect(refusal(() => kustomizeFolder('01', [leaky])).code).toBe('SECRET_REFUSED');
  });

  it('names the file of the finding as the caller gave it, among objects already scanned', () => {
    const clean = nodeset('once-b', { edpm_user: 'cloud-admin' });
    assertNoSecrets([clean]);
    const err = refusal(() => assertNoSecrets([clean, nodeset('once-c', { db_password: 'x1' })], { files: ['01/a.yaml', '01/b.yaml'] }));
    expect(err.details.join('\n')).toMatch(/^01\/b\.yaml: OpenStackDataPlaneNodeSet\/once-c /);
    expect(err.details.join('\n')).not.toContain('01/a.yaml');
  });

  it('lets YAML skip the files gate only when it was made from a scanned, clean object', () => {
    const scanned = nodeset('once-d', { edpm_user: 'cloud-admin' });
    assertNoSecrets([scanned]);
    const yaml = toYaml(scanned);
    vouchForYaml(scanned, yaml);
    expect(() => assertNoSecretsInFiles([{ path: 'x/once-d.yaml', content: yaml }])).not.toThrow();

    // never scanned: vouching does nothing and the files gate still reads the file
    const unscanned = nodeset('once-e', { ansible_ssh_pass: 'hunter2' });
    const leaky = toYaml(unscanned);
    vouchForYaml(unscanned, leaky);
    expect(refusal(() => assertNoSecretsInFiles([{ path: 'x/once-e.yaml', content: leaky }])).code).toBe('SECRET_REFUSED');
  });
});

describe('kustomizeFolder: one scan of what the folder writes', () => {
  it('scans the kustomization as an object: a token in a file name it lists is refused before any file exists', () => {
    // metadata.name is not scanned (names are not values), but the kustomization lists the file by it
    const named = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'glpat-abcdefghijklmnopqrstuvwxyz', namespace: 'openstack' }, data: { a: 'b' } };
    const err = refusal(() => kustomizeFolder('updates/1/01-x', [named]));
    expect(err.code).toBe('SECRET_REFUSED');
    expect(err.details.join('\n')).toMatch(/^updates\/1\/01-x\/kustomization\.yaml: Kustomization #\d+ \/resources\/0: holds a GitLab token/);
  });

  it('returns each object\'s file, then the kustomization; the files gate finds them clean', () => {
    const files = kustomizeFolder('updates/1/01-y', [nodeset('once-f', { edpm_user: 'cloud-admin' }), nodeset('once-g', { edpm_user: 'cloud-admin' })]);
    expect(files.map((f) => f.path)).toEqual(['updates/1/01-y/openstackdataplanenodeset-once-f.yaml', 'updates/1/01-y/openstackdataplanenodeset-once-g.yaml', 'updates/1/01-y/kustomization.yaml']);
    expect(() => assertNoSecretsInFiles(files)).not.toThrow();
  });
});
