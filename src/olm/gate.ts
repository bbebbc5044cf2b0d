/**
 * The gate of the operator upgrade, judged from live objects (pure: objects in, verdict out).
 *
 * In order: the InstallPlan that installs exactly the target CSV exists
 * (`spec.clusterServiceVersionNames` contains it); it is approved; the CSV reached
 * `status.phase: Succeeded`; and the OpenStackVersion announces the CSV's release
 * (`status.availableVersion` = the CSV's `OPENSTACK_RELEASE_VERSION`). OLM bundles the pending
 * upgrades of every operator in the namespace into one InstallPlan, so the plan's other CSVs are
 * listed, and a plan that carries CSVs the user did not name is never approvable.
 */
import { isOsvError } from '../errors.js';
import { csvFromObjects } from '../inputs/csv.js';
import { isRecord } from '../inputs/yaml.js';

export type OperatorGateState =
  /** No InstallPlan names the CSV yet (the Subscription is not pinned, or the catalog lacks it). */
  | 'no-install-plan'
  /** The plan waits for approval and holds only what the user asked for. */
  | 'needs-approval'
  /** The plan waits for approval but also installs CSVs the user did not name. */
  | 'other-csvs'
  /** Approved; OLM is installing (plan or CSV not finished). */
  | 'installing'
  /** The plan or the CSV failed. */
  | 'failed'
  /** The CSV succeeded; the OpenStackVersion does not announce its release yet. */
  | 'available-version-lags'
  | 'passed';

export type OperatorGateVerdict = 'passed' | 'waiting' | 'failed';

export interface InstallPlanSummary {
  readonly name: string;
  readonly namespace: string;
  readonly approved: boolean;
  readonly approval: string | undefined;
  /** `status.phase`: RequiresApproval, Installing, Complete, Failed, … */
  readonly phase: string | undefined;
  readonly resourceVersion: string | undefined;
  /** Every CSV the plan installs, in its own order. */
  readonly csvs: readonly string[];
  /** The CSVs besides the target. */
  readonly others: readonly string[];
  /** Those of `others` the user did not name (`--also-csv`). */
  readonly unexpected: readonly string[];
  /** CSVs the user named (`--also-csv`) that the plan does not hold. */
  readonly missing: readonly string[];
}

export interface OperatorGateInput {
  /** The target CSV name. */
  readonly csv: string;
  /** CSVs the user explicitly accepts in the same InstallPlan. */
  readonly alsoCsvs?: readonly string[];
  /** The InstallPlans of the operator namespace (any order). */
  readonly installPlans: readonly Record<string, unknown>[];
  /** The target CSV object; undefined when it does not exist (yet). */
  readonly csvObject: Record<string, unknown> | undefined;
  /** The OpenStackVersion; undefined when none was read. */
  readonly openStackVersion: Record<string, unknown> | undefined;
}

export interface OperatorGate {
  readonly state: OperatorGateState;
  readonly verdict: OperatorGateVerdict;
  readonly reason: string;
  readonly csv: string;
  readonly installPlan: InstallPlanSummary | undefined;
  /** Other InstallPlans that name the CSV too (older attempts), by name. */
  readonly otherPlans: readonly string[];
  readonly csvPhase: string | undefined;
  /** The CSV's OPENSTACK_RELEASE_VERSION (as the operator announces it), once the CSV could be read. */
  readonly releaseVersion: string | undefined;
  readonly availableVersion: string | undefined;
  /** `--approve` may approve `installPlan` (not approved yet, and it holds nothing unexpected). */
  readonly approvable: boolean;
}

const rec = (v: unknown): Record<string, unknown> => (isRecord(v) ? v : {});
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

export function summarizeInstallPlan(plan: Record<string, unknown>, csv: string, alsoCsvs: readonly string[] = []): InstallPlanSummary {
  const meta = rec(plan['metadata']);
  const spec = rec(plan['spec']);
  const csvs = Array.isArray(spec['clusterServiceVersionNames']) ? spec['clusterServiceVersionNames'].filter((n): n is string => typeof n === 'string') : [];
  const others = [...new Set(csvs.filter((n) => n !== csv))];
  return {
    name: str(meta['name']) ?? '',
    namespace: str(meta['namespace']) ?? '',
    approved: spec['approved'] === true,
    approval: str(spec['approval']),
    phase: str(rec(plan['status'])['phase']),
    resourceVersion: str(meta['resourceVersion']),
    csvs,
    others,
    unexpected: others.filter((n) => !alsoCsvs.includes(n)),
    missing: alsoCsvs.filter((n) => n !== csv && !csvs.includes(n)),
  };
}

/** The newest plan first (creationTimestamp, then name), so a re-created plan wins over a stale one. */
function newestFirst(a: Record<string, unknown>, b: Record<string, unknown>): number {
  const ta = str(rec(a['metadata'])['creationTimestamp']) ?? '';
  const tb = str(rec(b['metadata'])['creationTimestamp']) ?? '';
  if (ta !== tb) return ta < tb ? 1 : -1;
  return (str(rec(a['metadata'])['name']) ?? '').localeCompare(str(rec(b['metadata'])['name']) ?? '');
}

/** The CSV's release version as the operator will announce it; undefined (with why) when it cannot be read. */
function releaseOf(csvObject: Record<string, unknown>, csv: string): { version?: string; problem?: string } {
  try {
    return { version: csvFromObjects([{ value: csvObject, file: `csv/${csv}`, document: 0, path: '' }], `csv/${csv}`).releaseVersion };
  } catch (e) {
    if (isOsvError(e)) return { problem: e.message };
    throw e;
  }
}

export function judgeOperatorGate(input: OperatorGateInput): OperatorGate {
  const also = input.alsoCsvs ?? [];
  const matching = input.installPlans.filter((p) => summarizeInstallPlan(p, input.csv).csvs.includes(input.csv)).sort(newestFirst);
  const plan = matching[0] ? summarizeInstallPlan(matching[0], input.csv, also) : undefined;
  const otherPlans = matching.slice(1).map((p) => str(rec(p['metadata'])['name']) ?? '');
  const csvPhase = input.csvObject ? str(rec(input.csvObject['status'])['phase']) : undefined;
  const availableVersion = input.openStackVersion ? str(rec(input.openStackVersion['status'])['availableVersion']) : undefined;
  const base = { csv: input.csv, installPlan: plan, otherPlans, csvPhase, availableVersion };
  const result = (state: OperatorGateState, verdict: OperatorGateVerdict, reason: string, releaseVersion?: string, approvable = false): OperatorGate => ({ ...base, state, verdict, reason, releaseVersion, approvable });

  if (!plan) {
    return result('no-install-plan', 'waiting', `no InstallPlan installs ${input.csv} yet: OLM makes one once the Subscription names it (spec.startingCSV) and the catalog serves it`);
  }
  const others = plan.others.length ? ` together with ${plan.others.join(', ')}` : '';
  if (plan.phase === 'Failed') return result('failed', 'failed', `InstallPlan ${plan.name} (${input.csv}${others}) failed`);
  if (!plan.approved) {
    if (plan.unexpected.length) {
      return result(
        'other-csvs',
        'waiting',
        `InstallPlan ${plan.name} waits for approval, but it would also install ${plan.unexpected.join(', ')}; approve it only by naming ${plan.unexpected.length > 1 ? 'each of them' : 'it'} with --also-csv`,
      );
    }
    if (plan.missing.length) {
      return result('other-csvs', 'waiting', `InstallPlan ${plan.name} does not hold ${plan.missing.join(', ')} named with --also-csv; its CSVs are ${plan.csvs.join(', ')}: approve only a plan that holds exactly what you named`);
    }
    return result('needs-approval', 'waiting', `InstallPlan ${plan.name} installs ${input.csv}${others} and waits for approval (operator-upgrade --approve)`, undefined, true);
  }
  if (!input.csvObject) return result('installing', 'waiting', `InstallPlan ${plan.name} is approved (${plan.phase ?? 'no phase yet'}); the CSV ${input.csv} does not exist yet`);
  if (csvPhase === 'Failed') {
    const message = str(rec(input.csvObject['status'])['message']);
    return result('failed', 'failed', `CSV ${input.csv} failed${message ? `: ${message}` : ''}`);
  }
  if (csvPhase !== 'Succeeded') return result('installing', 'waiting', `CSV ${input.csv} is ${csvPhase ?? 'without a phase'}, not Succeeded yet`);
  const release = releaseOf(input.csvObject, input.csv);
  if (release.version === undefined) return result('failed', 'failed', `CSV ${input.csv} succeeded, but its release version cannot be read: ${release.problem ?? 'unknown'}`);
  if (!input.openStackVersion) return result('available-version-lags', 'waiting', `CSV ${input.csv} succeeded (release ${release.version}); no OpenStackVersion was found to confirm it`, release.version);
  if (availableVersion !== release.version) {
    return result('available-version-lags', 'waiting', `CSV ${input.csv} succeeded; OpenStackVersion status.availableVersion is ${availableVersion ?? 'unset'}, waiting for ${release.version}`, release.version);
  }
  return result('passed', 'passed', `${input.csv} is installed and the OpenStackVersion announces ${release.version}: the update to ${release.version} may start`, release.version);
}
