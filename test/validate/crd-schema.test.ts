import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { CrdSchemaValidator, knownKinds, validateObject, validateObjects } from '../../src/validate/crd-schema.js';

const root = join(import.meta.dirname, '..', '..');
const refDir = join(root, 'reference-data', 'openstack-operator');

function sample(file: string): Record<string, unknown> {
  return parse(readFileSync(join(refDir, file), 'utf8')) as Record<string, unknown>;
}

const osv = (spec: Record<string, unknown>, name = 'openstack'): Record<string, unknown> => ({
  apiVersion: 'core.openstack.org/v1beta1',
  kind: 'OpenStackVersion',
  metadata: { name, namespace: 'openstack' },
  spec,
});

const deployment = (spec: Record<string, unknown>, name = 'edpm-update-1'): Record<string, unknown> => ({
  apiVersion: 'dataplane.openstack.org/v1beta1',
  kind: 'OpenStackDataPlaneDeployment',
  metadata: { name, namespace: 'openstack' },
  spec,
});

describe('upstream samples (reference-data/openstack-operator)', () => {
  it('flags the OpenStackVersion sample for cinderApiImage, which the API server would drop', () => {
    const r = validateObject(sample('core_v1beta1_openstackversion.yaml'));
    expect(r.ok).toBe(false);
    // the cinderVolumeImages map is fine: only the misspelt scalar field is reported
    expect(r.errors).toEqual([
      'OpenStackVersion/openstack: /spec/customContainerImages/cinderApiImage is not a field of the schema ' +
        '(the API server would drop it; did you mean cinderAPIImage?)',
    ]);
  });

  it('accepts the OpenStackVersion sample once the field is spelt as in the schema', () => {
    const obj = sample('core_v1beta1_openstackversion.yaml') as { spec: { customContainerImages: Record<string, unknown> } };
    const images = obj.spec.customContainerImages;
    images['cinderAPIImage'] = images['cinderApiImage'];
    delete images['cinderApiImage'];
    expect(validateObject(obj)).toEqual({ ok: true, errors: [], warnings: [] });
  });

  it('accepts the nodeset sample (free-form ansibleVars are preserved fields)', () => {
    expect(validateObject(sample('dataplane_v1beta1_openstackdataplanenodeset.yaml'))).toEqual({ ok: true, errors: [], warnings: [] });
  });

  it('accepts the deployment sample thanks to the schema default of deploymentRequeueTime, without changing it', () => {
    const obj = sample('dataplane_v1beta1_openstackdataplanedeployment.yaml');
    const before = JSON.stringify(obj);
    expect(validateObject(obj)).toEqual({ ok: true, errors: [], warnings: [] });
    expect(JSON.stringify(obj)).toBe(before);
  });

  it('accepts every data-plane service sample', () => {
    const dir = join(refDir, 'services');
    const objs = readdirSync(dir).flatMap((f) => parseAllDocuments(readFileSync(join(dir, f), 'utf8')).map((d) => d.toJS() as unknown));
    expect(objs.length).toBeGreaterThanOrEqual(5);
    expect(validateObjects(objs)).toEqual({ ok: true, errors: [], warnings: [] });
  });

  it('reports the control-plane sample: drifted fields are errors, webhook-defaulted required fields are warnings', () => {
    const r = validateObject(sample('core_v1beta1_openstackcontrolplane_network_isolation.yaml'));
    const ref = 'OpenStackControlPlane/openstack-network-isolation';
    expect(r.errors).toEqual([
      `${ref}: /spec/heat/template/heatEngine/override is not a field of the schema (the API server would drop it)`,
      `${ref}: /spec/telemetry/template/autoscaling/aodh/passwordSelectors is not a field of the schema (the API server would drop it; did you mean passwordSelector?)`,
      `${ref}: /spec/telemetry/template/logging/ipaddr is not a field of the schema (the API server would drop it)`,
    ]);
    expect(r.warnings).toContain(
      `${ref}: /spec/barbican/template must have required property 'serviceAccount' (left to the operator's defaulting webhook)`,
    );
    expect(r.warnings.every((w) => w.includes('must have required property'))).toBe(true);
  });
});

describe('hand-made bad objects', () => {
  it('reports a missing targetVersion', () => {
    expect(validateObject(osv({ customContainerImages: {} })).errors).toEqual([
      "OpenStackVersion/openstack: /spec must have required property 'targetVersion'",
    ]);
  });

  it('reports an empty nodeSets list', () => {
    expect(validateObject(deployment({ nodeSets: [] })).errors).toEqual([
      'OpenStackDataPlaneDeployment/edpm-update-1: /spec/nodeSets must NOT have fewer than 1 items',
    ]);
  });

  it('reports wrong types with the value found', () => {
    const r = validateObject(osv({ targetVersion: 18, customContainerImages: { novaAPIImage: 5, cinderVolumeImages: { netapp: true } } }));
    expect(r.errors).toEqual([
      'OpenStackVersion/openstack: /spec/customContainerImages/cinderVolumeImages/netapp must be string (got boolean true)',
      'OpenStackVersion/openstack: /spec/customContainerImages/novaAPIImage must be string (got integer 5)',
      'OpenStackVersion/openstack: /spec/targetVersion must be string (got integer 18)',
    ]);
    const d = validateObject(deployment({ nodeSets: ['a'], deploymentRequeueTime: '15', backoffLimit: 2 ** 31, preserveJobs: 'yes' }));
    expect(d.errors).toEqual([
      'OpenStackDataPlaneDeployment/edpm-update-1: /spec/backoffLimit must be a valid int32 (got 2147483648)',
      'OpenStackDataPlaneDeployment/edpm-update-1: /spec/deploymentRequeueTime must be integer (got string "15")',
      'OpenStackDataPlaneDeployment/edpm-update-1: /spec/preserveJobs must be boolean (got string "yes")',
      'OpenStackDataPlaneDeployment/edpm-update-1: /spec/preserveJobs must be one of true, false (got "yes")',
    ]);
  });

  it('reports names that are not RFC 1123, a missing name and a bad namespace', () => {
    expect(validateObject(osv({ targetVersion: '1.0.1' }, 'Edpm_Update')).errors).toEqual([
      'OpenStackVersion/Edpm_Update: /metadata/name "Edpm_Update" is not a valid RFC 1123 subdomain: ' +
        "contains \"E\", \"_\", \"U\" (only lowercase letters, digits, '-' and '.' are allowed); must start and end with a lowercase letter or a digit",
    ]);
    expect(validateObject({ ...osv({ targetVersion: '1.0.1' }), metadata: {} }).errors).toEqual([
      'OpenStackVersion/<no name>: /metadata/name is required',
    ]);
    expect(validateObject({ ...osv({ targetVersion: '1.0.1' }), metadata: { name: 'openstack', namespace: 'Open.Stack' } }).errors).toEqual([
      'OpenStackVersion/openstack: /metadata/namespace "Open.Stack" is not a valid namespace name: ' +
        "contains \"O\", \".\", \"S\" (only lowercase letters, digits and '-' are allowed); must start and end with a lowercase letter or a digit",
    ]);
  });

  it('reports unknown fields at every depth, including the top level', () => {
    const r = validateObject({ ...osv({ targetVersion: '1.0.1', customContainerImages: { novaApiImage: 'x' }, extra: 1 }), stauts: {} });
    expect(r.errors).toEqual([
      'OpenStackVersion/openstack: /spec/customContainerImages/novaApiImage is not a field of the schema (the API server would drop it; did you mean novaAPIImage?)',
      'OpenStackVersion/openstack: /spec/extra is not a field of the schema (the API server would drop it)',
      'OpenStackVersion/openstack: /stauts is not a field of the schema (the API server would drop it; did you mean status?)',
    ]);
  });

  it('does not walk metadata against the CRD, and keeps preserved fields', () => {
    const obj = deployment({
      nodeSets: ['a'],
      ansibleExtraVars: { anything: { goes: [1, 2] } },
    });
    (obj['metadata'] as Record<string, unknown>)['annotations'] = { 'x/y': 'z' };
    (obj['metadata'] as Record<string, unknown>)['labels'] = { a: 'b' };
    expect(validateObject(obj)).toEqual({ ok: true, errors: [], warnings: [] });
  });

  it('refuses what is not an object, has no kind, or is of an unknown kind or version', () => {
    expect(validateObject('x').errors).toEqual(['object: must be a mapping (got string)']);
    expect(validateObject({ metadata: { name: 'a' } }).errors).toEqual([
      'object/a: /apiVersion must be a non-empty string',
      'object/a: /kind must be a non-empty string',
    ]);
    expect(validateObject({ apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'w' } }).errors).toEqual([
      'Widget/w: unknown kind Widget of example.com/v1: no CRD in crds/ defines it and it is not a core kind osv-gitops renders',
    ]);
    expect(validateObject({ ...osv({ targetVersion: '1' }), apiVersion: 'core.openstack.org/v1' }).errors).toEqual([
      'OpenStackVersion/openstack: /apiVersion "core.openstack.org/v1" is not served by the OpenStackVersion CRD (served: core.openstack.org/v1beta1)',
    ]);
    expect(validateObject({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 's' } }).ok).toBe(false);
  });

  it('checks only the shape of the core kinds it renders', () => {
    const objs = [
      { apiVersion: 'batch/v1', kind: 'Job', metadata: { name: 'gate-ovn', namespace: 'openstack' }, spec: { anything: true } },
      { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'gate' } },
      { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', metadata: { name: 'gate' }, rules: [] },
      { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'RoleBinding', metadata: { name: 'gate' } },
      { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'osv-gitops.plan' }, data: { a: 'b' } },
      { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'openstack' } },
      { apiVersion: 'kustomize.config.k8s.io/v1beta1', kind: 'Kustomization', resources: ['a.yaml'] },
    ];
    expect(validateObjects(objs)).toEqual({ ok: true, errors: [], warnings: [] });
    expect(validateObject({ apiVersion: 'v1', kind: 'Job', metadata: { name: 'j' } }).errors).toEqual([
      'Job/j: /apiVersion must be batch/v1 for kind Job (got "v1")',
    ]);
    expect(validateObject({ apiVersion: 'batch/v1', kind: 'Job', metadata: { name: 'j'.repeat(64) } }).errors[0]).toContain(
      'is 64 characters long, at most 63 allowed',
    );
    expect(validateObject({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'openstack', namespace: 'openstack' } }).errors).toEqual([
      'Namespace/openstack: /metadata/namespace must not be set: the kind is cluster-scoped',
    ]);
    expect(validateObject({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'a.b' } }).errors[0]).toContain('RFC 1123 label');
  });

  it('reports two objects with the same kind, namespace and name', () => {
    const r = validateObjects([deployment({ nodeSets: ['a'] }), deployment({ nodeSets: ['b'] })]);
    expect(r.errors).toEqual([
      'OpenStackDataPlaneDeployment/edpm-update-1: objects #1 and #2 have the same kind, namespace and name',
    ]);
  });
});

describe('Flux and Argo CD objects', () => {
  const fluxKs = (spec: Record<string, unknown>): Record<string, unknown> => ({
    apiVersion: 'kustomize.toolkit.fluxcd.io/v1',
    kind: 'Kustomization',
    metadata: { name: 'osv-update-02-ovn-dataplane', namespace: 'flux-system' },
    spec,
  });
  const goodKs = {
    interval: '5m',
    path: './updates/1.0.2/02-ovn-dataplane',
    prune: true,
    wait: false,
    sourceRef: { kind: 'GitRepository', name: 'openstack-gitops' },
    dependsOn: [{ name: 'osv-update-01-ovn-controlplane' }],
    healthCheckExprs: [
      {
        apiVersion: 'core.openstack.org/v1beta1',
        kind: 'OpenStackVersion',
        current: "status.conditions.exists(c, c.type == 'MinorUpdateOVNControlplane' && c.status == 'True')",
      },
    ],
  };

  it('accepts a Flux Kustomization and a GitRepository', () => {
    const repo = {
      apiVersion: 'source.toolkit.fluxcd.io/v1',
      kind: 'GitRepository',
      metadata: { name: 'openstack-gitops', namespace: 'flux-system' },
      spec: { interval: '1m', url: 'ssh://git@example.com/ops/openstack.git', ref: { branch: 'main' }, secretRef: { name: 'deploy-key' } },
    };
    expect(validateObjects([fluxKs(goodKs), repo])).toEqual({ ok: true, errors: [], warnings: [] });
  });

  it('rejects a Flux Kustomization without prune, with a bad interval and an unknown source kind', () => {
    const { prune: _prune, ...rest } = goodKs;
    const r = validateObject(fluxKs({ ...rest, interval: '5 minutes', sourceRef: { kind: 'Git', name: 'x' } }));
    expect(r.errors).toEqual([
      "Kustomization/osv-update-02-ovn-dataplane: /spec must have required property 'prune'",
      'Kustomization/osv-update-02-ovn-dataplane: /spec/interval must match pattern "^([0-9]+(\\\\.[0-9]+)?(ms|s|m|h))+$" (got "5 minutes")',
      'Kustomization/osv-update-02-ovn-dataplane: /spec/sourceRef/kind must be one of "OCIRepository", "GitRepository", "Bucket", "ExternalArtifact" (got "Git")',
    ]);
  });

  it('rejects a GitRepository with a URL scheme Flux does not take', () => {
    const r = validateObject({
      apiVersion: 'source.toolkit.fluxcd.io/v1',
      kind: 'GitRepository',
      metadata: { name: 'repo', namespace: 'flux-system' },
      spec: { interval: '1m', url: 'git@example.com:ops/openstack.git' },
    });
    expect(r.errors).toHaveLength(1);
    expect(r.errors[0]).toMatch(/^GitRepository\/repo: \/spec\/url must match pattern/);
  });

  const app = (spec: Record<string, unknown>): Record<string, unknown> => ({
    apiVersion: 'argoproj.io/v1alpha1',
    kind: 'Application',
    metadata: { name: 'osv-update-02-ovn-dataplane', namespace: 'argocd', annotations: { 'argocd.argoproj.io/sync-wave': '2' } },
    spec,
  });
  const goodApp = {
    project: 'default',
    destination: { server: 'https://kubernetes.default.svc', namespace: 'openstack' },
    source: {
      repoURL: 'https://git.example.com/ops/openstack.git',
      targetRevision: 'main',
      path: 'updates/1.0.2/02-ovn-dataplane',
      kustomize: { replicas: [{ name: 'x', count: 2 }] },
    },
    syncPolicy: { automated: { prune: true, selfHeal: true }, syncOptions: ['ServerSideApply=true'], retry: { limit: 3 } },
  };

  it('accepts an Argo CD Application', () => {
    expect(validateObject(app(goodApp))).toEqual({ ok: true, errors: [], warnings: [] });
  });

  it('rejects an Argo CD Application without project, with a misspelt field and a non int-or-string count', () => {
    const { project: _project, ...rest } = goodApp;
    const r = validateObject(
      app({
        ...rest,
        source: { ...goodApp.source, kustomize: { replicas: [{ name: 'x', count: true }] } },
        syncPolicy: { automated: { prune: true, selfHael: true } },
      }),
    );
    expect(r.errors).toEqual([
      "Application/osv-update-02-ovn-dataplane: /spec must have required property 'project'",
      'Application/osv-update-02-ovn-dataplane: /spec/source/kustomize/replicas/0/count must be an integer or a string (got boolean true)',
      'Application/osv-update-02-ovn-dataplane: /spec/syncPolicy/automated/selfHael is not a field of the schema (the API server would drop it; did you mean selfHeal?)',
    ]);
  });
});

describe('laziness and the kinds known', () => {
  it('compiles only the schemas asked for (never the control plane for an OpenStackVersion)', () => {
    const v = new CrdSchemaValidator();
    expect(v.compiledKinds()).toEqual([]);
    v.validateObject(osv({ targetVersion: '1.0.1' }));
    v.validateObject(osv({ targetVersion: '1.0.2' }));
    expect(v.compiledKinds()).toEqual(['core.openstack.org/v1beta1/OpenStackVersion']);
  });

  it('lists the CRD kinds of crds/ and the core kinds', () => {
    const kinds = knownKinds().map((k) => `${k.apiVersion} ${k.kind} ${k.source}`);
    expect(kinds).toEqual([
      'argoproj.io/v1alpha1 Application crd',
      'argoproj.io/v1alpha1 ArgoCD crd',
      'argoproj.io/v1beta1 ArgoCD crd',
      'batch/v1 Job core',
      'core.openstack.org/v1beta1 OpenStackControlPlane crd',
      'core.openstack.org/v1beta1 OpenStackVersion crd',
      'dataplane.openstack.org/v1beta1 OpenStackDataPlaneDeployment crd',
      'dataplane.openstack.org/v1beta1 OpenStackDataPlaneNodeSet crd',
      'dataplane.openstack.org/v1beta1 OpenStackDataPlaneService crd',
      'kustomize.config.k8s.io/v1beta1 Kustomization core',
      'kustomize.toolkit.fluxcd.io/v1 Kustomization crd',
      'operators.coreos.com/v1alpha1 CatalogSource crd',
      'operators.coreos.com/v1alpha1 ClusterServiceVersion crd',
      'operators.coreos.com/v1alpha1 InstallPlan crd',
      'operators.coreos.com/v1alpha1 Subscription crd',
      'rbac.authorization.k8s.io/v1 Role core',
      'rbac.authorization.k8s.io/v1 RoleBinding core',
      'source.toolkit.fluxcd.io/v1 GitRepository crd',
      'v1 ConfigMap core',
      'v1 Namespace core',
      'v1 ServiceAccount core',
    ]);
  });
});

describe('Kubernetes extensions, on a hand-made CRD', () => {
  const dir = mkdtempSync(join(tmpdir(), 'osv-crd-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(
    join(dir, 'widgets.yaml'),
    `# a comment before the document
---
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: widgets.example.com
spec:
  group: example.com
  names:
    kind: Widget
    plural: widgets
  scope: Cluster
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        properties:
          apiVersion: {type: string}
          kind: {type: string}
          metadata: {type: object}
          spec:
            type: object
            properties:
              ports:
                type: array
                x-kubernetes-list-type: map
                x-kubernetes-list-map-keys: [name, protocol]
                items:
                  type: object
                  required: [name]
                  properties:
                    name: {type: string}
                    protocol: {type: string, default: TCP}
              tags:
                type: array
                x-kubernetes-list-type: set
                items: {type: string}
              size:
                x-kubernetes-int-or-string: true
              when:
                type: string
                format: date-time
              color:
                type: string
                format: hexcolor
              template:
                type: object
                x-kubernetes-embedded-resource: true
                properties:
                  spec: {type: object, x-kubernetes-preserve-unknown-fields: true}
              labels:
                type: object
                additionalProperties: {type: string}
  - name: v0
    served: false
    storage: false
    schema:
      openAPIV3Schema: {type: object}
`,
  );
  const v = new CrdSchemaValidator(dir);
  const widget = (spec: Record<string, unknown>): Record<string, unknown> => ({
    apiVersion: 'example.com/v1',
    kind: 'Widget',
    metadata: { name: 'w' },
    spec,
  });

  it('accepts a valid widget (embedded resource, maps, defaults in list-map keys)', () => {
    const r = v.validateObject(
      widget({
        ports: [{ name: 'http' }, { name: 'http', protocol: 'UDP' }],
        tags: ['a', 'b'],
        size: '10%',
        when: '2026-08-19T10:00:00Z',
        color: 'not checked',
        template: { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, spec: { free: 1 } },
        labels: { a: 'b' },
      }),
    );
    expect(r).toEqual({ ok: true, errors: [], warnings: [] });
  });

  it('enforces list-type set and map, int-or-string and date-time', () => {
    const r = v.validateObject(
      widget({ ports: [{ name: 'http' }, { name: 'http', protocol: 'TCP' }], tags: ['a', 'a'], size: 1.5, when: '19/08/2026' }),
    );
    expect(r.errors).toEqual([
      'Widget/w: /spec/ports must not contain a duplicate key name="http", protocol="TCP" (items 0 and 1)',
      'Widget/w: /spec/size must be an integer or a string (got number 1.5)',
      'Widget/w: /spec/tags must not contain a duplicate item "a" (items 0 and 1)',
      'Widget/w: /spec/when must be a valid date-time (got "19/08/2026")',
    ]);
  });

  it('refuses an unserved version and a namespace on a cluster-scoped kind', () => {
    expect(v.validateObject({ ...widget({}), apiVersion: 'example.com/v0' }).errors).toEqual([
      'Widget/w: /apiVersion "example.com/v0" is not served by the Widget CRD (served: example.com/v1)',
    ]);
    expect(v.validateObject({ ...widget({}), metadata: { name: 'w', namespace: 'x' } }).errors).toEqual([
      'Widget/w: /metadata/namespace must not be set: the kind is cluster-scoped',
    ]);
  });

  it('reports unknown fields under an embedded resource and a typed map value', () => {
    const r = v.validateObject(widget({ template: { apiVersion: 'v1', kind: 'Pod', status: {} }, labels: { a: 'b' } }));
    expect(r.errors).toEqual(['Widget/w: /spec/template/status is not a field of the schema (the API server would drop it)']);
  });
});
