/**
 * Where Git stands for one update, rebuilt from `git log` every time (no state file): the phase
 * commits carrying our target, the gates skipped by trailer, and whether the agent's revision
 * contains each phase commit.
 */
import type { GitView } from '../status/gates.js';
import { ancestryKey } from '../status/gates.js';
import { git, tryGit } from './git.js';
import { TRAILER_PHASE, TRAILER_TARGET } from './trailers.js';

export const TRAILER_SKIPPED_GATE = 'Osv-Update-Skipped-Gate';

export interface GitProgress {
  readonly view: GitView;
  /** Gates skipped in earlier runs, from the `Osv-Update-Skipped-Gate` trailers. */
  readonly skippedGates: readonly string[];
  readonly head: string | undefined;
}

/** Phase commits for `target` reachable from `ref`, with their committer dates. */
export async function readGitProgress(repo: string, target: string, ref = 'HEAD', agentRevision?: string): Promise<GitProgress> {
  const fmt = `%H%x1f%cI%x1f%(trailers:key=${TRAILER_TARGET},valueonly,separator=%x2C)%x1f%(trailers:key=${TRAILER_PHASE},valueonly,separator=%x2C)%x1f%(trailers:key=${TRAILER_SKIPPED_GATE},valueonly,separator=%x2C)%x1e`;
  // only commits that name our target: a GitOps repository's history can be long
  // the ref's commit is read alongside (both only read)
  const [logOut, headOut] = await Promise.all([tryGit(repo, ['log', '--fixed-strings', `--grep=${TRAILER_TARGET}: ${target}`, `--format=${fmt}`, ref]), tryGit(repo, ['rev-parse', '--verify', '--quiet', ref])]);
  const out = logOut ?? '';
  const commits: Record<string, { sha: string; date: string }> = {};
  const skipped = new Set<string>();
  for (const rec of out.split('\x1e')) {
    const [sha, date, t, phase, skip] = rec.trim().split('\x1f');
    if (!sha || !date || t?.trim() !== target || !phase) continue;
    const m = /^(\d+)\s+(\S+)/.exec(phase.trim());
    if (!m) continue;
    // newest first: keep the newest commit of a phase (a re-run after a reset of the branch)
    commits[m[2]!] ??= { sha, date: new Date(Date.parse(date)).toISOString() };
    for (const s of (skip ?? '').split(',')) if (s.trim()) skipped.add(s.trim());
  }
  const ancestry: Record<string, boolean> = {};
  if (agentRevision) {
    const known = (await tryGit(repo, ['cat-file', '-e', `${agentRevision}^{commit}`])) !== undefined;
    if (known) {
      for (const c of Object.values(commits)) {
        ancestry[ancestryKey(c.sha, agentRevision)] = (await tryGit(repo, ['merge-base', '--is-ancestor', c.sha, agentRevision])) !== undefined;
      }
    }
  }
  const head = headOut?.trim();
  return { view: { commits, ancestry }, skippedGates: [...skipped].sort(), head };
}

/** Fetch `branch` from `remote`; returns the remote tip, or undefined when the branch is not there yet. */
export async function fetchRemote(repo: string, remote: string, branch: string): Promise<string | undefined> {
  // the remote-tracking ref is read while the remote answers (the fetch below is what may move it)
  const [out, trackingOut] = await Promise.all([tryGit(repo, ['ls-remote', '--heads', remote, `refs/heads/${branch}`]), tryGit(repo, ['rev-parse', '--verify', '--quiet', `refs/remotes/${remote}/${branch}`])]);
  if (out === undefined) {
    await git(repo, ['ls-remote', '--heads', remote]); // raise git's own message (unknown remote, unreachable)
  }
  if (!out?.trim()) return undefined;
  // a waiting step mostly finds the remote where the last fetch left it: the fetch would change nothing
  const advertised = out.split('\n').find((l) => l.endsWith(`\trefs/heads/${branch}`))?.split('\t')[0];
  const tracking = trackingOut?.trim();
  if (advertised !== undefined && advertised === tracking) return tracking;
  await git(repo, ['fetch', '--quiet', '--no-tags', remote, `+refs/heads/${branch}:refs/remotes/${remote}/${branch}`]);
  return (await git(repo, ['rev-parse', `refs/remotes/${remote}/${branch}`])).trim();
}
