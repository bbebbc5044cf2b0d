/**
 * `simulate --timeout` bounds the whole run, starting the rehearsal cluster included: a deadline
 * that passes during start-up ends the run with the documented waiting code (3), and whatever had
 * started (API server, operator, agent) is stopped, so nothing keeps listening.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { sealGitEnv } from '../helpers/git-repo.js';
import { runCli } from '../helpers/cli.js';

const listening = () => process.getActiveResourcesInfo().filter((r) => r === 'TCPServerWrap').length;

/** A closed server's handle leaves the list on a later turn of the event loop: poll briefly. */
async function listeningSettles(expected: number): Promise<number> {
  for (let i = 0; i < 50 && listening() !== expected; i++) await new Promise((r) => setTimeout(r, 100));
  return listening();
}

describe('simulate --timeout', () => {
  beforeAll(sealGitEnv);

  it('covers start-up: a deadline passing while the rehearsal cluster starts exits 3 and leaves nothing running', async () => {
    const before = listening();
    const r = await runCli(['simulate', '--example', '--timeout', '20ms', '--json'], process.cwd());
    expect(r.exitCode, r.stderr).toBe(3);
    const out = JSON.parse(r.stdout) as { end: string; timeline: { kind: string; text: string }[]; commits: unknown[] };
    expect(out.end).toBe('timeout');
    expect(out.commits).toEqual([]);
    expect(out.timeline.at(-1)?.kind).toBe('timeout');
    expect(out.timeline.at(-1)?.text).toMatch(/while starting the rehearsal cluster/);
    expect(await listeningSettles(before)).toBe(before);
  }, 60_000);

  it('a deadline after start-up still times out the update itself', async () => {
    const before = listening();
    // one step of 20 s: the update needs minutes, the start (seconds even on a loaded machine) fits
    const r = await runCli(['simulate', '--example', '--timeout', '40s', '--step-ms', '20000', '--json'], process.cwd());
    expect(r.exitCode, r.stderr).toBe(3);
    const out = JSON.parse(r.stdout) as { end: string; startMs: number; timeline: { kind: string; text: string }[] };
    expect(out.end).toBe('timeout');
    expect(out.timeline.at(-1)?.text).toMatch(/^timed out: /);
    expect(await listeningSettles(before)).toBe(before);
  }, 150_000);
});
