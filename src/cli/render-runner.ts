/** `osv-gitops render-runner`: the manifests that run `advance` (or `watch`) inside the cluster. */
import { resolve } from 'node:path';
import { Option, type Command } from 'commander';
import { parseAgentFlag } from '../cluster/read.js';
import { OsvError } from '../errors.js';
import { ensureFolder, replaceOwnedFolder, safeRelativePath } from '../fs/contained.js';
import { RUNNER_DEFAULTS, runnerFiles, runnerManifests, runnerYaml, type RunnerKind, type RunnerOptions } from '../runner/manifests.js';
import { parseCronSchedule } from '../runner/schedule.js';
import { parseGitRef, parseImageReference, parseName, parseNamespace, parseRepoUrl } from '../validate/grammar.js';
import { quoteInput } from '../validate/quote.js';
import type { CliIo } from './io.js';
import { stableJson } from './plan.js';

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
  readonly path?: string;
  readonly engine?: string;
  readonly agent?: string;
  readonly csvNamespace?: string;
  readonly out?: string;
  readonly json?: boolean;
}

/** The folder `--out` gets; replaced whole on every run. */
export const RUNNER_FOLDER = 'osv-gitops-runner';

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
  const engine = f.engine ?? (f.agent?.startsWith('argocd:') ? 'argocd' : 'flux');
  if (engine !== 'flux' && engine !== 'argocd' && engine !== 'plain') throw new OsvError('USAGE', `--engine must be flux, argocd or plain, not ${quoteInput(engine)}`);
  const agentFlag = required(f.agent, '--agent', 'The agent object whose applied revision counts: flux:NS/NAME, argocd:NS/NAME, or none.');
  const agent = parseAgentFlag(agentFlag, engine === 'plain' ? undefined : engine);
  if (agent !== 'none') {
    parseNamespace(agent.namespace, '--agent namespace');
    parseName(agent.name, 'object', '--agent name');
  }
  const csv = f.csvNamespace ?? RUNNER_DEFAULTS.csvNamespace;
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
    ...(f.path !== undefined ? { path: safeRelativePath('--path', f.path) } : {}),
    engine,
    agent,
    ...(csv !== 'none' ? { csvNamespace: parseNamespace(csv, '--csv-namespace') } : {}),
  };
}

const HELP_AFTER = `
What it renders (namespace objects in the OpenStack namespace unless said otherwise):
  ServiceAccount   the runner's identity
  ConfigMap        Git's configuration: committer, and how Git reads the credentials from the Secret
  Role/RoleBinding get, list, watch on OpenStackVersion, OpenStackControlPlane, nodesets and deployments;
                   create on events. A second Role in the agent's namespace reads only the --agent object
                   (by name); a third in --csv-namespace reads ClusterServiceVersions. Nothing else:
                   no Secrets, no writes to OpenStack objects (advance changes the cluster through Git).
  CronJob          (default) every --schedule: clone the branch, run advance once, exit. advance keeps no
                   local state, so a fresh clone each time is enough; concurrencyPolicy Forbid. "waiting"
                   (exit 3) counts as a successful Job; a failed gate fails the Job.
  Deployment       (--kind deployment) clone once, then watch: one step per cluster change. The pod ends
                   (and is restarted) when the update is done or a gate failed; delete it when done.

Before applying:
  1. Commit the plan (osv-gitops plan ... --output plan.json) into the repository; --plan is its path there.
  2. Create the Git Secret yourself (it is never rendered), with Flux's key names:
       https:  oc create secret generic osv-gitops-git -n openstack --from-literal=username=bot --from-literal=password=<token>
       ssh:    oc create secret generic osv-gitops-git -n openstack --from-file=identity=id_ed25519 --from-file=known_hosts
     The token must be able to push to --branch.
  3. Build the image from the Containerfile of osv-gitops and push it where the cluster can pull it.

The pod runs under OpenShift's restricted-v2 SCC and Pod Security "restricted": no fixed user or group,
non-root, read-only root file system (emptyDir for /tmp and the clone), no privilege escalation, all
capabilities dropped, seccomp RuntimeDefault.

Output: YAML on stdout (kubectl apply -f -); --json prints the objects as a JSON List; --out DIR writes
DIR/${RUNNER_FOLDER}/ (one file per object and a kustomization.yaml), replacing that folder whole.

Examples:
  osv-gitops render-runner --image quay.io/example/osv-gitops:0.1.0 \\
    --repo-url https://git.example.com/ops/openstack.git --git-secret osv-gitops-git \\
    --plan updates/plan.json --agent flux:flux-system/openstack | oc apply -f -
  osv-gitops render-runner --kind deployment --image quay.io/example/osv-gitops:0.1.0 \\
    --repo-url git@git.example.com:ops/openstack.git --git-secret osv-gitops-git --plan plan.json \\
    --controlplane openstack/controlplane.yaml --nodesets openstack/nodesets \\
    --agent argocd:openshift-gitops/openstack --out clusters/prod
`;

export function registerRenderRunner(program: Command, io: CliIo, _setExit: (code: number) => void): void {
  program
    .command('render-runner')
    .summary('render the manifests that run advance in the cluster (CronJob or Deployment, least-privilege RBAC)')
    .description(
      'Render what it takes to run `osv-gitops advance` inside the cluster instead of on a workstation: a ' +
        'CronJob (or a Deployment running `watch`), its ServiceAccount, least-privilege Roles for exactly the ' +
        'objects advance reads, and a Git configuration that takes credentials from an existing Secret by name. ' +
        'Nothing is applied and no secret is rendered; the same flags give the same output.',
    )
    .addOption(new Option('--kind <kind>', 'cronjob (advance every --schedule) or deployment (watch)').default('cronjob'))
    .option('--namespace <ns>', 'namespace of the OpenStack objects; the runner lives there', 'openstack')
    .option('--name <name>', 'name of every runner object', RUNNER_DEFAULTS.name)
    .option('--image <image>', 'the runner image (built from the Containerfile of osv-gitops)')
    .option('--repo-url <url>', 'the GitOps repository to clone and push (https, ssh or scp form; no credentials in it)')
    .option('--branch <name>', 'branch the agent follows; the runner commits there', RUNNER_DEFAULTS.branch)
    .option('--git-secret <name>', 'Secret in the namespace with the Git credentials (username/password or identity/known_hosts)')
    .option('--schedule <cron>', `CronJob schedule (default: "${RUNNER_DEFAULTS.schedule}")`)
    .option('--plan <path>', 'the saved plan, as a path inside the repository')
    .option('--controlplane <path>', 'advance --controlplane, a path inside the repository (carried through; advance refuses it as SECOND_OWNER when the repository already applies that object)')
    .option('--nodesets <path>', 'advance --nodesets, a path inside the repository (carried through; the same rule)')
    .option('--path <dir>', 'advance --path: folder of the repository osv-gitops owns (default: advance\'s own)')
    .option('--engine <engine>', 'advance --engine: flux, argocd or plain (default: from --agent)')
    .option('--agent <ref>', 'the agent object whose applied revision counts: flux:NS/NAME, argocd:NS/NAME or none')
    .option('--csv-namespace <ns>', "namespace of the operator's ClusterServiceVersion, or none", RUNNER_DEFAULTS.csvNamespace)
    .option('--out <dir>', `write DIR/${RUNNER_FOLDER}/ instead of printing`)
    .option('--json', 'print JSON (the objects as a List; with --out, the files written)')
    .addHelpText('after', HELP_AFTER)
    .action((flags: RenderRunnerFlags) => {
      const options = runnerOptions(flags);
      if (flags.out === undefined) {
        io.stdout(flags.json ? stableJson({ apiVersion: 'v1', kind: 'List', items: runnerManifests(options) }) : runnerYaml(options));
        return;
      }
      const root = ensureFolder(resolve(io.cwd, flags.out), '--out');
      const files = runnerFiles(options, RUNNER_FOLDER);
      replaceOwnedFolder(root, RUNNER_FOLDER, files, '--out');
      const written = files.map((f) => f.path);
      io.stdout(flags.json ? stableJson({ out: flags.out, files: written }) : `wrote ${written.length} files to ${flags.out}/${RUNNER_FOLDER}/\n${written.map((p) => `  ${p}`).join('\n')}\n`);
    });
}
