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

export function fill(text: string, values: Readonly<Record<string, string>>): string {
  return text.replace(/\{\{(\w+)\}\}/g, (_, k: string) => {
    const v = values[k];
    if (v === undefined) throw new Error(`template placeholder {{${k}}} has no value`);
    return v;
  });
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
  });
  // trailers: one line each, letters/digits/dashes in keys (conventions d10)
  const extra = extraTrailers.map(([k, v]) => `${k}: ${v}\n`).join('');
  return `${body.trimEnd()}\n\n${TRAILER_TARGET}: ${plan.versions.target}\n${TRAILER_PHASE}: ${phase.index} ${phase.id}\n${TRAILER_PLAN}: ${plan.id}\n${extra}`;
}
