/**
 * `describe` for tests that need a real server built from source (kube-apiserver and etcd, Gitea,
 * Argo CD): without its binaries the suite fails under CI (a missing install step must not pass as
 * a skip) and is skipped, with the reason, elsewhere.
 */
import { describe, it } from 'vitest';
import { realClusterAvailability, type Availability } from './harness.js';

/** A binary a suite needs, named for the failing test under CI: `has the ${what}`. */
export interface Need {
  readonly what: string;
  readonly availability: Availability;
}

export function describeNeeding(name: string, needs: readonly Need[], body: () => void): void {
  const missing = needs.filter((n) => !n.availability.ok);
  if (missing.length === 0) {
    describe(name, body);
    return;
  }
  const reasons = missing.map((n) => (n.availability.ok ? '' : n.availability.reason));
  if (process.env['CI']) {
    describe(name, () => {
      missing.forEach((n, i) => {
        it(`has the ${n.what}`, () => {
          throw new Error(reasons[i]);
        });
      });
    });
    return;
  }
  const reason = reasons.join('; ');
  console.warn(`skipping "${name}": ${reason}`);
  describe.skip(`${name} (skipped: ${reason})`, body);
}

export const REAL_CLUSTER_NEED: Need = { what: 'real kube-apiserver and etcd binaries', availability: realClusterAvailability() };

export function describeRealCluster(name: string, body: () => void): void {
  describeNeeding(name, [REAL_CLUSTER_NEED], body);
}
