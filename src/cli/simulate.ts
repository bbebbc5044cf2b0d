/** `osv-gitops simulate`: rehearse the whole update against a rehearsal cluster on this machine. */
import { join, resolve } from 'node:path';
import { rehearsedEngineOf } from '../agents/index.js';
import { OsvError } from '../errors.js';
import { defaultsFromEnv } from '../images/defaults.js';
import { loadCsv } from '../inputs/csv.js';
import { readObjects } from '../inputs/yaml.js';
import type { Mode, TimelineEntry } from '../simulate/rehearsal.js';
import { exampleDir, loadUpdate } from './inputs.js';
import { paint, stableJson, type CliIo } from './io.js';
import { parseDuration, type InputFlags } from './options.js';
import { parseName } from '../validate/grammar.js';

export interface SimulateFlags extends InputFlags {
  readonly engine?: string;
  readonly mode?: string;
  readonly stepMs?: string;
  readonly failDeployment?: string;
  readonly bundleCsv?: string[];
  readonly agentLag?: string;
  readonly timeout?: string;
  readonly skipGate?: string[];
  readonly verbose?: boolean;
  readonly json?: boolean;
}

function entryLine(e: TimelineEntry, io: CliIo): string {
  const at = `+${(e.atMs / 1000).toFixed(2)}s`.padStart(8);
  const waited = e.waitedMs !== undefined ? ` (waited ${(e.waitedMs / 1000).toFixed(2)}s)` : '';
  const style = e.kind === 'commit' ? 'cyan' : e.kind === 'gate-passed' || e.kind === 'done' ? 'green' : e.kind === 'waiting' ? 'dim' : 'red';
  return `${at}  ${paint(io, style, e.kind.padEnd(11))} ${e.text}${waited}\n`;
}

/**
 * What a rehearsal starts from, read from the input flags: the plan and carried manifests, the live
 * OpenStackVersion (its status holds the deployed images), the CSV object and the target's image
 * defaults as the operator reads them from the CSV.
 */
export function rehearsalStart(flags: InputFlags, io: CliIo) {
  // the rehearsal installs the CSV object itself: it takes it from a CSV file
  if (flags.installplan !== undefined) throw new OsvError('USAGE', 'simulate takes the target CSV from --csv (or --example), not --installplan');
  const update = loadUpdate(flags, io);
  const ex = flags.example ? exampleDir() : undefined;
  const osvFile = flags.openstackVersion !== undefined ? resolve(io.cwd, flags.openstackVersion) : ex ? join(ex, 'openstackversion.yaml') : undefined;
  const csvFile = flags.csv !== undefined ? resolve(io.cwd, flags.csv) : ex ? join(ex, 'csv.yaml') : undefined;
  if (!osvFile) throw new OsvError('USAGE', 'missing --openstack-version (or --example)');
  const openStackVersion = readObjects(osvFile, 'the OpenStackVersion').find((o) => o.value['kind'] === 'OpenStackVersion')!.value;
  if (!(openStackVersion['status'] as Record<string, unknown> | undefined)?.['deployedVersion']) {
    throw new OsvError('USAGE', 'simulate needs a live OpenStackVersion dump (with status): the rehearsal starts from the deployed images', { hint: 'Pass `oc get openstackversion -o yaml`.' });
  }
  const csv = csvFile ? readObjects(csvFile, 'the CSV').find((o) => o.value['kind'] === 'ClusterServiceVersion')?.value : undefined;
  const recorded = (openStackVersion['status'] as { containerImageVersionDefaults?: Record<string, Record<string, string>> }).containerImageVersionDefaults ?? {};
  const targetDefaults = csvFile ? defaultsFromEnv(loadCsv(csvFile).imageEnv).defaults : recorded[update.plan.versions.target];
  if (!targetDefaults) throw new OsvError('POLICY_NO_DEFAULTS', `no image defaults for ${update.plan.versions.target}: pass --csv`);
  return { update, openStackVersion, ...(csv ? { csv } : {}), targetDefaults };
}

/**
 * `simulate --example` rehearses the whole procedure, from phase 0 (the operator upgrade through
 * OLM) with the example's Subscription: in commits mode, and in directories mode for an agent whose
 * wiring gates phase 0 (`rendersPhase0`). Only here: phase 0 needs the Subscription committed in
 * the user's repository (which a rehearsal creates, and plan/commit --example do not have).
 */
export function withExampleSubscription(flags: SimulateFlags, mode: Mode, rendersPhase0 = false): SimulateFlags {
  if (!flags.example || flags.subscription !== undefined || (mode !== 'commits' && !rendersPhase0)) return flags;
  return { ...flags, subscription: join(exampleDir(), EXAMPLE_SUBSCRIPTION) };
}

/** The example's Subscription, in fixtures/example. */
export const EXAMPLE_SUBSCRIPTION = 'subscription.yaml';

/** The action of `osv-gitops simulate` (its flags and help are registered in commands.ts). */
export async function simulateAction(flags: SimulateFlags, io: CliIo, setExit: (code: number) => void): Promise<void> {
  const startedAt = Date.now(); // --timeout bounds the whole run, reading the inputs included
  const engine = rehearsedEngineOf(flags.engine);
  const mode = (flags.mode ?? 'commits') as Mode;
  if (mode !== 'commits' && mode !== 'directories') throw new OsvError('USAGE', `--mode must be commits or directories, not "${flags.mode}"`);
  const step = Number(flags.stepMs ?? '150');
  if (!Number.isFinite(step) || step < 1) throw new OsvError('USAGE', '--step-ms must be a positive number');
  let failDeployments: RegExp | undefined;
  try {
    failDeployments = flags.failDeployment ? new RegExp(flags.failDeployment) : undefined;
  } catch (e) {
    throw new OsvError('USAGE', `--fail-deployment is not a regular expression: ${(e as Error).message}`);
  }
  const bundleWith = (flags.bundleCsv ?? []).map((n) => parseName(n, 'object', '--bundle-csv'));
  // loaded anyway by the rehearsal, which renders the folders in directories mode
  const rendersPhase0 = mode === 'directories' && (await import('../agents/wiring.js')).wiringFor(engine).operatorPhase !== undefined;
  const { update, openStackVersion: osv, csv: csvObj, targetDefaults } = rehearsalStart(withExampleSubscription(flags, mode, rendersPhase0), io);
  if (bundleWith.length && !update.plan.operatorUpgrade) throw new OsvError('USAGE', '--bundle-csv goes with --subscription (phase 0)');
  const verbose = (l: string) => io.stderr(`${paint(io, 'dim', l)}\n`);
  const { rehearse } = await import('../simulate/rehearsal.js');
  const result = await rehearse({
    update,
    openStackVersion: osv,
    ...(csvObj ? { csv: csvObj } : {}),
    targetDefaults,
    engine,
    mode,
    durations: { ovnControlPlane: step * 2, rabbitmq: step, galera: step, memcached: step, keystone: step, controlPlaneRest: step * 2, deploymentService: step },
    ...(failDeployments || bundleWith.length ? { faults: { ...(failDeployments ? { failDeployments } : {}), ...(bundleWith.length ? { olmBundleWith: bundleWith } : {}) } } : {}),
    agentLagMs: parseDuration(flags.agentLag ?? '0ms', '--agent-lag'),
    // the default grows with the step, as the rehearsal's deadlines do
    startedAt,
    timeoutMs: flags.timeout !== undefined ? parseDuration(flags.timeout, '--timeout') : Math.max(1, step / 150) * 120_000,
    ...(flags.skipGate?.length ? { skipGates: flags.skipGate } : {}),
    ...(flags.verbose ? { log: verbose } : {}),
    ...(flags.json ? {} : { onEntry: (e) => io.stdout(entryLine(e, io)) }),
  });
  if (flags.json) {
    io.stdout(stableJson({ end: result.end, exitCode: result.exitCode, causes: result.causes, wallMs: result.wallMs, startMs: result.startMs, apiRequests: result.apiRequests, commits: result.commits, timeline: result.timeline, status: result.status }));
  } else {
    const verdict = result.end === 'done' ? paint(io, 'green', 'complete') : paint(io, 'red', result.end);
    // directories mode makes no commits: the agent runs the phases from one
    const commits = mode === 'commits' ? `${result.commits.length} commits, ` : '';
    io.stdout(`\nrehearsal ${verdict}: ${update.plan.versions.deployed} → ${update.plan.versions.target}, ${engine} ${mode} mode, ${commits}${(result.wallMs / 1000).toFixed(1)} s (cluster start ${(result.startMs / 1000).toFixed(1)} s), ${result.apiRequests} API requests\n`);
    if (result.end !== 'done' && result.status) io.stdout(`  stopped in ${result.status.phase}${mode === 'commits' || result.causes.length === 0 ? `: ${result.status.reason}` : ''}\n`);
    for (const c of result.causes) io.stdout(`  cause: ${c}\n`);
  }
  setExit(result.exitCode);
}
