/** `osv-gitops watch`: advance until the update is done, a gate fails, or --timeout. */
import type { Command } from 'commander';
import { OsvError } from '../errors.js';
import { phaseOfText } from '../plan/numbering.js';
import { formatSeconds } from '../status/gates.js';
import { addAdvanceOptions, advanceContext, describeStep, type AdvanceFlags } from './advance.js';
import type { CliIo } from './io.js';

interface WatchFlags extends AdvanceFlags {
  readonly timeout?: string;
  readonly resync?: string;
}

/** `90`, `90s`, `15m`, `2h` → milliseconds. */
export function parseDuration(text: string, flag: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(text.trim());
  if (!m) throw new OsvError('USAGE', `${flag} must be a duration like 90s, 15m or 2h, not "${text}"`);
  const n = Number(m[1]);
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[(m[2] ?? 's') as 'ms' | 's' | 'm' | 'h'];
  return n * unit;
}

export function registerWatch(program: Command, io: CliIo, setExit: (code: number) => void): void {
  const cmd = program
    .command('watch')
    .summary('advance until done, a failed gate, or --timeout')
    .description(
      'Run advance whenever the cluster changes (watches, with a periodic resync; no polling loop) until the\n' +
        'update is done (exit 0), a gate fails (exit 1) or --timeout passes (exit 3). Ctrl-C stops between\n' +
        'steps, so nothing is left half-written; run watch again to resume.',
    );
  addAdvanceOptions(cmd)
    .option('--timeout <duration>', 'give up after this long (e.g. 8h); the update keeps its state in Git')
    .option('--resync <duration>', 'full re-read of the cluster at least this often', '30s')
    .addHelpText('after', '\nExamples:\n  osv-gitops watch --example --repo ../gitops --agent flux:flux-system/openstack --timeout 12h\n  osv-gitops watch --plan plan.json --controlplane cp.yaml --nodesets nodesets/ --repo . --json\n')
    .action(async (flags: WatchFlags) => {
      const jsonLines = Boolean(flags.json);
      const log = (l: string) => io.stderr(jsonLines ? `${JSON.stringify({ event: 'log', message: l })}\n` : `${l}\n`);
      const { watchUpdate } = await import('../advance/watch.js');
      const { ClusterWatcher } = await import('../cluster/watcher.js');
      const { update, source, options } = await advanceContext({ ...flags, json: false }, io, log);
      if (!source.reader) throw new OsvError('USAGE', 'watch needs a cluster; use status --from-files for dumps');
      const resyncMs = parseDuration(flags.resync ?? '30s', '--resync');
      const watcher = new ClusterWatcher(source.reader, source.target, { resyncMs, log });
      await watcher.start();
      const controller = new AbortController();
      const onSigint = () => {
        log('stopping after the current step (Ctrl-C again to force)');
        controller.abort();
        process.once('SIGINT', () => process.exit(130));
      };
      process.once('SIGINT', onSigint);
      const started = Date.now();
      // on a terminal, one line kept up to date between steps; plain lines and JSON lines otherwise
      let current = '';
      const live = io.color && !jsonLines;
      const ticker = live
        ? setInterval(() => {
            if (current) io.stderr(`\r\x1b[K${formatSeconds((Date.now() - started) / 1000)} ${current}`.slice(0, (process.stderr.columns || 100) + 4));
          }, 1000)
        : undefined;
      ticker?.unref();
      try {
        const result = await watchUpdate(
          update,
          {
            ...options,
            readSnapshot: async () => watcher.snapshot(),
            nextChange: (ms) => watcher.changed(ms),
            idleMs: resyncMs,
            signal: controller.signal,
            ...(flags.timeout ? { timeoutMs: parseDuration(flags.timeout, '--timeout') } : {}),
          },
          {
            onStep: (r) => {
              const elapsed = formatSeconds((Date.now() - started) / 1000);
              current = `${r.status.phase} (${phaseOfText(r.status.phaseNumber, r.status.phaseCount)}) ${r.status.verdict}: ${r.status.reason}`;
              if (live) io.stderr('\r\x1b[K');
              if (jsonLines) io.stdout(JSON.stringify({ event: 'step', elapsed, outcome: r.outcome, phase: r.status.phase, verdict: r.status.verdict, reason: r.status.reason, committed: r.committed ?? null }) + '\n');
              else io.stdout(`[${elapsed}] ${describeStep(r, io)}`);
            },
          },
        );
        const summary = { event: 'end', end: result.end, steps: result.steps, commits: result.commits, phase: result.last?.phase ?? null, reason: result.last?.reason ?? null };
        if (jsonLines) io.stdout(JSON.stringify(summary) + '\n');
        else if (result.end === 'timeout') io.stdout(`timed out after ${flags.timeout}; the update is waiting in ${result.last?.phase}: ${result.last?.reason}\n`);
        else if (result.end === 'interrupted') io.stdout('interrupted between steps; nothing half-written. Run watch again to resume.\n');
        setExit(result.exitCode);
      } finally {
        if (ticker) clearInterval(ticker);
        if (live) io.stderr('\r\x1b[K');
        process.removeListener('SIGINT', onSigint);
        await watcher.stop();
      }
    });
}
