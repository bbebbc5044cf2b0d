/** Phase 0 on a real kube-apiserver serving the OLM CRDs: the same scenarios as on the rehearsal server. */
import { definePhase0Scenarios } from '../simulate/phase0-scenarios.js';
import { describeRealCluster } from './describe-real.js';
import { startRealCluster } from './harness.js';

describeRealCluster('real kube-apiserver: phase 0', () => {
  definePhase0Scenarios('real kube-apiserver', async () => {
    const cluster = await startRealCluster();
    return { kubeconfig: () => cluster.kubeconfigYaml, close: () => cluster.stop() };
  });
});
