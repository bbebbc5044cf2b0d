/**
 * Hostile inputs (issue 9): every case in cases.ts runs against a fresh sandbox and must end with
 * the expected exit and error code, no internal error, no raw control byte on the terminal, nothing
 * changed outside what its outcome allows, the repository and its remote as they were when it
 * fails, and no secret in any Git object on the remote. Cases run in-process (test/helpers/cli.ts)
 * unless they need a real process (another user, a time limit).
 */
import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { sealGitEnv } from '../helpers/git-repo.js';
import { ensureBuilt, spawnCli } from './built-cli.js';
import { HOSTILE_CASES, type CaseRun, type HostileCase } from './cases.js';
import {
  copySandbox,
  digestDiff,
  digestTree,
  dropTemplates,
  filesHolding,
  gitState,
  indexOutside,
  objectsHold,
  retireUserVersionFile,
  sandboxRelative,
  templateFor,
  writesCopies,
  type Sandbox,
} from './sandbox.js';

interface Outcome {
  readonly exitCode: number;
  readonly stdout: string;
  readonly stderr: string;
  readonly timedOut: boolean;
}

const NOBODY = 65534;

let built: Promise<void> | undefined;

async function execute(run: CaseRun, sb: Sandbox): Promise<Outcome> {
  if (run.spawn) {
    await (built ??= ensureBuilt());
    const r = await spawnCli(run.argv, {
      cwd: sb.dir,
      env: { ...process.env, ...run.env },
      timeoutMs: run.spawn.timeoutMs ?? 60_000,
      ...(run.spawn.asNobody ? { uid: NOBODY, gid: NOBODY } : {}),
    });
    return { exitCode: r.exitCode, stdout: r.stdout, stderr: r.stderr, timedOut: r.timedOut };
  }
  const saved = new Map<string, string | undefined>();
  for (const [k, v] of Object.entries(run.env ?? {})) {
    saved.set(k, process.env[k]);
    process.env[k] = v;
  }
  try {
    const r = await runCli(run.argv, sb.dir);
    return { ...r, timedOut: false };
  } finally {
    for (const [k, v] of saved) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
}

/** The error code the CLI reported: `error [CODE]` on stderr, else the JSON error on stdout. */
function reportedCode(o: Pick<Outcome, 'stdout' | 'stderr'>): string | undefined {
  const m = /error \[([A-Z0-9_]+)\]/.exec(o.stderr);
  if (m) return m[1];
  try {
    const j = JSON.parse(o.stdout) as { error?: { code?: unknown } };
    return typeof j.error?.code === 'string' ? j.error.code : undefined;
  } catch {
    return undefined;
  }
}

/** A byte below 0x20 other than newline and tab, or DEL: what a terminal would act on. */
function hasRawControl(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if ((c < 0x20 && c !== 0x0a && c !== 0x09) || c === 0x7f) return true;
  }
  return false;
}

const isRefPath = (rel: string) => /^(?:repo\/\.git|remote\.git)\/(?:refs\/|packed-refs$)/.test(rel);

const shorten = (s: string) => (s.length > 600 ? `${s.slice(0, 600)}…` : s);

/** Every way the case broke the floor; empty when it held. */
function problemsOf(c: HostileCase, sb: Sandbox, o: Outcome, before: { digest: Map<string, string>; git: ReturnType<typeof gitState> }): string[] {
  const problems: string[] = [];
  const text = `${o.stdout}\n${o.stderr}`;
  if (o.timedOut) problems.push('did not finish in time (killed)');
  if (!c.expect.exit.includes(o.exitCode)) problems.push(`exit ${o.exitCode}, expected ${c.expect.exit.join(' or ')}`);
  if (o.exitCode === 70 || /internal error/i.test(text)) problems.push(`internal error: ${shorten(o.stderr.split('\n').slice(0, 2).join(' | '))}`);
  const failed = o.exitCode !== 0;
  const code = reportedCode(o);
  if (failed && !o.timedOut) {
    if (code === undefined) problems.push(`no error code on stderr or in the JSON output: ${shorten(o.stderr)}`);
    else if (c.exactCode !== undefined && code !== c.exactCode) problems.push(`error code ${code}, expected ${c.exactCode}`);
    else if (c.expect.codes.length && !c.expect.codes.includes(code)) problems.push(`error code ${code}, expected one of ${c.expect.codes.join(', ')}`);
  }
  if (hasRawControl(o.stderr)) problems.push(`raw control byte on stderr: ${JSON.stringify(shorten(o.stderr))}`);
  if (hasRawControl(o.stdout)) problems.push(`raw control byte on stdout: ${JSON.stringify(shorten(o.stdout))}`);

  // the file system: nothing changes but what a success owns
  const allowed = failed ? [] : (c.mayChange ?? []).filter((p) => p !== 'refs');
  const refsMayMove = !failed && (c.mayChange ?? []).includes('refs');
  const afterDigest = digestTree(sb.root);
  const isDir = (rootRel: string) => (before.digest.get(rootRel) ?? afterDigest.get(rootRel) ?? '').startsWith('dir ');
  const changes = digestDiff(before.digest, afterDigest)
    // Git leaves empty folders behind in refs/ when it deletes a ref; the refs themselves are compared below
    .filter((ch) => !(isRefPath(sandboxRelative(sb, ch.slice(1))) && isDir(ch.slice(1))))
    .map((ch) => `${ch[0]}${sandboxRelative(sb, ch.slice(1))}`)
    .filter((ch) => {
      const rel = ch.slice(1);
      if (refsMayMove && isRefPath(rel)) return false;
      return !allowed.some((a) => rel === a || rel.startsWith(`${a}/`));
    });
  if (changes.length) problems.push(`changed outside what it may write: ${shorten(changes.join(' '))}`);

  // Git: refs, HEAD, index, remote
  const after = gitState(sb);
  if (after.head !== before.git.head) problems.push(`HEAD moved: ${before.git.head.trim()} -> ${after.head.trim()}`);
  if (!refsMayMove && after.refs !== before.git.refs) problems.push(`local refs changed:\n${before.git.refs}->\n${after.refs}`);
  if (!refsMayMove && after.remoteRefs !== before.git.remoteRefs) problems.push(`remote refs changed:\n${before.git.remoteRefs}->\n${after.remoteRefs}`);
  const repoOwned = allowed.filter((a) => a.startsWith('repo/')).map((a) => a.slice('repo/'.length));
  const idxBefore = indexOutside(before.git.index, repoOwned);
  const idxAfter = indexOutside(after.index, repoOwned);
  if (idxBefore.join('\n') !== idxAfter.join('\n')) problems.push(`index changed:\n${shorten(idxBefore.join('\n'))}\n->\n${shorten(idxAfter.join('\n'))}`);

  // secrets: never in a Git object we made or pushed, never in a file we wrote
  if (c.secret) {
    const s = c.secret;
    if (objectsHold(sb.remote, s.value)) problems.push(`the secret ${JSON.stringify(s.value)} is in an object on the remote`);
    if (!s.userStaged && objectsHold(`${sb.repo}/.git`, s.value)) problems.push(`the secret ${JSON.stringify(s.value)} is in an object of the local repository`);
    const userFiles = new Set(s.userFiles ?? []);
    const hits = filesHolding(sb.root, s.value, (rootRel) => {
      const rel = sandboxRelative(sb, rootRel);
      return rel === 'inputs' || rel === 'outside' || userFiles.has(rel);
    }).map((r) => sandboxRelative(sb, r));
    if (hits.length) problems.push(`the secret is written to ${hits.join(', ')}`);
    if (text.includes(s.value)) problems.push('the secret is printed');
  }
  return problems;
}

interface Row {
  readonly id: string;
  readonly exit: number;
  readonly code: string | undefined;
  readonly problems: readonly string[];
}
const rows: Row[] = [];

describe('hostile inputs (issue 9): the safety floor', () => {
  beforeAll(async () => {
    sealGitEnv();
    const fixtures = [...new Set(HOSTILE_CASES.map((c) => c.fixture))];
    for (const f of fixtures) {
      await templateFor(f, async (sb) => {
        await runCli(['plan', ...sb.inputArgs, '--output', 'plan.json'], sb.dir);
      });
    }
  }, 300_000);

  afterAll(() => {
    dropTemplates();
    const held = rows.filter((r) => r.problems.length === 0).length;
    const cleanRefusals = rows.filter((r) => r.problems.length === 0 && r.exit !== 0).length;
    console.log(`hostile-input suite: ${rows.length} cases, ${held} held (${cleanRefusals} rejected cleanly), ${rows.length - held} broke the floor`);
    // OSV_SAFETY_REPORT=1 lists the cases that broke the floor, =all every case with its exit and code
    const report = process.env['OSV_SAFETY_REPORT'];
    for (const r of rows) {
      if (r.problems.length) {
        if (report) console.log(`FAIL ${r.id}: exit ${r.exit} ${r.code ?? '-'} :: ${r.problems.map((p) => p.split('\n')[0]).join(' ;; ')}`);
      } else if (report === 'all') console.log(`PASS ${r.id}: exit ${r.exit} ${r.code ?? '-'}`);
    }
  });

  it('has at least 150 cases with unique names', () => {
    expect(HOSTILE_CASES.length).toBeGreaterThanOrEqual(150);
    expect(new Set(HOSTILE_CASES.map((c) => c.id)).size).toBe(HOSTILE_CASES.length);
  });

  for (const c of HOSTILE_CASES) {
    it(c.id, async () => {
      const template = await templateFor(c.fixture, async () => {});
      const sb = copySandbox(template);
      const run = c.setup(sb);
      if (writesCopies(run.argv)) retireUserVersionFile(sb);
      const before = { digest: digestTree(sb.root), git: gitState(sb) };
      const o = await execute(run, sb);
      const problems = problemsOf(c, sb, o, before);
      rows.push({ id: c.id, exit: o.exitCode, code: reportedCode(o), problems });
      if (problems.length === 0) rmSync(sb.root, { recursive: true, force: true });
      expect(problems, `${c.expect.why}\nsandbox kept at ${sb.dir}\nargv: ${JSON.stringify(run.argv)}\nstderr: ${shorten(o.stderr)}`).toEqual([]);
    }, 180_000);
  }
});
