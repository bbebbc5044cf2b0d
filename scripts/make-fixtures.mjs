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

function csv(release, { env = releaseEnv(release), omitRelease = false, extraEnv = [], layout = 'init', operatorEnv = operatorImages } = {}) {
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
      ? [deployment('openstack-operator-controller-init', [...head, ...operatorEnv, ...env, ...extraEnv])]
      : layout === 'operator'
        ? [withRbacProxy(deployment('openstack-operator-controller-operator', [...head, ...operatorEnv, ...env, ...extraEnv]))]
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

// FR2–FR4 bundles (18.0-fr4 config/operator/deployment/deployment.yaml): kube-rbac-proxy first, the operator second
function withRbacProxy(dep) {
  const proxy = {
    args: ['--secure-listen-address=0.0.0.0:8443', '--upstream=http://127.0.0.1:8080/', '--logtostderr=true', '--v=0'],
    image: 'quay.io/openstack-k8s-operators/kube-rbac-proxy:v0.16.0',
    name: 'kube-rbac-proxy',
    ports: [{ containerPort: 8443, name: 'https', protocol: 'TCP' }],
    resources: { limits: { cpu: '500m', memory: '128Mi' }, requests: { cpu: '5m', memory: '64Mi' } },
  };
  const containers = [proxy, ...dep.spec.template.spec.containers];
  return { ...dep, spec: { ...dep.spec, template: { ...dep.spec.template, spec: { ...dep.spec.template.spec, containers } } } };
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

// `why`: comment lines written above case.yaml (what the case checks, and where in the operator's code)
function writeCase(name, files, caseSpec, why = []) {
  const dir = join(root, 'fixtures', name);
  for (const f of Object.keys(files)) rmSync(join(dir, f), { force: true, recursive: true });
  for (const [f, content] of Object.entries(files)) {
    const p = join(dir, f);
    mkdirSync(dirname(p), { recursive: true });
    writeFileSync(p, typeof content === 'string' ? content : y(content));
  }
  if (caseSpec) writeFileSync(join(dir, 'case.yaml'), why.map((l) => `# ${l}`.trimEnd() + '\n').join('') + y(caseSpec));
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
    description: 'The CSV and the images the operator published for it disagree on one image: the operator wins, the field is named.',
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

// ---------------------------------------------------------------------------------------------
// release-branch cases (issue 10): the image lists of each branch, see reference-data/openstack-operator-releases/SOURCE.md
{
  const rel = (branch, p) => parse(readFileSync(join(root, 'reference-data/openstack-operator-releases', branch, p), 'utf8'));
  const branchEnv = (branch) => envOf(rel(branch, 'default_images.yaml'));
  const branchOperatorEnv = (branch) => envOf(rel(branch, 'manager_operator_images.yaml'));
  // the branch's list with per-version digests; KEEP and (optionally) the OVN controller keep theirs
  const envFor = (branch, version, opts) => branchEnv(branch).map((e) => ({ name: e.name, value: imageFor(e.name, e.value, version, opts) }));
  const byName = (env, n) => env.find((e) => e.name === n)?.value;

  // GetContainerImages from fr4 on (version.go): the exporter is custom openstackNetworkExporterImage, else the
  // deprecated custom edpm field, else the default; the deprecated field itself is never set in status
  const imagesFr4On = (defaults, custom = {}) => {
    const out = containerImagesOf(defaults, custom);
    delete out.edpmOpenstackNetworkExporterImage;
    const exporter = custom.openstackNetworkExporterImage ?? custom.edpmOpenstackNetworkExporterImage ?? defaults.openstackNetworkExporterImage;
    if (exporter === undefined) delete out.openstackNetworkExporterImage;
    else out.openstackNetworkExporterImage = exporter;
    return Object.fromEntries(Object.entries(out).sort(([a], [b]) => a.localeCompare(b)));
  };

  // the OpenStackVersion as the operator of the *target* release writes it once it runs (availableVersion = target)
  const releaseOsv = ({ deployed, target, envs, serviceDefaults, custom, tracked = true }) => {
    const o = openStackVersion({ deployed, available: target, versions: envs, custom, tracked });
    o.status.availableServiceDefaults = serviceDefaults;
    o.status.serviceDefaults = serviceDefaults[deployed] ?? {};
    o.status.containerImages = imagesFr4On(o.status.containerImageVersionDefaults[deployed], custom);
    // trackedCustomImages exists from fr4 on: the target operator writes it for spec.targetVersion
    o.status.trackedCustomImages = { [deployed]: custom ?? {} };
    return o;
  };

  // FR3 → FR4: the FR2–FR4 layout; the OVN controller image is the same in both
  {
    const FR3 = '0.3.0-1760000000';
    const FR4 = '0.4.0-1768000000';
    const env3 = envFor('18.0-fr3', FR3, { keepOvn: true });
    const env4 = envFor('18.0-fr4', FR4, { keepOvn: true });
    writeCase(
      'fr3-to-fr4-controller-operator',
      {
        ...std,
        'csv.yaml': csv(FR4, { env: env4, layout: 'operator', operatorEnv: branchOperatorEnv('18.0-fr4') }),
        'openstackversion.yaml': releaseOsv({ deployed: FR3, target: FR4, envs: { [FR3]: env3, [FR4]: env4 }, serviceDefaults: { [FR3]: { glanceWsgi: 'true' }, [FR4]: { glanceWsgi: 'true' } } }),
      },
      {
        description: 'FR3 → FR4 on the FR2–FR4 bundle layout (init operator openstack-operator-controller-operator, kube-rbac-proxy first); the OVN image is unchanged, so FR4 needs no OVN deployment.',
        args: stdArgs,
        expect: { exitCode: 0 },
      },
      [
        'Checked against openstack-operator 18.0-fr4 (5dc7d821) and 18.0-fr3 (fafab786):',
        '- CSV: config/operator/deployment/deployment.yaml: Deployment openstack-operator-controller-operator, containers',
        '  [kube-rbac-proxy, operator]; Makefile `bundle` patches containers/1/env/0 to OPENSTACK_RELEASE_VERSION=$(VERSION)-<epoch>,',
        '  VERSION ?= 0.4.0; default_images.yaml and manager_operator_images.yaml are patched onto that container.',
        '- controllers/operator/openstack_controller.go SetupEnv: only RELATED_IMAGE_* reach the manager (TEST_* stay unset);',
        '  *_OPERATOR_MANAGER_IMAGE_URL go to the operator-image map.',
        '- pkg/openstack/version.go InitializeOpenStackVersionImageDefaults: same field rule as main; GetContainerImages with',
        '  getOpenstackNetworkExporterImg: the FR3 defaults have no openstackNetworkExporterImage (fr3 lists only the EDPM_ one),',
        '  so the FR4 operator shows none for 0.3.0 and it is added; edpmOpenstackNetworkExporterImage is never set in status.',
        '- fr3 default_images.yaml lacks CLOUDKITTY_*, WATCHER_* and OPENSTACK_NETWORK_EXPORTER: those fields are added.',
        '- controllers/core/openstackversion_controller.go Reconcile: no unchanged-OVN-image sub-rule before fr6 (66f54ea0);',
        '  pkg/openstack/dataplane.go DataplaneNodesetsOVNControllerImagesMatch already holds, so MinorUpdateOVNDataplane turns',
        '  True at once: no OVN deployment. trackedCustomImages is written from fr4 on (same file).',
        '- pkg/openstack/version.go InitializeOpenStackVersionServiceDefaults: {glanceWsgi: "true"} in fr3 and fr4.',
        '- pkg/dataplane/inventory.go: edpm_iscsid_image and edpm_multipathd_image still go to the inventory (data-plane rollout).',
      ],
    );
  }

  // FR5 → FR6: vendor cinder/manila backends, a glance hotfix and both exporter fields; RabbitMQ 3.9 → 4.2
  {
    const FR5 = '0.5.0-1767875480';
    const FR6 = '0.6.0-1782000000';
    const env5 = envFor('18.0-fr5', FR5);
    const env6 = envFor('18.0-fr6', FR6);
    const img = (repo, tag) => `${repo}@sha256:${digest(`${repo}|${tag}`)}`;
    const customFor = (tag) => ({
      cinderVolumeImages: { pure: img('quay.io/purestorage/openstack-cinder-volume-pure', tag) },
      manilaShareImages: { netapp: img('registry.example.com/netapp/openstack-manila-share-netapp', tag) },
      glanceAPIImage: img('registry.example.com/hotfix/openstack-glance-api', tag),
      edpmOpenstackNetworkExporterImage: img('registry.example.com/hotfix/openstack-network-exporter-edpm', tag),
      openstackNetworkExporterImage: img('registry.example.com/hotfix/openstack-network-exporter', tag),
    });
    const fr6Defaults = { glanceLocationAPI: 'false', glanceWsgi: 'true', manilaSharev1: 'true', rabbitmqVersion: '4.2' };
    writeCase(
      'fr5-to-fr6-backends-hotfix',
      {
        ...std,
        'csv.yaml': csv(FR6, { env: env6, operatorEnv: branchOperatorEnv('18.0-fr6') }),
        'controlplane.yaml': controlPlane({ cinderVolumes: { ceph: { replicas: 1 }, pure: { replicas: 1 } }, manilaShares: { netapp: { replicas: 1 } } }),
        'openstackversion.yaml': releaseOsv({
          deployed: FR5,
          target: FR6,
          envs: { [FR5]: env5, [FR6]: env6 },
          serviceDefaults: { [FR5]: { glanceWsgi: 'true' }, [FR6]: fr6Defaults },
          custom: customFor('fr5'),
        }),
        'custom-images.yaml': customFor('fr6'),
      },
      {
        description: 'FR5 → FR6 with vendor cinder/manila backends, a glance hotfix and both network-exporter fields; FR6 moves RabbitMQ from 3.9 to 4.2 and turns Manila sharev1 on.',
        args: [...stdArgs, '--custom-images', 'custom-images.yaml'],
        expect: { exitCode: 0 },
      },
      [
        'Checked against openstack-operator 18.0-fr6 (394c46c1) and 18.0-fr5 (c891dd4b):',
        '- CSV: init deployment openstack-operator-controller-init (renamed in 889c3965), Makefile VERSION ?= 0.6.0.',
        '- internal/openstack/version.go getOpenstackNetworkExporterImg: a custom openstackNetworkExporterImage wins over the',
        '  deprecated custom edpmOpenstackNetworkExporterImage; GetContainerImages keeps the spec backend maps and forces',
        '  their "default" key from the defaults.',
        '- internal/openstack/ovn.go: the exporter image also goes to OVNDBCluster and OVNNorthd (controlplane phase).',
        '- internal/openstack/version.go InitializeOpenStackVersionServiceDefaults: fr6 publishes glanceWsgi "true",',
        '  glanceLocationAPI "false", manilaSharev1 "true", rabbitmqVersion "4.2"; fr5 only glanceWsgi "true".',
        '- internal/openstack/rabbitmq.go reconcileRabbitMQ: spec.targetVersion = serviceDefaults.rabbitmqVersion, else "3.9";',
        '  internal/openstack/manila.go: the sharev1 annotation is "true" only for manilaSharev1 "true" (3.9 → 4.2, false → true).',
        '- internal/webhook/core/v1beta1/openstackversion_webhook.go: custom images must change with the version (new ones given).',
        '- internal/dataplane/inventory.go: iscsid and multipathd images still in the inventory; the OVN image changes, so',
        '  the OVN deployment runs.',
      ],
    );
    if (byName(env6, 'RELATED_IMAGE_EDPM_MULTIPATHD_IMAGE_URL_DEFAULT') === undefined) throw new Error('fr6 lists multipathd');
  }

  // FR6 with the OVN image unchanged and no nodeset with nodes: the update would stall at ovn-dataplane
  {
    const FR5 = '0.5.0-1767875480';
    const FR6 = '0.6.0-1782000000';
    const env5 = envFor('18.0-fr5', FR5, { keepOvn: true });
    const env6 = envFor('18.0-fr6', FR6, { keepOvn: true });
    const empty = nodeSet('compute-a', []);
    writeCase(
      'fr6-ovn-unchanged-no-nodes',
      {
        'csv.yaml': csv(FR6, { env: env6, operatorEnv: branchOperatorEnv('18.0-fr6') }),
        'controlplane.yaml': controlPlane(),
        'nodesets/compute-a.yaml': empty,
        'openstackversion.yaml': releaseOsv({
          deployed: FR5,
          target: FR6,
          envs: { [FR5]: env5, [FR6]: env6 },
          serviceDefaults: { [FR5]: { glanceWsgi: 'true' }, [FR6]: { glanceLocationAPI: 'false', glanceWsgi: 'true', manilaSharev1: 'true', rabbitmqVersion: '4.2' } },
        }),
      },
      {
        description: 'FR6, OVN enabled, the OVN image unchanged and no nodeset with nodes: MinorUpdateOVNDataplane would never turn True; the plan warns before anything is committed.',
        args: stdArgs,
        expect: { exitCode: 0, warningCodes: ['OVN_DATAPLANE_STALL'] },
      },
      [
        'Checked against openstack-operator 18.0-fr6 (394c46c1): internal/controller/core/openstackversion_controller.go Reconcile,',
        'the unchanged-OVN-image sub-rule (66f54ea0): MinorUpdateOVNDataplane turns True only after a reconcile saw',
        'IsDataplaneDeploymentRunningForServiceType(..., "ovn") (internal/openstack/dataplane.go), which only counts deployments',
        'on nodesets with nodes. With none, it stays False/Init for ever.',
      ],
    );
  }

  // a main build (VERSION 19.0.0) after an earlier main build, OVN disabled
  {
    const OLD_MAIN = '19.0.0-1784000000';
    const NEW_MAIN = '19.0.0-1784551341';
    const envOld = releaseEnv(OLD_MAIN);
    const envNew = releaseEnv(NEW_MAIN);
    const sd = { glanceLocationAPI: 'false', glanceWsgi: 'true', manilaSharev1: 'true', rabbitmqVersion: '4.2' };
    writeCase(
      'main-ovn-disabled',
      {
        ...std,
        'csv.yaml': csv(NEW_MAIN, { env: envNew }),
        'controlplane.yaml': controlPlane({ ovn: false }),
        'openstackversion.yaml': releaseOsv({ deployed: OLD_MAIN, target: NEW_MAIN, envs: { [OLD_MAIN]: envOld, [NEW_MAIN]: envNew }, serviceDefaults: { [OLD_MAIN]: sd, [NEW_MAIN]: sd } }),
      },
      {
        description: 'A main build (19.0.0) after an earlier one, with OVN disabled: main rules, the OVN phases fold into the control plane, no iscsid/multipathd rollout.',
        args: stdArgs,
        expect: { exitCode: 0 },
      },
      [
        'Checked against openstack-operator main (84322c77): Makefile VERSION ?= 19.0.0, OPENSTACK_RELEASE_VERSION = $(VERSION)-<epoch>,',
        'so two main builds differ by their epoch only (a minor update). internal/controller/core/openstackversion_controller.go',
        'Reconcile: both OVN steps are guarded by controlPlane.Spec.Ovn.Enabled and turn True at once. internal/dataplane/inventory.go',
        'no longer writes edpm_iscsid_image / edpm_multipathd_image (deprecated: they run on the host). Images from',
        'reference-data/openstack-operator/default_images.yaml (main).',
      ],
    );
  }
}

console.log('fixtures written');
