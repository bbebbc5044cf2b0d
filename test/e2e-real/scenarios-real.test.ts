/** The update scenarios of test/e2e, unchanged, on a real kube-apiserver with the real CRDs. */
import { defineUpdateScenarios } from '../e2e/scenarios.js';
import { describeRealCluster } from './describe-real.js';
import { startRealCluster } from './harness.js';

describeRealCluster('real kube-apiserver: update scenarios', () => {
  defineUpdateScenarios('real kube-apiserver', async () => {
    const cluster = await startRealCluster();
    return { kubeconfig: () => cluster.kubeconfigYaml, close: () => cluster.stop() };
  });
});
