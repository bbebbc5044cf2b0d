// The simulated Argo CD judges an OLM Subscription (phase 0's folder holds one) with Argo CD's
// built-in check. Here that rule is held to Argo CD's own script, evaluated by gopher-lua set up as
// Argo CD sets it up (the Go helper): the script is read at test time from the argo-cd module of
// the version tools/argocd/go.mod pins (in Go's module cache, downloaded if missing), never copied here.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { subscriptionHealth } from '../../src/agents/argocd/rehearsal-health.js';
import type { KubeObject } from '../../src/simulate/agent/kube.js';
import { buildOracle, PROJECT_ROOT, runOracle } from './go-oracle.js';

/** Argo CD's own Subscription health script, from the module cache, or why it is not there. */
function argoSubscriptionScript(): { script: string } | { missing: string } {
  const pin = /github\.com\/argoproj\/argo-cd\/v3 (v[0-9][^\s]*)/.exec(readFileSync(join(PROJECT_ROOT, 'tools', 'argocd', 'go.mod'), 'utf8'));
  if (!pin) return { missing: 'tools/argocd/go.mod pins no argo-cd version' };
  let dir: string;
  try {
    // the module's folder in Go's cache; downloads it when the cache was emptied (a no-op otherwise)
    const out = execFileSync('go', ['mod', 'download', '-json', `github.com/argoproj/argo-cd/v3@${pin[1]}`], { cwd: PROJECT_ROOT, encoding: 'utf8', timeout: 600_000 });
    dir = (JSON.parse(out) as { Dir?: string }).Dir ?? '';
  } catch (e) {
    return { missing: `go mod download of argo-cd ${pin[1]} failed: ${e instanceof Error ? e.message.split('\n')[0] : String(e)}` };
  }
  const file = join(dir, 'resource_customizations', 'operators.coreos.com', 'Subscription', 'health.lua');
  return existsSync(file) ? { script: readFileSync(file, 'utf8') } : { missing: `argo-cd ${pin[1]} holds no Subscription health script` };
}

const condition = (type: string, status: string, reason?: string) => ({ type, status, ...(reason ? { reason } : {}) });

/** Subscription statuses OLM writes on the way (and some it writes when things go wrong). */
const STATUSES: Record<string, unknown> = {
  'no status': undefined,
  'status without conditions': { state: 'AtLatestKnown' },
  'no conditions yet, no state': { conditions: [] },
  'upgrade pending, plan waiting for approval': { state: 'UpgradePending', conditions: [condition('InstallPlanPending', 'True', 'RequiresApproval'), condition('CatalogSourcesUnhealthy', 'False', 'AllCatalogSourcesHealthy')] },
  'installing': { state: 'UpgradePending', conditions: [condition('InstallPlanPending', 'True', 'Installing')] },
  'at latest known': { state: 'AtLatestKnown', conditions: [condition('CatalogSourcesUnhealthy', 'False', 'AllCatalogSourcesHealthy')] },
  'at latest known, pending condition left False': { state: 'AtLatestKnown', conditions: [condition('InstallPlanPending', 'False')] },
  'upgrade available': { state: 'UpgradeAvailable', conditions: [] },
  'empty state': { state: '', conditions: [] },
  'upgrade failed': { state: 'UpgradeFailed', conditions: [condition('InstallPlanFailed', 'True', 'InstallComponentFailed')] },
  'plan failed, state still latest': { state: 'AtLatestKnown', conditions: [condition('InstallPlanFailed', 'True')] },
  'catalog unhealthy while pending': { state: 'UpgradePending', conditions: [condition('CatalogSourcesUnhealthy', 'True', 'UnhealthyCatalogSourceFound'), condition('InstallPlanPending', 'True')] },
  'resolution failed': { state: 'AtLatestKnown', conditions: [condition('ResolutionFailed', 'True', 'ConstraintsNotSatisfiable')] },
  'resolution failed False': { state: 'AtLatestKnown', conditions: [condition('ResolutionFailed', 'False')] },
  'plan missing (any status)': { state: 'AtLatestKnown', conditions: [condition('InstallPlanMissing', 'False', 'InstallPlanNotFound')] },
  'plan reference lost only': { state: 'AtLatestKnown', conditions: [condition('InstallPlanMissing', 'True', 'ReferencedInstallPlanNotFound')] },
  'unknown state text': { state: 'SomethingNew', conditions: [] },
};

const subscription = (status: unknown): KubeObject =>
  ({
    apiVersion: 'operators.coreos.com/v1alpha1',
    kind: 'Subscription',
    metadata: { name: 'openstack-operator', namespace: 'openstack-operators' },
    spec: { name: 'openstack-operator', channel: 'stable-v1.0', source: 'redhat-operators', sourceNamespace: 'openshift-marketplace' },
    ...(status === undefined ? {} : { status }),
  }) as KubeObject;

const real = argoSubscriptionScript();

describe("the simulated Argo CD's Subscription health agrees with Argo CD's built-in script", () => {
  if ('missing' in real) {
    // without the module the comparison cannot run; on CI the tools are built, so it must
    it.skipIf(!process.env['CI'])(`(skipped: ${real.missing})`, () => {
      throw new Error(real.missing);
    });
    return;
  }
  let verdicts: string[] = [];
  beforeAll(() => {
    buildOracle();
    verdicts = runOracle(Object.values(STATUSES).map((s) => ({ engine: 'lua' as const, script: real.script, object: subscription(s) }))).map((v) => v.error ?? v.status);
  }, 900_000);

  it.each(Object.keys(STATUSES).map((name, i) => [name, i] as const))('%s', (name, i) => {
    expect(subscriptionHealth(subscription(STATUSES[name])).status).toBe(verdicts[i]);
  });

  it('the statuses cover Healthy, Progressing and Degraded (the comparison is not vacuous)', () => {
    expect(new Set(verdicts)).toEqual(new Set(['Healthy', 'Progressing', 'Degraded']));
  });
});
