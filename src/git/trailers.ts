/** The trailers every phase commit carries: state lives in Git, never in a local file (DESIGN.md). */
import { git } from './git.js';

export const TRAILER_TARGET = 'Osv-Update-Target';
export const TRAILER_PHASE = 'Osv-Update-Phase';
export const TRAILER_PLAN = 'Osv-Update-Plan';

export interface PhaseCommit {
  readonly sha: string;
  readonly target: string;
  /** The phase id, e.g. `ovn-dataplane` or `dataplane-b2`. */
  readonly phase: string;
  readonly index: number;
  readonly plan: string;
}

/** Phase commits reachable from `ref`, newest first. */
export async function phaseCommits(repo: string, ref = 'HEAD'): Promise<PhaseCommit[]> {
  const fmt = `%H%x1f%(trailers:key=${TRAILER_TARGET},valueonly,separator=%x2C)%x1f%(trailers:key=${TRAILER_PHASE},valueonly,separator=%x2C)%x1f%(trailers:key=${TRAILER_PLAN},valueonly,separator=%x2C)%x1e`;
  let out: string;
  try {
    out = await git(repo, ['log', `--format=${fmt}`, ref]);
  } catch {
    return []; // no commits yet
  }
  const commits: PhaseCommit[] = [];
  for (const rec of out.split('\x1e')) {
    const [sha, target, phase, plan] = rec.trim().split('\x1f');
    if (!sha || !target || !phase) continue;
    const m = /^(\d+)\s+(\S+)/.exec(phase.trim());
    if (!m) continue;
    commits.push({ sha, target: target.trim(), phase: m[2]!, index: Number(m[1]), plan: (plan ?? '').trim() });
  }
  return commits;
}
