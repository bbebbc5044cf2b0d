/**
 * The forge options of `advance --pull-request` and `watch --pull-request`, checked once at the
 * edge and turned into a `ForgeConfig`; then the driver, loaded only when the mode is on (each
 * forge's client takes a while to import and most runs never need one).
 *
 * The token comes from an environment variable the user names. Its value never reaches a message,
 * a log line or an error: only the variable's name does.
 */
import { OsvError } from '../errors.js';
import { quoteInput } from '../validate/quote.js';
import type { Forge, ForgeConfig, ForgeKind, ForgeRepository } from './types.js';

export interface ForgeFlags {
  readonly forge?: string;
  readonly forgeUrl?: string;
  readonly forgeRepo?: string;
  readonly forgeTokenEnv?: string;
}

const KINDS: readonly ForgeKind[] = ['github', 'gitlab', 'gitea'];

const DEFAULT_API: Readonly<Record<ForgeKind, string | undefined>> = {
  github: 'https://api.github.com',
  gitlab: 'https://gitlab.com/api/v4',
  gitea: undefined,
};

const DEFAULT_TOKEN_ENV: Readonly<Record<ForgeKind, string>> = { github: 'GITHUB_TOKEN', gitlab: 'GITLAB_TOKEN', gitea: 'GITEA_TOKEN' };

const HOSTED: Readonly<Record<string, ForgeKind>> = { 'github.com': 'github', 'gitlab.com': 'gitlab' };

function refuse(message: string, hint?: string): never {
  throw new OsvError('FORGE_CONFIG', message, hint ? { hint } : {});
}

/** Host and path of a remote URL: https://host/a/b(.git), ssh://git@host[:port]/a/b, git@host:a/b. */
export function parseRemoteUrl(url: string): { host: string; path: string } | undefined {
  const scp = /^[A-Za-z0-9._-]+@([A-Za-z0-9.-]+):(?!\/\/)(.+)$/.exec(url);
  if (scp) return { host: scp[1]!.toLowerCase(), path: scp[2]! };
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return undefined;
  }
  if (!['https:', 'http:', 'ssh:', 'git:'].includes(parsed.protocol) || !parsed.hostname) return undefined;
  return { host: parsed.hostname.toLowerCase(), path: decodeURIComponent(parsed.pathname) };
}

/** `owner/name` (GitLab: `group/subgroup/name`, the last segment is the name). */
export function parseRepository(text: string, what: string): ForgeRepository {
  const segments = text.replace(/^\/+/, '').replace(/\/+$/, '').replace(/\.git$/, '').split('/');
  const ok = segments.length >= 2 && segments.every((s) => /^[A-Za-z0-9_.-]{1,100}$/.test(s) && s !== '.' && s !== '..');
  if (!ok) refuse(`${what} ${quoteInput(text)} is not a repository path owner/name`, 'Pass --forge-repo owner/name.');
  const name = segments.pop()!;
  return { owner: segments.join('/'), name };
}

function parseApiUrl(text: string): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return refuse(`--forge-url ${quoteInput(text)} is not a URL`);
  }
  if (url.username || url.password) refuse('--forge-url must not carry credentials', 'Put the token in an environment variable and name it with --forge-token-env.');
  if (url.search || url.hash) refuse(`--forge-url ${quoteInput(text)} must not have a query or a fragment`);
  const local = url.hostname === '127.0.0.1' || url.hostname === 'localhost' || url.hostname === '[::1]';
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && local)) {
    refuse(`--forge-url ${quoteInput(text)} must be https (http only for 127.0.0.1 or localhost)`, 'The token travels with every request.');
  }
  return url.toString().replace(/\/+$/, '');
}

/**
 * The forge configuration from the flags, the remote's URL and the environment. Every problem is
 * FORGE_CONFIG (exit 2), raised before the cluster is read or anything is pushed.
 */
export function forgeConfigFrom(flags: ForgeFlags, remoteUrl: string | undefined, env: NodeJS.ProcessEnv = process.env): ForgeConfig {
  const remote = remoteUrl !== undefined ? parseRemoteUrl(remoteUrl) : undefined;
  let kind: ForgeKind;
  if (flags.forge !== undefined) {
    if (!KINDS.includes(flags.forge as ForgeKind)) refuse(`--forge must be github, gitlab or gitea, not ${quoteInput(flags.forge)}`);
    kind = flags.forge as ForgeKind;
  } else {
    const guessed = remote ? HOSTED[remote.host] : undefined;
    if (!guessed) refuse(`cannot tell the forge from the remote${remote ? ` (host ${remote.host})` : ''}`, 'Pass --forge github|gitlab|gitea (and --forge-url for a self-hosted one).');
    kind = guessed;
  }
  const apiText = flags.forgeUrl ?? DEFAULT_API[kind];
  if (apiText === undefined) refuse(`--forge ${kind} needs --forge-url (the API base, e.g. https://gitea.example.com/api/v1)`);
  const apiUrl = parseApiUrl(apiText);
  if (kind === 'gitlab' && !/\/api\/v4$/.test(apiUrl)) refuse(`--forge-url ${quoteInput(apiText)} is not a GitLab API base: it ends in /api/v4`);
  if (flags.forgeRepo === undefined && !remote) refuse('cannot tell the repository from the remote URL', 'Pass --forge-repo owner/name.');
  const repository = parseRepository(flags.forgeRepo ?? remote!.path, flags.forgeRepo !== undefined ? '--forge-repo' : 'the remote URL path');
  if (kind !== 'gitlab' && repository.owner.includes('/')) refuse(`a ${kind} repository is owner/name, not ${quoteInput(`${repository.owner}/${repository.name}`)}`, 'Pass --forge-repo owner/name.');
  const tokenEnv = flags.forgeTokenEnv ?? DEFAULT_TOKEN_ENV[kind];
  if (!/^[A-Za-z_][A-Za-z0-9_]{0,127}$/.test(tokenEnv)) refuse(`--forge-token-env ${quoteInput(tokenEnv)} is not an environment variable name`);
  const token = env[tokenEnv];
  // the name only: the value must never be echoed, not even in part
  if (token === undefined || token.trim() === '') refuse(`the environment variable ${tokenEnv} is ${token === undefined ? 'not set' : 'empty'}; it must hold the ${kind} token`, `Export ${tokenEnv}, or name another variable with --forge-token-env.`);
  if (/[\r\n]/.test(token)) refuse(`the environment variable ${tokenEnv} holds more than one line; it must hold the ${kind} token alone`);
  return { kind, apiUrl, repository, token: token.trim() };
}

/** The driver for `config.kind`, imported on first use. */
export async function createForge(config: ForgeConfig): Promise<Forge> {
  switch (config.kind) {
    case 'github':
      return (await import('./github.js')).createGitHubForge(config);
    case 'gitlab':
      return (await import('./gitlab.js')).createGitLabForge(config);
    case 'gitea':
      return (await import('./gitea.js')).createGiteaForge(config);
  }
}
