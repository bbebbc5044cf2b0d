/** Where the CLI writes: data to stdout, logs and progress to stderr. Injectable for tests. */
import type { Writable } from 'node:stream';
import { styleText } from 'node:util';

export interface CliIo {
  readonly cwd: string;
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  /** Colour and live progress only on a terminal, and never with NO_COLOR. */
  readonly color: boolean;
}

/** Streams whose reader went away (`osv-gitops … | head`): further writes are dropped. */
const closedStreams = new WeakSet<Writable>();
const guarded = new WeakSet<Writable>();

/**
 * A closed pipe ends the output quietly instead of crashing with an unhandled EPIPE; the command
 * itself still finishes and sets its exit status. Other stream errors stay fatal.
 */
export function pipeWriter(stream: Writable): (text: string) => void {
  if (!guarded.has(stream)) {
    guarded.add(stream);
    stream.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code !== 'EPIPE' && err.code !== 'ERR_STREAM_DESTROYED') throw err;
      closedStreams.add(stream);
    });
  }
  return (text) => {
    if (!closedStreams.has(stream) && !stream.destroyed) stream.write(text);
  };
}

export function processIo(): CliIo {
  return {
    cwd: process.cwd(),
    stdout: pipeWriter(process.stdout),
    stderr: pipeWriter(process.stderr),
    color: Boolean(process.stderr.isTTY) && !process.env['NO_COLOR'],
  };
}

type Style = Parameters<typeof styleText>[0];

/** JSON as every --json prints it: two-space indent, a final newline. */
export function stableJson(value: unknown): string {
  return JSON.stringify(value, null, 2) + '\n';
}

export function paint(io: CliIo, style: Style, text: string): string {
  return io.color ? styleText(style, text) : text;
}

/** A plain table: columns padded to the widest cell, no borders (diff- and grep-friendly). */
export function table(rows: readonly (readonly string[])[], header?: readonly string[]): string {
  const all = header ? [header, ...rows] : rows;
  const widths: number[] = [];
  for (const r of all) r.forEach((c, i) => (widths[i] = Math.max(widths[i] ?? 0, [...c].length)));
  const line = (r: readonly string[]) =>
    r
      .map((c, i) => (i === r.length - 1 ? c : c + ' '.repeat((widths[i] ?? 0) - [...c].length)))
      .join('  ')
      .trimEnd();
  return all.map(line).join('\n') + '\n';
}
