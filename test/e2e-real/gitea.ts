/**
 * A real Gitea on 127.0.0.1 for the forge tests: the binary scripts/build-gitea.sh builds
 * (`.cache/bin/gitea`, no bindata: templates and options are read from `.cache/gitea-static/`),
 * with SQLite, a fresh work folder and port per start, no mailer, no SSH, no network beyond
 * loopback. The admin user and its scoped API token are made with Gitea's own CLI before the
 * server starts; stop() ends the server and removes the folder, and a watchdog does the same if
 * the test process dies first.
 *
 * Git authenticates with the token through `gitEnv` (an `http.extraHeader` given in the
 * environment of one command): the token is never written to a repository's config, which a
 * test might commit or copy.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { promisify } from 'node:util';
import type { Need } from './describe-real.js';
import { BIN_DIR, type Availability } from './harness.js';
import { freePort, logTail, startChild, stopChild, type Child } from './processes.js';

const run = promisify(execFile);
const PROJECT_ROOT = join(import.meta.dirname, '..', '..');
export const GITEA_BIN = join(BIN_DIR, 'gitea');
const STATIC_DIR = join(PROJECT_ROOT, '.cache', 'gitea-static');
const OWNER = 'osv-admin';
/** What the forge driver needs: pull requests, statuses and pushes (repository), the user's repos (user). */
const TOKEN_SCOPES = 'write:repository,write:user';

export function giteaAvailability(): Availability {
  const missing = [GITEA_BIN, join(STATIC_DIR, 'templates'), join(STATIC_DIR, 'options')].filter((p) => !existsSync(p));
  if (missing.length === 0) return { ok: true };
  const names = missing.map((p) => relative(PROJECT_ROOT, p)).join(', ');
  return { ok: false, reason: `the real Gitea tier needs ${names}: run \`bash scripts/build-gitea.sh\` (builds Gitea with Go)` };
}

/** For describeNeeding: the suite fails under CI and is skipped elsewhere without Gitea. */
export const GITEA_NEED: Need = { what: 'Gitea binary', availability: giteaAvailability() };

export interface GiteaRepo {
  /** `owner/name`. */
  readonly fullName: string;
  readonly name: string;
  /** `http://127.0.0.1:<port>/<owner>/<name>.git`, without credentials. */
  readonly cloneUrl: string;
}

export interface Gitea {
  /** `http://127.0.0.1:<port>/api/v1` */
  readonly apiUrl: string;
  /** `http://127.0.0.1:<port>/` */
  readonly webUrl: string;
  /** Scoped to TOKEN_SCOPES; the owner's. */
  readonly token: string;
  readonly owner: string;
  /** What /api/v1/version reports. */
  readonly version: string;
  /** From the first CLI call to the API answering. */
  readonly startupMs: number;
  /** The same, per step: `migrate`, `admin user create`, `web` until /version answers. */
  readonly startupSteps: Readonly<Record<'migrate' | 'user' | 'web', number>>;
  /**
   * Environment for one git command against this Gitea: the token as an `http.extraHeader`, no
   * prompt. Merge it into the command's own environment.
   */
  readonly gitEnv: Readonly<Record<string, string>>;
  /** A new empty repository of the owner (no commit, so that the test's first push sets `main`). */
  createRepo(name: string): Promise<GiteaRepo>;
  /**
   * Resolves once Gitea has taken in the first push to `name`: it marks the repository non-empty
   * and lists `branch` only after its push queue has run, about a second after `git push` returns,
   * and until then it answers the pull-request list of the repository with 404.
   */
  waitForFirstPush(name: string, branch?: string): Promise<void>;
  logs(lines?: number): string;
  stop(): Promise<void>;
}

// killed when the test process exits, whatever the reason (also when a test times out)
const running = new Set<Child>();
process.on('exit', () => {
  for (const c of running) if (!c.exited) c.proc.kill('SIGKILL');
});

/** Kills Gitea and removes the folder once this process is gone (the exit hook misses SIGKILL). */
function startWatchdog(pid: number, dir: string): ChildProcess {
  const script = `while kill -0 ${process.pid} 2>/dev/null; do sleep 1; done; kill -9 ${pid} 2>/dev/null; rm -rf "$1"`;
  const dog = spawn('sh', ['-c', script, 'osv-gitea-watchdog', dir], { stdio: 'ignore', detached: true });
  dog.unref();
  return dog;
}

function appIni(dir: string, port: number): string {
  const secret = (bytes: number) => randomBytes(bytes).toString('base64url');
  // Every key that Gitea would otherwise generate and write back into app.ini is given here.
  return `APP_NAME = osv-gitops test forge
RUN_MODE = prod
WORK_PATH = ${dir}

[server]
PROTOCOL = http
HTTP_ADDR = 127.0.0.1
HTTP_PORT = ${port}
ROOT_URL = http://127.0.0.1:${port}/
LOCAL_ROOT_URL = http://127.0.0.1:${port}/
STATIC_ROOT_PATH = ${STATIC_DIR}
APP_DATA_PATH = ${join(dir, 'data')}
OFFLINE_MODE = true
DISABLE_SSH = true
START_SSH_SERVER = false
LFS_START_SERVER = false

[database]
DB_TYPE = sqlite3
PATH = ${join(dir, 'data', 'gitea.db')}

[repository]
ROOT = ${join(dir, 'repositories')}
DEFAULT_BRANCH = main

[security]
INSTALL_LOCK = true
SECRET_KEY = ${secret(32)}
INTERNAL_TOKEN = ${secret(48)}

[oauth2]
JWT_SECRET = ${secret(32)}

[service]
DISABLE_REGISTRATION = true
DEFAULT_KEEP_EMAIL_PRIVATE = true

[mailer]
ENABLED = false

[session]
PROVIDER = memory

[cache]
ADAPTER = memory

[queue]
TYPE = channel

[indexer]
ISSUE_INDEXER_TYPE = db
REPO_INDEXER_ENABLED = false

[actions]
ENABLED = false

[packages]
ENABLED = false

[cron]
ENABLED = false

[cron.update_checker]
ENABLED = false

[log]
MODE = console
LEVEL = Warn
ROOT_PATH = ${join(dir, 'log')}
`;
}

/** Starts Gitea; everything is removed again if any step fails. */
export async function startGitea(): Promise<Gitea> {
  const availability = giteaAvailability();
  if (!availability.ok) throw new Error(availability.reason);
  const start = performance.now();
  const dir = mkdtempSync(join(tmpdir(), 'osv-gitea-'));
  const port = await freePort();
  const config = join(dir, 'app.ini');
  mkdirSync(join(dir, 'data'), { recursive: true });
  writeFileSync(config, appIni(dir, port), { mode: 0o600 });
  const env: NodeJS.ProcessEnv = {
    PATH: process.env['PATH'] ?? '/usr/bin:/bin',
    HOME: dir,
    GITEA_WORK_DIR: dir,
    GIT_CONFIG_NOSYSTEM: '1',
    // test containers often run as root, which Gitea refuses unless told
    ...(process.getuid?.() === 0 ? { GITEA_I_AM_BEING_UNSAFE_RUNNING_AS_ROOT: 'true' } : {}),
  };
  const cli = ['--config', config, '--work-path', dir];
  let child: Child | undefined;
  let watchdog: ChildProcess | undefined;
  const cleanup = async () => {
    if (child) {
      await stopChild(child);
      running.delete(child);
    }
    watchdog?.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    // the CLI makes the database's tables, then creates the admin and prints its token
    await run(GITEA_BIN, [...cli, 'migrate'], { env, timeout: 120_000 });
    const migrated = performance.now();
    const created = await run(
      GITEA_BIN,
      [...cli, 'admin', 'user', 'create', '--username', OWNER, '--email', `${OWNER}@example.invalid`, '--random-password', '--admin',
        '--must-change-password=false', '--access-token', '--access-token-name', 'osv-tests', '--access-token-scopes', TOKEN_SCOPES],
      { env, timeout: 120_000 },
    );
    const token = /Access token was successfully created\.\.\. ([0-9a-f]{40})\s*$/m.exec(created.stdout)?.[1];
    if (!token) throw new Error(`gitea admin user create printed no access token:\n${created.stdout.replace(/'[^']*'/g, "'***'")}\n${created.stderr}`);

    const userMade = performance.now();
    child = startChild('gitea', GITEA_BIN, [...cli, 'web'], join(dir, 'gitea.log'), env);
    running.add(child);
    watchdog = startWatchdog(child.proc.pid ?? 0, dir);
    const webUrl = `http://127.0.0.1:${port}/`;
    const apiUrl = `${webUrl}api/v1`;
    const version = await waitForApi(apiUrl, child);
    const startupMs = Math.round(performance.now() - start);
    const startupSteps = { migrate: Math.round(migrated - start), user: Math.round(userMade - migrated), web: Math.round(performance.now() - userMade) };
    const api = async (method: string, path: string, body?: unknown): Promise<unknown> => {
      const res = await fetch(`${apiUrl}${path}`, {
        method,
        headers: { Authorization: `token ${token}`, 'Content-Type': 'application/json', Accept: 'application/json' },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        signal: AbortSignal.timeout(30_000),
      });
      const text = await res.text();
      if (!res.ok) throw new Error(`Gitea ${method} ${path}: HTTP ${res.status} ${text.slice(0, 300)}`);
      return text ? (JSON.parse(text) as unknown) : undefined;
    };
    const started = child;
    return {
      apiUrl,
      webUrl,
      token,
      owner: OWNER,
      version,
      startupMs,
      startupSteps,
      gitEnv: {
        GIT_TERMINAL_PROMPT: '0',
        GIT_CONFIG_COUNT: '1',
        GIT_CONFIG_KEY_0: 'http.extraHeader',
        GIT_CONFIG_VALUE_0: `Authorization: token ${token}`,
      },
      async createRepo(name: string): Promise<GiteaRepo> {
        await api('POST', '/user/repos', { name, private: false, auto_init: false, default_branch: 'main' });
        return { name, fullName: `${OWNER}/${name}`, cloneUrl: `${webUrl}${OWNER}/${name}.git` };
      },
      async waitForFirstPush(name: string, branch = 'main'): Promise<void> {
        const deadline = Date.now() + 60_000;
        for (;;) {
          const repo = (await api('GET', `/repos/${OWNER}/${name}`)) as { empty?: boolean } | undefined;
          if (repo?.empty === false) {
            const branches = (await api('GET', `/repos/${OWNER}/${name}/branches`)) as { name?: string }[] | null;
            if (branches?.some((b) => b.name === branch)) return;
          }
          if (Date.now() > deadline) throw new Error(`Gitea did not take in the first push to ${OWNER}/${name} (${branch}) within 60 s`);
          await new Promise((r) => setTimeout(r, 100));
        }
      },
      logs: (lines = 40) => logTail(started.logFile, lines),
      stop: cleanup,
    };
  } catch (e) {
    const log = child ? `\n--- gitea log ---\n${logTail(child.logFile)}` : '';
    await cleanup();
    throw new Error(`${e instanceof Error ? e.message : String(e)}${log}`, { cause: e });
  }
}

/** Polls /version until Gitea answers (or has exited); returns the version it reports. */
async function waitForApi(apiUrl: string, child: Child): Promise<string> {
  const deadline = Date.now() + 120_000;
  for (;;) {
    if (child.exited) throw new Error('gitea exited while starting');
    try {
      const res = await fetch(`${apiUrl}/version`, { signal: AbortSignal.timeout(5_000) });
      if (res.ok) {
        const body = (await res.json()) as { version?: unknown };
        return typeof body.version === 'string' ? body.version : 'unknown';
      }
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error('gitea did not answer on /api/v1/version within 120s');
    await new Promise((r) => setTimeout(r, 200));
  }
}
