/** Cluster snapshots shaped like the operator's real status, for gate and advance tests. */
import { execFileSync } from 'node:child_process';
import type { UpdatePlan } from '../../src/plan/types.js';
import type { ClusterSnapshot, KubeObject } from '../../src/status/snapshot.js';

export function cond(type: string, status: string, reason = status === 'True' ? 'Ready' : 'Requested', extra: Record<string, unknown> = {}) {
  return { type, status, reason, message: status === 'True' ? 'completed' : 'in progress', lastTransitionTime: '2026-11-25T10:00:00Z', ...extra };
}

export const ALL_MINOR_UPDATE = ['MinorUpdateOVNControlplane', 'MinorUpdateOVNDataplane', 'MinorUpdateRabbitMQ', 'MinorUpdateMariaDB', 'MinorUpdateMemcached', 'MinorUpdateKeystone', 'MinorUpdateControlplane', 'MinorUpdateDataplane'];

/** The cluster as it looks when everything up to and including `trueUpTo` conditions is True. */
export function clusterAt(
  plan: UpdatePlan,
  opts: { targetApplied: boolean; trueConditions: readonly string[]; deployments?: Record<string, 'running' | 'deployed' | 'failed'>; nodeSetsAt?: string; deployed?: string; agentSha?: string; now?: string },
): ClusterSnapshot {
  const T = plan.versions.target;
  const osv: KubeObject = {
    kind: 'OpenStackVersion',
    metadata: { name: plan.openStackVersion, namespace: plan.namespace, generation: opts.targetApplied ? 2 : 1 },
    spec: { targetVersion: opts.targetApplied ? T : plan.versions.deployed },
    status: {
      observedGeneration: opts.targetApplied ? 2 : 1,
      availableVersion: T,
      deployedVersion: opts.deployed ?? plan.versions.deployed,
      conditions: [...ALL_MINOR_UPDATE, 'Ready'].map((t) => cond(t, opts.trueConditions.includes(t) ? 'True' : 'False')),
    },
  };
  const deployments = Object.entries(opts.deployments ?? {}).map(([name, state]): KubeObject => {
    const ready = state === 'deployed' ? cond('Ready', 'True') : state === 'failed' ? cond('Ready', 'False', 'BackoffLimitExceeded', { severity: 'Error' }) : cond('Ready', 'False');
    return { kind: 'OpenStackDataPlaneDeployment', metadata: { name, generation: 1 }, status: { observedGeneration: 1, deployed: state === 'deployed', conditions: [ready, { ...ready, type: 'DeploymentReady' }] } };
  });
  return {
    // a fixed time one minute after the commits' TEST_DATE: gate deadlines count from the commit date
    readAt: opts.now ?? '2026-11-25T08:01:00Z',
    namespace: plan.namespace,
    source: 'test',
    openStackVersions: [osv],
    controlPlanes: [{ kind: 'OpenStackControlPlane', metadata: { name: plan.controlPlane, generation: 1 }, status: { observedGeneration: 1, conditions: [cond('Ready', 'True')] } }],
    nodeSets: plan.nodeSets.map((n) => ({
      kind: 'OpenStackDataPlaneNodeSet',
      metadata: { name: n.name, generation: 1 },
      status: { observedGeneration: 1, deployedVersion: opts.nodeSetsAt ?? plan.versions.deployed, conditions: [cond('Ready', 'True')] },
    })),
    deployments,
    csvs: [{ metadata: { name: plan.imageSource.csv ?? 'openstack-operator' }, status: { phase: 'Succeeded' } }],
    agent: opts.agentSha
      ? {
          engine: 'flux',
          namespace: 'flux-system',
          name: 'openstack',
          object: { metadata: { name: 'openstack', generation: 1 }, status: { observedGeneration: 1, lastAppliedRevision: `main@sha1:${opts.agentSha}`, conditions: [{ type: 'Ready', status: 'True', observedGeneration: 1 }] } },
        }
      : { engine: 'flux', namespace: 'flux-system', name: 'openstack', object: undefined },
    unread: [],
  };
}

/**
 * The example's cluster once every phase committed on `ref` of `dir` (found by trailer: merge,
 * squash and rebase alike) has run to its end, with the agent at `agentSha`.
 */
export function clusterAfterPhasesOn(plan: UpdatePlan, dir: string, agentSha: string): ClusterSnapshot {
  const merged = execFileSync('git', ['log', '--format=%(trailers:key=Osv-Update-Phase,valueonly)', agentSha], { cwd: dir, encoding: 'utf8' })
    .split('\n')
    .map((s) => s.trim().split(' ')[1])
    .filter((id): id is string => Boolean(id));
  const has = (id: string) => merged.includes(id);
  const deploymentOf = (id: string) => plan.phases.find((p) => p.id === id)!.git.deployments[0]!.name;
  const conditions = [
    ...(has('ovn-controlplane') ? ['MinorUpdateOVNControlplane'] : []),
    ...(has('ovn-dataplane') ? ['MinorUpdateOVNDataplane', 'MinorUpdateRabbitMQ', 'MinorUpdateMariaDB', 'MinorUpdateMemcached', 'MinorUpdateKeystone', 'MinorUpdateControlplane'] : []),
    ...(has('dataplane') ? ['MinorUpdateDataplane', 'Ready'] : []),
  ];
  return clusterAt(plan, {
    targetApplied: has('ovn-controlplane'),
    trueConditions: conditions,
    deployments: { ...(has('ovn-dataplane') ? { [deploymentOf('ovn-dataplane')]: 'deployed' } : {}), ...(has('dataplane') ? { [deploymentOf('dataplane')]: 'deployed' } : {}) },
    ...(has('dataplane') ? { nodeSetsAt: plan.versions.target, deployed: plan.versions.target } : {}),
    agentSha,
  });
}
