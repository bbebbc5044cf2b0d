/** `osv-gitops render`: the directories delivery mode, written to a folder. */
import { lstatSync, realpathSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, posix, relative, resolve, sep } from 'node:path';
import { engineOf } from '../agents/index.js';
import { OsvError } from '../errors.js';
import { ensureFolder, safeRelativePath } from '../fs/contained.js';
import { tryGit } from '../git/git.js';
import { assertSingleOwner } from '../git/owners.js';
import { writeFiles } from '../git/write-tree.js';
import { quoteInput } from '../validate/quote.js';
import { renderDirectories, renderedPhases, type ArgoProfile, type RenderedFile, type RenderOptions } from '../render/render.js';
import type { UpdatePlan } from '../plan/types.js';
import { parseGitRef, parseImageReference, parseName, parseNamespace, parseRepoUrl } from '../validate/grammar.js';
import { loadUpdate } from './inputs.js';
import { parseDuration, type InputFlags } from './options.js';

export { addAgentOptions } from './options.js';
import type { CliIo } from './io.js';

export interface RenderFlags extends InputFlags {
  readonly mode?: string;
  readonly engine?: string;
  readonly out?: string;
  readonly repoPath?: string;
  readonly repoUrl?: string;
  readonly revision?: string;
  readonly fluxNamespace?: string;
  readonly fluxSource?: string;
  readonly argoNamespace?: string;
  readonly argoProject?: string;
  readonly gateImage?: string;
  readonly profile?: string;
  readonly gateDeadline?: string[];
  readonly json?: boolean;
}

export { engineOf };

/** The longest gate deadline we render (a saved plan's own limit). */
const MAX_GATE_DEADLINE_S = 7 * 24 * 3600;

/** `--gate-deadline phase=duration`, checked for its shape before any input is read. */
export function gateDeadlineFlags(values: readonly string[] = []): Record<string, number> {
  const out: Record<string, number> = {};
  for (const v of values) {
    const m = /^([a-z0-9][a-z0-9-]{0,62})=(.+)$/.exec(v);
    if (!m) throw new OsvError('USAGE', `--gate-deadline ${JSON.stringify(v.slice(0, 100))} is not phase=duration (e.g. dataplane=12h)`);
    const seconds = Math.ceil(parseDuration(m[2]!, '--gate-deadline') / 1000);
    if (seconds < 60 || seconds > MAX_GATE_DEADLINE_S) throw new OsvError('USAGE', `--gate-deadline ${m[1]}: between 1m and 168h, not ${m[2]}`);
    if (out[m[1]!] !== undefined) throw new OsvError('USAGE', `--gate-deadline ${m[1]} is given twice`);
    out[m[1]!] = seconds;
  }
  return out;
}

/** Every --gate-deadline must name a rendered phase, or the batched phases sharing its name. */
export function checkGateDeadlinePhases(plan: UpdatePlan, deadlines: Readonly<Record<string, number>>): void {
  const ids = renderedPhases(plan).map((p) => p.id);
  const names = new Set([...ids, ...ids.map((id) => /^(.*)-b\d+$/.exec(id)?.[1]).filter((n): n is string => n !== undefined)]);
  for (const key of Object.keys(deadlines)) {
    if (!names.has(key)) throw new OsvError('USAGE', `--gate-deadline ${key}: the plan has no such phase`, { hint: `Phases with gates: ${[...names].join(', ')}.` });
  }
}

function profileOf(value: string | undefined): ArgoProfile {
  const p = value ?? 'argocd';
  if (p !== 'argocd' && p !== 'openshift-gitops') throw new OsvError('USAGE', `--profile must be argocd or openshift-gitops, not "${p}"`);
  return p;
}

/** The agent flags, each checked against its grammar (names, URL, image) before anything is read. */
export function agentFlags(flags: RenderFlags): Pick<RenderOptions, 'flux' | 'argo' | 'gateImage' | 'gateDeadlines'> {
  const name = (v: string | undefined, dflt: string, what: string, kind: 'namespace' | 'object') => (kind === 'namespace' ? parseNamespace(v ?? dflt, what) : parseName(v ?? dflt, kind, what));
  if (flags.revision !== undefined) parseGitRef(flags.revision, '--revision');
  const profile = profileOf(flags.profile);
  return {
    flux: { namespace: name(flags.fluxNamespace, 'flux-system', '--flux-namespace', 'namespace'), source: name(flags.fluxSource, 'flux-system', '--flux-source', 'object') },
    argo: {
      // OpenShift GitOps' default instance lives in openshift-gitops
      namespace: name(flags.argoNamespace ?? (profile === 'openshift-gitops' ? 'openshift-gitops' : undefined), 'argocd', '--argo-namespace', 'namespace'),
      project: name(flags.argoProject, 'default', '--argo-project', 'object'),
      ...(flags.repoUrl ? { repoURL: parseRepoUrl(flags.repoUrl) } : {}),
      revision: flags.revision ?? 'HEAD',
      profile,
    },
    gateDeadlines: gateDeadlineFlags(flags.gateDeadline),
    ...(flags.gateImage ? { gateImage: parseImageReference(flags.gateImage, '--gate-image') } : {}),
  };
}

function present(p: string): boolean {
  try {
    return lstatSync(p, { throwIfNoEntry: false }) !== undefined;
  } catch {
    // e.g. a part of the path is a file: ensureFolder reports that, with its own code
    return false;
  }
}

/** The Git work tree that holds a folder: its top, and the folder's path inside it ('.' at the top). */
interface WorkTreePlace {
  readonly top: string;
  readonly path: string;
}

/**
 * Whether the folder `dir` (which exists), or a folder above it, has an entry named `.git`, going
 * up the real path as Git does (a symbolic link leads into the repository it points at). Without
 * one Git finds no work tree there (git.ts passes it no GIT_DIR), and asking it costs a process: a
 * few milliseconds of a render. When the real path cannot be read, Git is asked.
 */
function gitEntryAbove(dir: string): boolean {
  let real: string;
  try {
    real = realpathSync(dir);
  } catch {
    return true;
  }
  for (let at = real; ; at = dirname(at)) {
    if (present(join(at, '.git'))) return true;
    if (dirname(at) === at) return false;
  }
}

/**
 * The Git work tree that holds the folder `out` (absolute; it may not exist yet), or undefined
 * when none does. The agent paths are relative to the repository root, so they must not depend on
 * the folder `render` happens to be run from. Never rejects: every failure means "no work tree".
 */
async function workTreeOf(out: string): Promise<WorkTreePlace | undefined> {
  // git needs a folder that exists: start from the nearest one and add back the missing parts
  let at = out;
  const missing: string[] = [];
  while (!present(at)) {
    if (dirname(at) === at) return undefined;
    missing.unshift(basename(at));
    at = dirname(at);
  }
  if (!gitEntryAbove(at)) return undefined;
  const top = (await tryGit(at, ['rev-parse', '--show-toplevel']))?.trim();
  if (!top) return undefined; // not a work tree (or inside .git, or a bare repository)
  let rel: string;
  try {
    // git prints the top with symlinks resolved: compare real paths
    rel = relative(realpathSync(top), resolve(realpathSync(at), ...missing));
  } catch {
    return undefined;
  }
  if (rel === '..' || rel.startsWith(`..${sep}`) || isAbsolute(rel)) return undefined;
  return { top, path: rel === '' ? '.' : rel.split(sep).join('/') };
}

/**
 * Directories mode writes the OpenStackVersion (and phase 0's Subscription) into the phase folders:
 * when the repository that holds --out already declares one of them elsewhere, two Applications or
 * Kustomizations would apply it and fight over it. The branch's committed tree is read (as
 * `commit` does); everything under our `updates/` folder, earlier updates included, is ours.
 */
async function assertOneOwnerInRepo(tree: WorkTreePlace | undefined, files: readonly RenderedFile[]): Promise<void> {
  if (tree === undefined) return;
  const head = (await tryGit(tree.top, ['rev-parse', '--verify', '--quiet', 'HEAD^{commit}']))?.trim();
  const updates = posix.join(tree.path, 'updates');
  const inRepo = files.map((f) => ({ ...f, path: posix.join(tree.path, f.path) }));
  await assertSingleOwner(tree.top, head || undefined, { paths: [updates], ownedDirs: [updates] }, inRepo, {
    ours: `the phase folders under ${updates}`,
    hint: (owners) => {
      const versionFile = owners.find((o) => o.kind === 'OpenStackVersion')?.file;
      const inPlace = versionFile ? ` or use commits mode (\`osv-gitops commit --version-file ${versionFile}\` edits your OpenStackVersion in place)` : '';
      return `Take your copy out of what your agent applies first${inPlace}. In a repository of several clusters, put --out inside the cluster's own folder: the check covers that folder and the bases its kustomizations pull in.`;
    },
  });
}

/** The repository path of the output folder when --repo-path is not given, and a warning when it is a guess. */
function defaultRepoPath(outFlag: string | undefined, tree: WorkTreePlace | undefined): { repoPath: string; warning?: string } {
  const found = tree?.path;
  if (found !== undefined) return { repoPath: found };
  // no Git work tree to ask: the old guess, said out loud
  const repoPath = outFlag && !posix.isAbsolute(outFlag) ? outFlag : '.';
  const assumed = repoPath === '.' ? 'the folder is the repository root' : `the current folder is the repository root (the output at ${quoteInput(repoPath)} inside it)`;
  return {
    repoPath,
    warning: `--out ${quoteInput(outFlag ?? '.')} is not inside a Git work tree, so the agent paths assume ${assumed}; if that is wrong, pass --repo-path with the folder's path inside your repository`,
  };
}

/** The action of `osv-gitops render` (its flags and help are registered in commands.ts). */
export async function renderAction(flags: RenderFlags, io: CliIo, setExit: (code: number) => void): Promise<void> {
  if (flags.mode !== 'directories') {
    throw new OsvError('USAGE', `--mode ${flags.mode} is not rendered here`, { hint: 'For ordered commits use `osv-gitops commit --repo PATH`.' });
  }
  const engine = engineOf(flags.engine);
  const agent = agentFlags(flags);
  if (engine === 'argocd' && !flags.repoUrl) {
    throw new OsvError('USAGE', '--engine argocd needs --repo-url: the URL of this repository, as Argo CD reads it', { hint: 'e.g. --repo-url https://git.example.com/ops/openstack.git' });
  }
  if (engine !== 'argocd' && agent.argo?.profile === 'openshift-gitops') throw new OsvError('USAGE', '--profile openshift-gitops goes with --engine argocd');
  const out = resolve(io.cwd, flags.out ?? '.');
  // Git says where --out sits while the inputs are read and the plan is made (issue 14)
  const treeAnswer = workTreeOf(out);
  const update = loadUpdate(flags, io);
  checkGateDeadlinePhases(update.plan, agent.gateDeadlines ?? {});
  const tree = await treeAnswer;
  const where = flags.repoPath !== undefined ? { repoPath: flags.repoPath } : defaultRepoPath(flags.out, tree);
  const files = renderDirectories(update, { engine, repoPath: where.repoPath, ...agent });
  await assertOneOwnerInRepo(tree, files);
  // the output folder may be new; what we replace inside it is only updates/<version>/
  const written = writeFiles(ensureFolder(out, '--out'), files, [safeRelativePath('the version folder', posix.join('updates', update.plan.versions.target))]);
  // after the write, so that a refused --out reports its error alone
  if (where.warning !== undefined) io.stderr(`warning: ${where.warning}\n`);
  const folder = posix.join(flags.out ?? '.', 'updates', update.plan.versions.target);
  if (flags.json) io.stdout(JSON.stringify({ plan: update.plan.id, engine, files: files.map((f) => f.path), unchanged: !written, warnings: where.warning !== undefined ? [where.warning] : [] }, null, 2) + '\n');
  else if (written) io.stdout(`${files.length} files written under ${folder} (engine ${engine}, plan ${update.plan.id})\n`);
  else io.stdout(`${folder} already holds these ${files.length} files: nothing written (engine ${engine}, plan ${update.plan.id})\n`);
  setExit(0);
}
