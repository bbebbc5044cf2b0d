/**
 * The flags each command declares, and the constants its help text names. This module is what
 * `--help` and `--version` load: it imports commander and nothing heavy, so that a command's
 * implementation (and the Kubernetes client, cdk8s, CEL or Lua behind it) is loaded only when the
 * command runs (see commands.ts).
 */
import { Option, type Command } from 'commander';
import { OsvError } from '../errors.js';

export const collect = (value: string, previous: string[] = []) => [...previous, value];

export interface InputFlags {
  readonly example?: boolean;
  readonly plan?: string;
  readonly csv?: string;
  readonly openstackVersion?: string;
  readonly customImages?: string;
  readonly nodesets?: string;
  readonly controlplane?: string;
  readonly target?: string;
  readonly namespace?: string;
  readonly dataplaneService?: string;
  readonly updateSystem?: boolean;
  readonly reboot?: boolean;
  readonly batch?: string[];
  readonly skipCustomImagesValidation?: boolean;
  readonly attempt?: string;
  readonly namePrefix?: string;
  readonly subscription?: string;
  readonly channel?: string;
  readonly installplan?: string;
}

export function addInputOptions(cmd: Command, { savedPlan }: { savedPlan: boolean }): Command {
  cmd
    .option('--example', 'use the bundled example (fixtures/example) for every input')
    .option('--csv <file>', 'the openstack-operator ClusterServiceVersion (`oc get csv NAME -o yaml`, a bundle CSV, a List)')
    .option('--openstack-version <file>', 'the OpenStackVersion (`oc get openstackversion -o yaml`, or the spec from your repository)')
    .option('--custom-images <file>', 'the complete customContainerImages for the target version (YAML map; `{}` drops them)')
    .option('--nodesets <file|dir>', 'OpenStackDataPlaneNodeSet manifests: a file or a folder searched recursively')
    .option('--controlplane <file>', 'the OpenStackControlPlane (name, OVN and enabled services are read; spec is carried through)')
    .option('--target <version>', 'the version to update to (default: the available version)')
    .option('--namespace <ns>', 'namespace of the OpenStack objects (default: from the inputs, else "openstack")')
    .option('--dataplane-service <name>', 'data-plane update service: update or update-services', 'update')
    .option('--update-system', 'add a dataplane-system phase (update-system service)')
    .option('--reboot', 'reboot nodes in the dataplane-system phase (reboot-os, edpm_reboot_strategy: force)')
    .option('--batch <nodesets>', 'a nodeset batch, comma-separated; repeat for more batches, the rest form the last batch', collect)
    .option('--skip-custom-images-validation', 'keep unchanged custom images by setting the skip annotation')
    .option('--attempt <n>', 're-run number, gives new data-plane deployment names (-r<n>)', '1')
    .option('--name-prefix <prefix>', 'prefix of data-plane deployment names', 'edpm')
    .option('--subscription <file>', 'your openstack-operator OLM Subscription (a file of the repository): the plan starts with phase 0 operator, which pins it to the --csv')
    .option('--channel <name>', "with --subscription: the channel that serves --csv (default: the Subscription's own)")
    .option('--installplan <file>', "instead of --csv: the target CSV from OLM's InstallPlan (`oc get installplan NAME -o yaml`; when its step refers to a bundle ConfigMap, that ConfigMap too)");
  if (savedPlan) cmd.option('--plan <plan.json>', 'a plan saved with `plan --output` (instead of the input flags)');
  return cmd;
}

export interface LoopFlags extends InputFlags {
  readonly kubeconfig?: string;
  readonly context?: string;
  readonly fromFiles?: string;
  readonly agent?: string;
  readonly csvNamespace?: string;
  readonly repo?: string;
  readonly branch?: string;
  readonly path?: string;
  readonly engine?: string;
  readonly requestTimeout?: string;
  readonly json?: boolean;
}

export function addClusterOptions(cmd: Command): Command {
  return cmd
    .option('--kubeconfig <file>', 'kubeconfig to use (default: $KUBECONFIG, then ~/.kube/config, then in-cluster)')
    .option('--context <name>', 'kubeconfig context (default: the current one)')
    .option('--from-files <dir>', 'read the objects from `oc get -o yaml` dumps under DIR (a must-gather) instead of a cluster')
    .option('--agent <ref>', 'the agent object whose applied revision counts: flux:NS/NAME, argocd:NS/NAME, or none')
    .option('--csv-namespace <ns>', "namespace of the operator's ClusterServiceVersion (preflight checks it)")
    .addOption(new Option('--request-timeout <seconds>', 'timeout of one API request').default('10'));
}

export function addRepoOptions(cmd: Command, required: boolean): Command {
  const repo = '--repo <path>';
  const text = 'the Git work tree of your GitOps repository (phase commits carry the update state)';
  (required ? cmd.requiredOption(repo, text) : cmd.option(repo, text))
    .option('--branch <name>', 'branch the agent follows (default: the current one)')
    .option('--path <dir>', 'folder inside the repository that osv-gitops owns', 'openstack-update')
    .option('--engine <engine>', 'annotations for flux, argocd or plain', 'flux');
  return cmd;
}

export interface AdvanceFlags extends LoopFlags {
  readonly remote?: string;
  readonly push?: boolean;
  readonly skipGate?: string[];
  readonly date?: string;
  readonly versionFile?: string;
  readonly deploymentsDir?: string;
  readonly appPath?: string;
  readonly approveInstallplan?: boolean;
}

export function addAdvanceOptions(cmd: Command): Command {
  return addRepoOptions(addClusterOptions(addInputOptions(cmd, { savedPlan: true })), true)
    .option('--remote <name>', 'remote the agent reads from: fetched before, pushed after', 'origin')
    .option('--no-push', 'commit locally only (the agent will not see it until you push)')
    .option('--skip-gate <phase>', "pass this phase's gate without checking it (recorded in the commit trailer Osv-Update-Skipped-Gate)", collect)
    .option('--date <iso>', 'author and committer date (reproducible commits)')
    .option('--version-file <path>', 'edit your own OpenStackVersion file in place (path inside the repository), as commit --version-file')
    .option('--deployments-dir <dir>', 'with --version-file: folder inside the repository for the data-plane deployments (default: --path; with --app-path: <app-path>/openstack-updates)')
    .option('--app-path <dir>', 'the folder your agent builds with kustomize: your OpenStackVersion file is found through its kustomization graph, as commit --app-path')
    .option('--approve-installplan', 'phase 0: approve the InstallPlan that installs exactly the plan\'s CSV (never one that bundles other CSVs)')
    .option('--json', 'print the result as JSON');
}

export function addAgentOptions(cmd: Command): Command {
  return cmd
    .option('--engine <engine>', 'the GitOps agent: flux, argocd or plain (kustomize folders only)', 'flux')
    .option('--repo-path <path>', 'where the output folder sits inside the Git repository, for agent paths (default: found from the Git work tree that holds --out)')
    .option('--repo-url <url>', 'Argo CD: the repository URL of the Applications')
    .option('--revision <rev>', 'Argo CD: targetRevision of the Applications', 'HEAD')
    .option('--flux-namespace <ns>', 'Flux: namespace of the Kustomizations', 'flux-system')
    .option('--flux-source <name>', 'Flux: the GitRepository the Kustomizations read', 'flux-system')
    .option('--argo-namespace <ns>', 'Argo CD: namespace of the Applications (default: argocd, openshift-gitops with that profile)')
    .option('--argo-project <name>', 'Argo CD: project of the Applications', 'default')
    .option('--gate-image <image>', 'image with sh and kubectl/oc for the gate Jobs (Argo CD) and the phase 0 approval Job (Argo CD, Flux)')
    .option('--profile <profile>', 'Argo CD: argocd (health checks in argocd-cm) or openshift-gitops (in the ArgoCD resource, namespace openshift-gitops, gate Jobs for restricted-v2)', 'argocd')
    .option('--gate-deadline <phase=duration>', 'gate deadline of a phase (or of all its batches), e.g. dataplane=12h; repeatable', (v: string, prev: string[] = []) => [...prev, v]);
}

/** `90`, `90s`, `15m`, `2h` → milliseconds. */
export function parseDuration(text: string, flag: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(text.trim());
  if (!m) throw new OsvError('USAGE', `${flag} must be a duration like 90s, 15m or 2h, not "${text}"`);
  const n = Number(m[1]);
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[(m[2] ?? 's') as 'ms' | 's' | 'm' | 'h'];
  return n * unit;
}

/** The folder `--out` gets; replaced whole on every run. */
export const RUNNER_FOLDER = 'osv-gitops-runner';

