/** Where the CLI writes: data to stdout, logs and progress to stderr. Injectable for tests. */
import { styleText } from 'node:util';

export interface CliIo {
  readonly cwd: string;
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  /** Colour and live progress only on a terminal, and never with NO_COLOR. */
  readonly color: boolean;
}

export function processIo(): CliIo {
  return {
    cwd: process.cwd(),
    stdout: (t) => void process.stdout.write(t),
    stderr: (t) => void process.stderr.write(t),
    color: Boolean(process.stderr.isTTY) && !process.env['NO_COLOR'],
  };
}

type Style = Parameters<typeof styleText>[0];

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
