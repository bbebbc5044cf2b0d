/** `osv-gitops plan`: from the inputs to a verified update plan, as a table or as JSON. */
import { resolve } from 'node:path';
import { shortChange, shortImage } from '../images/diff.js';
import { OsvError } from '../errors.js';
import { writeOwnFile } from '../fs/contained.js';
import { phaseNumberText } from '../plan/numbering.js';
import type { UpdatePlan } from '../plan/types.js';
import { quoteInput } from '../validate/quote.js';
import type { CsvInput } from '../inputs/csv.js';
import { loadUpdate, subscriptionAt, withInstallPlanNotes } from './inputs.js';
import { paint, stableJson, table, type CliIo } from './io.js';
import type { InputFlags } from './options.js';

export interface PlanFlags extends InputFlags {
  readonly json?: boolean;
  readonly output?: string;
  readonly allImages?: boolean;
  readonly kubeconfig?: string;
  readonly context?: string;
}

/**
 * `--subscription` with neither `--csv` nor `--installplan` (nor `--example`): the target CSV from
 * the InstallPlan OLM prepared for that Subscription on the cluster of the kubeconfig.
 */
async function clusterCsv(flags: PlanFlags, io: CliIo): Promise<CsvInput | undefined> {
  if (flags.subscription === undefined || flags.csv !== undefined || flags.installplan !== undefined || flags.example) {
    if (flags.kubeconfig !== undefined || flags.context !== undefined) throw new OsvError('USAGE', '--kubeconfig and --context go with --subscription without --csv: plan reads the cluster only to find the InstallPlan');
    return undefined;
  }
  const sub = subscriptionAt(flags, io);
  const [{ KubeReader, loadKubeConfig }, { installPlanCsvFromCluster }] = await Promise.all([import('../cluster/kube.js'), import('../olm/installplan-cluster.js')]);
  let kc;
  try {
    kc = loadKubeConfig({ ...(flags.kubeconfig ? { kubeconfig: resolve(io.cwd, flags.kubeconfig) } : {}), ...(flags.context ? { context: flags.context } : {}) });
  } catch (e) {
    if (!(e instanceof OsvError && e.code === 'CLUSTER_CONFIG')) throw e;
    throw new OsvError('CLUSTER_CONFIG', `--subscription without --csv reads the target CSV from OLM's InstallPlan on the cluster: ${e.message}`, {
      hint: 'Pass the target CSV with --csv FILE (or --installplan FILE), or a kubeconfig with --kubeconfig.',
      cause: e,
    });
  }
  const found = await installPlanCsvFromCluster(new KubeReader(kc), sub);
  io.stderr(`target CSV ${found.csv.name}: images from ${found.origin}\n`);
  return withInstallPlanNotes(found);
}

export { stableJson };

export function formatPlan(plan: UpdatePlan, io: CliIo, allImages = false): string {
  const v = plan.versions;
  let out = `${paint(io, 'bold', 'Update')} ${v.deployed} → ${v.target}  (OpenStackVersion ${plan.namespace}/${plan.openStackVersion}, plan ${plan.id})\n`;
  if (plan.operatorRelease) out += `Operator release: ${plan.operatorRelease.branch} (${plan.operatorRelease.via})\n`;
  out += `Target images from: ${plan.imageSource.detail}\n`;
  out += `Deployed images from: ${plan.currentImagesFrom}\n`;
  out += `OVN: ${plan.ovnEnabled ? (plan.ovnImageChanged ? 'enabled, controller image changes' : 'enabled, controller image unchanged') : 'disabled'}\n\n`;
  out += paint(io, 'bold', 'Phases') + '\n';
  out += table(
    plan.phases.map((p) => [phaseNumberText(p), p.id, p.git.summary, p.gate.summary, p.durationClass]),
    ['#', 'phase', 'what Git gets', 'gate', 'duration'],
  );
  const s = plan.diffSummary;
  const shown = plan.imageDiff.filter((d) => allImages || d.change !== 'unchanged');
  out += `\n${paint(io, 'bold', 'Images')} (${s.changed} changed, ${s.added} added, ${s.removed} removed, ${s.unchanged} unchanged${allImages ? '' : '; --all-images lists the unchanged'})\n`;
  out += table(
    shown.map((d) => [
      d.service,
      d.backend !== undefined ? `${d.field}[${d.backend}]` : d.field,
      d.change,
      d.change === 'unchanged' ? shortImage(d.to) : shortChange(d.from, d.to),
      d.phases.join(',') || '(not rolled out)',
    ]),
    ['service', 'field', 'change', 'old → new', 'rolls out in'],
  );
  // plans saved before service defaults were recorded have none
  const defaults = (plan.serviceDefaults ?? []).filter((d) => allImages || d.change !== 'unchanged');
  if (defaults.length) {
    out += `\n${paint(io, 'bold', 'Service defaults')} (what the control plane acts on; they change in the controlplane phase)\n`;
    out += table(
      defaults.map((d) => [d.service, d.field, d.change, d.change === 'unchanged' ? d.to : `${d.from ?? '?'} → ${d.to}`, d.effect]),
      ['service', 'field', 'change', 'old → new', 'effect'],
    );
  }
  if (plan.warnings.length) {
    out += `\n${paint(io, 'yellow', 'Warnings')}\n` + plan.warnings.map((w) => `- [${w.code}] ${w.message}\n`).join('');
  }
  const notes = [...plan.notes, ...plan.phases.flatMap((p) => p.notes.map((n) => `${p.id}: ${n}`))];
  if (notes.length) out += `\nNotes\n` + notes.map((n) => `- ${n}\n`).join('');
  return out;
}

/** The action of `osv-gitops plan` (its flags and help are registered in commands.ts). */
export async function planAction(flags: PlanFlags, io: CliIo, setExit: (code: number) => void): Promise<void> {
  const csv = await clusterCsv(flags, io);
  const { plan } = loadUpdate(flags, io, csv ? { csv } : {});
  if (flags.output !== undefined) {
    writePlanFile(resolve(io.cwd, flags.output), stableJson(plan), flags.output);
    io.stderr(`plan ${plan.id} written to ${flags.output}\n`);
  }
  if (flags.json) io.stdout(stableJson(plan));
  else if (flags.output === undefined) io.stdout(formatPlan(plan, io, flags.allImages));
  else io.stderr(formatPlan(plan, io, flags.allImages));
  setExit(0);
}

const WRITE_ERRORS: Readonly<Record<string, string>> = {
  ENOENT: 'its folder does not exist',
  ENOTDIR: 'a part of the path is a file, not a folder',
  EISDIR: 'it is a folder',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EROFS: 'the filesystem is read-only',
  ENOSPC: 'no space left on the device',
  ENAMETOOLONG: 'the name is too long',
};

/**
 * `--output`: written whole or not at all (a temporary file renamed over the target), and a
 * failure is a typed error naming the path, not a stack trace.
 */
function writePlanFile(file: string, content: string, shown: string): void {
  try {
    writeOwnFile(file, content, '--output');
  } catch (e) {
    if (e instanceof OsvError && e.code !== 'WRITE_FAILED') throw e;
    const code = (e as { cause?: NodeJS.ErrnoException }).cause?.code ?? '';
    throw new OsvError('OUTPUT_INVALID', `cannot write the plan to ${quoteInput(shown)}: ${WRITE_ERRORS[code] ?? (code || 'write failed')}`, {
      hint: 'Pass --output a file in an existing folder you can write to.',
      cause: e,
    });
  }
}
