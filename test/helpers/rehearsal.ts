/** Rehearsal inputs from a fixture case folder, as `simulate` builds them from its flags. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import * as k8s from '@kubernetes/client-node';
import type { InputFlags } from '../../src/cli/inputs.js';
import { rehearsalStart } from '../../src/cli/simulate.js';
import { KubeReader } from '../../src/cluster/kube.js';
import { readClusterSnapshot } from '../../src/cluster/read.js';
import type { RehearsalCluster, RehearsalOptions } from '../../src/simulate/rehearsal.js';
import { projectRoot } from '../../src/validate/project-root.js';

const io = { cwd: process.cwd(), stdout: () => {}, stderr: () => {}, color: false };

/** The case's `args` turned into input flags (the subset the fixture cases use). */
export function caseFlags(caseName: string): InputFlags {
  const dir = join(projectRoot(), 'fixtures', caseName);
  const args = (parse(readFileSync(join(dir, 'case.yaml'), 'utf8')) as { args: string[] }).args;
  const flags: Record<string, unknown> = {};
  const batches: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    const value = () => join(dir, args[++i]!);
    if (a === '--csv') flags['csv'] = value();
    else if (a === '--openstack-version') flags['openstackVersion'] = value();
    else if (a === '--controlplane') flags['controlplane'] = value();
    else if (a === '--nodesets') flags['nodesets'] = value();
    else if (a === '--batch') batches.push(args[++i]!);
    else if (a === '--update-system') flags['updateSystem'] = true;
    else if (a === '--reboot') flags['reboot'] = true;
    else throw new Error(`caseFlags: flag ${a} not handled`);
  }
  if (batches.length) flags['batch'] = batches;
  return flags as InputFlags;
}

export function rehearsalInputs(caseName: string, engine: 'flux' | 'argocd', mode: 'commits' | 'directories', extra: Partial<InputFlags> = {}): RehearsalOptions {
  return {
    ...rehearsalStart({ ...caseFlags(caseName), ...extra }, io),
    engine,
    mode,
    durations: { ovnControlPlane: 120, rabbitmq: 60, galera: 60, memcached: 60, keystone: 60, controlPlaneRest: 120, deploymentService: 60 },
    // the example takes ~35 s on an idle machine and over 60 s with two builds beside it: room, not a race
    timeoutMs: 150_000,
  };
}

/** One read of the rehearsal cluster through client-node, as `advance` does. */
export function clusterReader(cluster: RehearsalCluster) {
  const kc = new k8s.KubeConfig();
  kc.loadFromString(cluster.kubeconfigYaml);
  const reader = new KubeReader(kc, 3_000, { attempts: 4, baseMs: 50, maxMs: 500 });
  return () => readClusterSnapshot(reader, cluster.snapshotTarget);
}
