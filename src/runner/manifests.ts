/**
 * The manifests that run `advance` (a CronJob) or `watch` (a Deployment) inside the cluster: a
 * ServiceAccount, least-privilege Roles in each namespace advance reads, a ConfigMap with the Git
 * configuration (no secret in it: credentials are read from a mounted Secret at run time), and a
 * pod that OpenShift's `restricted-v2` SCC and Pod Security `restricted` admit.
 *
 * Pure: validated options in, objects out, always in the same order with the same keys.
 */
import type { AgentRef } from '../cluster/read.js';
import { AGENT_TYPES } from '../cluster/read.js';
import { CLUSTER_SERVICE_VERSION, INSTALL_PLAN, DATAPLANE_DEPLOYMENT, DATAPLANE_NODESET, OPENSTACK_CONTROLPLANE, OPENSTACK_VERSION, type ResourceType } from '../cluster/resources.js';
import type { FileToWrite } from '../fs/contained.js';
import { toYaml } from '../render/yaml-out.js';

export type RunnerKind = 'cronjob' | 'deployment';

/** Options of the runner, every value already checked against its grammar (src/validate/grammar.ts). */
export interface RunnerOptions {
  /** CronJob running `advance` (default), or a Deployment running `watch`. */
  readonly kind: RunnerKind;
  /** Namespace of the OpenStack objects; the runner lives there too. */
  readonly namespace: string;
  /** Name of every object of the runner. @default 'osv-gitops-runner' */
  readonly name: string;
  readonly image: string;
  readonly repoUrl: string;
  readonly branch: string;
  /** Name of the Secret holding the Git credentials (Flux's keys: username/password or identity/known_hosts). */
  readonly gitSecret: string;
  /** Cron schedule of the CronJob. */
  readonly schedule: string;
  /** The saved plan, relative to the repository root. */
  readonly plan: string;
  readonly controlplane?: string;
  readonly nodesets?: string;
  /** advance --version-file / --deployments-dir: the user's own OpenStackVersion, edited in place. */
  readonly versionFile?: string;
  readonly deploymentsDir?: string;
  /** advance --app-path: the app folder whose OpenStackVersion file is edited in place. */
  readonly appPath?: string;
  /** The folder of the repository osv-gitops owns (`advance --path`). */
  readonly path?: string;
  readonly engine: 'flux' | 'argocd' | 'plain';
  readonly agent: AgentRef | 'none';
  /** Namespace of the operator's CSV; undefined: not read (and no Role there). */
  readonly csvNamespace?: string;
  /**
   * Phase 0: `advance --subscription`, the user's Subscription as a path inside the repository.
   * Its namespace, where OLM puts the InstallPlans and the CSV, is `csvNamespace`.
   */
  readonly subscription?: string;
  /** Phase 0: `advance --approve-installplan`, which needs `patch` on installplans. */
  readonly approveInstallPlan?: boolean;
}

export type Manifest = Record<string, unknown>;

export { RUNNER_DEFAULTS } from './defaults.js';

/** Where the pod keeps things (all on emptyDir or read-only mounts; the root file system is read-only). */
export const RUNNER_PATHS = {
  work: '/workspace',
  repo: '/workspace/repo',
  tmp: '/tmp',
  credentials: '/etc/osv-gitops/git-credentials',
  gitconfig: '/etc/osv-gitops/gitconfig',
} as const;

const READ = ['get', 'list', 'watch'];

interface Rule {
  readonly apiGroups: string[];
  readonly resources: string[];
  readonly verbs: string[];
  readonly resourceNames?: string[];
}

function readRule(types: readonly ResourceType[], resourceNames?: string[]): Rule {
  const groups = [...new Set(types.map((t) => t.group))];
  if (groups.length !== 1) throw new Error('one API group per rule');
  return { apiGroups: groups, resources: types.map((t) => t.plural).sort(), verbs: READ, ...(resourceNames ? { resourceNames } : {}) };
}

/**
 * What the runner may do, per namespace: exactly the reads of `readClusterSnapshot` and
 * `ClusterWatcher` (src/cluster/), plus `create` on Events for the progress Events of advance.
 * Phase 0 adds the InstallPlans of the operator namespace (read; `patch` only with approval).
 * Subscriptions are not granted: advance reads the user's Subscription from Git, never the cluster.
 * The agent object is named: `get` by name, and `list`/`watch` only with a
 * `metadata.name=<name>` field selector, which is how the watcher asks for it.
 */
export function runnerRules(o: RunnerOptions): Map<string, Rule[]> {
  const rules = new Map<string, Rule[]>();
  const add = (ns: string, rule: Rule) => rules.set(ns, [...(rules.get(ns) ?? []), rule]);
  add(o.namespace, readRule([OPENSTACK_VERSION, OPENSTACK_CONTROLPLANE]));
  add(o.namespace, readRule([DATAPLANE_NODESET, DATAPLANE_DEPLOYMENT]));
  add(o.namespace, { apiGroups: [''], resources: ['events'], verbs: ['create'] });
  if (o.agent !== 'none') add(o.agent.namespace, readRule([AGENT_TYPES[o.agent.engine]], [o.agent.name]));
  if (o.csvNamespace !== undefined) add(o.csvNamespace, readRule(o.subscription !== undefined ? [CLUSTER_SERVICE_VERSION, INSTALL_PLAN] : [CLUSTER_SERVICE_VERSION]));
  if (o.csvNamespace !== undefined && o.approveInstallPlan) {
    // OLM generates an InstallPlan's name (install-xxxxx), so resourceNames cannot pin it: the
    // grant covers the namespace's InstallPlans, and the patch itself is narrow (src/olm/cluster.ts
    // tests the plan's resourceVersion, CSV list and approved: false before it sets approved)
    add(o.csvNamespace, { apiGroups: [INSTALL_PLAN.group], resources: [INSTALL_PLAN.plural], verbs: ['patch'] });
  }
  return rules;
}

function labels(o: RunnerOptions): Record<string, string> {
  return { 'app.kubernetes.io/name': o.name, 'app.kubernetes.io/component': 'update-runner', 'app.kubernetes.io/managed-by': 'osv-gitops' };
}

function meta(o: RunnerOptions, namespace = o.namespace): Manifest {
  return { name: o.name, namespace, labels: labels(o) };
}

const isSsh = (url: string) => !/^https?:\/\//i.test(url);

/**
 * Git's configuration for the pod (GIT_CONFIG_GLOBAL, which osv-gitops' sealed Git environment
 * keeps): who commits, and how Git finds the credentials in the mounted Secret. Nothing secret:
 * the helper reads the Secret's files when Git asks.
 */
export function gitConfig(o: RunnerOptions): string {
  const c = RUNNER_PATHS.credentials;
  const lines = ['[user]', `\tname = ${o.name}`, `\temail = ${o.name}@${o.namespace}.invalid`, '[safe]', `\tdirectory = ${RUNNER_PATHS.repo}`];
  if (isSsh(o.repoUrl)) {
    lines.push('[core]', `\tsshCommand = ssh -i ${c}/identity -o UserKnownHostsFile=${c}/known_hosts -o StrictHostKeyChecking=yes -o IdentitiesOnly=yes`);
  } else {
    // `git credential` asks with "get"; the Secret's files are read only then
    lines.push('[credential]', `\thelper = "!f() { test \\"$1\\" = get || exit 0; printf 'username=%s\\\\npassword=%s\\\\n' \\"$(cat ${c}/username)\\" \\"$(cat ${c}/password)\\"; }; f"`);
  }
  return `${lines.join('\n')}\n`;
}

/** The arguments of `advance`/`watch` in the pod: every path inside the clone. */
export function commandArgs(o: RunnerOptions): string[] {
  const agent = o.agent === 'none' ? 'none' : `${o.agent.engine}:${o.agent.namespace}/${o.agent.name}`;
  return [
    o.kind === 'cronjob' ? 'advance' : 'watch',
    '--repo',
    RUNNER_PATHS.repo,
    '--branch',
    o.branch,
    '--remote',
    'origin',
    '--plan',
    o.plan,
    ...(o.subscription !== undefined ? ['--subscription', o.subscription] : []),
    ...(o.approveInstallPlan ? ['--approve-installplan'] : []),
    ...(o.controlplane !== undefined ? ['--controlplane', o.controlplane] : []),
    ...(o.nodesets !== undefined ? ['--nodesets', o.nodesets] : []),
    ...(o.versionFile !== undefined ? ['--version-file', o.versionFile] : []),
    ...(o.deploymentsDir !== undefined ? ['--deployments-dir', o.deploymentsDir] : []),
    ...(o.appPath !== undefined ? ['--app-path', o.appPath] : []),
    ...(o.path !== undefined ? ['--path', o.path] : []),
    '--namespace',
    o.namespace,
    '--engine',
    o.engine,
    '--agent',
    agent,
    ...(o.csvNamespace !== undefined ? ['--csv-namespace', o.csvNamespace] : []),
    '--json',
  ];
}

// advance exits 3 while a gate waits: a normal outcome, not a failed Job. Arguments come as "$@",
// never inside the script text, so no value is ever parsed by the shell.
const WAITING_IS_SUCCESS = 'osv-gitops "$@"; rc=$?; if [ "$rc" -eq 3 ]; then exit 0; fi; exit "$rc"';

const containerSecurity: Manifest = {
  allowPrivilegeEscalation: false,
  capabilities: { drop: ['ALL'] },
  privileged: false,
  readOnlyRootFilesystem: true,
  runAsNonRoot: true,
  seccompProfile: { type: 'RuntimeDefault' },
};

function podSpec(o: RunnerOptions): Manifest {
  const env = [
    { name: 'HOME', value: RUNNER_PATHS.tmp },
    { name: 'TMPDIR', value: RUNNER_PATHS.tmp },
    { name: 'GIT_CONFIG_GLOBAL', value: `${RUNNER_PATHS.gitconfig}/gitconfig` },
    { name: 'GIT_TERMINAL_PROMPT', value: '0' },
    { name: 'NO_COLOR', value: '1' },
  ];
  const mounts = [
    { name: 'tmp', mountPath: RUNNER_PATHS.tmp },
    { name: 'work', mountPath: RUNNER_PATHS.work },
    { name: 'git-credentials', mountPath: RUNNER_PATHS.credentials, readOnly: true },
    { name: 'gitconfig', mountPath: RUNNER_PATHS.gitconfig, readOnly: true },
  ];
  const resources = { limits: { memory: '512Mi' }, requests: { cpu: '50m', memory: '128Mi' } };
  const args = commandArgs(o);
  const main: Manifest =
    o.kind === 'cronjob'
      ? { name: 'advance', image: o.image, imagePullPolicy: 'IfNotPresent', command: ['/bin/sh', '-c', WAITING_IS_SUCCESS, 'osv-gitops'], args }
      : { name: 'watch', image: o.image, imagePullPolicy: 'IfNotPresent', args };
  return {
    serviceAccountName: o.name,
    automountServiceAccountToken: true,
    restartPolicy: o.kind === 'cronjob' ? 'Never' : 'Always',
    // no runAsUser/runAsGroup/fsGroup: restricted-v2 assigns them from the namespace's range
    securityContext: { runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } },
    initContainers: [
      {
        name: 'clone',
        image: o.image,
        imagePullPolicy: 'IfNotPresent',
        command: ['git', 'clone', '--quiet', '--single-branch', '--branch', o.branch, '--', o.repoUrl, RUNNER_PATHS.repo],
        env,
        resources,
        securityContext: containerSecurity,
        volumeMounts: mounts,
      },
    ],
    containers: [{ ...main, env, resources, securityContext: containerSecurity, volumeMounts: mounts, workingDir: RUNNER_PATHS.repo }],
    volumes: [
      { name: 'tmp', emptyDir: { sizeLimit: '256Mi' } },
      { name: 'work', emptyDir: { sizeLimit: '2Gi' } },
      // readable by the pod's user whatever UID it gets: restricted-v2 sets an fsGroup, plain Pod
      // Security `restricted` need not, and the files stay owned by root (ssh accepts such a key)
      { name: 'git-credentials', secret: { secretName: o.gitSecret, defaultMode: 0o444 } },
      { name: 'gitconfig', configMap: { name: o.name } },
    ],
  };
}

function workload(o: RunnerOptions): Manifest {
  const template = { metadata: { labels: labels(o) }, spec: podSpec(o) };
  if (o.kind === 'deployment') {
    return {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: meta(o),
      // one writer at a time: never two pods pushing phases
      spec: { replicas: 1, selector: { matchLabels: { 'app.kubernetes.io/name': o.name } }, strategy: { type: 'Recreate' }, template },
    };
  }
  return {
    apiVersion: 'batch/v1',
    kind: 'CronJob',
    metadata: meta(o),
    spec: {
      schedule: o.schedule,
      concurrencyPolicy: 'Forbid',
      startingDeadlineSeconds: 300,
      successfulJobsHistoryLimit: 3,
      failedJobsHistoryLimit: 3,
      jobTemplate: {
        metadata: { labels: labels(o) },
        spec: { backoffLimit: 0, activeDeadlineSeconds: 1800, ttlSecondsAfterFinished: 86400, template },
      },
    },
  };
}

/** Every object of the runner, in apply order. */
export function runnerManifests(o: RunnerOptions): Manifest[] {
  const rules = runnerRules(o);
  const namespaces = [...rules.keys()];
  const roles = namespaces.map((ns) => ({ apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', metadata: meta(o, ns), rules: rules.get(ns) }));
  const bindings = namespaces.map((ns) => ({
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'RoleBinding',
    metadata: meta(o, ns),
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: o.name },
    subjects: [{ kind: 'ServiceAccount', name: o.name, namespace: o.namespace }],
  }));
  return [
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata: meta(o) },
    { apiVersion: 'v1', kind: 'ConfigMap', metadata: meta(o), data: { gitconfig: gitConfig(o) } },
    ...roles,
    ...bindings,
    workload(o),
  ];
}

const fileName = (m: Manifest) => {
  const md = m['metadata'] as { name: string; namespace: string };
  return `${String(m['kind']).toLowerCase()}-${md.namespace}.yaml`;
};

/** The manifests as files of `folder`: one per object and a kustomization listing them. */
export function runnerFiles(o: RunnerOptions, folder: string): FileToWrite[] {
  const manifests = runnerManifests(o);
  const names = manifests.map(fileName);
  const files = manifests.map((m, i) => ({ path: `${folder}/${names[i]!}`, content: toYaml(m) }));
  const kustomization = { apiVersion: 'kustomize.config.k8s.io/v1beta1', kind: 'Kustomization', resources: names };
  return [...files, { path: `${folder}/kustomization.yaml`, content: toYaml(kustomization) }];
}

/** The manifests as one multi-document YAML stream (`kubectl apply -f -`). */
export function runnerYaml(o: RunnerOptions): string {
  return runnerManifests(o)
    .map((m) => toYaml(m))
    .join('---\n');
}
