/**
 * A thin, sealed wrapper around the git binary: no user or system config leaks in (so trees and
 * commits are the same on every machine), errors become GIT_FAILED with git's own message.
 * We call git directly rather than through simple-git: its v4 environment guard rejects the
 * GIT_* variables we set, and it waits 50 ms after every quiet command (libraries.md §3).
 */
import { execFile } from 'node:child_process';
import { OsvError } from '../errors.js';

export interface GitOptions {
  /** ISO date for author and committer, for reproducible commits. */
  readonly date?: string;
  readonly input?: string;
  /** Extra environment, e.g. a private GIT_INDEX_FILE. */
  readonly env?: Readonly<Record<string, string>>;
}

function sealedEnv(opts: GitOptions): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('GIT_')) env[k] = v;
  env['GIT_CONFIG_NOSYSTEM'] = '1';
  env['GIT_TERMINAL_PROMPT'] = '0';
  env['LC_ALL'] = 'C';
  // paths we pass are file names, never patterns (`*`, `:(top)` and friends are taken literally)
  env['GIT_LITERAL_PATHSPECS'] = '1';
  if (opts.date) {
    env['GIT_AUTHOR_DATE'] = opts.date;
    env['GIT_COMMITTER_DATE'] = opts.date;
  }
  // keep the caller's identity and global config when the test harness provides them explicitly
  for (const k of ['GIT_CONFIG_GLOBAL', 'GIT_AUTHOR_NAME', 'GIT_AUTHOR_EMAIL', 'GIT_COMMITTER_NAME', 'GIT_COMMITTER_EMAIL', 'GIT_ALLOW_PROTOCOL']) {
    if (process.env[k] !== undefined) env[k] = process.env[k];
  }
  return { ...env, ...opts.env };
}

export function git(repo: string, args: readonly string[], opts: GitOptions = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile('git', ['-C', repo, ...args], { env: sealedEnv(opts), maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT' && !stderr) {
          reject(new OsvError('GIT_FAILED', 'git was not found on PATH', { hint: 'Install Git 2.36 or newer.', cause: err }));
          return;
        }
        const text = (stderr || err.message).trim();
        if (/index\.lock': File exists|\.lock': File exists/.test(text)) {
          reject(new OsvError('GIT_LOCKED', `git ${args[0] ?? ''}: another Git process holds a lock in ${repo}`, { hint: 'Wait for it to finish; if none is running, remove the .lock file Git names.', details: text.split('\n'), cause: err }));
          return;
        }
        reject(new OsvError('GIT_FAILED', `git ${args[0] ?? ''} failed: ${text.split('\n').slice(-3).join(' | ')}`, { cause: err, details: text.split('\n') }));
      } else resolve(stdout);
    });
    // git may exit before reading all its input (a refused fast-import): its exit status tells why
    child.stdin?.on('error', () => {});
    if (opts.input !== undefined) child.stdin?.end(opts.input);
  });
}

export async function tryGit(repo: string, args: readonly string[], opts: GitOptions = {}): Promise<string | undefined> {
  try {
    return await git(repo, args, opts);
  } catch {
    return undefined;
  }
}

/** `git` with binary output (blob contents), for the few reads that are not text. */
export function gitBuffer(repo: string, args: readonly string[], input: string): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const child = execFile('git', ['-C', repo, ...args], { env: sealedEnv({}), maxBuffer: 256 * 1024 * 1024, encoding: 'buffer' }, (err, stdout, stderr) => {
      if (err) reject(new OsvError('GIT_FAILED', `git ${args[0] ?? ''} failed: ${stderr.toString('utf8').trim().split('\n').slice(-3).join(' | ')}`, { cause: err }));
      else resolve(stdout);
    });
    child.stdin?.on('error', () => {});
    child.stdin?.end(input);
  });
}
