/**
 * Commit the pinned openstack-operator Subscription through the project's landing path
 * (src/git/land.ts): one commit built from our one file with fast-import, the user's hooks, one
 * compare-and-swap of the branch, our path of the work tree synced, an optional push that takes
 * the commit back when refused. Never the user's index, never `git commit -a`.
 *
 * The Subscription file of the user's repository is edited in place; a file from elsewhere (a
 * cluster dump) is rendered afresh into `into` (a path inside the repository).
 */
import { existsSync, realpathSync } from 'node:fs';
import { relative, resolve, sep } from 'node:path';
import { OsvError } from '../errors.js';
import { safeRelativePath } from '../fs/contained.js';
import { readTextInput } from '../inputs/yaml.js';
import { checkOurPaths, openRepo } from '../git/commit-phases.js';
import { assertRemote, buildCommits, identity, moveRefs, push, runVetoHooks, syncPaths, vetoHooks } from '../git/land.js';
import { committedText } from './committed-text.js';
import { pinSubscriptionText, renderPinnedSubscription, type PinRequest, type SubscriptionInput } from './subscription.js';

export const TRAILER_OPERATOR_CSV = 'Osv-Update-Operator-Csv';
/** Where a Subscription from outside the repository goes by default. */
export const DEFAULT_SUBSCRIPTION_PATH = 'openstack-operator/subscription.yaml';

export interface CommitSubscriptionOptions extends PinRequest {
  readonly repo: string;
  /** The Subscription file as the user named it (relative to `cwd`, or absolute). */
  readonly subscription: string;
  readonly cwd: string;
  /** For a file outside the repository: where in the repository it is written. @default DEFAULT_SUBSCRIPTION_PATH */
  readonly into?: string;
  readonly branch?: string;
  readonly date?: string;
  readonly push?: { readonly remote: string };
  /** Run the repository's pre-commit and commit-msg hooks. @default true */
  readonly verify?: boolean;
}

export interface CommitSubscriptionResult {
  /** Repository-relative path of the Subscription committed. */
  readonly path: string;
  /** True when the user's own file was edited in place. */
  readonly inPlace: boolean;
  readonly before: SubscriptionInput;
  /** undefined: the branch already held the pinned Subscription. */
  readonly sha: string | undefined;
  readonly branch: string;
  readonly pushed: boolean;
}

function commitMessage(csv: string, channel: string, path: string, before: SubscriptionInput): string {
  const was = before.startingCSV ? `was ${before.startingCSV}, ` : '';
  return [
    `openstack-operator: pin the Subscription to ${csv}`,
    '',
    `${path}: spec.startingCSV ${csv} (${was}channel ${channel}), installPlanApproval Manual.`,
    'OLM prepares the upgrade as an InstallPlan that waits for approval:',
    `  osv-gitops operator-upgrade --check --csv ${csv}`,
    `  osv-gitops operator-upgrade --approve --csv ${csv}`,
    '',
    `${TRAILER_OPERATOR_CSV}: ${csv}`,
  ].join('\n');
}

export async function commitPinnedSubscription(opts: CommitSubscriptionOptions): Promise<CommitSubscriptionResult> {
  const at = await openRepo(opts.repo, opts.branch);
  if (opts.push) await assertRemote(at.top, opts.push.remote);
  // inside the work tree: the user's own file, edited in place as the branch holds it
  const abs = resolve(opts.cwd, opts.subscription);
  const real = existsSync(abs) ? realpathSync(abs) : abs;
  const rel = relative(at.top, real);
  const inside = rel !== '' && !rel.startsWith('..') && !resolve(at.top, rel).startsWith(`${at.top}${sep}.git`);
  let path: string;
  let source: string;
  let inPlace: boolean;
  if (inside) {
    path = safeRelativePath('--subscription', rel.split(sep).join('/'));
    const text = await committedText(at.top, at.start, path);
    if (text === undefined) throw new OsvError('INPUT_NOT_FOUND', `${path} is inside the repository but not committed on ${at.branch}`, { hint: 'Commit your Subscription first; osv-gitops edits it as the branch holds it.' });
    source = text;
    inPlace = true;
  } else {
    path = safeRelativePath('--into', opts.into ?? DEFAULT_SUBSCRIPTION_PATH);
    source = readTextInput(abs, 'the Subscription');
    inPlace = false;
  }
  const pinned = inPlace ? pinSubscriptionText(source, path, opts) : renderPinnedSubscription(source, opts.subscription, opts);
  if (!inPlace) {
    // a file already there that is not a Subscription of ours is the user's: do not overwrite it
    const there = await committedText(at.top, at.start, path);
    if (there !== undefined && there !== pinned.text) {
      throw new OsvError('SECOND_OWNER', `${path} already exists in the repository with other content`, { hint: `Pass --subscription ${path} to edit that file in place, or --into another path.` });
    }
  }
  const condition = await checkOurPaths(at, [path]);
  const current = await committedText(at.top, at.start, path);
  const channel = opts.channel ?? pinned.before.channel ?? '';
  let sha: string | undefined;
  if (current !== pinned.text) {
    const hooks = opts.verify === false ? [] : await vetoHooks(at.top);
    const message = commitMessage(opts.csv, channel, path, pinned.before);
    const ids = await buildCommits(at.top, [{ mark: 1, from: at.start, message, clear: [], files: [{ path, content: pinned.text }] }], await identity(at.top, opts.date));
    sha = ids.get(1)!;
    await runVetoHooks(at.top, hooks, sha, [{ label: 'the Subscription commit', message }]);
    await moveRefs(at.top, [{ ref: `refs/heads/${at.branch}`, old: at.tip, next: sha }], `osv-gitops: pin openstack-operator to ${opts.csv}`);
  }
  const tip = sha ?? at.start;
  const checkedOut = at.branch === at.current;
  if (checkedOut && tip !== undefined && (sha !== undefined || condition === 'lagging')) await syncPaths(at.top, tip, [path]);
  let pushed = false;
  if (opts.push && tip !== undefined) {
    try {
      await push(at.top, opts.push.remote, [`${tip}:refs/heads/${at.branch}`], at.branch);
      pushed = true;
    } catch (e) {
      if (sha !== undefined) {
        await moveRefs(at.top, [{ ref: `refs/heads/${at.branch}`, old: sha, next: at.tip }], 'osv-gitops: push failed, commit taken back');
        if (checkedOut && at.tip !== undefined) await syncPaths(at.top, at.tip, [path]);
      }
      throw e;
    }
  }
  return { path, inPlace, before: pinned.before, sha, branch: at.branch, pushed };
}

