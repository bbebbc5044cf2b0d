/**
 * The gate Jobs' pod template passes Pod Security `restricted` on the real kube-apiserver: a
 * server-side dry run of a Pod with the Job's template, in a namespace that enforces
 * `restricted`. The OpenShift GitOps profile (no fixed UID, for the restricted-v2 SCC) and the
 * plain Argo CD profile (UID 65532) both, and Flux's phase 0 approval Job (no fixed UID); a
 * template without those settings is refused, so the namespace does enforce.
 */
import { KubeConfig } from '@kubernetes/client-node';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { join } from 'node:path';
import { exampleDir, loadUpdate } from '../../src/cli/inputs.js';
import { EXAMPLE_SUBSCRIPTION } from '../../src/cli/simulate.js';
import { renderDirectories, type ArgoProfile } from '../../src/render/render.js';
import { describeRealCluster } from './describe-real.js';
import { kubeRequest, startRealCluster, statusMessage, type RealCluster } from './harness.js';

const NS = 'osv-restricted';
const io = { cwd: process.cwd(), stdout: () => {}, stderr: () => {}, color: false };
const inputs = loadUpdate({ example: true }, io);

interface JobShape {
  metadata: { name: string };
  spec: { template: { spec: Record<string, unknown> & { containers: Record<string, unknown>[] } } };
}

function gateJobs(profile: ArgoProfile): JobShape[] {
  return renderDirectories(inputs, { engine: 'argocd', argo: { repoURL: 'https://git.example.com/ops/openstack.git', profile } })
    .filter((f) => /\/job-[^/]+\.yaml$/.test(f.path))
    .map((f) => parseAllDocuments(f.content)[0]!.toJS() as JobShape);
}

/** Flux's phase 0 approval Job (no fixed UID: OpenShift's restricted-v2 assigns one). */
function fluxApprovalJob(): JobShape {
  const phase0 = loadUpdate({ example: true, subscription: join(exampleDir(), EXAMPLE_SUBSCRIPTION) }, io);
  const jobs = renderDirectories(phase0, { engine: 'flux' })
    .filter((f) => /\/00-operator\/job-[^/]+\.yaml$/.test(f.path))
    .map((f) => parseAllDocuments(f.content)[0]!.toJS() as JobShape);
  expect(jobs).toHaveLength(1);
  return jobs[0]!;
}

describeRealCluster('gate Jobs under Pod Security restricted (real API server)', () => {
  let cluster: RealCluster | undefined;
  let kc: KubeConfig;
  beforeAll(async () => {
    cluster = await startRealCluster({ crds: [] });
    kc = new KubeConfig();
    kc.loadFromString(cluster.kubeconfigYaml);
    const ns = await kubeRequest(kc, 'POST', '/api/v1/namespaces', {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: NS, labels: { 'pod-security.kubernetes.io/enforce': 'restricted', 'pod-security.kubernetes.io/enforce-version': 'latest' } },
    });
    expect(ns.status, statusMessage(ns.body)).toBe(201);
    // the Jobs run as this account; the ServiceAccount admission plugin looks it up
    const sa = await kubeRequest(kc, 'POST', `/api/v1/namespaces/${NS}/serviceaccounts`, { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'osv-gitops-gate' } });
    expect(sa.status, statusMessage(sa.body)).toBe(201);
    const approver = await kubeRequest(kc, 'POST', `/api/v1/namespaces/${NS}/serviceaccounts`, { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'osv-gitops-olm-approve' } });
    expect(approver.status, statusMessage(approver.body)).toBe(201);
  }, 180_000);
  afterAll(async () => {
    await cluster?.stop();
  });

  const dryRunPod = (name: string, spec: Record<string, unknown>) =>
    kubeRequest(kc, 'POST', `/api/v1/namespaces/${NS}/pods?dryRun=All&fieldValidation=Strict`, { apiVersion: 'v1', kind: 'Pod', metadata: { name }, spec });

  for (const profile of ['openshift-gitops', 'argocd'] as const) {
    it(`${profile}: every gate Job's pod template is admitted`, async () => {
      const jobs = gateJobs(profile);
      expect(jobs.length).toBeGreaterThan(3);
      for (const job of jobs) {
        const res = await dryRunPod(job.metadata.name, job.spec.template.spec);
        expect(res.status, `${job.metadata.name}: ${statusMessage(res.body)}`).toBe(201);
      }
    });
  }

  it("flux: phase 0's approval Job pod template is admitted", async () => {
    const job = fluxApprovalJob();
    expect(job.spec.template.spec['serviceAccountName']).toBe('osv-gitops-olm-approve');
    const res = await dryRunPod(job.metadata.name, job.spec.template.spec);
    expect(res.status, `${job.metadata.name}: ${statusMessage(res.body)}`).toBe(201);
  });

  it('refuses the template without the restricted settings (the namespace enforces)', async () => {
    const spec = structuredClone(gateJobs('openshift-gitops')[0]!.spec.template.spec);
    spec.containers[0]!['securityContext'] = { readOnlyRootFilesystem: true };
    const res = await dryRunPod('loose', spec);
    expect(res.status).toBe(403);
    expect(statusMessage(res.body)).toMatch(/violates PodSecurity "restricted/);
  });
});
