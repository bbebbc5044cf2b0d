/**
 * The osv-gitops command line. Every command's flags are in commands.ts and its action in a file of its own, loaded when it runs; errors are handled once here:
 * known errors print their message (and hint) without a stack and exit by contract
 * (0 ok, 1 failure reported, 2 usage/input error, 3 waiting, 4 cluster unreachable, 70 internal).
 */
import { EXIT, isOsvError } from '../errors.js';
import { escapeControls } from '../validate/quote.js';
import { processIo, type CliIo } from './io.js';

const VERSION = '0.1.0';

function jsonRequested(argv: readonly string[]): boolean {
  return argv.includes('--json');
}

/** Run the CLI with `argv` (without node and the script); returns the exit code. */
export async function run(argv: readonly string[], io: CliIo = processIo()): Promise<number> {
  // `--version` alone answers before commander and the commands' flags load (issue 14: start-up)
  if (argv.length === 1 && (argv[0] === '--version' || argv[0] === '-V')) {
    io.stdout(`${VERSION}\n`);
    return EXIT.ok;
  }
  const [{ Command, CommanderError }, { registerCommands }] = await Promise.all([import('commander'), import('./commands.js')]);
  let exitCode: number = EXIT.ok;
  const setExit = (code: number) => (exitCode = code);
  const program = new Command('osv-gitops')
    .description('Run an OpenStack-on-Kubernetes minor update through Git: plan, render and gate every phase.')
    .version(VERSION)
    .showHelpAfterError('(run with --help for usage)')
    .configureOutput({ writeOut: io.stdout, writeErr: (t) => io.stderr(t.split('\n').map(escapeControls).join('\n')) })
    .exitOverride();
  registerCommands(program, io, setExit);
  (await import('./operator-upgrade.js')).registerOperatorUpgrade(program, io, setExit);
  try {
    await program.parseAsync(argv as string[], { from: 'user' });
    return exitCode;
  } catch (e) {
    if (e instanceof CommanderError) {
      // --help and --version end here with exitCode 0
      if (e.exitCode === 0) return EXIT.ok;
      // commander printed its message already; a --json caller reads stdout, so it gets the same error object as ours
      if (jsonRequested(argv)) io.stdout(JSON.stringify({ error: { code: 'USAGE', message: e.message.replace(/^error: /, ''), commander: e.code } }, null, 2) + '\n');
      return EXIT.usage;
    }
    if (isOsvError(e)) {
      if (jsonRequested(argv)) io.stdout(JSON.stringify({ error: e.toJSON() }, null, 2) + '\n');
      const label = e.exitCode === EXIT.ok ? '' : `error [${e.code}]: `;
      // messages quote input values escaped already; this catches any other text taken from an input
      const lines = [`${label}${e.message}`, ...(e.hint ? [`hint: ${e.hint}`] : []), ...e.details.map((d) => `  - ${d}`)];
      io.stderr(lines.map(escapeControls).join('\n') + '\n');
      return e.exitCode;
    }
    const err = e instanceof Error ? e : new Error(String(e));
    const stack = err.stack ? await readableStack(err.stack) : err.message;
    io.stderr(`internal error: ${stack}\nThis is a bug in osv-gitops; please report it with the command you ran.\n`);
    return EXIT.internal;
  }
}

/** The stack with the bundle's lines mapped to the .ts sources (as it is when the map cannot be read). */
async function readableStack(stack: string): Promise<string> {
  try {
    return (await import('./source-stack.js')).mapStack(stack);
  } catch {
    return stack;
  }
}

export async function main(argv: readonly string[]): Promise<void> {
  const code = await run(argv);
  process.exitCode = code;
  // the command is over: exit once its output is written. Waiting for the event loop to empty would
  // also wait for V8's background compile jobs (~20 ms of a render) and for a server, socket or
  // timer something left open (a bug); the timer is the backstop should a write never report back
  exitWhenWritten(code);
  setTimeout(() => process.exit(code), 1000).unref();
}

/**
 * `exit(code)` once everything written to `streams` has been handed to the system. Writes to a
 * pipe are synchronous on Linux but not on macOS, nor to a terminal on Windows.
 */
export function exitWhenWritten(code: number, streams: readonly Pick<NodeJS.WritableStream, 'write'>[] = [process.stdout, process.stderr], exit: (code: number) => void = process.exit): void {
  let waiting = streams.length;
  // a write's callback runs after the writes queued before it, also when the stream has failed
  const done = () => --waiting === 0 && exit(code);
  for (const stream of streams) stream.write('', done);
}
