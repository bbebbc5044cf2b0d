/**
 * Crash injection for the safety suite: a `git` wrapper put first on PATH that counts every call in
 * a counter file and, at call N, kills its caller with SIGKILL, either the node process alone (after
 * that git call finished: the caller never learns its result) or the caller's whole process group
 * (while that git call runs: git dies with it). Every other call runs the real git.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export type KillMode = 'parent' | 'group';

/** The real git, found before PATH is changed. */
export function realGit(): string {
  const found = execFileSync('sh', ['-c', 'command -v git'], { encoding: 'utf8' }).trim();
  if (!found) throw new Error('no git on PATH');
  return found;
}

const WRAPPER = `#!/bin/sh
# osv-gitops crash tests: count every git call; at call OSV_KILL_AT kill the caller.
dir="$OSV_KILL_DIR"
n=$(flock "$dir/count.lock" sh -c 'n=$(( $(cat "$1" 2>/dev/null || echo 0) + 1 )); echo "$n" > "$1"; echo "$n"' sh "$dir/count")
printf '%s\\t%s\\n' "$n" "$*" >> "$dir/calls"
if [ "$n" = "\${OSV_KILL_AT:-0}" ]; then
  case "$OSV_KILL_MODE" in
    parent)
      "$OSV_REAL_GIT" "$@"
      status=$?
      echo "killed parent $PPID after call $n" >> "$dir/kills"
      kill -9 "$PPID"
      exit "$status" ;;
    group)
      pgid=$(ps -o pgid= -p "$PPID" | tr -d ' ')
      echo "killed group $pgid during call $n" >> "$dir/kills"
      "$OSV_REAL_GIT" "$@" 0<&0 &
      sleep "\${OSV_KILL_DELAY:-0.005}"
      kill -9 "-$pgid"
      wait
      exit 137 ;;
  esac
fi
exec "$OSV_REAL_GIT" "$@"
`;

export interface Killer {
  /** Folder with the counter, the call log and the kill log. */
  readonly dir: string;
  /** Environment that puts the wrapper first on PATH, armed to kill at call `at` (0: count only). */
  env(at: number, mode: KillMode): NodeJS.ProcessEnv;
  /** The calls made so far: the git arguments of each, in order. */
  calls(): string[][];
  killed(): boolean;
  reset(): void;
}

export function makeKiller(dir: string, git = realGit()): Killer {
  const bin = join(dir, 'bin');
  mkdirSync(bin, { recursive: true });
  writeFileSync(join(bin, 'git'), WRAPPER);
  chmodSync(join(bin, 'git'), 0o755);
  const read = (name: string) => (existsSync(join(dir, name)) ? readFileSync(join(dir, name), 'utf8') : '');
  return {
    dir,
    env: (at, mode) => ({
      ...process.env,
      PATH: `${bin}:${process.env['PATH'] ?? ''}`,
      OSV_KILL_DIR: dir,
      OSV_KILL_AT: String(at),
      OSV_KILL_MODE: mode,
      OSV_REAL_GIT: git,
    }),
    calls: () =>
      read('calls')
        .split('\n')
        .filter(Boolean)
        .map((l) => l.slice(l.indexOf('\t') + 1).split(' ')),
    killed: () => read('kills') !== '',
    reset: () => {
      for (const f of ['count', 'calls', 'kills']) writeFileSync(join(dir, f), '');
    },
  };
}

/** The git subcommand of a call's arguments (after -C DIR, -c K=V, --git-dir …). */
export function subcommand(args: readonly string[]): string {
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '-C' || a === '-c' || a === '--git-dir' || a === '--work-tree' || a === '--namespace') {
      i++;
      continue;
    }
    if (a.startsWith('-')) continue;
    return a;
  }
  return '(none)';
}

/** Subcommands that change a repository (or another one: push, fetch). */
const WRITES = new Set(['add', 'commit', 'commit-tree', 'update-ref', 'push', 'fast-import', 'checkout', 'switch', 'reset', 'merge', 'rm', 'read-tree', 'write-tree', 'update-index', 'hash-object', 'mktree', 'branch', 'tag', 'stash', 'fetch', 'apply', 'restore', 'gc', 'symbolic-ref']);

export interface KillPoint {
  /** 1-based index of the git call. */
  readonly at: number;
  readonly mode: KillMode;
  /** The git step, e.g. `commit` or `update-ref`. */
  readonly step: string;
}

/**
 * Where to kill, from the calls of a clean run. Full: every call in both modes. Sampled
 * (deterministic, every distinct git step covered): the node process after the first call of every
 * distinct step and after the last call of every step that writes; the process group during the
 * first call of every step that writes and during the very last call.
 */
export function killPoints(calls: readonly (readonly string[])[], full: boolean): KillPoint[] {
  const steps = calls.map(subcommand);
  const points = new Map<string, KillPoint>();
  const put = (i: number, mode: KillMode) => points.set(`${i}:${mode}`, { at: i + 1, mode, step: steps[i]! });
  if (full) {
    steps.forEach((_, i) => {
      put(i, 'parent');
      put(i, 'group');
    });
  } else {
    const first = new Map<string, number>();
    const last = new Map<string, number>();
    steps.forEach((s, i) => {
      if (!first.has(s)) first.set(s, i);
      last.set(s, i);
    });
    for (const [s, i] of first) {
      put(i, 'parent');
      if (WRITES.has(s)) {
        put(last.get(s)!, 'parent');
        put(i, 'group');
      }
    }
    if (steps.length) put(steps.length - 1, 'group');
  }
  return [...points.values()].sort((a, b) => a.at - b.at || a.mode.localeCompare(b.mode));
}
