/** The API conformance suite (test/conformance/suite.ts) against the real kube-apiserver. */
import { it } from 'vitest';
import { defineConformanceSuite } from '../conformance/suite.js';
import { describeRealCluster } from './describe-real.js';
import { realClusterAvailability, startRealCluster } from './harness.js';

if (realClusterAvailability().ok) {
  defineConformanceSuite('real kube-apiserver', () => startRealCluster());
} else {
  // fails under CI, skips with the reason elsewhere
  describeRealCluster('conformance suite on the real kube-apiserver', () => {
    it('runs the conformance suite', () => {});
  });
}
