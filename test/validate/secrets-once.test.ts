/**
 * The secret scan runs once per distinct object (a render carries the same nodesets in every
 * phase). What it remembers is content, never identity: an object changed after its scan is
 * scanned again, and only YAML made from a scanned, clean object skips the files gate.
 */
import { describe, expect, it } from 'vitest';
import { OsvError } from '../../src/errors.js';
import { toYaml } from '../../src/render/yaml-out.js';
import { assertNoSecrets, assertNoSecretsInFiles, vouchForYaml } from '../../src/validate/secrets.js';

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
