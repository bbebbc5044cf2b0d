/**
 * Every command's flags, description and help, registered eagerly (commander needs them for --help
 * and for its usage errors). Each action loads its implementation only when it runs, so that
 * `--version` and `--help` load almost nothing and `plan` never loads the Kubernetes client,
 * cdk8s, CEL or Lua: those take most of a second to import.
 */
import { Option, type Command } from 'commander';
import type { CliIo } from './io.js';
import { addAdvanceOptions, addAgentOptions, addClusterOptions, addInputOptions, addRepoOptions, collect, RUNNER_FOLDER, type AdvanceFlags } from './options.js';
import type { PlanFlags } from './plan.js';
import type { RenderFlags } from './render.js';
import type { CommitFlags } from './commit.js';
import type { CleanupFlags } from './cleanup.js';
import type { StatusFlags } from './status.js';
import type { WatchFlags } from './watch.js';
import type { SimulateFlags } from './simulate.js';
import type { RenderRunnerFlags } from './render-runner.js';
import { RUNNER_DEFAULTS } from '../runner/defaults.js';
import { addPullRequestOptions } from './pull-request-flags.js';

type SetExit = (code: number) => void;

export function registerCommands(program: Command, io: CliIo, setExit: SetExit): void {
  registerPlan(program, io, setExit);
  registerRender(program, io, setExit);
  registerCommit(program, io, setExit);
  registerCleanup(program, io, setExit);
  registerStatus(program, io, setExit);
  registerAdvance(program, io, setExit);
  registerWatch(program, io, setExit);
  registerSimulate(program, io, setExit);
  registerRenderRunner(program, io, setExit);
}

function registerPlan(program: Command, io: CliIo, setExit: SetExit): void {
  const cmd = program
    .command('plan')
    .summary('compute and check the update plan (no Git; the cluster only for --subscription without --csv)')
    .description(
      'Read the operator CSV and the OpenStackVersion, compute exactly the images the operator will deploy,\n' +
        'check that the update is allowed, and print the ordered phases with their gates and the image diff.',
    );
  addInputOptions(cmd, { savedPlan: false })
    .option('--json', 'print the plan as JSON on stdout')
    .option('--output <file>', 'write the plan as JSON to a file (render/commit read it with --plan)')
    .option('--all-images', 'list unchanged images too')
    .option('--kubeconfig <file>', 'with --subscription and no --csv/--installplan: read the InstallPlan OLM prepared from this cluster (default: $KUBECONFIG, ~/.kube/config)')
    .option('--context <name>', 'kubeconfig context for that read')
    .addHelpText(
      'after',
      '\nExamples:\n' +
        '  osv-gitops plan --example\n' +
        '  osv-gitops plan --csv csv.yaml --openstack-version osv.yaml --nodesets nodesets/ --controlplane cp.yaml\n' +
        '  osv-gitops plan --example --batch compute-b --update-system --output plan.json\n' +
        '  osv-gitops plan --openstack-version osv.yaml --subscription sub.yaml   # target CSV from the InstallPlan on the cluster\n' +
        '  osv-gitops plan --openstack-version osv.yaml --subscription sub.yaml --installplan installplan.yaml\n',
    )
    .action(async (flags: PlanFlags) => (await import('./plan.js')).planAction(flags, io, setExit));
}

function registerRender(program: Command, io: CliIo, setExit: SetExit): void {
  const cmd = program
    .command('render')
    .summary('write every phase as kustomize folders with the agent wiring (directories mode)')
    .description(
      'Render the update as updates/<version>/<NN>-<phase>/ folders, each the whole desired state at that\n' +
        'phase, plus Flux Kustomizations chained by dependsOn with CEL health checks, or Argo CD Applications\n' +
        'in sync waves with Lua health checks and gate Jobs. Commit the folder once; the agent runs the phases.',
    );
  addAgentOptions(addInputOptions(cmd, { savedPlan: true }))
    .option('--mode <mode>', 'directories (the commits mode is `osv-gitops commit`)', 'directories')
    .requiredOption('--out <dir>', 'output folder (updates/<version>/ is created inside and owned by osv-gitops)')
    .option('--json', 'print the list of written files as JSON')
    .addHelpText('after', '\nExamples:\n  osv-gitops render --example --engine flux --out gitops/\n  osv-gitops render --plan plan.json --controlplane cp.yaml --nodesets nodesets/ --engine argocd --repo-url https://git.example.com/ops.git --out .\n' +
        '  osv-gitops render --example --engine argocd --profile openshift-gitops --repo-url https://git.example.com/ops.git --gate-deadline dataplane=12h --out .\n')
    .action(async (flags: RenderFlags) => (await import('./render.js')).renderAction(flags, io, setExit));
}

function registerCommit(program: Command, io: CliIo, setExit: SetExit): void {
  const cmd = program
    .command('commit')
    .summary('write phases as ordered Git commits with trailers (commits mode)')
    .description(
      'Commit the next phase of the update (or up to --phase N, or --all) into a folder of your repository.\n' +
        'Each commit holds the whole desired state of its phase and carries the trailers Osv-Update-Target,\n' +
        'Osv-Update-Phase and Osv-Update-Plan; phases already committed are never committed again.',
    );
  addInputOptions(cmd, { savedPlan: true })
    .requiredOption('--repo <path>', 'the Git work tree of your GitOps repository')
    .option('--branch <name>', 'commit on this branch (created from HEAD when missing)')
    .option('--path <dir>', 'folder inside the repository that osv-gitops owns', 'openstack-update')
    .option('--engine <engine>', 'annotations for flux, argocd or plain', 'flux')
    .option('--push [remote]', 'push the branch afterwards (default remote: origin)')
    .option('--phase <n>', 'commit every pending phase up to this index')
    .option('--all', 'commit every pending phase (e.g. to review the whole update in one pull request)')
    .option('--date <iso>', 'author and committer date (reproducible commits)')
    .option('--version-file <path>', 'edit your own OpenStackVersion file in place (path inside the repository) instead of writing a copy')
    .option('--deployments-dir <dir>', 'with --version-file: folder inside the repository for the data-plane deployments (default: --path; with --app-path: <app-path>/openstack-updates)')
    .option('--app-path <dir>', 'the folder your agent builds with kustomize: find your OpenStackVersion file through its kustomization graph and edit it in place, deployments in <dir>/openstack-updates')
    .option('--branch-per-phase', 'one branch per phase, osv-update/<version>/<phase>, each on the previous one, for pull requests (--branch is their base)')
    .option('--pr-dir <dir>', 'with --branch-per-phase: write a pull-request description per branch to <dir>/<version>/<NN>-<phase>.md (keep it outside the repository)')
    .option('--no-verify', "skip your repository's pre-commit and commit-msg hooks (they run by default, on exactly what osv-gitops commits)")
    .option('--json', 'print what was committed as JSON (with --branch-per-phase: the pull-request titles and bodies too)')
    .addHelpText('after', '\nExamples:\n  osv-gitops commit --example --repo ../gitops --push\n  osv-gitops commit --plan plan.json --controlplane cp.yaml --nodesets nodesets/ --repo . --all\n' +
        '  osv-gitops commit --example --repo ../gitops --branch-per-phase --all --pr-dir ../prs --push\n' +
        '  osv-gitops commit --example --repo ../gitops --version-file clusters/prod/openstackversion.yaml --deployments-dir clusters/prod/updates\n')
    .action(async (flags: CommitFlags) => (await import('./commit.js')).commitAction(flags, io, setExit));
}

function registerCleanup(program: Command, io: CliIo, setExit: SetExit): void {
  const cmd = program
    .command('cleanup')
    .summary('retire a finished update: unwire its folder, remove its one-shot deployments (one commit)')
    .description(
      'After the last phase is committed, retire the update so the next one starts clean: the deployments folder\n' +
        'leaves the kustomization that lists it (comments kept) and, unless --keep-deployments, leaves Git. One commit\n' +
        'with the trailer Osv-Update-Retired. Give it the plan of the update (e.g. --plan plan.json) and the same layout\n' +
        'flags as commit. In the copies layout (--path) it refuses while that folder holds the only copy of your\n' +
        'OpenStackVersion (removing it with prune on would delete it from the cluster) and prints how to hand it over.',
    );
  addInputOptions(cmd, { savedPlan: true })
    .requiredOption('--repo <path>', 'the Git work tree of your GitOps repository')
    .option('--branch <name>', 'the branch the update was committed on (default: the one checked out)')
    .option('--path <dir>', 'the copies layout: the folder osv-gitops owns', 'openstack-update')
    .option('--app-path <dir>', 'the adopted layout, as commit --app-path')
    .option('--version-file <path>', 'the adopted layout, as commit --version-file')
    .option('--deployments-dir <dir>', 'the adopted layout: the deployments folder (default: --path; with --app-path: <app-path>/openstack-updates)')
    .option('--keep-deployments', 'keep the deployment files in Git (no longer applied) instead of removing them; the next update replaces them')
    .option('--force', 'retire although the last phase is not committed: the phases not committed never run, and deployments still running lose their file in Git')
    .option('--push [remote]', 'push the branch afterwards (default remote: origin)')
    .option('--date <iso>', 'author and committer date (reproducible commits)')
    .option('--no-verify', "skip your repository's pre-commit and commit-msg hooks")
    .option('--json', 'print what was retired as JSON')
    .addHelpText('after', '\nExamples:\n  osv-gitops cleanup --plan plan.json --repo ../gitops --app-path clusters/prod --push\n  osv-gitops cleanup --plan plan.json --repo ../gitops --version-file clusters/prod/osv.yaml --deployments-dir clusters/prod/updates --keep-deployments\n')
    .action(async (flags: CleanupFlags) => (await import('./cleanup.js')).cleanupAction(flags, io, setExit));
}

function registerStatus(program: Command, io: CliIo, setExit: SetExit): void {
  const cmd = program
    .command('status')
    .summary('where the update is: each gate, what it waits for, per-nodeset state')
    .description(
      'Read the cluster (or `oc get -o yaml` dumps with --from-files) and, with --repo, the phase commits,\n' +
        'and show where the update is: phase i of N, every gate with its verdict and reason, the control-plane\n' +
        'sub-steps, nodesets and deployments. Without plan inputs the plan is rebuilt from the live objects,\n' +
        'with the target from --target or the live spec.targetVersion. Without --repo, what the cluster shows\n' +
        'stands in for the phase commits. Anything not read is reported as not checked, never as passed.',
    );
  addRepoOptions(addClusterOptions(addInputOptions(cmd, { savedPlan: true })), false)
    .option('--json', 'print the status as JSON (a stable contract: target, phase, verdict, gates, ...)')
    .option('--exit-code', 'exit 0 when complete, 3 while waiting, 1 when a gate failed')
    .addHelpText(
      'after',
      '\nExamples:\n  osv-gitops status --repo . --agent flux:flux-system/openstack\n  osv-gitops status --from-files must-gather/ --json\n  osv-gitops status --example --repo ../gitops --kubeconfig ~/.kube/config\n',
    )
    .action(async (flags: StatusFlags) => (await import('./status.js')).statusAction(flags, io, setExit));
}

function registerAdvance(program: Command, io: CliIo, setExit: SetExit): void {
  const cmd = program
    .command('advance')
    .summary('one step: commit and push the next phase when the current gate has passed')
    .description(
      'Rebuild where the update is from the phase commits (trailers) and one read of the cluster, and when\n' +
        'the current gate has passed, commit and push the next phase. Exit 0: advanced or done; 3: waiting;\n' +
        '1: a gate failed. Running it twice never makes a second commit; a push rejected because the remote\n' +
        'moved is fetched, re-checked and retried.',
    );
  addPullRequestOptions(addAdvanceOptions(cmd))
    .addHelpText('after', '\nExamples:\n  osv-gitops advance --example --repo ../gitops --agent flux:flux-system/openstack\n  GITHUB_TOKEN=... osv-gitops advance --example --repo ../gitops --agent flux:flux-system/openstack --pull-request\n  osv-gitops advance --plan plan.json --controlplane cp.yaml --nodesets nodesets/ --repo . --agent argocd:argocd/openstack\n')
    .action(async (flags: AdvanceFlags) => (await import('./advance.js')).advanceAction(flags, io, setExit));
}

function registerWatch(program: Command, io: CliIo, setExit: SetExit): void {
  const cmd = program
    .command('watch')
    .summary('advance until done, a failed gate, or --timeout')
    .description(
      'Run advance whenever the cluster changes (watches, with a periodic resync; no polling loop) until the\n' +
        'update is done (exit 0), a gate fails (exit 1) or --timeout passes (exit 3). Ctrl-C stops between\n' +
        'steps, so nothing is left half-written; run watch again to resume.',
    );
  addPullRequestOptions(addAdvanceOptions(cmd))
    .option('--timeout <duration>', 'give up after this long (e.g. 8h); the update keeps its state in Git')
    .option('--resync <duration>', 'full re-read of the cluster at least this often', '30s')
    .addHelpText('after', '\nExamples:\n  osv-gitops watch --example --repo ../gitops --agent flux:flux-system/openstack --timeout 12h\n  osv-gitops watch --plan plan.json --controlplane cp.yaml --nodesets nodesets/ --repo . --json\n')
    .action(async (flags: WatchFlags) => (await import('./watch.js')).watchAction(flags, io, setExit));
}

function registerSimulate(program: Command, io: CliIo, setExit: SetExit): void {
  const cmd = program
    .command('simulate')
    .summary('rehearse the whole update on this machine, with no cluster')
    .description(
      'Start a rehearsal cluster on 127.0.0.1 (a Kubernetes API server, a simulated openstack-operator and a\n' +
        'simulated Flux or Argo CD reading a real Git repository), load your objects into it, and run the update\n' +
        'with the same code as watch: commits mode (the tool gates each phase) or directories mode (the agent\n' +
        'gates them). Prints the timeline: each commit, each gate, how long each phase waited. Time is scaled so\n' +
        'the whole update runs in seconds.',
    );
  addInputOptions(cmd, { savedPlan: false })
    .option('--engine <engine>', 'the agent: flux or argocd', 'flux')
    .option('--mode <mode>', 'commits (tool-gated) or directories (agent-gated)', 'commits')
    .option('--step-ms <ms>', 'simulated duration of each operator step and each deployment service', '150')
    .option('--fail-deployment <regex>', 'make data-plane deployments whose name matches fail (a fault to rehearse)')
    .option('--bundle-csv <name>', "with --subscription (or --example): OLM bundles this other operator's CSV into the InstallPlan, which is then never approved (a fault to rehearse)", collect)
    .option('--agent-lag <duration>', 'delay between a push and the agent applying it', '0ms')
    .option('--skip-gate <phase>', 'skip the gate of this phase (as advance --skip-gate)', collect)
    .option('--timeout <duration>', 'give up after this long, starting the rehearsal cluster included; exit 3 (default: 2m, stretched with a --step-ms above 150)')
    .option('--verbose', 'also print what the operator and the agent do')
    .option('--json', 'print the timeline and the final status as JSON')
    .addHelpText('after', '\nExamples:\n  osv-gitops simulate --example   # from phase 0: the operator upgrade through OLM\n  osv-gitops simulate --example --engine argocd --mode directories\n  osv-gitops simulate --example --fail-deployment "edpm-update"\n')
    .action(async (flags: SimulateFlags) => (await import('./simulate.js')).simulateAction(flags, io, setExit));
}

function registerRenderRunner(program: Command, io: CliIo, setExit: SetExit): void {
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
    .option('--version-file <path>', 'advance --version-file: your own OpenStackVersion file in the repository, edited in place (one owner)')
    .option('--deployments-dir <dir>', 'advance --deployments-dir, with --version-file or --app-path')
    .option('--app-path <dir>', 'advance --app-path: the folder your agent builds; your OpenStackVersion file is found there and edited in place')
    .option('--path <dir>', 'advance --path: folder of the repository osv-gitops owns (default: advance\'s own)')
    .option('--engine <engine>', 'advance --engine: flux, argocd or plain (default: from --agent)')
    .option('--agent <ref>', 'the agent object whose applied revision counts: flux:NS/NAME, argocd:NS/NAME or none')
    .option('--csv-namespace <ns>', "namespace of the operator's ClusterServiceVersion, or none", RUNNER_DEFAULTS.csvNamespace)
    .option('--subscription <path>', 'advance --subscription (phase 0), a path inside the repository; the Role reads InstallPlans in --csv-namespace, the Subscription\'s namespace')
    .option('--approve-installplan', 'advance --approve-installplan (phase 0); the Role may patch InstallPlans in --csv-namespace (their names are generated, so not pinned by name)')
    .option('--out <dir>', `write DIR/${RUNNER_FOLDER}/ instead of printing`)
    .option('--json', 'print JSON (the objects as a List; with --out, the files written)')
    .addHelpText('after', HELP_AFTER)
    .action(async (flags: RenderRunnerFlags) => (await import('./render-runner.js')).renderRunnerAction(flags, io, setExit));
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

