import { describe, expect, it } from 'vitest';
import { OsvError } from '../../src/errors.js';
import { assertNoSecrets, assertNoSecretsInFiles, findSecrets, isCredentialKey, keyFacts, keyFactsOfWords } from '../../src/validate/secrets.js';

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

describe('credential-bearing key names', () => {
  it('judges a key by its last word, so references and OpenStack options stay allowed', () => {
    const credential = [
      'ansible_become_pass', 'ansible_ssh_pass', 'ansible_password', 'sshpass', 'db_pwd', 'adminPasswordValue', 'edpm_bootstrap_root_passwd',
      'memcache_secret_key', 'ssh_private_key', 'encryption_key', 'sharedSecret', 'client_secret', 'auth_token', 'OS_TOKEN', 'privKey',
      'my-api-key', 'example.com/api-token',
    ];
    const notCredential = [
      'ssh-key-secret-name', 'keyName', 'key_name', 'secretName', 'passwordSecret', 'kind', 'key', 'keys', 'keystone_authtoken_section_name',
      'enforce_token_bind', 'service_token_roles', 'token_cache_time', 'tokenExpiration', 'passwordType', 'ssh_public_key', 'authorized_key',
      'tlsKey', 'keyId', 'passthrough', 'bypass', 'compass', 'keystoneEndpoint', 'keyring', 'monkey', 'secretKeyRef', 'passwordSelectors',
      'caBundleSecretName', 'ansibleSSHPrivateKeySecret', 'password_file', 'token_url', 'topologyKey', 'labelKey',
    ];
    for (const k of credential) expect(isCredentialKey(k), k).toBe(true);
    for (const k of notCredential) expect(isCredentialKey(k), k).toBe(false);
  });

  it('says of a key ending in a digit what its words say, without reading them (b64 and base64 read)', () => {
    const keys = [
      'compute-0-1', 'edpm-compute-12', 'node1', 'password1', 'password_2', 'adminPassword3', 'token9', 'api-key-2', 'secret2',
      'passwordB64', 'password_b64', 'PASSWORD_BASE64', 'adminPasswordBase64', 'tokenb64', 'clientSecretB64', 'nova.conf.1', 'config2', '0', '-7',
    ];
    for (const k of keys) expect(keyFacts(k), k).toEqual(keyFactsOfWords(k));
    // the qualifiers that end in a digit still lead to the word before them
    expect(keyFacts('passwordB64').credential).toBe(true);
    expect(findSecrets([{ kind: 'NodeSet', metadata: { name: 'n' }, spec: { nodes: { 'compute-0': { passwordBase64: 'c2VjcmV0' } } } }])).toHaveLength(1);
  });

  it('finds ansible connection passwords in ansibleVars, and leaves references and paths alone', () => {
    const nodeset = {
      apiVersion: 'dataplane.openstack.org/v1beta1',
      kind: 'OpenStackDataPlaneNodeSet',
      metadata: { name: 'edpm' },
      spec: {
        nodeTemplate: {
          ansibleSSHPrivateKeySecret: 'dataplane-ansible-ssh-private-key-secret',
          ansible: {
            ansibleUser: 'cloud-admin',
            ansibleVars: {
              ansible_become_pass: 'hunter2',
              ansible_ssh_pass: 'hunter3',
              edpm_ssh_key_secret_name: 'ssh-key',
              ssh_private_key: '/home/cloud-admin/.ssh/id_rsa',
              edpm_tls_key: 'tls.key',
              edpm_enforce_token_bind: 'permissive',
              keystone_token_ttl: '3600',
            },
          },
        },
      },
    };
    expect(findings([nodeset])).toEqual([
      'OpenStackDataPlaneNodeSet/edpm /spec/nodeTemplate/ansible/ansibleVars/ansible_become_pass: field ansible_become_pass holds a literal value',
      'OpenStackDataPlaneNodeSet/edpm /spec/nodeTemplate/ansible/ansibleVars/ansible_ssh_pass: field ansible_ssh_pass holds a literal value',
    ]);
  });

  it('refuses a secret: field whose value is not the name of a Secret', () => {
    const cp = { apiVersion: 'core.openstack.org/v1beta1', kind: 'OpenStackControlPlane', metadata: { name: 'openstack' }, spec: { secret: 'S3cr3t!pass' } };
    expect(findings([cp])).toEqual([
      'OpenStackControlPlane/openstack /spec/secret: field secret should name a Secret, but holds a value that is not a Secret name',
    ]);
    expect(findings([{ ...cp, spec: { secret: 'osp-secret', keystone: { template: { passwordSelectors: { admin: 'AdminPassword' } } } } }])).toEqual([]);
  });

  it('keeps SecretKeySelectors ({name, key}) allowed under any key', () => {
    const obj = { kind: 'X', metadata: { name: 'x' }, spec: { password: { name: 's', key: 'password' }, apiKey: { name: 's', key: 'k', optional: true } } };
    expect(findings([obj])).toEqual([]);
  });
});

describe('URLs with passwords and embedded documents', () => {
  const cp = (customServiceConfig: string) => ({
    apiVersion: 'core.openstack.org/v1beta1',
    kind: 'OpenStackControlPlane',
    metadata: { name: 'openstack' },
    spec: { heat: { template: { customServiceConfig } } },
  });

  it('finds user:password@ in any string, multi-line config included, never echoing the value', () => {
    const objs = [
      cp('[database]\nconnection = mysql+pymysql://heat:pw@db/heat\n'),
      cp('[DEFAULT]\ntransport_url = rabbit://user:Pa55@rabbit.openstack.svc:5672/?ssl=1\n'),
      { kind: 'Thing', metadata: { name: 't' }, spec: { proxy: 'http://u:p@proxy:3128', note: 'see https://git:tok3n@git.example.com/x.git' } },
    ];
    const found = findSecrets(objs);
    expect(found.map((f) => `${f.ref} ${f.path}: ${f.reason}`)).toEqual([
      'OpenStackControlPlane/openstack /spec/heat/template/customServiceConfig: holds a URL with a password (scheme://user:password@host)',
      'OpenStackControlPlane/openstack /spec/heat/template/customServiceConfig: holds a URL with a password (scheme://user:password@host)',
      'Thing/t /spec/proxy: holds a URL with a password (scheme://user:password@host)',
      'Thing/t /spec/note: holds a URL with a password (scheme://user:password@host)',
    ]);
    const text = JSON.stringify(found);
    for (const secret of ['pw@', 'Pa55', 'tok3n', 'u:p']) expect(text).not.toContain(secret);
  });

  it('allows URLs without a password, templated ones and masked ones', () => {
    const objs = [
      cp('[database]\nconnection = mysql+pymysql://{{ db_user }}:{{ db_password }}@db/heat\n'),
      cp('[DEFAULT]\ntransport_url = rabbit://user:${RABBIT_PASSWORD}@rabbit:5672/\nauth_url = https://keystone:5000/v3\n'),
      { kind: 'Thing', metadata: { name: 't' }, spec: { repo: 'ssh://git@git.example.com:2222/ops.git', web: 'https://user@host/x', masked: 'https://u:***@host', port: 'http://host:8080/a@b' } },
    ];
    expect(findings(objs)).toEqual([]);
  });

  it('finds credentials assigned in embedded files, by the same key rules', () => {
    const objs = [
      cp('[keystone_authtoken]\nmemcache_secret_key = abc\nauth_type = password\nenforce_token_bind = permissive\n'),
      {
        apiVersion: 'core.openstack.org/v1beta1',
        kind: 'OpenStackControlPlane',
        metadata: { name: 'other' },
        spec: { glance: { template: { defaultConfigOverwrite: { 'policy.yaml': 'ansible_become_pass: x\n', 'ok.yaml': 'password_file: /etc/pw\n' } } } },
      },
    ];
    expect(findings(objs)).toEqual([
      'OpenStackControlPlane/openstack /spec/heat/template/customServiceConfig: sets memcache_secret_key to a literal value',
      'OpenStackControlPlane/other /spec/glance/template/defaultConfigOverwrite/policy.yaml: sets ansible_become_pass to a literal value',
    ]);
  });

  it('finds a Secret or a credential inside JSON or YAML held by an annotation', () => {
    const secretJson = JSON.stringify({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'osp-secret' }, data: { AdminPassword: 'cGFzcw==' } });
    const cpJson = JSON.stringify({ apiVersion: 'core.openstack.org/v1beta1', kind: 'OpenStackControlPlane', spec: { nova: { template: { customServiceConfig: 'password = x\n' } } } });
    const objs = [
      { kind: 'A', metadata: { name: 'json', annotations: { 'kubectl.kubernetes.io/last-applied-configuration': secretJson } } },
      { kind: 'A', metadata: { name: 'yaml', annotations: { note: 'apiVersion: v1\nkind: Secret\nmetadata:\n  name: s\nstringData:\n  password: x\n' } } },
      { kind: 'A', metadata: { name: 'nested', annotations: { 'kubectl.kubernetes.io/last-applied-configuration': cpJson } } },
      { kind: 'A', metadata: { name: 'fine', annotations: { 'kubectl.kubernetes.io/last-applied-configuration': JSON.stringify({ kind: 'ConfigMap', data: { a: 'b' } }), note: 'just: text\nmore: text\n' } } },
    ];
    expect(findings(objs)).toEqual([
      'A/json /metadata/annotations/kubectl.kubernetes.io~1last-applied-configuration: embeds a document that is a Secret',
      'A/yaml /metadata/annotations/note: embeds a document that is a Secret',
      'A/nested /metadata/annotations/kubectl.kubernetes.io~1last-applied-configuration: embeds a document that at /spec/nova/template/customServiceConfig sets password to a literal value',
    ]);
  });
});

describe('SECRET_REFUSED names the file', () => {
  it('when the caller gives the files of the objects', () => {
    let caught: unknown;
    try {
      assertNoSecrets([configMap({ token: 'abc' })], { files: ['updates/18.0.4/01-ovn/configmap-cfg.yaml'] });
    } catch (e) {
      caught = e;
    }
    const err = caught as OsvError;
    expect(err.code).toBe('SECRET_REFUSED');
    expect(err.message).toBe('refusing to write secret material to Git (1 finding in updates/18.0.4/01-ovn/configmap-cfg.yaml)');
    expect(err.details).toEqual(['updates/18.0.4/01-ovn/configmap-cfg.yaml: ConfigMap/cfg /data/token: ConfigMap key token holds a literal value']);
  });

  it('when it scans the files about to be written, YAML as objects and other text as text', () => {
    const yaml = 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\ndata:\n  x: y\n---\napiVersion: v1\nkind: Secret\nmetadata:\n  name: s\n';
    let caught: unknown;
    try {
      assertNoSecretsInFiles([
        { path: 'a/ok.yaml', content: 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ok\n' },
        { path: 'a/two.yaml', content: yaml },
        { path: 'pr/01.md', content: 'Remote: https://bot:hunter2@git.example.com/x.git\n' },
      ]);
    } catch (e) {
      caught = e;
    }
    const err = caught as OsvError;
    expect(err.code).toBe('SECRET_REFUSED');
    expect(err.details).toEqual([
      'a/two.yaml: Secret/s: is a Secret: keep it out of Git (use a sealed or external secret, or create it by hand)',
      'pr/01.md: text: holds a URL with a password (scheme://user:password@host)',
    ]);
    expect(JSON.stringify(err.toJSON())).not.toContain('hunter2');
    expect(() => assertNoSecretsInFiles([{ path: 'a/ok.yaml', content: 'kind: ConfigMap\nmetadata:\n  name: ok\n' }])).not.toThrow();
  });
});
