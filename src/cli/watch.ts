/** `osv-gitops watch`: advance until the update is done, a gate fails, or --timeout. */
import type { ClusterWatcher } from '../cluster/watcher.js';
import { isOsvError, OsvError } from '../errors.js';
import { phaseOfText } from '../plan/numbering.js';
import { formatSeconds } from '../status/gates.js';
import { advanceContext, describeStep, pullRequestJson, pullRequestOptions } from './advance.js';
import { parseDuration, type AdvanceFlags } from './options.js';

export { parseDuration };
import type { CliIo } from './io.js';
import type { AdvanceOptions, AdvanceResult } from '../advance/advance.js';
import type { ForgeConfig } from '../forge/types.js';
import type { RenderInputs } from '../render/render.js';
import type { PullRequestFlags } from './pull-request-flags.js';

export interface WatchFlags extends AdvanceFlags, PullRequestFlags {
  readonly timeout?: string;
  readonly resync?: string;
}

export interface ConnectOptions {
  /** Give up (CLUSTER_UNREACHABLE, exit 4) at this time; none: keep trying until Ctrl-C. */
  readonly deadline: number | undefined;
  readonly signal: AbortSignal;
  readonly progress: (attempt: number, message: string, waitMs: number) => void;
  /** First wait between attempts; doubles up to maxWaitMs. */
  readonly baseMs?: number;
  readonly maxWaitMs?: number;
}

/**
 * Start the watcher, retrying while the API server does not answer: a watch meant to run for
 * hours must outlive a restarting API server or a VPN that comes up late, and "unreachable"
 * must not read as a failed gate. Resolves false when interrupted.
 */
export async function connect(watcher: Pick<ClusterWatcher, 'start'>, opts: ConnectOptions): Promise<boolean> {
  const { deadline, signal } = opts;
  const firstTry = Date.now();
  let reason = 'no answer';
  for (let attempt = 1; ; attempt++) {
    if (signal.aborted) return false;
    try {
      await beforeDeadline(watcher.start(), deadline);
      return true;
    } catch (e) {
      if (!isOsvError(e) || e.code !== 'CLUSTER_UNREACHABLE') throw e;
      // an attempt cut short by the deadline says nothing new: keep what the server's address answered last
      if (e !== DEADLINE) reason = e.message.replace(/^cluster unreachable: /, '');
      const wait = Math.min(opts.maxWaitMs ?? 30_000, (opts.baseMs ?? 1000) * 2 ** (attempt - 1));
      const left = deadline === undefined ? wait : deadline - Date.now();
      if (left <= 0) {
        throw new OsvError('CLUSTER_UNREACHABLE', `cluster unreachable for ${formatSeconds((Date.now() - firstTry) / 1000)} (${attempt} attempts, until --timeout): ${reason}`, {
          hint: 'Check that the API server in your kubeconfig is up and reachable from here (VPN, proxy, --context); nothing was committed.',
        });
      }
      opts.progress(attempt, reason, Math.min(wait, left));
      await pause(Math.min(wait, left), signal);
    }
  }
}

const DEADLINE = new OsvError('CLUSTER_UNREACHABLE', 'cluster unreachable: no answer before --timeout');

/** `work`, or CLUSTER_UNREACHABLE at the deadline: one attempt may hang for a whole request timeout. */
async function beforeDeadline<T>(work: Promise<T>, deadline: number | undefined): Promise<T> {
  if (deadline === undefined) return work;
  // the losing attempt settles later; nobody waits for it
  work.catch(() => {});
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(DEADLINE), Math.max(0, deadline - Date.now()));
  });
  try {
    return await Promise.race([work, late]);
  } finally {
    clearTimeout(timer);
  }
}

function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const done = () => {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const t = setTimeout(done, ms);
    signal.addEventListener('abort', done);
  });
}

/** The step of `watch --pull-request`: the forge's client is loaded once, for the whole watch. */
async function pullRequestStepper(config: ForgeConfig): Promise<(inputs: RenderInputs, opts: AdvanceOptions) => Promise<AdvanceResult>> {
  const [{ pullRequestStep }, { createForge }] = await Promise.all([import('../advance/pull-request.js'), import('../forge/create.js')]);
  const forge = await createForge(config);
  return (inputs, opts) => pullRequestStep(inputs, pullRequestOptions(opts, forge));
}

/** The action of `osv-gitops watch` (its flags and help are registered in commands.ts). */
export async function watchAction(flags: WatchFlags, io: CliIo, setExit: (code: number) => void): Promise<void> {
  const jsonLines = Boolean(flags.json);
  // on a terminal, one line kept up to date (while connecting, and between steps); plain lines and JSON lines otherwise
  const live = io.color && !jsonLines;
  let connecting = true;
  const log = (l: string) => {
    // the reader's per-request retries while connecting are summed up by connect()'s own line
    if (connecting) return;
    io.stderr(jsonLines ? `${JSON.stringify({ event: 'log', message: l })}\n` : `${l}\n`);
  };
  const { watchUpdate } = await import('../advance/watch.js');
  const { ClusterWatcher } = await import('../cluster/watcher.js');
  // every flag is checked before the cluster is tried
  const timeoutMs = flags.timeout ? parseDuration(flags.timeout, '--timeout') : undefined;
  const resyncMs = parseDuration(flags.resync ?? '30s', '--resync');
  const { update, source, options, forge } = await advanceContext({ ...flags, json: false }, io, log);
  if (!source.reader) throw new OsvError('USAGE', 'watch needs a cluster; use status --from-files for dumps');
  const watcher = new ClusterWatcher(source.reader, source.target, { resyncMs, log });
  // --pull-request: each step opens or follows a pull request; merges are seen at the latest on --resync
  const step = forge ? await pullRequestStepper(forge) : undefined;
  const controller = new AbortController();
  const onSigint = () => {
    log('stopping after the current step (Ctrl-C again to force)');
    controller.abort();
    process.once('SIGINT', () => process.exit(130));
  };
  process.once('SIGINT', onSigint);
  const started = Date.now();
  try {
    const connected = await connect(watcher, {
      deadline: timeoutMs !== undefined ? started + timeoutMs : undefined,
      signal: controller.signal,
      progress: (attempt, message, waitMs) => {
        const text = `cluster unreachable (attempt ${attempt}, ${formatSeconds((Date.now() - started) / 1000)}): ${message}; retrying in ${waitMs < 10_000 ? `${(waitMs / 1000).toFixed(1)}s` : formatSeconds(waitMs / 1000)}`;
        if (jsonLines) io.stderr(`${JSON.stringify({ event: 'unreachable', attempt, message, retryInMs: waitMs })}\n`);
        else if (live) io.stderr(`\r\x1b[K${text}`.slice(0, (process.stderr.columns || 100) + 4));
        else io.stderr(`${text}\n`);
      },
    }).finally(() => {
      connecting = false;
      if (live) io.stderr('\r\x1b[K');
    });
    if (!connected) {
      if (jsonLines) io.stdout(JSON.stringify({ event: 'end', end: 'interrupted', steps: 0, commits: [], phase: null, reason: null }) + '\n');
      else io.stdout('interrupted before the cluster answered; nothing written. Run watch again to resume.\n');
      setExit(130);
      return;
    }
    // the time spent connecting counts against --timeout
    const left = timeoutMs !== undefined ? Math.max(1, started + timeoutMs - Date.now()) : undefined;
    await follow(left);
  } finally {
    process.removeListener('SIGINT', onSigint);
    await watcher.stop();
  }

  async function follow(leftMs: number | undefined): Promise<void> {
    let current = '';
    const ticker = live
      ? setInterval(() => {
          if (current) io.stderr(`\r\x1b[K${formatSeconds((Date.now() - started) / 1000)} ${current}`.slice(0, (process.stderr.columns || 100) + 4));
        }, 1000)
      : undefined;
    ticker?.unref();
    // progress Events on the OpenStackVersion (best effort, see src/advance/events.ts), awaited before the end
    const { recordStepEvents } = await import('../advance/events.js');
    const recording: Promise<void>[] = [];
    try {
      const result = await watchUpdate(
        update,
        {
          ...options,
          readSnapshot: async () => watcher.snapshot(),
          nextChange: (ms) => watcher.changed(ms),
          idleMs: resyncMs,
          signal: controller.signal,
          ...(leftMs !== undefined ? { timeoutMs: leftMs } : {}),
          ...(step ? { step } : {}),
        },
        {
          onStep: (r) => {
            recording.push(recordStepEvents(r, update.plan, watcher.snapshot(), source.reader!, log, new Date()).catch(() => {}));
            const elapsed = formatSeconds((Date.now() - started) / 1000);
            current = `${r.status.phase} (${phaseOfText(r.status.phaseNumber, r.status.phaseCount)}) ${r.status.verdict}: ${r.status.reason}`;
            if (live) io.stderr('\r\x1b[K');
            if (jsonLines) io.stdout(JSON.stringify({ event: 'step', elapsed, outcome: r.outcome, phase: r.status.phase, verdict: r.status.verdict, reason: r.status.reason, committed: r.committed ?? null, ...pullRequestJson(r) }) + '\n');
            else io.stdout(`[${elapsed}] ${describeStep(r, io)}`);
          },
        },
      );
      await Promise.all(recording);
      const summary = { event: 'end', end: result.end, steps: result.steps, commits: result.commits, phase: result.last?.phase ?? null, reason: result.last?.reason ?? null };
      if (jsonLines) io.stdout(JSON.stringify(summary) + '\n');
      else if (result.end === 'timeout') io.stdout(`timed out after ${flags.timeout}; the update is waiting in ${result.last?.phase}: ${result.last?.reason}\n`);
      else if (result.end === 'interrupted') io.stdout('interrupted between steps; nothing half-written. Run watch again to resume.\n');
      setExit(result.exitCode);
    } finally {
      if (ticker) clearInterval(ticker);
      if (live) io.stderr('\r\x1b[K');
    }
  }
}
