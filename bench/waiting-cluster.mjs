#!/usr/bin/env node
// A rehearsal cluster that stands still, for timing `advance` as a whole process (run.mjs): the
// example's objects on the rehearsal API server, its Git repository, the operator and the agent
// stopped, so once the first phase is committed every `advance` waits on a gate (exit 3).
// Prints one JSON line {kubeconfig, repo, agent, csvNamespace} when ready; stops on SIGTERM or when stdin closes.
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const { rehearsalStart } = await import(join(root, 'dist', 'src', 'cli', 'simulate.js'));
const { startRehearsalCluster } = await import(join(root, 'dist', 'src', 'simulate', 'rehearsal.js'));

const io = { cwd: root, stdout: () => {}, stderr: () => {}, color: false };
const cluster = await startRehearsalCluster({ ...rehearsalStart({ example: true }, io), engine: 'flux', mode: 'commits' });
await cluster.operator.stop();
await cluster.agent.stop();

let stopping = false;
async function stop() {
  if (stopping) return;
  stopping = true;
  await cluster.stop();
  process.exit(0);
}
process.on('SIGTERM', stop);
process.stdin.on('end', stop);
process.stdin.resume();
const { engine, namespace, name } = cluster.agentRef;
const csvNamespace = cluster.snapshotTarget.csvNamespace;
console.log(JSON.stringify({ kubeconfig: cluster.kubeconfigPath, repo: cluster.repo.work, agent: `${engine}:${namespace}/${name}`, csvNamespace }));
