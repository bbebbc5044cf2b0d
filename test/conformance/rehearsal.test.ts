/** The conformance suite against the rehearsal API server. */
import { randomBytes } from 'node:crypto';
import { startRehearsalApiServer } from '../../src/simulate/apiserver/server.js';
import { clientsFor } from './k8s-helpers.js';
import { defineConformanceSuite } from './suite.js';

defineConformanceSuite('rehearsal API server', async () => {
  // window below the suite's 30 writes; bookmarks a minute apart as on a real server, so the
  // bookmark test sees the pre-timeout one
  const server = await startRehearsalApiServer({ eventWindow: 20, bookmarkIntervalMs: 60_000 });
  const namespace = `osv-conformance-${randomBytes(3).toString('hex')}`;
  const kubeconfigYaml = server.kubeconfig(namespace);
  await clientsFor(kubeconfigYaml).core.createNamespace({ body: { metadata: { name: namespace } } });
  return { kubeconfigYaml, namespace, stop: () => server.close() };
});
