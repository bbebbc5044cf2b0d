/**
 * `osv-gitops cleanup`: retire a finished update so the next one starts clean. One commit, with the
 * trailer `Osv-Update-Retired: <version>`, landing like the phase commits (built from our files
 * alone, hooks, compare-and-swap of the branch, our paths of the work tree synced).
 *
 * What it removes:
 * - adopted layout (`--app-path`, `--version-file`): the deployments folder's entry in the
 *   kustomization above it (comments kept) and, unless `--keep-deployments`, the folder itself.
 *   The OpenStackVersion stays in the user's file, at the target version.
 * - copies layout (`--path`): the update folder, and its entry in the kustomization above it. That
 *   folder also holds the OpenStackVersion (and the carried control plane and nodesets): with prune
 *   on, removing them from Git would delete them from the cluster. So it is refused
 *   (CLEANUP_WOULD_DELETE) until the user's own app declares them, with the steps to get there.
 *
 * The deployments are removed by default: they carry the agent's "never prune" annotation (Flux
 * `prune: Disabled`, Argo CD `Prune=false`), so the cluster keeps the finished one-shot objects as
 * the operator's record while Git stops tracking them; with the plain engine and a pruning agent a
 * finished deployment is deleted, which is harmless. Their history stays in the phase commits.
 */
import { posix } from 'node:path';
import { parseAllDocuments } from '../inputs/full-yaml.js';
import { OsvError } from '../errors.js';
import { safeRelativePath } from '../fs/contained.js';
import type { UpdatePlan } from '../plan/types.js';
import { checkOurPaths, openRepo } from './commit-phases.js';
import { git } from './git.js';
import { assertRemote, buildCommits, identity, moveRefs, push, runVetoHooks, syncPaths, treeState, vetoHooks, type CommitFile } from './land.js';
import { findSecondOwners } from './owners.js';
import { readParentKustomization, unreferenceFolder } from './parent-kustomization.js';
import { phaseCommits } from './trailers.js';

export const TRAILER_RETIRED = 'Osv-Update-Retired';

export interface RetireOptions {
  readonly repo: string;
  readonly branch?: string;
  /** The copies layout's folder. @default 'openstack-update' */
  readonly path?: string;
  /** The adopted layout: the user's OpenStackVersion file and our deployments folder. */
  readonly versionFile?: { readonly path: string; readonly deploymentsDir?: string };
  readonly keepDeployments?: boolean;
  /** Retire although the last phase is not committed. */
  readonly force?: boolean;
  readonly date?: string;
  readonly push?: { readonly remote: string };
  readonly verify?: boolean;
}

export interface RetireResult {
  readonly target: string;
  readonly branch: string;
  /** undefined when the update was already retired (nothing to do). */
  readonly sha?: string;
  /** Why nothing was committed, when `sha` is undefined. */
  readonly nothing?: string;
  readonly removed: string[];
  readonly kept: string[];
  readonly unwired?: string;
  readonly pushed: boolean;
  readonly warnings: string[];
}

/** The commits reachable from `ref` that retired an update, by version. */
async function retiredTargets(top: string, ref: string): Promise<Set<string>> {
  const out = await git(top, ['log', `--format=%(trailers:key=${TRAILER_RETIRED},valueonly,separator=%x2C)%x1e`, ref]);
  return new Set(out.split('\x1e').flatMap((r) => r.split(',')).map((s) => s.trim()).filter(Boolean));
}

/** The files under `dir` at `ref`, with their text. */
async function filesAt(top: string, ref: string, dir: string): Promise<CommitFile[]> {
  const state = await treeState(top, ref, [dir]);
  const files: CommitFile[] = [];
  for (const [path, v] of [...state].sort(([a], [b]) => a.localeCompare(b))) {
    files.push({ path, content: await git(top, ['cat-file', 'blob', v.split(' ')[1]!]) });
  }
  return files;
}

function kindsIn(text: string): string[] {
  try {
    return parseAllDocuments(text).map((d) => String((d.toJS() as { kind?: unknown } | null)?.kind ?? ''));
  } catch {
    return [];
  }
}

const isDeploymentFile = (f: CommitFile) => {
  const kinds = kindsIn(f.content);
  return kinds.length > 0 && kinds.every((k) => k === 'OpenStackDataPlaneDeployment');
};

/** A kustomization listing `files` (the deployments kept in a copies folder). */
function keptKustomization(dir: string, files: readonly CommitFile[]): CommitFile {
  const names = files.map((f) => posix.relative(dir, f.path));
  return { path: posix.join(dir, 'kustomization.yaml'), content: `apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n${names.map((n) => `- ${n}\n`).join('')}` };
}

export async function retireUpdate(plan: UpdatePlan, opts: RetireOptions): Promise<RetireResult> {
  const target = plan.versions.target;
  const at = await openRepo(opts.repo, opts.branch);
  const { top, branch, tip } = at;
  if (at.start === undefined) throw new OsvError('UPDATE_NOT_COMPLETE', `${branch} has no commit: there is no update to retire`);
  if (opts.push) await assertRemote(top, opts.push.remote);
  const warnings: string[] = [];
  const base: RetireResult = { target, branch, removed: [], kept: [], pushed: false, warnings };
  if ((await retiredTargets(top, at.start)).has(target)) return { ...base, nothing: `the update to ${target} is already retired on ${branch}` };

  // a later update already replaced this one's folder: retiring now would remove the later one's
  const commits = await phaseCommits(top, at.start);
  const latest = commits[0];
  if (latest !== undefined && latest.target !== target && commits.some((c) => c.target === target)) {
    return { ...base, nothing: `the update to ${latest.target} was committed after the update to ${target} and replaced its folder; retire that one when it is complete` };
  }
  // the update must be complete in Git: its last phase that changes Git is committed
  const done = new Set(commits.filter((c) => c.target === target).map((c) => c.phase));
  const missing = plan.phases.filter((p) => p.git.changes && !done.has(p.id)).map((p) => p.id);
  if (missing.length) {
    if (!opts.force) {
      throw new OsvError('UPDATE_NOT_COMPLETE', `the update to ${target} is not finished in Git: phase${missing.length > 1 ? 's' : ''} ${missing.join(', ')} not committed on ${branch}`, {
        hint: 'Finish it first (advance/watch, or commit), and check `osv-gitops status` shows it complete. --force retires it anyway: the agent stops applying its deployments, and a phase never committed never runs.',
      });
    }
    warnings.push(`--force: retiring the update to ${target} although ${missing.join(', ')} ${missing.length > 1 ? 'are' : 'is'} not committed; those phases will not run, and deployments still running stay in the cluster without a file in Git`);
  }

  const folder = safeRelativePath(opts.versionFile ? '--deployments-dir' : '--path', opts.versionFile?.deploymentsDir ?? opts.path ?? 'openstack-update');
  const inFolder = await filesAt(top, at.start, folder);
  const deployments = inFolder.filter(isDeploymentFile);
  let keep: CommitFile[] = [];
  if (!opts.versionFile) {
    // copies layout: what else the folder declares must have an owner of the user's first
    const others = inFolder.filter((f) => !isDeploymentFile(f) && !/(^|\/)kustomization\.ya?ml$/.test(f.path));
    const owned = await findSecondOwners(top, at.start, { paths: [folder], ownedDirs: [folder] }, others);
    const orphans = others.filter((f) => !owned.some((o) => o.ours === f.path));
    if (orphans.length) {
      throw new OsvError('CLEANUP_WOULD_DELETE', `${folder} holds the only copy of ${orphans.length === 1 ? 'an object' : `${orphans.length} objects`} your cluster runs on (${orphans.map((f) => posix.basename(f.path)).join(', ')}); with prune on, removing the folder would DELETE them from the cluster`, {
        hint:
          `Hand them to your own app first, in one commit, so each object always has exactly one owner:\n` +
          orphans.map((f) => `  git mv ${f.path} <your app folder>/${posix.basename(f.path)}`).join('\n') +
          `\n  list the moved files under resources: in <your app folder>/kustomization.yaml, and take them out of ${folder}/kustomization.yaml` +
          `\n  git commit -m "take the OpenStack objects over from osv-gitops"\n` +
          `then run cleanup again. The next update edits your file in place: commit --app-path <your app folder>.`,
        details: orphans.map((f) => f.path),
      });
    }
    if (opts.keepDeployments && deployments.length) keep = [...deployments, keptKustomization(folder, deployments)];
  } else if (opts.keepDeployments) {
    keep = inFolder;
  }

  // the folder's entry in the kustomization above it: the wiring of this update
  const parent = await readParentKustomization(top, folder, at.start);
  const edited = parent ? unreferenceFolder(parent.text, posix.basename(folder), parent.path) : undefined;
  const unwire = parent && edited !== parent.text ? { path: parent.path, content: edited! } : undefined;
  if (!unwire && !opts.versionFile) warnings.push(`nothing in this repository lists ${folder}: if an Argo CD Application or Flux Kustomization applies it directly, delete that object yourself`);
  const clearing = inFolder.length > 0 && !(opts.versionFile && opts.keepDeployments);
  if (!clearing && !unwire) return { ...base, nothing: `nothing of the update to ${target} is in ${folder} or wired into a kustomization` };

  const paths = [folder, ...(unwire ? [unwire.path] : [])];
  await checkOurPaths(at, paths, [folder]);
  const hooks = opts.verify === false ? [] : await vetoHooks(top);
  const kept = keep.map((f) => f.path);
  const removed = clearing ? inFolder.map((f) => f.path).filter((p) => !kept.includes(p)) : [];
  const message = [
    `openstack-update: retire the update to ${target}`,
    '',
    `The update from ${plan.versions.deployed} to ${target} is complete; this commit retires it so the next update starts clean.`,
    unwire ? `- ${folder} is no longer listed in ${unwire.path}.` : '',
    removed.length ? `- removed: ${removed.length} file${removed.length > 1 ? 's' : ''} under ${folder} (${deployments.length} data-plane deployment${deployments.length === 1 ? '' : 's'}; rendered for Flux or Argo CD they carry the agent's no-prune annotation, so the cluster keeps them as a record).` : '',
    kept.length ? `- kept in Git, not applied: ${kept.length} file${kept.length > 1 ? 's' : ''} under ${folder} (--keep-deployments).` : '',
    '',
    `${TRAILER_RETIRED}: ${target}`,
    `Osv-Update-Plan: ${plan.id}`,
  ]
    .filter((l, i, all) => l !== '' || all[i - 1] !== '')
    .join('\n');
  const files = [...(unwire ? [unwire] : []), ...(clearing ? keep : [])];
  const ids = await buildCommits(top, [{ mark: 1, from: at.start, message, clear: clearing ? [folder] : [], files }], await identity(top, opts.date));
  const sha = ids.get(1)!;
  await runVetoHooks(top, hooks, sha, [{ label: `the retirement of ${target}`, message }]);
  await moveRefs(top, [{ ref: `refs/heads/${branch}`, old: tip, next: sha }], `osv-gitops: retire ${target}`);
  const checkedOut = branch === at.current;
  // a lagging work tree (a killed earlier run) is caught up by the same sync
  if (checkedOut) await syncPaths(top, sha, paths);

  let pushed = false;
  if (opts.push) {
    try {
      await push(top, opts.push.remote, [`${sha}:refs/heads/${branch}`], branch);
      pushed = true;
    } catch (e) {
      await moveRefs(top, [{ ref: `refs/heads/${branch}`, old: sha, next: tip }], 'osv-gitops: push failed, retirement taken back');
      if (checkedOut && tip !== undefined) await syncPaths(top, tip, paths);
      throw e;
    }
  }
  return { target, branch, sha, removed, kept, ...(unwire ? { unwired: unwire.path } : {}), pushed, warnings };
}
