/**
 * `describe` for tests that need the real API server: without the binaries the suite fails under
 * CI (a missing install step must not pass as a skip) and is skipped, with the reason, elsewhere.
 */
import { describe, it } from 'vitest';
import { realClusterAvailability } from './harness.js';

export function describeRealCluster(name: string, body: () => void): void {
  const availability = realClusterAvailability();
  if (availability.ok) {
    describe(name, body);
    return;
  }
  if (process.env['CI']) {
    describe(name, () => {
      it('has the real kube-apiserver and etcd binaries', () => {
        throw new Error(availability.reason);
      });
    });
    return;
  }
  console.warn(`skipping "${name}": ${availability.reason}`);
  describe.skip(`${name} (skipped: ${availability.reason})`, body);
}
