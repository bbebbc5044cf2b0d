#!/usr/bin/env node
// Benchmark of the rehearsal API server (run after `npm run build`; reads dist/).
// - start: time from startRehearsalApiServer() to a listening server (median of runs)
// - GET one object: requests/second through @kubernetes/client-node (sequential and 8 in flight),
//   and through plain keep-alive HTTP (the server's own ceiling)
import * as k8s from '@kubernetes/client-node';
import http from 'node:http';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const importStart = process.hrtime.bigint();
const { startRehearsalApiServer } = await import(pathToFileURL(join(root, 'dist', 'src', 'simulate', 'apiserver', 'server.js')).href);
const importMs = Number(process.hrtime.bigint() - importStart) / 1e6;
const runs = Number(process.env.BENCH_RUNS ?? 7);
const seconds = Number(process.env.BENCH_SECONDS ?? 3);

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

console.log(`node ${process.version}`);
console.log(`${'import of the server module'.padEnd(34)} ${importMs.toFixed(0)} ms`);
{
  const samples = [];
  for (let i = 0; i < runs; i++) {
    const t0 = process.hrtime.bigint();
    const s = await startRehearsalApiServer();
    samples.push(Number(process.hrtime.bigint() - t0) / 1e6);
    await s.close();
  }
  console.log(`${'start'.padEnd(34)} median ${median(samples).toFixed(1)} ms  (first ${samples[0].toFixed(1)}, min ${Math.min(...samples).toFixed(1)}, ${runs} runs)`);
}

const server = await startRehearsalApiServer({ namespaces: ['openstack'], token: 'bench' });
const kc = new k8s.KubeConfig();
kc.loadFromString(server.kubeconfig('openstack'));
const api = kc.makeApiClient(k8s.CustomObjectsApi);
const gvr = { group: 'core.openstack.org', version: 'v1beta1', namespace: 'openstack', plural: 'openstackversions' };

// the first write of a kind compiles its CRD schema (cached for the process; the first one also
// loads the CRD index and ajv); OpenStackControlPlane is stored unchecked in the default mode
for (const [group, plural, kind, spec] of [
  ['core.openstack.org', 'openstackversions', 'OpenStackVersion', { targetVersion: '18.0.1' }],
  ['dataplane.openstack.org', 'openstackdataplanenodesets', 'OpenStackDataPlaneNodeSet', { nodeTemplate: { ansibleSSHPrivateKeySecret: 'k' }, nodes: {} }],
  ['core.openstack.org', 'openstackcontrolplanes', 'OpenStackControlPlane', { secret: 'osp-secret', storageClass: 'local' }],
]) {
  const times = [];
  for (const name of ['first', 'second']) {
    const t0 = process.hrtime.bigint();
    await api.createNamespacedCustomObject({ ...gvr, group, plural, body: { apiVersion: `${group}/v1beta1`, kind, metadata: { name: `${name}-${plural}` }, spec } }).catch((e) => console.log(`  ${kind}: ${e.code} ${String(e.body).slice(0, 200)}`));
    times.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  console.log(`${`create ${kind}`.padEnd(34)} first ${times[0].toFixed(0)} ms, then ${times[1].toFixed(1)} ms`);
}

await api.createNamespacedCustomObject({ ...gvr, body: { apiVersion: 'core.openstack.org/v1beta1', kind: 'OpenStackVersion', metadata: { name: 'openstack' }, spec: { targetVersion: '18.0.1' } } });

async function rate(label, inFlight, once) {
  for (let i = 0; i < 200; i++) await once(); // warm up
  const before = server.stats.requests;
  const end = Date.now() + seconds * 1000;
  const worker = async () => {
    while (Date.now() < end) await once();
  };
  const t0 = process.hrtime.bigint();
  await Promise.all(Array.from({ length: inFlight }, worker));
  const secs = Number(process.hrtime.bigint() - t0) / 1e9;
  console.log(`${label.padEnd(34)} ${((server.stats.requests - before) / secs).toFixed(0)} requests/s  (${seconds} s, ${inFlight} in flight)`);
}

const viaClient = () => api.getNamespacedCustomObject({ ...gvr, name: 'openstack' });
await rate('GET one object, client-node', 1, viaClient);
await rate('GET one object, client-node', 8, viaClient);

const agent = new http.Agent({ keepAlive: true, maxSockets: 8 });
const url = new URL(`${server.url}/apis/core.openstack.org/v1beta1/namespaces/openstack/openstackversions/openstack`);
const viaHttp = () =>
  new Promise((resolve, reject) => {
    const req = http.get(url, { agent, headers: { Authorization: 'Bearer bench', Accept: 'application/json' } }, (res) => {
      res.resume();
      res.on('end', resolve);
    });
    req.on('error', reject);
  });
await rate('GET one object, keep-alive HTTP', 8, viaHttp);

agent.destroy();
await server.close();
