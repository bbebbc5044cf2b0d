/** `osv-gitops render-runner`: the manifests that run `advance` (or `watch`) inside the cluster. */
import { resolve } from 'node:path';
import { ENGINES, isEngine, listed, withAgentObject } from '../agents/index.js';
import { RUNNER_DEFAULTS } from '../runner/defaults.js';
import { parseAgentFlag } from '../cluster/read.js';
import { OsvError } from '../errors.js';
import { ensureFolder, replaceOwnedFolder, safeRelativePath } from '../fs/contained.js';
import { runnerFiles, runnerManifests, runnerYaml, type RunnerKind, type RunnerOptions } from '../runner/manifests.js';
import { parseCronSchedule } from '../runner/schedule.js';
import { parseGitRef, parseImageReference, parseName, parseNamespace, parseRepoUrl } from '../validate/grammar.js';
import { quoteInput } from '../validate/quote.js';
import type { CliIo } from './io.js';
import { stableJson } from './io.js';
import { RUNNER_FOLDER } from './options.js';

export { RUNNER_FOLDER };

export interface RenderRunnerFlags {
  readonly kind?: string;
  readonly namespace?: string;
  readonly name?: string;
  readonly image?: string;
  readonly repoUrl?: string;
  readonly branch?: string;
  readonly gitSecret?: string;
  readonly schedule?: string;
  readonly plan?: string;
  readonly controlplane?: string;
  readonly nodesets?: string;
  readonly versionFile?: string;
  readonly deploymentsDir?: string;
  readonly appPath?: string;
  readonly path?: string;
  readonly engine?: string;
  readonly agent?: string;
  readonly csvNamespace?: string;
  readonly subscription?: string;
  readonly approveInstallplan?: boolean;
  readonly out?: string;
  readonly json?: boolean;
}

function required(value: string | undefined, flag: string, hint: string): string {
  if (value === undefined || value === '') throw new OsvError('USAGE', `missing ${flag}`, { hint });
  return value;
}

/** Every flag checked against its grammar, before anything is rendered or written. */
export function runnerOptions(f: RenderRunnerFlags): RunnerOptions {
  const kind = (f.kind ?? 'cronjob') as RunnerKind;
  if (kind !== 'cronjob' && kind !== 'deployment') throw new OsvError('USAGE', `--kind must be cronjob or deployment, not ${quoteInput(String(f.kind))}`);
  if (kind === 'deployment' && f.schedule !== undefined) throw new OsvError('USAGE', '--schedule is for --kind cronjob; a Deployment runs watch continuously');
  const namespace = parseNamespace(f.namespace ?? 'openstack', '--namespace');
  const name = parseName(f.name ?? RUNNER_DEFAULTS.name, 'namespace', '--name');
  // a CronJob's name gets an 11-character suffix in its Jobs' names, which stop at 63
  if (kind === 'cronjob' && name.length > 52) throw new OsvError('NAME_INVALID', `--name ${quoteInput(name)} is ${name.length} characters long; a CronJob's name stops at 52`);
  const image = parseImageReference(required(f.image, '--image', 'The runner image, built from the Containerfile of osv-gitops, e.g. quay.io/example/osv-gitops:0.1.0.'), '--image');
  const repoUrl = parseRepoUrl(required(f.repoUrl, '--repo-url', 'The URL of your GitOps repository, as the runner clones and pushes it.'));
  const branch = parseGitRef(f.branch ?? RUNNER_DEFAULTS.branch, '--branch');
  const gitSecret = parseName(required(f.gitSecret, '--git-secret', 'The name of a Secret in the namespace with username/password (https) or identity/known_hosts (ssh).'), 'object', '--git-secret');
  const schedule = parseCronSchedule(f.schedule ?? RUNNER_DEFAULTS.schedule);
  const plan = safeRelativePath('--plan', required(f.plan, '--plan', 'The plan saved with `osv-gitops plan --output` and committed, as a path inside the repository.'));
  // without --engine, the one --agent names (argocd:NS/NAME), else flux
  const named = f.agent?.includes(':') ? f.agent.slice(0, f.agent.indexOf(':')) : undefined;
  const engine = f.engine ?? (named !== undefined && isEngine(named) ? named : 'flux');
  if (!isEngine(engine)) throw new OsvError('USAGE', `--engine must be ${listed(ENGINES)}, not ${quoteInput(engine)}`);
  const agentFlag = required(f.agent, '--agent', 'The agent object whose applied revision counts: flux:NS/NAME, argocd:NS/NAME, or none.');
  const agent = parseAgentFlag(agentFlag, withAgentObject(engine));
  if (agent !== 'none') {
    parseNamespace(agent.namespace, '--agent namespace');
    parseName(agent.name, 'object', '--agent name');
  }
  if (f.deploymentsDir !== undefined && f.versionFile === undefined && f.appPath === undefined) throw new OsvError('USAGE', '--deployments-dir goes with --version-file or --app-path');
  const csv = f.csvNamespace ?? RUNNER_DEFAULTS.csvNamespace;
  if (f.approveInstallplan && f.subscription === undefined) throw new OsvError('USAGE', '--approve-installplan goes with --subscription: only phase 0 approves an InstallPlan');
  if (f.subscription !== undefined && csv === 'none') {
    throw new OsvError('USAGE', '--subscription needs --csv-namespace: phase 0 reads the InstallPlans and the CSV in the operator namespace', { hint: "Pass the Subscription's namespace (default: openstack-operators)." });
  }
  return {
    kind,
    namespace,
    name,
    image,
    repoUrl,
    branch,
    gitSecret,
    schedule,
    plan,
    ...(f.controlplane !== undefined ? { controlplane: safeRelativePath('--controlplane', f.controlplane) } : {}),
    ...(f.nodesets !== undefined ? { nodesets: safeRelativePath('--nodesets', f.nodesets) } : {}),
    ...(f.versionFile !== undefined ? { versionFile: safeRelativePath('--version-file', f.versionFile) } : {}),
    ...(f.deploymentsDir !== undefined ? { deploymentsDir: safeRelativePath('--deployments-dir', f.deploymentsDir) } : {}),
    ...(f.appPath !== undefined ? { appPath: safeRelativePath('--app-path', f.appPath, { allowRoot: true }) } : {}),
    ...(f.path !== undefined ? { path: safeRelativePath('--path', f.path) } : {}),
    engine,
    agent,
    ...(csv !== 'none' ? { csvNamespace: parseNamespace(csv, '--csv-namespace') } : {}),
    ...(f.subscription !== undefined ? { subscription: safeRelativePath('--subscription', f.subscription) } : {}),
    ...(f.approveInstallplan ? { approveInstallPlan: true } : {}),
  };
}

/** The action of `osv-gitops render-runner` (its flags and help are registered in commands.ts). */
export async function renderRunnerAction(flags: RenderRunnerFlags, io: CliIo, _setExit: (code: number) => void): Promise<void> {
  const options = runnerOptions(flags);
  if (flags.out === undefined) {
    io.stdout(flags.json ? stableJson({ apiVersion: 'v1', kind: 'List', items: runnerManifests(options) }) : runnerYaml(options));
    return;
  }
  const root = ensureFolder(resolve(io.cwd, flags.out), '--out');
  const files = runnerFiles(options, RUNNER_FOLDER);
  const written = replaceOwnedFolder(root, RUNNER_FOLDER, files, '--out');
  const paths = files.map((f) => f.path);
  const folder = `${flags.out}/${RUNNER_FOLDER}/`;
  const said = written ? `wrote ${paths.length} files to ${folder}` : `${folder} already holds these ${paths.length} files: nothing written`;
  io.stdout(flags.json ? stableJson({ out: flags.out, files: paths, unchanged: !written }) : `${said}\n${paths.map((p) => `  ${p}`).join('\n')}\n`);
}
