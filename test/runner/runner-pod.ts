/**
 * What the runner tests on the real API server do the way the rendered pod does, written once:
 * apply the rendered manifests as admin, get a TokenRequest token for the rendered ServiceAccount,
 * take the rendered Git configuration as the pod's `GIT_CONFIG_GLOBAL`, and run one "CronJob tick"
 * (the init container's clone into an empty folder, then the container's own arguments).
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CoreV1Api, type KubeConfig } from '@kubernetes/client-node';
import { expect } from 'vitest';
import { gitConfig, RUNNER_PATHS, runnerManifests, type RunnerOptions } from '../../src/runner/manifests.js';
import { kubeRequest, statusMessage } from '../e2e-real/harness.js';
import { runCli, type CliResult } from '../helpers/cli.js';
import { stableJson } from '../../src/cli/plan.js';
import type { UpdatePlan } from '../../src/plan/types.js';

/** The repository URL the tests render into the runner; a tick clones the test's bare repository instead. */
export const RUNNER_REPO_URL = 'https://git.example.com/ops/openstack.git';

const PLURALS: Record<string, string> = { ServiceAccount: 'serviceaccounts', ConfigMap: 'configmaps', Role: 'roles', RoleBinding: 'rolebindings', CronJob: 'cronjobs', Deployment: 'deployments' };
const IDENTITY = ['GIT_AUTHOR_NAME', 'GIT_AUTHOR_EMAIL', 'GIT_COMMITTER_NAME', 'GIT_COMMITTER_EMAIL', 'GIT_CONFIG_GLOBAL'];

/**
 * What the user commits before applying the runner: the saved plan at `inputs/plan.json` (a copy of
 * the control plane or nodesets would be a second owner of them, which advance refuses).
 */
export function commitSavedPlan(repo: { readonly work: string; readonly branch: string }, plan: UpdatePlan): void {
  mkdirSync(join(repo.work, 'inputs'), { recursive: true });
  writeFileSync(join(repo.work, 'inputs', 'plan.json'), stableJson(plan));
  const git = (...args: string[]) => execFileSync('git', args, { cwd: repo.work, env: { ...process.env, GIT_CONFIG_NOSYSTEM: '1' }, stdio: 'ignore' });
  git('add', 'inputs');
  git('commit', '--quiet', '-m', 'osv-gitops: the approved plan');
  git('push', '--quiet', 'origin', repo.branch);
}

/** Creates every rendered manifest as admin, with strict field validation (an unknown field fails). */
export async function applyRunnerManifests(admin: KubeConfig, options: RunnerOptions): Promise<void> {
  for (const m of runnerManifests(options)) {
    const md = m['metadata'] as { namespace: string };
    const apiVersion = String(m['apiVersion']);
    const api = apiVersion.includes('/') ? `/apis/${apiVersion}` : `/api/${apiVersion}`;
    const res = await kubeRequest(admin, 'POST', `${api}/namespaces/${md.namespace}/${PLURALS[String(m['kind'])]}?fieldValidation=Strict`, m);
    expect(res.status, statusMessage(res.body)).toBe(201);
  }
}

/** A kubeconfig file (mode 0600, in `dir`) holding a TokenRequest token of the rendered ServiceAccount. */
export async function runnerTokenKubeconfig(admin: KubeConfig, adminKubeconfigYaml: string, options: RunnerOptions, dir: string): Promise<string> {
  const token = await admin.makeApiClient(CoreV1Api).createNamespacedServiceAccountToken({
    name: options.name,
    namespace: options.namespace,
    body: { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', spec: { audiences: [], expirationSeconds: 3600 } },
  });
  const kc = JSON.parse(adminKubeconfigYaml) as { users: { user: { token: string } }[] };
  kc.users[0]!.user.token = token.status?.token ?? '';
  expect(kc.users[0]!.user.token).not.toBe('');
  const file = join(dir, `kubeconfig-${options.name}`);
  writeFileSync(file, JSON.stringify(kc), { mode: 0o600 });
  return file;
}

/**
 * The pod's Git identity: the rendered configuration as `GIT_CONFIG_GLOBAL` (the committer comes
 * from it) and no identity from the environment. Returns what puts the environment back.
 */
export function usePodGitConfig(options: RunnerOptions, dir: string): () => void {
  const saved = Object.fromEntries(IDENTITY.map((k) => [k, process.env[k]]));
  const cfg = join(dir, 'gitconfig');
  writeFileSync(cfg, gitConfig(options));
  for (const k of IDENTITY) delete process.env[k];
  process.env['GIT_CONFIG_GLOBAL'] = cfg;
  return () => {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  };
}

export interface PodTick {
  /** The init container's command (`git clone …`). */
  readonly clone: readonly string[];
  /** The container's arguments (`advance …` or `watch …`). */
  readonly args: readonly string[];
  /** The URL the tick clones in place of the rendered one. */
  readonly bareUrl: string;
  readonly kubeconfig: string;
  /** A new, empty folder: the pod's /workspace. */
  readonly workspace: string;
  readonly extraArgs?: readonly string[];
  /** Keep the workspace afterwards. @default false */
  readonly keep?: boolean;
}

/** One run of the rendered pod: clone into an empty workspace, then the container's command. */
export async function runPodTick(tick: PodTick): Promise<CliResult> {
  mkdirSync(tick.workspace);
  const repoDir = join(tick.workspace, 'repo');
  const inPod = (a: string) => (a === RUNNER_REPO_URL ? tick.bareUrl : a === RUNNER_PATHS.repo ? repoDir : a);
  execFileSync('git', tick.clone.slice(1).map(inPod), { env: { ...process.env, GIT_CONFIG_NOSYSTEM: '1' } });
  const result = await runCli([...tick.args.map(inPod), '--kubeconfig', tick.kubeconfig, ...(tick.extraArgs ?? [])], repoDir);
  if (!tick.keep) rmSync(tick.workspace, { recursive: true, force: true });
  return result;
}
