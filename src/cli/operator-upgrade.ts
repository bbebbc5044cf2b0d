/**
 * `osv-gitops operator-upgrade`: the OLM step that comes before every phase of the update. The new
 * openstack-operator CSV is what makes the new `availableVersion` appear on the OpenStackVersion.
 *
 *   --subscription FILE --csv CSV --repo R [--push]   commit the Subscription pinned to CSV
 *   --check --csv CSV                                  read the cluster, print the gate
 *   --approve --csv CSV [--also-csv OTHER]...          approve exactly the one matching InstallPlan
 *
 * Heavy modules (the Kubernetes client, Git, YAML editing) are loaded inside the action only.
 */
import { resolve } from 'node:path';
import { Option, type Command } from 'commander';
import { EXIT, OsvError } from '../errors.js';
import { safeRelativePath } from '../fs/contained.js';
import { parseGitRef, parseIsoDate, parseName, parseNamespace } from '../validate/grammar.js';
import { paint, type CliIo } from './io.js';

export interface OperatorUpgradeFlags {
  readonly subscription?: string;
  readonly csv?: string;
  readonly channel?: string;
  readonly repo?: string;
  readonly into?: string;
  readonly branch?: string;
  readonly push?: boolean;
  readonly remote?: string;
  readonly date?: string;
  readonly verify?: boolean;
  readonly check?: boolean;
  readonly approve?: boolean;
  readonly alsoCsv?: string[];
  readonly operatorNamespace?: string;
  readonly namespace?: string;
  readonly openstackVersion?: string;
  readonly kubeconfig?: string;
  readonly context?: string;
  readonly requestTimeout?: string;
  readonly json?: boolean;
}

const collect = (value: string, previous: string[] = []) => [...previous, value];
const json = (v: unknown) => JSON.stringify(v, null, 2) + '\n';

const HELP_AFTER = `
The openstack-operator upgrade through OLM, the step before the OpenStack update itself:
  1. pin the Subscription in Git (spec.startingCSV, spec.channel, installPlanApproval: Manual);
     your agent applies it and OLM prepares an InstallPlan that waits for approval
       osv-gitops operator-upgrade --subscription clusters/prod/openstack-operator-sub.yaml \\
         --csv openstack-operator.v1.0.6 --repo . --push
  2. see what the InstallPlan holds (OLM bundles every pending operator upgrade of the
     namespace into one plan) and whether the gate holds
       osv-gitops operator-upgrade --check --csv openstack-operator.v1.0.6
  3. approve exactly that plan; a plan that also installs other CSVs is refused unless you
     name each of them
       osv-gitops operator-upgrade --approve --csv openstack-operator.v1.0.6 [--also-csv other.v2.1.0]
  4. --check again until it passes: the CSV Succeeded and OpenStackVersion status.availableVersion
     equals the CSV's OPENSTACK_RELEASE_VERSION. Then plan the update (osv-gitops plan).

A --subscription inside --repo is edited in place (comments kept); one from elsewhere
(\`oc get subscription -o yaml\`) is written to --into without its status.
Exit: 0 done (committed, passed, approved); 3 waiting; 1 failed or refused; 2 usage; 4 unreachable.
`;

export function registerOperatorUpgrade(program: Command, io: CliIo, setExit: (code: number) => void): void {
  program
    .command('operator-upgrade')
    .summary('upgrade the openstack-operator through OLM: pin the Subscription, check, approve the InstallPlan')
    .description(
      'The OLM operator upgrade that makes the new availableVersion appear. Three modes: commit the\n' +
        'Subscription pinned to the target CSV (--subscription with --repo), read the gate from the cluster\n' +
        '(--check), or approve the one InstallPlan for that CSV (--approve).',
    )
    .requiredOption('--csv <name>', 'the target openstack-operator CSV, e.g. openstack-operator.v1.0.6')
    .option('--subscription <file>', 'your openstack-operator Subscription (a file in --repo, or a dump)')
    .option('--channel <name>', "the channel that serves --csv (default: the Subscription's own)")
    .option('--repo <path>', 'the Git work tree of your GitOps repository')
    .option('--into <path>', 'for a --subscription from outside --repo: its path inside the repository', 'openstack-operator/subscription.yaml')
    .option('--branch <name>', 'branch to commit on (default: the current one)')
    .option('--push', 'push the commit (to --remote)')
    .option('--remote <name>', 'remote to push to', 'origin')
    .option('--date <iso>', 'author and committer date (reproducible commits)')
    .option('--no-verify', 'do not run your pre-commit and commit-msg hooks')
    .option('--check', 'read the cluster and print the gate of the operator upgrade')
    .option('--approve', 'approve the one InstallPlan that installs --csv (after printing what it holds)')
    .option('--also-csv <name>', 'another CSV you accept in the same InstallPlan (repeatable)', collect)
    .option('--operator-namespace <ns>', 'namespace of the Subscription and InstallPlans (default: the Subscription file\'s, else openstack-operators)')
    .option('--namespace <ns>', 'namespace of the OpenStackVersion', 'openstack')
    .option('--openstack-version <name>', 'the OpenStackVersion (default: the one in --namespace)')
    .option('--kubeconfig <file>', 'kubeconfig to use (default: $KUBECONFIG, then ~/.kube/config, then in-cluster)')
    .option('--context <name>', 'kubeconfig context (default: the current one)')
    .addOption(new Option('--request-timeout <seconds>', 'timeout of one API request').default('10'))
    .option('--json', 'print the result as JSON')
    .addHelpText('after', HELP_AFTER)
    .action(async (flags: OperatorUpgradeFlags) => {
      const modes = [flags.check, flags.approve, flags.subscription !== undefined && flags.repo !== undefined].filter(Boolean).length;
      if (modes !== 1) throw new OsvError('USAGE', 'choose one mode: --subscription FILE --repo R (commit), --check, or --approve', { hint: 'See osv-gitops operator-upgrade --help.' });
      const csv = parseName(flags.csv!, 'object', '--csv');
      const also = (flags.alsoCsv ?? []).map((n) => parseName(n, 'object', '--also-csv'));
      if (flags.check || flags.approve) setExit(await clusterMode(flags, csv, also, io));
      else setExit(await commitMode(flags, csv, io));
    });
}

async function commitMode(flags: OperatorUpgradeFlags, csv: string, io: CliIo): Promise<number> {
  const date = flags.date !== undefined ? parseIsoDate(flags.date) : undefined;
  if (flags.branch !== undefined) parseGitRef(flags.branch, '--branch');
  if (flags.remote !== undefined) parseGitRef(flags.remote, '--remote');
  const into = safeRelativePath('--into', flags.into ?? 'openstack-operator/subscription.yaml');
  const { commitPinnedSubscription } = await import('../olm/commit.js');
  const r = await commitPinnedSubscription({
    repo: resolve(io.cwd, flags.repo!),
    subscription: flags.subscription!,
    cwd: io.cwd,
    csv,
    into,
    ...(flags.channel !== undefined ? { channel: flags.channel } : {}),
    ...(flags.branch !== undefined ? { branch: flags.branch } : {}),
    ...(date !== undefined ? { date } : {}),
    ...(flags.push ? { push: { remote: flags.remote ?? 'origin' } } : {}),
    ...(flags.verify === false ? { verify: false } : {}),
  });
  if (r.before.installPlanApproval !== 'Manual') {
    io.stderr(`warning: the Subscription had installPlanApproval ${r.before.installPlanApproval ?? 'unset (Automatic)'}; until your agent applies the pinned one, OLM may still approve upgrades on its own\n`);
  }
  if (flags.json) io.stdout(json({ mode: 'commit', csv, path: r.path, inPlace: r.inPlace, committed: r.sha ?? null, branch: r.branch, pushed: r.pushed, previousStartingCSV: r.before.startingCSV ?? null }));
  else {
    const what = r.sha ? `committed ${r.sha.slice(0, 12)} on ${r.branch}` : `${r.branch} already holds it`;
    io.stdout(`${paint(io, 'green', 'pinned')}: ${r.path}${r.inPlace ? ' (edited in place)' : ''} → ${csv}, installPlanApproval Manual; ${what}${r.pushed ? ', pushed' : ''}\n`);
    io.stdout(`next: once your agent applied it, osv-gitops operator-upgrade --check --csv ${csv}\n`);
  }
  return EXIT.ok;
}

async function operatorNamespace(flags: OperatorUpgradeFlags, io: CliIo): Promise<string> {
  if (flags.operatorNamespace !== undefined) return parseNamespace(flags.operatorNamespace, '--operator-namespace');
  if (flags.subscription !== undefined) {
    const [{ readTextInput }, { readSubscriptionText }] = await Promise.all([import('../inputs/yaml.js'), import('../olm/subscription.js')]);
    const { sub } = readSubscriptionText(readTextInput(resolve(io.cwd, flags.subscription), 'the Subscription'), flags.subscription);
    if (sub.namespace !== undefined) return sub.namespace;
  }
  return 'openstack-operators';
}

async function clusterMode(flags: OperatorUpgradeFlags, csv: string, also: readonly string[], io: CliIo): Promise<number> {
  const opNs = await operatorNamespace(flags, io);
  const namespace = parseNamespace(flags.namespace ?? 'openstack', '--namespace');
  const osvName = flags.openstackVersion !== undefined ? parseName(flags.openstackVersion, 'object', '--openstack-version') : undefined;
  const timeout = Number(flags.requestTimeout ?? '10');
  if (!Number.isFinite(timeout) || timeout <= 0) throw new OsvError('USAGE', '--request-timeout must be a positive number of seconds');
  const [{ KubeReader, loadKubeConfig }, { readOperatorObjects, approveInstallPlan }, { judgeOperatorGate }] = await Promise.all([import('../cluster/kube.js'), import('../olm/cluster.js'), import('../olm/gate.js')]);
  const kc = loadKubeConfig({ ...(flags.kubeconfig ? { kubeconfig: resolve(io.cwd, flags.kubeconfig) } : {}), ...(flags.context ? { context: flags.context } : {}) });
  const reader = new KubeReader(kc, timeout * 1000, undefined, (l) => io.stderr(`${l}\n`));
  const objects = await readOperatorObjects(reader, { operatorNamespace: opNs, csv, namespace, ...(osvName !== undefined ? { openStackVersion: osvName } : {}) });
  const gate = judgeOperatorGate({ csv, alsoCsvs: also, ...objects });
  const plan = gate.installPlan;
  const describePlan = () =>
    plan
      ? `InstallPlan ${plan.namespace}/${plan.name}: ${plan.approved ? 'approved' : 'not approved'}, phase ${plan.phase ?? '-'}\n` +
        plan.csvs.map((c) => `  ${c === csv ? '*' : plan.unexpected.includes(c) ? '!' : '+'} ${c}${c === csv ? ' (the target)' : plan.unexpected.includes(c) ? ' (not named with --also-csv)' : ' (named with --also-csv)'}\n`).join('') +
        (gate.otherPlans.length ? `  older plans for the same CSV: ${gate.otherPlans.join(', ')}\n` : '')
      : '';
  const exitOf = (v: string) => (v === 'passed' ? EXIT.ok : v === 'failed' ? EXIT.failure : EXIT.waiting);

  if (flags.check) {
    if (flags.json) io.stdout(json({ mode: 'check', operatorNamespace: opNs, ...gate }));
    else io.stdout(describePlan() + `${paint(io, gate.verdict === 'passed' ? 'green' : gate.verdict === 'failed' ? 'red' : 'yellow', gate.verdict)} (${gate.state}): ${gate.reason}\n`);
    return exitOf(gate.verdict);
  }

  // --approve
  if (!flags.json) io.stdout(describePlan());
  if (!plan) {
    if (flags.json) io.stdout(json({ mode: 'approve', approved: false, operatorNamespace: opNs, ...gate }));
    else io.stdout(`${paint(io, 'yellow', 'waiting')}: ${gate.reason}\n`);
    return EXIT.waiting;
  }
  if (plan.approved) {
    if (flags.json) io.stdout(json({ mode: 'approve', approved: false, alreadyApproved: true, operatorNamespace: opNs, ...gate }));
    else io.stdout(`already approved: ${gate.reason}\n`);
    return gate.verdict === 'failed' ? EXIT.failure : EXIT.ok;
  }
  if (!gate.approvable) {
    throw new OsvError('OLM_APPROVAL_REFUSED', `not approving InstallPlan ${plan.name}: ${gate.reason}`, {
      hint: 'OLM bundles pending upgrades of every operator in the namespace into one plan. Approve it only when you want all of them: name each other CSV with --also-csv.',
      details: plan.csvs,
    });
  }
  const patched = await approveInstallPlan(kc, plan, timeout * 1000);
  const rv = (patched['metadata'] as { resourceVersion?: string } | undefined)?.resourceVersion;
  if (flags.json) io.stdout(json({ mode: 'approve', approved: true, operatorNamespace: opNs, installPlan: plan.name, csvs: plan.csvs, resourceVersion: rv ?? null }));
  else io.stdout(`${paint(io, 'green', 'approved')}: InstallPlan ${plan.namespace}/${plan.name} (${plan.csvs.join(', ')})\nnext: osv-gitops operator-upgrade --check --csv ${csv}\n`);
  return EXIT.ok;
}
