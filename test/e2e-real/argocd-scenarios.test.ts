/**
 * The commits mode against the real Argo CD (v3.2.11), beyond the complete update of
 * argocd-real.test.ts: `advance` reads the real Application (status.sync.revision, reconciledAt,
 * operationState) through the cluster watcher, and each scenario shows what it does when
 *
 * - the process dies at every step (before reading, after committing and before pushing): one
 *   commit per phase in the end, none twice;
 * - Argo CD is behind our commit (automated sync switched off after the first phase): advance
 *   waits on the new phase, whatever the Application says about the old revision, and moves on once
 *   syncing is switched back on;
 * - the API server refuses a phase (a ValidatingAdmissionPolicy denies the data-plane deployment):
 *   Argo CD retries the sync (automated syncs: 5 retries by default; 2 here), the operation Running
 *   with the cause between attempts, then Failed; advance waits with the cause, then stops there;
 * - the user's own Application (from another repository: in ours advance refuses a second owner)
 *   already applies the same OpenStackVersion: advance reads the live tracking mark and refuses
 *   before its first commit (two Applications with selfHeal flipped spec.targetVersion 7–11 times).
 *
 * Each scenario prints its timings. The simulated Argo CD's outcome on the same scenarios is
 * tested in test/simulate/argocd-scenarios.test.ts.
 */
import { execFileSync } from 'node:child_process';
import { expect, it } from 'vitest';
import { advanceOnce, type AdvanceResult } from '../../src/advance/advance.js';
import { watchUpdate } from '../../src/advance/watch.js';
import { stringify } from 'yaml';
import { gitPhases, phaseTrailers } from '../e2e/scenarios.js';
import { rehearsalInputs } from '../helpers/rehearsal.js';
import { ARGOCD_NS, argoCdAvailability, createApp, isHealthy, mergePatchApp, secs } from './argocd.js';
import { recorded, startArgoCommits, type CommitsRun } from './argocd-commits.js';
import { describeRealCluster } from './describe-real.js';
import { kubeRequest, statusMessage } from './harness.js';

/** Each scenario's own limit; the work inside is bounded well below it. */
const LIMIT = 450_000;
/** The refused phase's sync retries (syncPolicy.retry.limit). */
const RETRIES = 2;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Step advance until `until` holds for a result or `ms` pass. */
async function stepUntil(run: CommitsRun, what: string, ms: number, until: (r: AdvanceResult) => boolean): Promise<AdvanceResult> {
  const deadline = Date.now() + ms;
  let last: AdvanceResult | undefined;
  for (;;) {
    last = await advanceOnce(run.inputs.update, run.advance);
    if (until(last)) return last;
    if (last.outcome === 'failed' || last.outcome === 'done') throw new Error(`${what}: advance ended ${last.outcome}: ${last.status.reason}`);
    if (Date.now() > deadline) throw new Error(`${what}: not after ${ms / 1000}s; advance: ${last.outcome} ${last.status.phase}: ${last.status.reason}\n${run.argo.logs(30)}`);
    await run.watcher.changed(1_000);
  }
}

describeRealCluster('real Argo CD: commits-mode scenarios', () => {
  const availability = argoCdAvailability();
  if (!availability.ok) {
    if (process.env['CI']) {
      it('has the Argo CD binary', () => {
        throw new Error(availability.reason);
      });
    } else {
      it.skip(`(skipped: ${availability.reason})`, () => {});
    }
    return;
  }

  it('converges with exactly one commit per phase when advance dies at every step', async () => {
    const started = Date.now();
    const run = await startArgoCommits();
    try {
      const plan = run.plan;
      // every third step dies before it reads the cluster; every phase's first commit dies before its push
      const crashes = ['before-read', 'none', 'none'] as const;
      const killed = new Map<string, number>();
      const diedAfter = new Set<string>();
      let last: AdvanceResult | undefined;
      let steps = 0;
      const deadline = Date.now() + 240_000;
      for (let step = 0; Date.now() < deadline; step++) {
        const crash = crashes[step % crashes.length]!;
        steps++;
        try {
          last = await advanceOnce(run.inputs.update, {
            ...run.advance,
            readSnapshot: async () => {
              if (crash === 'before-read') throw new Error('killed before reading');
              return run.advance.readSnapshot();
            },
            afterCommit: async () => {
              const phase = phaseTrailers(run.work, 'HEAD').at(-1) ?? '';
              if (!diedAfter.has(phase)) {
                diedAfter.add(phase);
                throw new Error('killed after commit, before push');
              }
            },
          });
        } catch (e) {
          const why = (e as Error).message;
          killed.set(why, (killed.get(why) ?? 0) + 1);
          continue;
        }
        if (last.outcome === 'done') break;
        expect(last.outcome, last.status.reason).not.toBe('failed');
        await run.watcher.changed(1_000);
      }
      expect(last?.outcome, `${last?.status.reason ?? ''}\n${run.argo.logs(30)}`).toBe('done');
      expect(killed.get('killed after commit, before push')).toBe(gitPhases(plan).length);
      expect(killed.get('killed before reading') ?? 0).toBeGreaterThan(0);
      // one commit per phase on the remote, and Argo CD synced each of them once
      expect(phaseTrailers(run.bare, 'main')).toEqual(gitPhases(plan));
      const revisions = [...new Set(run.recorder.seen.filter((s) => s.kind === 'Application' && s.name === run.app && s.operation === 'Succeeded').map((s) => s.operationRevision))];
      expect(revisions).toHaveLength(gitPhases(plan).length);
      console.info(
        `real Argo CD, a crash at every step: done in ${secs(Date.now() - started)}, ${steps} steps, killed ${[...killed].map(([w, n]) => `${n}× ${w}`).join(', ')}; ` +
          `${revisions.length} revisions synced, one per phase`,
      );
    } finally {
      await run.stop();
    }
  }, LIMIT);

  it('waits while Argo CD has not synced our commit (automated sync off), and moves on once it syncs', async () => {
    const started = Date.now();
    const run = await startArgoCommits({ watchKinds: ['OpenStackDataPlaneDeployment'] });
    try {
      const { kc, app, recorder } = run;
      const first = (await stepUntil(run, 'the first phase committed', 120_000, (r) => r.committed !== undefined)).committed!;
      await recorded(run, `Argo CD synced ${first.phase}`, 120_000, () => recorder.first('Application', app, (s) => s.operationRevision === first.sha && s.operation === 'Succeeded'));
      // the user (or an incident) switches automated sync off: Argo CD still compares, never syncs
      await mergePatchApp(kc, app, { spec: { syncPolicy: { automated: null } } });
      const pausedAt = run.now();
      const second = (await stepUntil(run, 'the second phase committed', 150_000, (r) => r.committed !== undefined)).committed!;
      // Argo CD compares the new commit: status.sync.revision is ours, OutOfSync; the last sync is the old one
      const compared = await recorded(run, `Argo CD compared ${second.phase}`, 60_000, () => recorder.first('Application', app, (s) => s.revision === second.sha));
      const waitUntil = Date.now() + 15_000;
      let waiting: AdvanceResult | undefined;
      while (Date.now() < waitUntil) {
        waiting = await advanceOnce(run.inputs.update, run.advance);
        expect(waiting.outcome, waiting.status.reason).toBe('waiting');
        expect(waiting.committed).toBeUndefined();
        await run.watcher.changed(1_000);
      }
      const behind = recorder.last('Application', app)!;
      expect(behind.revision).toBe(second.sha);
      expect(behind.sync).toBe('OutOfSync');
      expect(behind.operationRevision).toBe(first.sha);
      expect(behind.operation).toBe('Succeeded');
      // our gate: the agent check waits on the new phase, it does not take the compared revision as applied
      const gate = waiting!.status.gates.find((g) => g.id === second.phase)!;
      const agentCheck = gate.checks?.find((c) => c.check.kind === 'agent-applied');
      expect(waiting!.status.phase).toBe(second.phase);
      expect(agentCheck?.state, agentCheck?.detail).toBe('wait');
      expect(agentCheck?.detail).toMatch(/OutOfSync|does not contain/);
      expect(recorder.names('OpenStackDataPlaneDeployment')).toEqual([]);
      expect(phaseTrailers(run.bare, 'main')).toEqual(gitPhases(run.plan).slice(0, 2));

      // syncing back on: Argo CD syncs the waiting commit and advance goes on to the next phase
      await mergePatchApp(kc, app, { spec: { syncPolicy: { automated: { prune: false, selfHeal: true } } } });
      const resumedAt = run.now();
      const synced = await recorded(run, `Argo CD synced ${second.phase}`, 120_000, () => recorder.first('Application', app, (s) => s.operationRevision === second.sha && s.operation === 'Succeeded'));
      const third = (await stepUntil(run, 'the third phase committed', 150_000, (r) => r.committed !== undefined || r.outcome === 'done')).committed;
      expect(third?.phase ?? 'done').not.toBe(second.phase);
      const healthy = recorder.first('Application', app, (s) => s.revision === second.sha && isHealthy(s));
      expect(healthy).toBeDefined();
      console.info(
        `real Argo CD, agent behind: paused at ${secs(pausedAt)}; ${second.phase} committed, compared at ${secs(compared.atMs)} (OutOfSync, last sync ${first.sha.slice(0, 8)}); ` +
          `advance waited 15 s (${agentCheck?.detail ?? ''}); resumed at ${secs(resumedAt)}, synced at ${secs(synced.atMs)}, Healthy at ${secs(healthy!.atMs)}, ` +
          `next: ${third?.phase ?? 'done'} at ${secs(run.now())}; total ${secs(Date.now() - started)}`,
      );
    } finally {
      await run.stop();
    }
  }, LIMIT);

  it('stops with Argo CD’s cause when the API server refuses a phase’s manifests', async () => {
    const started = Date.now();
    const message = 'data-plane deployments are frozen by the change-window policy';
    const run = await startArgoCommits({
      watchKinds: ['OpenStackDataPlaneDeployment'],
      // the default (5 retries, 5 s doubling) takes over 5 minutes to give up
      retry: { limit: RETRIES, backoff: { duration: '2s', factor: 2, maxDuration: '10s' } },
      beforeArgo: async ({ kc }) => {
        const policy = {
          apiVersion: 'admissionregistration.k8s.io/v1',
          kind: 'ValidatingAdmissionPolicy',
          metadata: { name: 'freeze-dataplane' },
          spec: {
            failurePolicy: 'Fail',
            matchConstraints: { resourceRules: [{ apiGroups: ['dataplane.openstack.org'], apiVersions: ['*'], operations: ['CREATE'], resources: ['openstackdataplanedeployments'] }] },
            validations: [{ expression: 'false', message }],
          },
        };
        const binding = {
          apiVersion: 'admissionregistration.k8s.io/v1',
          kind: 'ValidatingAdmissionPolicyBinding',
          metadata: { name: 'freeze-dataplane' },
          spec: { policyName: 'freeze-dataplane', validationActions: ['Deny'] },
        };
        for (const [path, body] of [
          ['/apis/admissionregistration.k8s.io/v1/validatingadmissionpolicies', policy],
          ['/apis/admissionregistration.k8s.io/v1/validatingadmissionpolicybindings', binding],
        ] as const) {
          const res = await kubeRequest(kc, 'POST', path, body);
          if (res.status !== 201) throw new Error(`POST ${path}: HTTP ${res.status}: ${statusMessage(res.body)}`);
        }
      },
    });
    try {
      const { app, recorder } = run;
      const steps: string[] = [];
      const reasons: string[] = [];
      const result = await watchUpdate(
        run.inputs.update,
        { ...run.advance, nextChange: (ms) => run.watcher.changed(ms), idleMs: 1_000, timeoutMs: 200_000 },
        {
          onStep: (r) => {
            reasons.push(r.status.reason);
            steps.push(`${secs(Date.now() - started)} ${r.outcome} ${r.status.phase}: ${r.status.reason}`);
          },
        },
      );
      expect(result.end, `${steps.join('\n')}\n${run.argo.logs(30)}`).toBe('failed');
      const failedAt = run.now();
      const refused = result.commits.at(-1)!;
      // Argo CD: each attempt fails on the policy; between attempts the operation stays Running
      // ("Retrying attempt #N"), and it ends Failed once the retries are spent
      const retrying = recorder.first('Application', app, (s) => s.operation === 'Running' && /Retrying attempt #1/.test(s.operationMessage ?? ''));
      const failedSync = recorder.first('Application', app, (s) => s.operation === 'Failed');
      expect(retrying, steps.join('\n')).toBeDefined();
      expect(retrying!.operationMessage).toContain(message);
      expect(failedSync, steps.join('\n')).toBeDefined();
      expect(failedSync!.operationRevision).toBe(refused.sha);
      expect(failedSync!.operationMessage).toContain(message);
      expect(failedSync!.operationMessage).toContain(`(retried ${RETRIES} times)`);
      // advance waited with the cause while Argo CD retried, then stopped on the phase with it
      expect(reasons.some((r) => r.includes('Argo CD retries') && r.includes(message)), steps.join('\n')).toBe(true);
      expect(result.last?.phase).toBe(refused.phase);
      expect(result.last?.verdict).toBe('failed');
      expect(result.last?.reason).toContain(`Application ${ARGOCD_NS}/${app}: sync Failed`);
      expect(result.last?.reason).toContain(message);
      // nothing after it: no later commit, no deployment, and a second look still stops
      expect(phaseTrailers(run.bare, 'main')).toEqual(gitPhases(run.plan).slice(0, result.commits.length));
      await sleep(5_000);
      const again = await advanceOnce(run.inputs.update, run.advance);
      expect(again.outcome).toBe('failed');
      expect(again.committed).toBeUndefined();
      expect(recorder.names('OpenStackDataPlaneDeployment')).toEqual([]);
      console.info(
        `real Argo CD, refused phase: ${refused.phase} first attempt failed at ${secs(retrying!.atMs)}, sync Failed after ${RETRIES} retries at ${secs(failedSync!.atMs)}, ` +
          `advance stopped at ${secs(failedAt)} (total ${secs(Date.now() - started)}); reason: ${result.last?.reason ?? ''}`,
      );
    } finally {
      await run.stop();
    }
  }, LIMIT);

  it('refuses to commit when the user’s own Application already applies the OpenStackVersion', async () => {
    const started = Date.now();
    const user = 'user-openstack';
    const plan = rehearsalInputs('example', 'argocd', 'commits').update.plan;
    const userOsv = { apiVersion: 'core.openstack.org/v1beta1', kind: 'OpenStackVersion', metadata: { name: plan.openStackVersion, namespace: plan.namespace }, spec: { targetVersion: plan.versions.deployed } };
    const run = await startArgoCommits({
      watchKinds: ['OpenStackVersion'],
      // in a repository of its own: in ours, advance refuses to add a second owner (assertSingleOwner)
      otherRepoFiles: [{ path: 'cluster/openstackversion.yaml', content: stringify(userOsv) }],
      beforeArgo: async ({ kc, otherRepoURL }) => {
        await createApp(kc, {
          apiVersion: 'argoproj.io/v1alpha1',
          kind: 'Application',
          metadata: { name: user, namespace: ARGOCD_NS },
          spec: {
            project: 'default',
            source: { repoURL: otherRepoURL, path: 'cluster', targetRevision: 'main' },
            destination: { server: 'https://kubernetes.default.svc', namespace: plan.namespace },
            syncPolicy: { automated: { prune: false, selfHeal: true } },
          },
        });
      },
    });
    try {
      const { recorder } = run;
      // the user's Application has the object before the update starts, and marks it as its own
      await recorded(run, 'the user Application synced', 90_000, () => recorder.first('Application', user, (s) => s.operation === 'Succeeded'));
      await recorded(run, 'the OpenStackVersion tracked by the user Application', 60_000, () => recorder.first('OpenStackVersion', plan.openStackVersion, (s) => s.trackedBy?.split(':')[0] === user));
      // measured on v3.2.11 before this refusal existed: with our phase commits applied by a second
      // Application, selfHeal on both flipped spec.targetVersion 7–11 times in one update and each
      // Application carried a SharedResourceWarning. advance now reads the live tracking mark first.
      const tipBefore = execFileSync('git', ['-C', run.bare, 'rev-parse', 'main'], { encoding: 'utf8' });
      await expect(advanceOnce(run.inputs.update, run.advance)).rejects.toMatchObject({ code: 'SECOND_OWNER', message: expect.stringContaining(`Application ${user}`) });
      expect(execFileSync('git', ['-C', run.bare, 'rev-parse', 'main'], { encoding: 'utf8' })).toBe(tipBefore);
      expect(phaseTrailers(run.bare, 'main')).toEqual([]);
      // and the user's object was left alone: still the old version, never tracked by another Application
      const osv = recorder.seen.filter((s) => s.kind === 'OpenStackVersion');
      expect(new Set(osv.map((s) => s.targetVersion))).toEqual(new Set([plan.versions.deployed]));
      expect(osv.every((s) => s.trackedBy === undefined || s.trackedBy.split(':')[0] === user), JSON.stringify(osv)).toBe(true);
      console.info(`real Argo CD, the user's Application owns the OpenStackVersion: advance refused after ${secs(Date.now() - started)}`);
    } finally {
      await run.stop();
    }
  }, LIMIT);
});
