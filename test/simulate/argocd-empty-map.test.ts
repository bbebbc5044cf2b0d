/**
 * The simulated Argo CD must not be more lenient than the real one: a Job with
 * `spec.template.metadata.labels: {}` whose labels the API server filled in is never Synced
 * (real Argo CD v3.2: OutOfSync forever; v3.6: the template is immutable). The rehearsal API
 * server fills those labels as the real Job strategy does and keeps the template immutable.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { loadUpdate } from '../../src/cli/inputs.js';
import { renderDirectories } from '../../src/render/render.js';
import { containsDesired } from '../../src/simulate/agent/common.js';
import { KubeClient, type KubeObject } from '../../src/simulate/agent/kube.js';
import { startRehearsalApiServer, type RehearsalApiServer } from '../../src/simulate/apiserver/server.js';
import { rehearsalTimeScale } from '../../src/simulate/rehearsal.js';

const inputs = loadUpdate({ example: true }, { cwd: process.cwd(), stdout: () => {}, stderr: () => {}, color: false });
const [job] = renderDirectories(inputs, { engine: 'argocd', argo: { repoURL: 'https://git.example.com/ops/openstack.git' } })
  .filter((f) => /\/job-[^/]+\.yaml$/.test(f.path))
  .map((f) => parseAllDocuments(f.content)[0]!.toJS() as KubeObject & { spec: { template: Record<string, unknown> } });

describe('simulated Argo CD against API server defaulting', () => {
  let server: RehearsalApiServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  it('sees the Job with an empty labels map OutOfSync, the rendered Job Synced, and refuses a template change', async () => {
    server = await startRehearsalApiServer({ namespaces: ['openstack'] });
    const kube = new KubeClient(server.kubeconfig('openstack'));
    const withEmpty = structuredClone({ ...job!, metadata: { ...job!.metadata, name: 'old-gate' } });
    withEmpty.spec.template = { ...withEmpty.spec.template, metadata: { labels: {} } };

    for (const desired of [job!, withEmpty]) await kube.apply(desired, 'argocd-controller');
    const live = await kube.get('batch/v1', 'Job', 'openstack', job!.metadata.name);
    const liveOld = await kube.get('batch/v1', 'Job', 'openstack', 'old-gate');
    // the API server's Job strategy filled in the pod template labels and the selector
    const labels = (liveOld!['spec'] as { template: { metadata: { labels: Record<string, string> } } }).template.metadata.labels;
    expect(labels['batch.kubernetes.io/job-name']).toBe('old-gate');
    expect(labels['controller-uid']).toBe(liveOld!.metadata['uid']);

    expect(containsDesired(job, live)).toBe(true);
    expect(containsDesired(withEmpty, liveOld)).toBe(false);
    // an empty map still equals an absent one
    expect(containsDesired({ a: {} }, {})).toBe(true);

    // re-applying the rendered Job changes nothing; a different pod template is refused
    await kube.apply(job!, 'argocd-controller');
    const changed = structuredClone(job!) as KubeObject & { spec: { template: { spec: { containers: { image: string }[] } } } };
    changed.spec.template.spec.containers[0]!.image = 'quay.io/example/other:1';
    await expect(kube.apply(changed, 'argocd-controller')).rejects.toThrow(/spec\.template.*immutable/);
  });
});

describe('rehearsal time scale', () => {
  it('scales with the step: a slower step stretches every deadline', () => {
    expect(rehearsalTimeScale(60)).toBe(1000);
    expect(rehearsalTimeScale(150)).toBe(400);
    // the data-plane gate's 8 h at the default step and at a ten times slower one
    expect((8 * 3600 * 1000) / rehearsalTimeScale(150)).toBe(72_000);
    expect((8 * 3600 * 1000) / rehearsalTimeScale(1500)).toBe(720_000);
  });
});
