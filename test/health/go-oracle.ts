/**
 * Runs the Go helper (tools/healthcheck), which judges objects with Flux's own CEL status reader
 * and with gopher-lua set up as Argo CD sets it up. Built on demand by scripts/build-go-tools.sh.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FluxHealthCheckExpr } from '../../src/agents/flux/health-checks.js';

export const PROJECT_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const ORACLE_BIN = join(PROJECT_ROOT, '.cache', 'bin', 'osv-healthcheck');

export type OracleCase =
  | { readonly engine: 'cel'; readonly exprs: FluxHealthCheckExpr; readonly object: unknown }
  | { readonly engine: 'lua'; readonly script: string; readonly object: unknown };

export interface OracleVerdict {
  readonly status: string;
  readonly message?: string;
  readonly error?: string;
}

function goAvailable(): boolean {
  try {
    execFileSync('go', ['version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** Builds (or reuses) the helper; fails with a clear message when Go is missing. */
export function buildOracle(): string {
  if (!goAvailable()) {
    throw new Error(
      "The Go toolchain ('go') is not on PATH, so the health expressions cannot be checked against " +
        'the real Flux and Argo CD evaluators. Install Go 1.26+ and run scripts/build-go-tools.sh.',
    );
  }
  const log = execFileSync('bash', [join(PROJECT_ROOT, 'scripts', 'build-go-tools.sh')], {
    cwd: PROJECT_ROOT,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  process.stderr.write(log);
  if (!existsSync(ORACLE_BIN)) throw new Error(`build-go-tools.sh did not produce ${ORACLE_BIN}`);
  return log;
}

/** Judges every case in one run of the helper; verdicts come back in input order. */
export function runOracle(cases: readonly OracleCase[]): OracleVerdict[] {
  const out = execFileSync(ORACLE_BIN, [], {
    input: JSON.stringify(cases),
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  const verdicts = out
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as OracleVerdict);
  if (verdicts.length !== cases.length) {
    throw new Error(`osv-healthcheck returned ${verdicts.length} verdicts for ${cases.length} cases`);
  }
  return verdicts;
}
