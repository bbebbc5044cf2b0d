import { describe, expect, it } from 'vitest';
import { OsvError } from '../../src/errors.js';
import { assertNoSecrets, findSecrets, isCredentialKey } from '../../src/validate/secrets.js';

const configMap = (data: Record<string, string>, name = 'cfg'): Record<string, unknown> => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name },
  data,
});

const findings = (objs: unknown[]): string[] => findSecrets(objs).map((f) => `${f.ref} ${f.path}: ${f.reason}`);

describe('secret detection', () => {
  it('refuses any Secret, whatever it holds', () => {
    expect(findings([{ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'osp-secret' }, stringData: { AdminPassword: 'x' } }])).toEqual([
      'Secret/osp-secret : is a Secret: keep it out of Git (use a sealed or external secret, or create it by hand)',
    ]);
    expect(findings([{ kind: 'Secret', metadata: { name: 'empty' } }])).toHaveLength(1);
  });

  it('finds credentials in ConfigMaps: by key, and inside embedded config files', () => {
    const objs = [
      configMap({ db_password: 'hunter2', 'nova.conf': '[DEFAULT]\ndebug = true\n[database]\npassword = s3cret\n', ok: 'value' }),
      configMap({ 'env.sh': 'export OS_TOKEN=abc123\nexport OS_AUTH_URL=https://keystone\n' }, 'env'),
    ];
    expect(findings(objs)).toEqual([
      'ConfigMap/cfg /data/db_password: ConfigMap key db_password holds a literal value',
      'ConfigMap/cfg /data/nova.conf: sets password to a literal value',
      'ConfigMap/env /data/env.sh: sets OS_TOKEN to a literal value',
    ]);
  });

  it('finds literal credential fields, env pairs, private keys and tokens in any object', () => {
    const nodeset = {
      apiVersion: 'dataplane.openstack.org/v1beta1',
      kind: 'OpenStackDataPlaneNodeSet',
      metadata: { name: 'edpm' },
      spec: {
        env: [{ name: 'REGISTRY_PASSWORD', value: 'pa55' }, { name: 'ANSIBLE_FORCE_COLOR', value: 'True' }],
        nodeTemplate: { ansible: { ansibleVars: { edpm_bootstrap_root_password: 'root', gather_facts: false } } },
        nodes: { n0: { ansible: { ansibleVars: { ssh_key: '-----BEGIN OPENSSH PRIVATE KEY-----\nabc\n-----END OPENSSH PRIVATE KEY-----' } } } },
      },
    };
    const app = {
      apiVersion: 'argoproj.io/v1alpha1',
      kind: 'Application',
      metadata: { name: 'a', annotations: { note: `token ghp_${'a'.repeat(36)}` } },
      spec: { source: { helm: { parameters: [{ name: 'apiKey', value: 'k' }] } } },
    };
    const cp = {
      apiVersion: 'core.openstack.org/v1beta1',
      kind: 'OpenStackControlPlane',
      metadata: { name: 'openstack' },
      spec: { nova: { template: { customServiceConfig: '[keystone_authtoken]\npassword=plain\n' } } },
    };
    expect(findings([nodeset, app, cp])).toEqual([
      'OpenStackDataPlaneNodeSet/edpm /spec/env/0/value: sets REGISTRY_PASSWORD to a literal value',
      'OpenStackDataPlaneNodeSet/edpm /spec/nodeTemplate/ansible/ansibleVars/edpm_bootstrap_root_password: field edpm_bootstrap_root_password holds a literal value',
      'OpenStackDataPlaneNodeSet/edpm /spec/nodes/n0/ansible/ansibleVars/ssh_key: holds a PEM private key',
      'Application/a /spec/source/helm/parameters/0/value: sets apiKey to a literal value',
      'Application/a /metadata/annotations/note: holds a GitHub token',
      'OpenStackControlPlane/openstack /spec/nova/template/customServiceConfig: sets password to a literal value',
    ]);
  });

  it('leaves references, selectors, placeholders and our own objects alone', () => {
    const objs = [
      {
        apiVersion: 'core.openstack.org/v1beta1',
        kind: 'OpenStackControlPlane',
        metadata: { name: 'openstack' },
        spec: {
          secret: 'osp-secret',
          heat: { template: { passwordSelectors: { service: 'HeatPassword', stackDomainAdminPassword: 'HeatStackDomainAdminPassword' } } },
          telemetry: { template: { remoteWrite: { basicAuth: { password: { name: 's', key: 'k' } } } } },
        },
      },
      {
        apiVersion: 'dataplane.openstack.org/v1beta1',
        kind: 'OpenStackDataPlaneNodeSet',
        metadata: { name: 'edpm' },
        spec: {
          nodeTemplate: {
            ansibleSSHPrivateKeySecret: 'dataplane-ansible-ssh-private-key-secret',
            ansible: { ansibleVars: { edpm_root_password: '{{ lookup("env", "ROOT_PW") }}', registry_token: '' } },
          },
          env: [{ name: 'TOKEN_FILE', value: '/run/secrets/token' }],
        },
      },
      {
        apiVersion: 'source.toolkit.fluxcd.io/v1',
        kind: 'GitRepository',
        metadata: { name: 'repo' },
        spec: { secretRef: { name: 'deploy-key' }, url: 'ssh://git@example.com/x.git' },
      },
      configMap({ 'health.lua': 'local hs = {}\nhs.status = "Healthy"\nreturn hs\n', password_file: '/etc/pw', 'a.conf': 'password = ${DB_PASSWORD}\n' }),
    ];
    expect(findings(objs)).toEqual([]);
    expect(() => assertNoSecrets(objs)).not.toThrow();
  });

  it('assertNoSecrets throws SECRET_REFUSED listing every finding', () => {
    const objs = [configMap({ token: 'abc' }), { apiVersion: 'v1', kind: 'Secret', metadata: { name: 's' } }];
    let caught: unknown;
    try {
      assertNoSecrets(objs);
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(OsvError);
    const err = caught as OsvError;
    expect(err.code).toBe('SECRET_REFUSED');
    expect(err.exitCode).toBe(1);
    expect(err.message).toBe('refusing to write secret material to Git (2 findings)');
    expect(err.details).toEqual([
      'ConfigMap/cfg /data/token: ConfigMap key token holds a literal value',
      'Secret/s: is a Secret: keep it out of Git (use a sealed or external secret, or create it by hand)',
    ]);
  });

  it('names credential keys, not references', () => {
    for (const k of ['password', 'adminPassword', 'db_password', 'clientSecret', 'bearerToken', 'apiKey', 'AWS_SECRET_KEY', 'credentials']) {
      expect(isCredentialKey(k), k).toBe(true);
    }
    for (const k of ['secret', 'secretRef', 'passwordSelectors', 'ansibleSSHPrivateKeySecret', 'bearerTokenFile', 'tokenUrl', 'caBundleSecretName', 'name']) {
      expect(isCredentialKey(k), k).toBe(false);
    }
  });
});
