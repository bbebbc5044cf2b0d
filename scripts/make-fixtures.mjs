#!/usr/bin/env node
// Builds the input files of fixtures/<case>/ from the operator's real image list
// (reference-data/openstack-operator/default_images.yaml), shaped like `oc get ... -o yaml` of an
// installed operator. Deterministic: run it again and nothing changes. Expected outputs are
// written by the golden tests (UPDATE_GOLDEN=1 npm test), not here.
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse, stringify } from 'yaml';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const ref = (p) => parse(readFileSync(join(root, 'reference-data/openstack-operator', p), 'utf8'));
const envOf = (doc) => doc.spec.template.spec.containers[0].env;
const defaultImages = envOf(ref('default_images.yaml'));
const operatorImages = envOf(ref('manager_operator_images.yaml'));

const OLD = '18.0.3-1761036417';
const NEW = '18.0.4-1764633600';
const NS = 'openstack';
const y = (obj) => stringify(obj, { version: '1.1', lineWidth: 0, indentSeq: false, aliasDuplicateObjects: false });
const digest = (s) => createHash('sha256').update(s).digest('hex');

// upstream tags → digests per release; a few third-party images keep their digest across releases
const KEEP = new Set(['RELATED_IMAGE_EDPM_KEPLER_IMAGE_URL_DEFAULT', 'RELATED_IMAGE_EDPM_NODE_EXPORTER_IMAGE_URL_DEFAULT', 'RELATED_IMAGE_KSM_IMAGE_URL_DEFAULT']);
function imageFor(name, value, release, { keepOvn = false } = {}) {
  const repo = value.replace(/[:@].*$/, '').replace(/:[^/]*$/, '');
  const stable = KEEP.has(name) || (keepOvn && name === 'RELATED_IMAGE_OVN_CONTROLLER_IMAGE_URL_DEFAULT');
  return `${repo}@sha256:${digest(`${repo}|${stable ? 'stable' : release}`)}`;
}

function releaseEnv(release, opts = {}) {
  return defaultImages.map((e) => ({ name: e.name, value: imageFor(e.name, e.value, release, opts) }));
}

function csv(release, { env = releaseEnv(release), omitRelease = false, extraEnv = [], layout = 'init' } = {}) {
  const base = release.replace(/-.*/, '');
  const head = [
    ...(omitRelease ? [] : [{ name: 'OPENSTACK_RELEASE_VERSION', value: release }]),
    { name: 'OPERATOR_IMAGE_URL', value: `quay.io/openstack-k8s-operators/openstack-operator@sha256:${digest(`operator|${release}`)}` },
    { name: 'ENABLE_WEBHOOKS', value: 'false' },
    { name: 'LEASE_DURATION', value: '30' },
    { name: 'RENEW_DEADLINE', value: '20' },
    { name: 'RETRY_PERIOD', value: '5' },
    { name: 'OPERATOR_CONDITION_NAME', value: `openstack-operator.v${base}` },
  ];
  const deployment = (name, envList) => ({
    name,
    label: { 'app.kubernetes.io/name': name, 'control-plane': 'controller-manager' },
    spec: {
      replicas: 1,
      selector: { matchLabels: { 'app.kubernetes.io/name': name, 'control-plane': 'controller-manager' } },
      strategy: {},
      template: {
        metadata: { annotations: { 'kubectl.kubernetes.io/default-container': 'operator' }, labels: { 'app.kubernetes.io/name': name, 'control-plane': 'controller-manager' } },
        spec: {
          containers: [
            {
              args: ['--leader-elect', '--health-probe-bind-address=:8081'],
              command: ['/operator'],
              env: envList,
              image: `quay.io/openstack-k8s-operators/openstack-operator@sha256:${digest(`operator|${release}`)}`,
              name: 'operator',
              resources: { limits: { cpu: '500m', memory: '256Mi' }, requests: { cpu: '10m', memory: '128Mi' } },
            },
          ],
          serviceAccountName: name,
          terminationGracePeriodSeconds: 10,
        },
      },
    },
  });
  const deployments =
    layout === 'init'
      ? [deployment('openstack-operator-controller-init', [...head, ...operatorImages, ...env, ...extraEnv])]
      : [deployment('openstack-operator-controller-manager', [...head, ...env, ...extraEnv])];
  return {
    apiVersion: 'operators.coreos.com/v1alpha1',
    kind: 'ClusterServiceVersion',
    metadata: {
      annotations: { 'olm.operatorGroup': 'openstack-operators', 'olm.targetNamespaces': '', 'operators.operatorframework.io/builder': 'operator-sdk-v1.31.0' },
      creationTimestamp: '2026-11-20T09:12:44Z',
      generation: 1,
      labels: { 'olm.managed': 'true', 'operators.coreos.com/openstack-operator.openstack-operators': '' },
      name: `openstack-operator.v${base}`,
      namespace: 'openstack-operators',
      resourceVersion: '4811207',
      uid: '5f1c2b8e-7a0d-4a4f-9c63-0e2f3f1b7d10',
    },
    spec: {
      displayName: 'OpenStack',
      install: { spec: { deployments, permissions: [] }, strategy: 'deployment' },
      installModes: [{ supported: true, type: 'AllNamespaces' }],
      version: base,
    },
    status: { phase: 'Succeeded', reason: 'InstallSucceeded', message: 'install strategy completed with no errors' },
  };
}

// what the operator computes from an env list (the same rule as src/images, kept tiny here on purpose:
// fixture status is what a real operator would have written, and the tests check our code against it)
function defaultsOf(env) {
  const out = {};
  for (const { name, value } of env) {
    const t = name.match(/[A-Za-z0-9]+/g);
    if (t[0] !== 'RELATED' || t[1] !== 'IMAGE') continue;
    let f = '';
    for (let i = 2; i < t.length - 2; i++) f += t[i][0] + t[i].slice(1).toLowerCase();
    f = f.replaceAll('Api', 'API').replaceAll('Cloudkitty', 'CloudKitty');
    if (f === 'OpenstackMust') continue;
    f = f === 'CloudKittyAPIImage' ? 'cloudkittyAPIImage' : f === 'CloudKittyProcImage' ? 'cloudkittyProcImage' : f[0].toLowerCase() + f.slice(1);
    out[f] = value;
    if (name === 'RELATED_IMAGE_NEUTRON_API_IMAGE_URL_DEFAULT') out.infraDnsmasqImage = value;
  }
  return Object.fromEntries(Object.entries(out).sort(([a], [b]) => a.localeCompare(b)));
}

function containerImagesOf(defaults, custom = {}) {
  const out = {};
  for (const [k, v] of Object.entries(defaults)) if (k !== 'cinderVolumeImage' && k !== 'manilaShareImage') out[k] = v;
  for (const [k, v] of Object.entries(custom)) if (typeof v === 'string') out[k] = v;
  out.octaviaApacheImage = out.ceilometerProxyImage = custom.apacheImage ?? defaults.apacheImage;
  out.cinderVolumeImages = { ...(custom.cinderVolumeImages ?? {}), default: defaults.cinderVolumeImage };
  out.manilaShareImages = { ...(custom.manilaShareImages ?? {}), default: defaults.manilaShareImage };
  return Object.fromEntries(Object.entries(out).sort(([a], [b]) => a.localeCompare(b)));
}

const cond = (type, status, reason, message) => ({ lastTransitionTime: '2026-10-02T11:40:07Z', message, reason, severity: status === 'True' ? undefined : 'Info', status, type });
const DONE = ['Initialized', 'MinorUpdateAvailable', 'MinorUpdateControlplane', 'MinorUpdateDataplane', 'MinorUpdateKeystone', 'MinorUpdateMariaDB', 'MinorUpdateMemcached', 'MinorUpdateOVNControlplane', 'MinorUpdateOVNDataplane', 'MinorUpdateRabbitMQ', 'Ready'];

function openStackVersion({ deployed = OLD, available = NEW, versions = { [OLD]: releaseEnv(OLD), [NEW]: releaseEnv(NEW) }, custom, targetVersion = deployed, tracked = true, withStatus = true } = {}) {
  const defaults = Object.fromEntries(Object.entries(versions).map(([v, env]) => [v, defaultsOf(env)]));
  for (const v of Object.keys(defaults)) {
    const env = versions[v];
    defaults[v].cinderVolumeImage = env.find((e) => e.name === 'RELATED_IMAGE_CINDER_VOLUME_IMAGE_URL_DEFAULT').value;
    defaults[v].manilaShareImage = env.find((e) => e.name === 'RELATED_IMAGE_MANILA_SHARE_IMAGE_URL_DEFAULT').value;
    delete defaults[v].cinderVolumeImages;
  }
  const obj = {
    apiVersion: 'core.openstack.org/v1beta1',
    kind: 'OpenStackVersion',
    metadata: {
      creationTimestamp: '2026-06-01T08:00:00Z',
      finalizers: ['openstack.org/openstackversion'],
      generation: 4,
      name: 'openstack',
      namespace: NS,
      ownerReferences: [{ apiVersion: 'core.openstack.org/v1beta1', blockOwnerDeletion: true, controller: true, kind: 'OpenStackControlPlane', name: 'openstack', uid: '0c8b1c57-5d2f-4c55-9a7a-3c1f2a4e9b01' }],
      resourceVersion: '4810077',
      uid: '2b0f0a8e-93a4-4d8e-8f9f-5c2f54c1d0aa',
    },
    spec: { targetVersion, ...(custom ? { customContainerImages: custom } : {}) },
  };
  if (!withStatus) {
    return { apiVersion: obj.apiVersion, kind: obj.kind, metadata: { name: 'openstack', namespace: NS }, spec: obj.spec };
  }
  obj.status = {
    availableServiceDefaults: Object.fromEntries(Object.keys(defaults).map((v) => [v, { glanceLocationAPI: 'false', glanceWsgi: 'true', manilaSharev1: 'true', rabbitmqVersion: '4.2' }])),
    availableVersion: available,
    conditions: DONE.map((t) => cond(t, 'True', 'Ready', t === 'MinorUpdateAvailable' ? 'update available' : t === 'Initialized' || t === 'Ready' ? 'Setup complete' : 'completed')),
    containerImageVersionDefaults: defaults,
    containerImages: containerImagesOf(defaults[deployed], custom),
    deployedVersion: deployed,
    observedGeneration: 4,
    serviceDefaults: { glanceLocationAPI: 'false', glanceWsgi: 'true', manilaSharev1: 'true', rabbitmqVersion: '4.2' },
    ...(tracked && custom ? { trackedCustomImages: { [deployed]: custom } } : {}),
  };
  if (available === deployed) obj.status.conditions = obj.status.conditions.filter((c) => c.type !== 'MinorUpdateAvailable');
  return obj;
}

function controlPlane({ ovn = true, cinderVolumes = { ceph: { replicas: 1 } }, manilaShares } = {}) {
  return {
    apiVersion: 'core.openstack.org/v1beta1',
    kind: 'OpenStackControlPlane',
    metadata: { name: 'openstack', namespace: NS },
    spec: {
      secret: 'osp-secret',
      storageClass: 'local-storage',
      cinder: { enabled: true, template: { databaseInstance: 'openstack', secret: 'osp-secret', cinderAPI: { replicas: 3 }, cinderScheduler: { replicas: 1 }, cinderBackup: { replicas: 0 }, cinderVolumes } },
      ...(manilaShares ? { manila: { enabled: true, template: { databaseInstance: 'openstack', secret: 'osp-secret', manilaAPI: { replicas: 1 }, manilaScheduler: { replicas: 1 }, manilaShares } } } : {}),
      glance: { enabled: true, template: { databaseInstance: 'openstack', storage: { storageRequest: '10G' }, glanceAPIs: { default: { replicas: 3 } } } },
      ovn: { enabled: ovn, template: { ovnController: { nicMappings: { datacentre: 'ospbr' } } } },
      neutron: { enabled: true, template: { databaseInstance: 'openstack', secret: 'osp-secret' } },
      nova: { enabled: true, template: { secret: 'osp-secret' } },
    },
  };
}

function nodeSet(name, hosts) {
  return {
    apiVersion: 'dataplane.openstack.org/v1beta1',
    kind: 'OpenStackDataPlaneNodeSet',
    metadata: { name, namespace: NS },
    spec: {
      tlsEnabled: true,
      preProvisioned: true,
      networkAttachments: ['ctlplane'],
      nodeTemplate: { ansibleSSHPrivateKeySecret: 'dataplane-ansible-ssh-private-key-secret', ansible: { ansibleUser: 'cloud-admin' } },
      nodes: Object.fromEntries(hosts.map((h, i) => [h, { hostName: h, ansible: { ansibleHost: `192.168.122.${100 + i}` }, networks: [{ name: 'ctlplane', subnetName: 'subnet1', defaultRoute: true }] }])),
    },
  };
}

const NODESETS = [nodeSet('compute-a', ['compute-a-0', 'compute-a-1', 'compute-a-2']), nodeSet('compute-b', ['compute-b-0', 'compute-b-1'])];

function writeCase(name, files, caseSpec) {
  const dir = join(root, 'fixtures', name);
  for (const f of Object.keys(files)) rmSync(join(dir, f), { force: true, recursive: true });
  for (const [f, content] of Object.entries(files)) {
    const p = join(dir, f);
    mkdirSync(dirname(p), { recursive: true });
    writeFileSync(p, typeof content === 'string' ? content : y(content));
  }
  if (caseSpec) writeFileSync(join(dir, 'case.yaml'), y(caseSpec));
}

const nodesetFiles = Object.fromEntries(NODESETS.map((n) => [`nodesets/${n.metadata.name}.yaml`, n]));
const std = { 'csv.yaml': csv(NEW), 'openstackversion.yaml': openStackVersion(), 'controlplane.yaml': controlPlane(), ...nodesetFiles };
const stdArgs = ['--csv', 'csv.yaml', '--openstack-version', 'openstackversion.yaml', '--controlplane', 'controlplane.yaml', '--nodesets', 'nodesets'];

writeCase('example', std, { description: 'The bundled example: a plain minor update of a two-nodeset estate.', args: stdArgs, expect: { exitCode: 0 } });

const pure = `quay.io/purestorage/openstack-cinder-volume-pure@sha256:${digest('pure|2')}`;
const netapp = `registry.example.com/netapp/openstack-manila-share-netapp@sha256:${digest('netapp|2')}`;
writeCase(
  'custom-backends',
  {
    ...std,
    'controlplane.yaml': controlPlane({ cinderVolumes: { ceph: { replicas: 1 }, pure: { replicas: 1 } }, manilaShares: { netapp: { replicas: 1 } } }),
    'openstackversion.yaml': openStackVersion({ custom: { cinderVolumeImages: { pure: `quay.io/purestorage/openstack-cinder-volume-pure@sha256:${digest('pure|1')}` } } }),
    'custom-images.yaml': { cinderVolumeImages: { pure }, manilaShareImages: { netapp } },
  },
  { description: 'Vendor cinder and manila backend images ship with the new version.', args: [...stdArgs, '--custom-images', 'custom-images.yaml'], expect: { exitCode: 0 } },
);

writeCase(
  'glance-hotfix',
  {
    ...std,
    'openstackversion.yaml': openStackVersion({ custom: { glanceAPIImage: `registry.example.com/hotfix/openstack-glance-api@sha256:${digest('glance-hotfix|1')}` } }),
    'custom-images.yaml': { glanceAPIImage: `registry.example.com/hotfix/openstack-glance-api@sha256:${digest('glance-hotfix|2')}` },
  },
  { description: 'A glance hotfix image rebuilt for the new version, changed together with the version.', args: [...stdArgs, '--custom-images', 'custom-images.yaml'], expect: { exitCode: 0 } },
);

writeCase(
  'custom-images-unchanged',
  { ...std, 'openstackversion.yaml': openStackVersion({ custom: { glanceAPIImage: `registry.example.com/hotfix/openstack-glance-api@sha256:${digest('glance-hotfix|1')}` } }) },
  { description: 'Custom images kept as they are: the webhook would refuse the version change.', args: stdArgs, expect: { exitCode: 1, errorCode: 'POLICY_CUSTOM_IMAGES_UNCHANGED' } },
);

writeCase(
  'custom-images-skip',
  { ...std, 'openstackversion.yaml': openStackVersion({ custom: { glanceAPIImage: `registry.example.com/hotfix/openstack-glance-api@sha256:${digest('glance-hotfix|1')}` } }) },
  { description: 'Custom images kept on purpose with the skip annotation.', args: [...stdArgs, '--skip-custom-images-validation'], expect: { exitCode: 0 } },
);

writeCase('ovn-disabled', { ...std, 'controlplane.yaml': controlPlane({ ovn: false }) }, { description: 'OVN disabled: the OVN phases fold away.', args: stdArgs, expect: { exitCode: 0 } });

{
  const envNew = releaseEnv(NEW, { keepOvn: true });
  const envOld = releaseEnv(OLD, { keepOvn: true });
  writeCase(
    'ovn-image-unchanged',
    { ...std, 'csv.yaml': csv(NEW, { env: envNew }), 'openstackversion.yaml': openStackVersion({ versions: { [OLD]: envOld, [NEW]: envNew } }) },
    { description: 'The OVN controller image is the same in both releases: the OVN data-plane deployment is kept.', args: stdArgs, expect: { exitCode: 0 } },
  );
}

{
  const older = '18.0.2-1758000000';
  writeCase(
    'rollback-refused',
    { ...std, 'csv.yaml': csv(older), 'openstackversion.yaml': openStackVersion({ available: older, versions: { [OLD]: releaseEnv(OLD), [older]: releaseEnv(older) } }) },
    { description: 'The CSV announces an older release than the deployed one.', args: stdArgs, expect: { exitCode: 1, errorCode: 'POLICY_ROLLBACK' } },
  );
}

{
  const major = '19.0.0-1767225600';
  writeCase(
    'major-refused',
    { ...std, 'csv.yaml': csv(major), 'openstackversion.yaml': openStackVersion({ available: major, versions: { [OLD]: releaseEnv(OLD), [major]: releaseEnv(major) } }) },
    { description: 'A major update is refused.', args: stdArgs, expect: { exitCode: 1, errorCode: 'POLICY_MAJOR' } },
  );
}

writeCase('target-not-available', std, { description: 'A target that is neither available nor recorded.', args: [...stdArgs, '--target', '18.0.9-1769900000'], expect: { exitCode: 1, errorCode: 'POLICY_TARGET_NOT_AVAILABLE' } });

writeCase(
  'unknown-env-warned',
  { ...std, 'csv.yaml': csv(NEW, { extraEnv: [{ name: 'RELATED_IMAGE_FOO_BAR_IMAGE_URL_DEFAULT', value: 'quay.io/example/foo-bar@sha256:' + digest('foo') }] }) },
  { description: 'An image variable that maps to no field is reported, not dropped silently.', args: stdArgs, expect: { exitCode: 0, warningCodes: ['IMAGE_ENV_UNMAPPED'] } },
);

writeCase('csv-no-release-version', { ...std, 'csv.yaml': csv(NEW, { omitRelease: true }) }, { description: 'A CSV without OPENSTACK_RELEASE_VERSION is rejected.', args: stdArgs, expect: { exitCode: 2, errorCode: 'CSV_NO_RELEASE_VERSION' } });

writeCase('csv-manager-layout', { ...std, 'csv.yaml': csv(NEW, { layout: 'manager' }) }, { description: 'An older bundle layout: the env sits on the manager deployment, TEST_* images included.', args: stdArgs, expect: { exitCode: 0 } });

writeCase('osv-only', { 'openstackversion.yaml': openStackVersion(), 'controlplane.yaml': controlPlane(), ...nodesetFiles }, {
  description: 'No CSV: the operator already lists the new release in status.containerImageVersionDefaults.',
  args: ['--openstack-version', 'openstackversion.yaml', '--controlplane', 'controlplane.yaml', '--nodesets', 'nodesets'],
  expect: { exitCode: 0 },
});

{
  const env = releaseEnv(NEW).map((e) => (e.name === 'RELATED_IMAGE_NOVA_API_IMAGE_URL_DEFAULT' ? { ...e, value: 'quay.io/podified-antelope-centos9/openstack-nova-api@sha256:' + digest('rebuilt') } : e));
  writeCase('csv-status-mismatch', { ...std, 'csv.yaml': csv(NEW, { env }) }, {
    description: 'The CSV and the operator status disagree on one image: said field by field.',
    args: stdArgs,
    expect: { exitCode: 0, warningCodes: ['DEFAULTS_MISMATCH'] },
  });
}

writeCase('batches-canary', std, { description: 'A canary nodeset first, then the rest, with system updates and reboots.', args: [...stdArgs, '--batch', 'compute-b', '--update-system', '--reboot'], expect: { exitCode: 0 } });

writeCase('spec-only-from-git', { ...std, 'openstackversion.yaml': openStackVersion({ withStatus: false }) }, {
  description: 'Only the spec from the GitOps repository: the deployed version is its targetVersion.',
  args: stdArgs,
  expect: { exitCode: 0 },
});

writeCase('unknown-nodeset-batch', std, { description: 'A batch that names a nodeset that does not exist.', args: [...stdArgs, '--batch', 'compute-z'], expect: { exitCode: 2, errorCode: 'NODESET_UNKNOWN' } });

// hostile or tricky YAML
writeCase('malformed-yaml', { ...std, 'openstackversion.yaml': 'apiVersion: core.openstack.org/v1beta1\nkind: OpenStackVersion\nmetadata:\n  name: openstack\nspec:\n  targetVersion: [18.0.3\n' }, { description: 'Malformed YAML.', args: stdArgs, expect: { exitCode: 2, errorCode: 'INPUT_YAML' } });

{
  let bomb = 'a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n';
  for (let i = 1; i < 10; i++) bomb += `a${i}: &a${i} [${Array(9).fill(`*a${i - 1}`).join(',')}]\n`;
  writeCase('alias-bomb', { ...std, 'custom-images.yaml': bomb }, { description: 'A billion-laughs alias bomb.', args: [...stdArgs, '--custom-images', 'custom-images.yaml'], expect: { exitCode: 2, errorCode: 'INPUT_YAML' } });
}

writeCase('duplicate-keys', { ...std, 'custom-images.yaml': 'glanceAPIImage: quay.io/a/glance@sha256:' + digest('a') + '\nglanceAPIImage: quay.io/b/glance@sha256:' + digest('b') + '\n' }, {
  description: 'Duplicate keys are refused, not silently last-wins.',
  args: [...stdArgs, '--custom-images', 'custom-images.yaml'],
  expect: { exitCode: 2, errorCode: 'INPUT_YAML' },
});

{
  // versions written unquoted: 18.0 and 18.1 must stay "18.0"/"18.1", not the numbers 18 and 18.1
  const o = openStackVersion({ deployed: '18.0', available: '18.1', versions: { '18.0': releaseEnv('18.0'), '18.1': releaseEnv('18.1') } });
  const text = y(o).replace(/"18\.0"/g, '18.0').replace(/"18\.1"/g, '18.1').replace(/'18\.0'/g, '18.0').replace(/'18\.1'/g, '18.1');
  const c = y(csv('18.1')).replace(/value: "18\.1"/, 'value: 18.1').replace(/value: '18\.1'/, 'value: 18.1');
  writeCase('unquoted-version', { ...std, 'openstackversion.yaml': text, 'csv.yaml': c }, { description: 'Versions written unquoted (18.0, 18.1) are read as written.', args: stdArgs, expect: { exitCode: 0 } });
}

writeCase('unknown-custom-field', { ...std, 'custom-images.yaml': { cinderApiImage: 'quay.io/x/cinder-api@sha256:' + digest('c') } }, {
  description: 'The upstream sample typo cinderApiImage is refused with a suggestion.',
  args: [...stdArgs, '--custom-images', 'custom-images.yaml'],
  expect: { exitCode: 2, errorCode: 'CUSTOM_IMAGES_INVALID' },
});

console.log('fixtures written');
