/**
 * The one numbering of the phases, "phase i of N", and the images each phase rolls out. Every
 * human-facing text (commit subjects, pull-request titles and file names, `status`, `advance`,
 * `watch`) and every numbered name (phase folders, gate Jobs) takes its number from here.
 *
 * i is the phase's position in the plan: 0 is `preflight` (it changes nothing, DESIGN.md's 0b), N
 * is the position of the last phase, `complete`. It is the number the phase folders
 * (`01-ovn-controlplane`), the plan table and the `Osv-Update-Phase` trailer (`1 ovn-controlplane`)
 * have always carried, so none of them changes.
 */
import type { ImageChange, RolloutPhase } from '../images/diff.js';
import type { PhasePlan, UpdatePlan } from './types.js';

/** i: the phase's number. */
export function phaseNumber(phase: Pick<PhasePlan, 'index'>): number {
  return phase.index;
}

/** N: the number of the last phase (`complete`). */
export function phaseTotal(plan: Pick<UpdatePlan, 'phases'>): number {
  return plan.phases.length - 1;
}

/** `phase i of N`, from the two numbers (status carries them without the plan). */
export function phaseOfText(number: number, total: number): string {
  return `phase ${number} of ${total}`;
}

/** `phase i of N` for a phase of the plan. */
export function phaseLabel(plan: Pick<UpdatePlan, 'phases'>, phase: Pick<PhasePlan, 'index'>): string {
  return phaseOfText(phaseNumber(phase), phaseTotal(plan));
}

/** `NN`: the number in names and tables. */
export function phaseNumberText(phase: Pick<PhasePlan, 'index'>): string {
  return String(phaseNumber(phase)).padStart(2, '0');
}

/** `NN-<id>`: phase folders, agent wiring names, pull-request description files. */
export function phaseSlug(phase: Pick<PhasePlan, 'index' | 'id'>): string {
  return `${phaseNumberText(phase)}-${phase.id}`;
}

const ROLLOUT: Readonly<Record<string, RolloutPhase>> = {
  'ovn-controlplane': 'ovn-controlplane',
  'ovn-dataplane': 'ovn-dataplane',
  controlplane: 'controlplane',
  dataplane: 'dataplane',
};

/**
 * The changed images that reach running containers in this phase. A data-plane phase rolls out
 * only through its deployments: without one (OVN image unchanged before fr6, no nodes) it rolls
 * out nothing. Each batch of a batched phase rolls out the same images, on its own nodesets.
 */
export function phaseImages(plan: Pick<UpdatePlan, 'imageDiff'>, phase: PhasePlan): ImageChange[] {
  const rollout = ROLLOUT[phase.phase];
  if (rollout === undefined) return [];
  if ((rollout === 'ovn-dataplane' || rollout === 'dataplane') && phase.git.deployments.length === 0) return [];
  return plan.imageDiff.filter((d) => d.change !== 'unchanged' && d.phases.includes(rollout));
}

/**
 * Changed images no phase rolls out: deprecated fields the operator no longer deploys, data-plane
 * images when no nodeset has nodes. The commit that sets the target version still writes them.
 */
export function imagesInNoPhase(plan: Pick<UpdatePlan, 'imageDiff' | 'phases'>): ImageChange[] {
  const placed = new Set(plan.phases.flatMap((p) => phaseImages(plan, p)));
  return plan.imageDiff.filter((d) => d.change !== 'unchanged' && !placed.has(d));
}

/**
 * The phases after `phase` that change nothing in Git, up to the next phase that does: they start
 * when this phase's gate holds, with no commit or pull request of their own (e.g. `controlplane`
 * with OVN on), so this phase's commit and pull request speak for them.
 */
export function followingQuietPhases(plan: Pick<UpdatePlan, 'phases'>, phase: PhasePlan): PhasePlan[] {
  const next = plan.phases.find((p) => p.index > phase.index && p.git.changes);
  return plan.phases.filter((p) => p.index > phase.index && !p.git.changes && (next === undefined || p.index < next.index));
}
