/**
 * The agent's Git source (Flux's GitRepository, Argo CD's repo-server): polls a branch of a
 * repository the `git` CLI can fetch, fetches new heads into a private bare clone and checks each
 * revision out into its own temporary folder. Git runs sealed: no system or user configuration
 * (HOME is the private temp folder), no prompts.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OsvError } from '../../errors.js';

export interface Checkout {
  readonly sha: string;
  /** Folder holding the tree of the commit. */
  readonly dir: string;
}

/** How many checked-out revisions are kept on disk. */
const KEEP_CHECKOUTS = 3;

export class GitSource {
  readonly url: string;
  readonly branch: string;
  private readonly home: string;
  private readonly mirror: string;
  private readonly checkouts = new Map<string, Checkout>();
  private closed = false;

  private constructor(url: string, branch: string, home: string) {
    this.url = url;
    this.branch = branch;
    this.home = home;
    this.mirror = join(home, 'mirror.git');
  }

  static async open(url: string, branch: string): Promise<GitSource> {
    const home = mkdtempSync(join(tmpdir(), 'osv-agent-git-'));
    const source = new GitSource(url, branch, home);
    await source.run(['init', '--quiet', '--bare', source.mirror]);
    return source;
  }

  private env(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
    const env: NodeJS.ProcessEnv = {};
    for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('GIT_')) env[k] = v;
    return { ...env, HOME: this.home, XDG_CONFIG_HOME: this.home, GIT_CONFIG_NOSYSTEM: '1', GIT_TERMINAL_PROMPT: '0', LC_ALL: 'C', ...extra };
  }

  private run(args: readonly string[], extraEnv: Record<string, string> = {}): Promise<string> {
    return new Promise((resolve, reject) => {
      execFile('git', [...args], { env: this.env(extraEnv), maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
        if (err) {
          const text = (stderr || err.message).trim();
          reject(new OsvError('GIT_FAILED', `git ${args[0] ?? ''} failed: ${text.split('\n').slice(-2).join(' | ')}`, { cause: err }));
        } else resolve(stdout);
      });
    });
  }

  /** The branch head on the remote, or undefined when the branch does not exist (yet). */
  async head(): Promise<string | undefined> {
    const out = await this.run(['ls-remote', '--', this.url, `refs/heads/${this.branch}`]);
    const line = out.split('\n').find((l) => l.endsWith(`\trefs/heads/${this.branch}`));
    return line?.split('\t')[0];
  }

  /** Fetches `sha` (the branch head) and checks its tree out into a folder of its own. */
  async checkout(sha: string): Promise<Checkout> {
    const known = this.checkouts.get(sha);
    if (known) return known;
    if (this.closed) throw new OsvError('GIT_FAILED', 'the Git source is closed');
    const present = await this.run(['--git-dir', this.mirror, 'cat-file', '-e', `${sha}^{commit}`]).then(
      () => true,
      () => false,
    );
    if (!present) {
      await this.run(['--git-dir', this.mirror, 'fetch', '--quiet', '--no-tags', '--', this.url, `+refs/heads/${this.branch}:refs/heads/${this.branch}`]);
    }
    const dir = join(this.home, 'rev', sha);
    mkdirSync(dir, { recursive: true });
    // a private index per checkout: the mirror's own index stays untouched
    await this.run(['--git-dir', this.mirror, '--work-tree', dir, 'checkout', '--quiet', '--force', sha, '--', '.'], { GIT_INDEX_FILE: `${dir}.index` });
    const checkout: Checkout = { sha, dir };
    this.checkouts.set(sha, checkout);
    while (this.checkouts.size > KEEP_CHECKOUTS) {
      const oldest = this.checkouts.keys().next().value as string;
      const old = this.checkouts.get(oldest);
      this.checkouts.delete(oldest);
      if (old) {
        rmSync(old.dir, { recursive: true, force: true });
        rmSync(`${old.dir}.index`, { force: true });
      }
    }
    return checkout;
  }

  /** Is `ancestor` contained in `descendant`? (both must have been fetched) */
  async contains(descendant: string, ancestor: string): Promise<boolean> {
    return this.run(['--git-dir', this.mirror, 'merge-base', '--is-ancestor', ancestor, descendant]).then(
      () => true,
      () => false,
    );
  }

  close(): void {
    this.closed = true;
    rmSync(this.home, { recursive: true, force: true });
  }
}
