/**
 * The user's Subscription as the branch holds it. Its own module so that both the phase commits
 * (src/git/commit-phases.ts) and operator-upgrade (src/olm/commit.ts) read it without importing
 * each other.
 */
import { OsvError } from '../errors.js';
import { git } from '../git/git.js';

/** Largest Subscription we read (a real one is under 1 kB). */
const MAX_SUBSCRIPTION_BYTES = 1024 * 1024;

/** The text of `path` at `ref`, or undefined when the branch does not hold it. */
export async function committedText(top: string, ref: string | undefined, path: string): Promise<string | undefined> {
  if (ref === undefined) return undefined;
  const entry = (await git(top, ['ls-tree', '-z', '--full-tree', ref, '--', path])).split('\0')[0] ?? '';
  const m = /^(\d+) (\w+) ([0-9a-f]+)\t/.exec(entry);
  if (!m) return undefined;
  if (m[1] === '120000' || m[2] !== 'blob') throw new OsvError('PATH_UNSAFE', `${path} is not a regular file in the repository; osv-gitops edits only regular files`);
  const size = Number((await git(top, ['cat-file', '-s', m[3]!])).trim());
  if (size > MAX_SUBSCRIPTION_BYTES) throw new OsvError('INPUT_TOO_LARGE', `${path} is ${size} bytes, over the ${MAX_SUBSCRIPTION_BYTES}-byte limit for a Subscription`);
  return git(top, ['cat-file', 'blob', m[3]!]);
}
