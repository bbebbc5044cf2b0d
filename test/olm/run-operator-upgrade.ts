/**
 * Run `operator-upgrade` in-process through its own registration, with errors mapped to exit codes
 * as src/cli/main.ts maps them (so these tests do not depend on the rest of the CLI).
 */
import { Command, CommanderError } from 'commander';
import { registerOperatorUpgrade } from '../../src/cli/operator-upgrade.js';
import { isOsvError } from '../../src/errors.js';
import type { CliResult } from '../helpers/cli.js';

export async function runOperatorUpgrade(args: readonly string[], cwd: string): Promise<CliResult & { error?: string }> {
  let stdout = '';
  let stderr = '';
  let exitCode = 0;
  const io = { cwd, stdout: (t: string) => (stdout += t), stderr: (t: string) => (stderr += t), color: false };
  const program = new Command('osv-gitops').exitOverride().configureOutput({ writeOut: io.stdout, writeErr: io.stderr });
  registerOperatorUpgrade(program, io, (c) => (exitCode = c));
  try {
    await program.parseAsync(['operator-upgrade', ...args], { from: 'user' });
  } catch (e) {
    if (e instanceof CommanderError) return { exitCode: e.exitCode === 0 ? 0 : 2, stdout, stderr };
    if (isOsvError(e)) return { exitCode: e.exitCode, stdout, stderr, error: e.code };
    throw e;
  }
  return { exitCode, stdout, stderr };
}
