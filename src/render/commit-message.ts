/** Commit messages and PR text rendered from templates/ (plain `{{name}}` placeholders). */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { shortChange } from '../images/diff.js';
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

/** The image changes that reach running containers in this phase. */
export function phaseImageRows(plan: UpdatePlan, phase: PhasePlan): string[] {
  // the commit that sets targetVersion also carries every change, so the reviewer sees them all there
  const rows = plan.imageDiff.filter((d) => d.change !== 'unchanged' && (phase.git.setsTargetVersion || d.phases.includes(phase.phase as never)));
  return rows.map((d) => `- ${d.service} ${d.backend !== undefined ? `${d.field}[${d.backend}]` : d.field}: ${d.change} ${shortChange(d.from, d.to)}`);
}

/** `extraTrailers` are appended after ours, e.g. `Osv-Update-Skipped-Gate` when a gate was skipped. */
export function commitMessage(plan: UpdatePlan, phase: PhasePlan, extraTrailers: readonly (readonly [string, string])[] = []): string {
  const committed = plan.phases.filter((p) => p.git.changes);
  const rows = phaseImageRows(plan, phase);
  const body = fill(template('commit-message.md'), {
    number: String(committed.indexOf(phase) + 1),
    total: String(committed.length),
    phaseId: phase.id,
    deployed: plan.versions.deployed,
    target: plan.versions.target,
    title: phase.title,
    gitSummary: phase.git.summary,
    gateSummary: phase.gate.summary,
    gateChecks: phase.gate.checks.map((c) => `- ${checkText(c)}`).join('\n'),
    imageCount: String(rows.length),
    imageTable: rows.length ? rows.join('\n') : '- none',
    serviceDefaults: serviceDefaultsSection(plan, phase),
  });
  // trailers: one line each, letters/digits/dashes in keys (conventions d10)
  const extra = extraTrailers.map(([k, v]) => `${k}: ${v}\n`).join('');
  return `${body.trimEnd()}\n\n${TRAILER_TARGET}: ${plan.versions.target}\n${TRAILER_PHASE}: ${phase.index} ${phase.id}\n${TRAILER_PLAN}: ${plan.id}\n${extra}`;
}
