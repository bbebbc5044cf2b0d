/** Commit messages and PR text rendered from templates/ (plain `{{name}}` placeholders). */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { shortChange, type ImageChange } from '../images/diff.js';
import { followingQuietPhases, imagesInNoPhase, phaseImages, phaseLabel } from '../plan/numbering.js';
import { checkText } from '../plan/phases.js';
import type { PhasePlan, UpdatePlan } from '../plan/types.js';
import { projectRoot } from '../validate/project-root.js';
import { TRAILER_PHASE, TRAILER_PLAN, TRAILER_TARGET } from '../git/trailers.js';

const cache = new Map<string, string>();

function template(name: string): string {
  let t = cache.get(name);
  if (t === undefined) {
    t = readFileSync(join(projectRoot(), 'templates', name), 'utf8');
    cache.set(name, t);
  }
  return t;
}

/** `{{name}}` must have a value; `{{?name}}` is a section a caller may leave out (it renders empty). */
export function fill(text: string, values: Readonly<Record<string, string>>): string {
  return text.replace(/\{\{(\??)(\w+)\}\}/g, (_, optional: string, k: string) => {
    const v = values[k];
    if (v === undefined && optional === '') throw new Error(`template placeholder {{${k}}} has no value`);
    return v ?? '';
  });
}

/** The service defaults that change with the version, shown where the version is set (they act in the controlplane phase). */
export function serviceDefaultRows(plan: UpdatePlan, phase: PhasePlan): string[] {
  if (!phase.git.setsTargetVersion) return [];
  // plans saved before service defaults were recorded have none
  return (plan.serviceDefaults ?? [])
    .filter((d) => d.change === 'changed')
    .map((d) => `- ${d.service} ${d.field}: ${d.from ?? '—'} → ${d.to} — ${d.effect}`);
}

/** The service-defaults section that follows the image table (Markdown heading for PR bodies), empty when nothing changes. */
export function serviceDefaultsSection(plan: UpdatePlan, phase: PhasePlan, markdown = false): string {
  const rows = serviceDefaultRows(plan, phase);
  if (rows.length === 0) return '';
  const heading = `Service defaults changing with the version, applied in the controlplane phase (${rows.length})`;
  return `\n\n${markdown ? `## ${heading}` : `${heading}:`}\n${rows.join('\n')}`;
}

/** One image change, short: the digest cut to 12 characters, the repository named once. */
export function imageRow(d: ImageChange): string {
  return `- ${d.service} ${imageName(d)}: ${d.change} ${shortChange(d.from, d.to)}`;
}

function imageName(d: ImageChange): string {
  return d.backend !== undefined ? `${d.field}[${d.backend}]` : d.field;
}

/** The image changes that reach running containers in this phase, short. */
export function phaseImageRows(plan: UpdatePlan, phase: PhasePlan): string[] {
  return phaseImages(plan, phase).map(imageRow);
}

/** Most image rows a commit body lists one by one; past that, one line per service. */
export const COMMIT_IMAGE_ROWS = 30;

/** Image rows for a commit body: each image up to `max`, else one line per service, so a body stays short. */
export function boundedImageRows(images: readonly ImageChange[], max = COMMIT_IMAGE_ROWS): string[] {
  if (images.length === 0) return ['- none'];
  if (images.length <= max) return images.map(imageRow);
  const byService = new Map<string, string[]>();
  for (const d of images) byService.set(d.service, [...(byService.get(d.service) ?? []), imageName(d)]);
  const rows = [...byService].map(([service, names]) => `- ${service} (${names.length}): ${names.join(', ')}`);
  return [...rows, `(more than ${max} images: one line per service; \`osv-gitops plan\` shows each digest)`];
}

/** The full references, with digests, for a collapsed block of a pull-request body. */
export function imageDetails(summary: string, images: readonly ImageChange[]): string {
  if (images.length === 0) return '';
  const rows = images.map((d) => `- ${d.service} ${imageName(d)}: ${d.change}\n  - from \`${d.from ?? '—'}\`\n  - to \`${d.to ?? '—'}\``);
  return `<details>\n<summary>${summary} (${images.length})</summary>\n\n${rows.join('\n')}\n\n</details>`;
}

const count = (n: number) => `${n} image${n === 1 ? '' : 's'}`;

/**
 * Images of the phases after this one, counted per phase (each lists them where it rolls them out).
 * `unit` names what each Git phase gets: a commit, or a pull request.
 */
export function laterPhaseRows(plan: UpdatePlan, phase: PhasePlan, unit: 'commit' | 'pull request'): string[] {
  const quiet = new Set(followingQuietPhases(plan, phase));
  const rows: string[] = [];
  for (const p of plan.phases) {
    if (p.index <= phase.index || quiet.has(p)) continue;
    const n = phaseImages(plan, p).length;
    if (n === 0) continue;
    const speaker = p.git.changes ? undefined : [...plan.phases].reverse().find((q) => q.index < p.index && q.git.changes);
    const where = p.git.changes ? '' : `, no ${unit} of its own (listed in the ${unit} of ${speaker ? phaseLabel(plan, speaker) : 'the phase before it'})`;
    rows.push(`- ${phaseLabel(plan, p)} ${p.id}: ${count(n)}${where}`);
  }
  return rows;
}

/** `{{laterPhases}}`: the section after this phase's images, empty when no later phase rolls out an image. */
export function laterPhasesSection(plan: UpdatePlan, phase: PhasePlan, markdown = false): string {
  const rows = laterPhaseRows(plan, phase, markdown ? 'pull request' : 'commit');
  if (rows.length === 0) return '';
  return markdown ? `\n\n## Later phases\nImages rolling out after this phase, each listed in full where it rolls out:\n${rows.join('\n')}` : `\n\nLater phases (each lists its images where it rolls them out):\n${rows.join('\n')}`;
}

/** Phases with no commit (or pull request) of their own that this one leads into, and the images they roll out. */
export function quietImageSections(plan: UpdatePlan, phase: PhasePlan): { readonly phase: PhasePlan; readonly label: string; readonly images: ImageChange[] }[] {
  return followingQuietPhases(plan, phase)
    .map((p) => ({ phase: p, label: `${phaseLabel(plan, p)} ${p.id}`, images: phaseImages(plan, p) }))
    .filter((s) => s.images.length > 0);
}

/** On the phase that sets the target version: the changed images no phase rolls out (it still writes them). */
export function unplacedImages(plan: UpdatePlan, phase: PhasePlan): ImageChange[] {
  return phase.git.setsTargetVersion ? imagesInNoPhase(plan) : [];
}

export const UNPLACED_HEADING = 'Set now, rolled out by no phase: deprecated fields, or data-plane images with no nodeset to run on';

/** `extraTrailers` are appended after ours, e.g. `Osv-Update-Skipped-Gate` when a gate was skipped. */
export function commitMessage(plan: UpdatePlan, phase: PhasePlan, extraTrailers: readonly (readonly [string, string])[] = []): string {
  const images = phaseImages(plan, phase);
  const sections = [
    ...quietImageSections(plan, phase).map((q) => ({ heading: `Then ${q.label}, with no commit of its own: the operator goes on once this phase's gate holds. Images rolling out there`, images: q.images })),
    { heading: UNPLACED_HEADING, images: unplacedImages(plan, phase) },
  ].filter((q) => q.images.length > 0);
  const quiet = sections.map((q) => `\n\n${q.heading} (${q.images.length}):\n${boundedImageRows(q.images).join('\n')}`);
  const body = fill(template('commit-message.md'), {
    phase: phaseLabel(plan, phase),
    phaseId: phase.id,
    deployed: plan.versions.deployed,
    target: plan.versions.target,
    title: phase.title,
    gitSummary: phase.git.summary,
    gateSummary: phase.gate.summary,
    gateChecks: phase.gate.checks.map((c) => `- ${checkText(c)}`).join('\n'),
    imageCount: String(images.length),
    imageTable: boundedImageRows(images).join('\n'),
    quietPhases: quiet.join(''),
    laterPhases: laterPhasesSection(plan, phase),
    serviceDefaults: serviceDefaultsSection(plan, phase),
  });
  // trailers: one line each, letters/digits/dashes in keys (conventions d10)
  const extra = extraTrailers.map(([k, v]) => `${k}: ${v}\n`).join('');
  return `${body.trimEnd()}\n\n${TRAILER_TARGET}: ${plan.versions.target}\n${TRAILER_PHASE}: ${phase.index} ${phase.id}\n${TRAILER_PLAN}: ${plan.id}\n${extra}`;
}
