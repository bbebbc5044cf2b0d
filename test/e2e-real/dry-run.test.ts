/**
 * Every manifest `osv-gitops render` writes, for the bundled example and every fixture case that
 * renders, for Flux, Argo CD and plain kustomize, is sent to a real kube-apiserver as a
 * server-side dry-run create with strict field validation: the real CRD schemas (structural
 * pruning, defaults, required fields, enums, CEL rules) and the built-in kinds' validation must
 * accept it, as `kubectl apply --dry-run=server` would (less the operator's webhooks: see dryRunAll).
 */
import { mkdtempSync, readFileSync, readdirSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { KubeConfig, type KubernetesObject } from '@kubernetes/client-node';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { collectionPath, typeOfKind } from '../../src/cluster/resources.js';
import { validateObjects } from '../../src/validate/crd-schema.js';
import { runCli } from '../helpers/cli.js';
import { describeRealCluster } from './describe-real.js';
import { kubeRequest, startRealCluster, statusMessage, type KubeResponse, type RealCluster } from './harness.js';

const FIXTURES = join(import.meta.dirname, '..', '..', 'fixtures');
const ENGINES = ['flux', 'argocd', 'plain'] as const;

/** Fixture cases that render (expected exit code 0); a new case folder is picked up by itself. */
function renderableCases(): { name: string; args: string[] }[] {
  return readdirSync(FIXTURES)
    .sort()
    .filter((name) => existsSync(join(FIXTURES, name, 'case.yaml')))
    .map((name) => ({ name, spec: parse(readFileSync(join(FIXTURES, name, 'case.yaml'), 'utf8')) as { args: string[]; expect: { exitCode: number } } }))
    .filter(({ spec }) => spec.expect.exitCode === 0)
    .map(({ name, spec }) => ({ name, args: spec.args }));
}

function yamlFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.yaml'))
    .sort()
    .map((f) => join(dir, f));
}

/** The objects an agent applies: every document except kustomize's own kustomization files. */
function renderedObjects(dir: string): { file: string; object: KubernetesObject }[] {
  return yamlFiles(dir).flatMap((file) =>
    parseAllDocuments(readFileSync(file, 'utf8'))
      .map((d) => d.toJS() as KubernetesObject | null)
      .filter((o): o is KubernetesObject => o !== null && !(o.apiVersion ?? '').startsWith('kustomize.config.k8s.io/'))
      .map((object) => ({ file: relative(dir, file), object })),
  );
}

/** The collection an object is created in, from the shared resource table. */
function createPath(object: KubernetesObject): string {
  const type = typeOfKind(object.apiVersion ?? '', object.kind ?? '');
  if (!type) throw new Error(`${object.apiVersion} ${object.kind} is not in src/cluster/resources.ts`);
  return collectionPath(type, type.namespaced ? (object.metadata?.namespace ?? 'default') : undefined);
}

interface JsonSchema {
  readonly type?: string;
  readonly properties?: Record<string, JsonSchema>;
}

/** The zero value Go's encoding/json writes for a field of this schema type (no omitempty). */
function goZeroValue(schema: JsonSchema): unknown {
  switch (schema.type) {
    case 'string':
      return '';
    case 'integer':
    case 'number':
      return 0;
    case 'boolean':
      return false;
    case 'array':
      return [];
    default:
      return {}; // an object: the server fills its own defaults
  }
}

const WEBHOOK_DEFAULTED_KINDS = new Set(['core.openstack.org/v1beta1 OpenStackControlPlane']);

/**
 * The `spec.` fields a 422 says are missing, when that is all it says, for a kind whose operator
 * defaults them in its mutating webhook; [] otherwise.
 */
function webhookRequiredFields(object: KubernetesObject, res: KubeResponse): string[] {
  if (res.status !== 422 || !WEBHOOK_DEFAULTED_KINDS.has(`${object.apiVersion} ${object.kind}`)) return [];
  const causes = (res.body as { details?: { causes?: { reason?: string; field?: string; message?: string }[] } }).details?.causes ?? [];
  // the server adds this note when it skipped the CEL rules because of the errors above
  const relevant = causes.filter((c) => !(c.field === '<nil>' && /validation rules were not checked/.test(c.message ?? '')));
  const required = relevant.filter((c) => c.reason === 'FieldValueRequired' && /^spec(\.[A-Za-z0-9_]+)+$/.test(c.field ?? ''));
  return required.length === relevant.length ? required.map((c) => c.field!).sort() : [];
}

/** The same fields, as the ajv validator reports them ("left to the operator's defaulting webhook"). */
function ajvWebhookFields(object: KubernetesObject): string[] {
  return validateObjects([object as unknown as Record<string, unknown>])
    .warnings.map((w) => /: \/(spec\/[^ ]*) must have required property '([^']+)' \(left to the operator's defaulting webhook\)/.exec(w))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => `${m[1]!.replace(/\//g, '.')}.${m[2]!}`)
    .sort();
}

describeRealCluster('rendered manifests on a real API server (server-side dry run)', () => {
  let cluster: RealCluster | undefined;
  let kc: KubeConfig;
  let out = '';
  beforeAll(async () => {
    out = mkdtempSync(join(tmpdir(), 'osv-dry-run-'));
    cluster = await startRealCluster();
    kc = new KubeConfig();
    kc.loadFromString(cluster.kubeconfigYaml);
  }, 180_000);
  afterAll(async () => {
    await cluster?.stop();
    if (out) rmSync(out, { recursive: true, force: true });
  });

  async function dryRun(object: KubernetesObject): Promise<KubeResponse> {
    // the file's JSON as it is, with strict field validation: an unknown field is an error
    // instead of being pruned silently (what `kubectl apply --dry-run=server` does)
    return kubeRequest(kc, 'POST', `${createPath(object)}?dryRun=All&fieldValidation=Strict`, object);
  }

  /**
   * Dry-run creates each distinct object once; returns "file kind/name: reason" per refusal.
   *
   * One leniency, the same as the ajv validator's (src/validate/crd-schema.ts): the
   * OpenStackControlPlane's mutating webhook fills required fields below `spec` before the server
   * checks the schema, and no webhook runs here. Such a refusal must name exactly the fields that
   * ajv left to the webhook; the object is then sent again with those fields at their Go zero
   * values (what the webhook's round trip of its Go struct writes) and must pass every other check,
   * CEL rules included, which the server skips while a required field is missing.
   */
  async function dryRunAll(objects: { file: string; object: KubernetesObject }[]): Promise<string[]> {
    const seen = new Set<string>();
    const refusals: string[] = [];
    for (const { file, object } of objects) {
      const key = JSON.stringify(object);
      if (seen.has(key)) continue;
      seen.add(key);
      const where = `${file} ${object.kind}/${object.metadata?.name}`;
      let res = await dryRun(object);
      const leftToWebhook = webhookRequiredFields(object, res);
      if (leftToWebhook.length > 0) {
        expect(leftToWebhook, `${where}: the fields ajv leaves to the webhook`).toEqual(ajvWebhookFields(object));
        res = await dryRun(await withZeroValues(object, leftToWebhook));
      }
      if (res.status === 201) {
        // a dry run answers with the object as it would be stored, and stores nothing
        expect((res.body as KubernetesObject).metadata?.name).toBe(object.metadata?.name);
      } else {
        refusals.push(`${where}: HTTP ${res.status}: ${statusMessage(res.body)}`);
      }
    }
    return refusals;
  }

  /** The schema of `kind` as the server has it, by CRD name. */
  const schemas = new Map<string, JsonSchema>();
  async function servedSchema(object: KubernetesObject): Promise<JsonSchema> {
    const type = typeOfKind(object.apiVersion ?? '', object.kind ?? '')!;
    const name = `${type.plural}.${type.group}`;
    let schema = schemas.get(name);
    if (!schema) {
      const res = await kubeRequest(kc, 'GET', `/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${name}`);
      const crd = res.body as { spec: { versions: { name: string; schema: { openAPIV3Schema: JsonSchema } }[] } };
      schema = crd.spec.versions.find((v) => v.name === type.version)!.schema.openAPIV3Schema;
      schemas.set(name, schema);
    }
    return schema;
  }

  async function withZeroValues(object: KubernetesObject, fields: readonly string[]): Promise<KubernetesObject> {
    const schema = await servedSchema(object);
    const copy = structuredClone(object) as unknown as Record<string, unknown>;
    for (const field of fields) {
      const path = field.split('.');
      let node = copy;
      let nodeSchema = schema;
      for (const segment of path.slice(0, -1)) {
        node = node[segment] as Record<string, unknown>;
        nodeSchema = nodeSchema.properties![segment]!;
      }
      const last = path[path.length - 1]!;
      node[last] = goZeroValue(nodeSchema.properties![last]!);
    }
    return copy as unknown as KubernetesObject;
  }

  const cases = renderableCases();
  it('finds the example and the fixture cases that render', () => {
    expect(cases.map((c) => c.name)).toContain('example');
    expect(cases.length).toBeGreaterThan(5);
  });

  for (const { name, args } of cases) {
    for (const engine of ENGINES) {
      it(`${name} / ${engine}: every rendered object is accepted`, async () => {
        const dir = join(out, name, engine);
        const repoUrl = engine === 'argocd' ? ['--repo-url', 'https://git.example.com/ops/openstack.git'] : [];
        const result = await runCli(['render', ...args, '--engine', engine, ...repoUrl, '--out', dir], join(FIXTURES, name));
        expect(result.stderr).not.toMatch(/error/i);
        expect(result.exitCode).toBe(0);
        const objects = renderedObjects(dir);
        const kinds = new Set(objects.map((o) => o.object.kind));
        expect(kinds).toContain('OpenStackVersion');
        if (engine === 'flux') expect(kinds).toContain('Kustomization');
        if (engine === 'argocd') expect(kinds).toContain('Application');
        expect(await dryRunAll(objects)).toEqual([]);
      });
    }
  }

  it('checks the control plane\'s CEL rules once the webhook-defaulted fields are filled', async () => {
    const controlplane = parse(readFileSync(join(FIXTURES, 'example', 'controlplane.yaml'), 'utf8')) as KubernetesObject & {
      spec: { glance: Record<string, unknown> };
    };
    // the example leaves glance's secret and imageCache to the webhook, as the upstream samples do
    expect(await dryRun(controlplane)).toMatchObject({ status: 422 });
    expect(await dryRunAll([{ file: 'example', object: controlplane }])).toEqual([]);
    controlplane.spec.glance['applicationCredential'] = { expirationDays: 5, gracePeriodDays: 10 };
    const refusals = await dryRunAll([{ file: 'cel', object: controlplane }]);
    expect(refusals).toHaveLength(1);
    expect(refusals[0]).toMatch(/spec\.glance\.applicationCredential: Invalid value: gracePeriodDays must be smaller than expirationDays/);
  });

  it('refuses what the real schemas refuse (the check can fail)', async () => {
    const refusals = await dryRunAll([
      {
        file: 'wrong-type',
        object: { apiVersion: 'core.openstack.org/v1beta1', kind: 'OpenStackVersion', metadata: { name: 'x', namespace: 'openstack' }, spec: { targetVersion: 18 } } as KubernetesObject,
      },
      {
        file: 'unknown-field',
        object: {
          apiVersion: 'dataplane.openstack.org/v1beta1',
          kind: 'OpenStackDataPlaneDeployment',
          metadata: { name: 'edpm-x', namespace: 'openstack' },
          spec: { nodeSets: ['compute-a'], notAField: true },
        } as KubernetesObject,
      },
      {
        file: 'unknown-field-of-a-built-in-kind',
        object: { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'sa', namespace: 'openstack' }, automountServiceAccountTokn: false } as KubernetesObject,
      },
      {
        file: 'bad-name',
        object: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'Not_RFC1123', namespace: 'openstack' } },
      },
    ]);
    expect(refusals).toHaveLength(4);
    expect(refusals[0]).toMatch(/targetVersion/);
    expect(refusals[1]).toMatch(/unknown field "spec.notAField"/);
    expect(refusals[2]).toMatch(/unknown field "automountServiceAccountTokn"/);
    expect(refusals[3]).toMatch(/RFC 1123/);
  });
});
