/**
 * Flux's wiring for directories mode: one Kustomization per phase folder, chained by `dependsOn`,
 * each holding its phase with health checks and CEL expressions on the OpenStackVersion condition
 * and the phase's data-plane deployments.
 */
import { posix } from 'node:path';
import { isOpenStackVersionGate } from '../../health/annotations.js';
import { kustomizeFolder, synthObjects } from '../../render/kustomize-folder.js';
import type { AgentWiring, WiringInput } from '../types.js';
import { dataPlaneDeploymentExprs, openStackVersionGateExprs, type FluxHealthCheckExpr } from './health-checks.js';
import { FluxChart, type FluxPhase } from './wiring-charts.js';

function healthCheckExprs(input: WiringInput, phase: WiringInput['phases'][number]): FluxHealthCheckExpr[] {
  const exprs: FluxHealthCheckExpr[] = [];
  const gate = input.gate(phase);
  if (gate && isOpenStackVersionGate(gate.condition)) {
    exprs.push(openStackVersionGateExprs({ conditionType: gate.condition, targetVersion: input.plan.versions.target, requireDeployedVersion: gate.requireDeployedVersion }));
  }
  if (phase.git.deployments.length) exprs.push(dataPlaneDeploymentExprs());
  return exprs;
}

export const fluxWiring: AgentWiring = {
  validate() {},
  // the gates live in the Kustomizations' CEL expressions, not in the folders
  phaseExtras: () => ({}),
  oneFolderPerObject: false,
  render(input) {
    const { plan, phases, base, repoBase, wiringName, dirName, options } = input;
    const fluxPhases: FluxPhase[] = phases.map((p, i) => ({
      name: wiringName(p),
      path: `./${posix.normalize(posix.join(repoBase, dirName(p)))}`,
      ...(i > 0 ? { dependsOn: wiringName(phases[i - 1]!) } : {}),
      timeoutSeconds: input.deadlineSeconds(p),
      healthChecks: [
        { apiVersion: 'core.openstack.org/v1beta1', kind: 'OpenStackVersion', name: plan.openStackVersion, namespace: plan.namespace },
        ...p.git.deployments.map((d) => ({ apiVersion: 'dataplane.openstack.org/v1beta1', kind: 'OpenStackDataPlaneDeployment', name: d.name, namespace: plan.namespace })),
      ],
      healthCheckExprs: healthCheckExprs(input, p),
    }));
    const objects = synthObjects((app) => [new FluxChart(app, 'flux', { namespace: options.flux?.namespace ?? 'flux-system', sourceName: options.flux?.source ?? 'flux-system', phases: fluxPhases })]);
    return kustomizeFolder(posix.join(base, 'flux'), objects);
  },
};
