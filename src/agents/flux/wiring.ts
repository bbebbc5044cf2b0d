/**
 * Flux's wiring for directories mode: one Kustomization per phase folder, chained by `dependsOn`,
 * each holding its phase with health checks and CEL expressions on the OpenStackVersion condition
 * and the phase's data-plane deployments. Phase 0 `operator` holds the chain with Argo CD's
 * approval Job: its Kustomization waits (`wait: true`) for the Job to complete.
 */
import { ApiObject, JsonPatch, type Chart } from 'cdk8s';
import type { Construct } from 'constructs';
import { posix } from 'node:path';
import { isOpenStackVersionGate } from '../../health/annotations.js';
import { kustomizeFolder, synthObjects } from '../../render/kustomize-folder.js';
import { ApprovalJobChart, approvalJobProps } from '../argocd/approval-job-chart.js';
import { DEFAULT_GATE_IMAGE } from '../argocd/wiring.js';
import type { AgentWiring, OperatorPhaseInput, WiringInput } from '../types.js';
import { dataPlaneDeploymentExprs, openStackVersionGateExprs, subscriptionInstalledExprs, type FluxHealthCheckExpr } from './health-checks.js';
import { FluxChart, type FluxPhase } from './wiring-charts.js';

/**
 * The approval Job lives a minute past its own deadline (`activeDeadlineSeconds`): the
 * Kustomization's timeout waits that long too, so Flux reports the Job's failure and its reason
 * rather than a bare timeout.
 */
const APPROVAL_GRACE_SECONDS = 60;

/**
 * Phase 0: the approval Job and its RBAC, as Argo CD renders them. The Job's name is fixed per
 * version and phase, and a Job's template is immutable: a re-render that changes it (deadline,
 * image) would stall the Kustomization on the apply, so Flux may recreate it (`force`); a
 * recreated Job finds its InstallPlan approved and ends as soon as the operator runs the target.
 * No fixed UID: on OpenShift, restricted-v2 assigns one from the namespace's range.
 */
function approvalJob(input: OperatorPhaseInput): (scope: Construct) => Chart[] {
  const props = approvalJobProps(input, input.options.gateImage ?? DEFAULT_GATE_IMAGE);
  return (scope) => {
    const chart = new ApprovalJobChart(scope, 'approval', props);
    for (const o of chart.node.findAll()) {
      if (o instanceof ApiObject && o.kind === 'Job') {
        // Argo CD's sync option means nothing to Flux; `add` replaces the annotations or creates them
        o.addJsonPatch(JsonPatch.add('/metadata/annotations', { 'kustomize.toolkit.fluxcd.io/force': 'Enabled' }));
      }
    }
    return [chart];
  };
}

/** Phase 0's Kustomization: every object Current, the Job Complete, the Subscription at the CSV. */
function operatorKustomization(input: WiringInput, phase: WiringInput['phases'][number]): Pick<FluxPhase, 'wait' | 'timeoutSeconds' | 'healthChecks' | 'healthCheckExprs'> {
  const csv = input.plan.operatorUpgrade?.csv;
  if (csv === undefined) throw new Error('the plan has no phase 0 operator');
  return { wait: true, timeoutSeconds: input.deadlineSeconds(phase) + APPROVAL_GRACE_SECONDS, healthChecks: [], healthCheckExprs: [subscriptionInstalledExprs(csv)] };
}

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
  operatorPhase: approvalJob,
  oneFolderPerObject: false,
  render(input) {
    const { plan, phases, base, repoBase, wiringName, dirName, options } = input;
    const fluxPhases: FluxPhase[] = phases.map((p, i) => ({
      name: wiringName(p),
      path: `./${posix.normalize(posix.join(repoBase, dirName(p)))}`,
      ...(i > 0 ? { dependsOn: wiringName(phases[i - 1]!) } : {}),
      ...(p.phase === 'operator'
        ? operatorKustomization(input, p)
        : {
            timeoutSeconds: input.deadlineSeconds(p),
            healthChecks: [
              { apiVersion: 'core.openstack.org/v1beta1', kind: 'OpenStackVersion', name: plan.openStackVersion, namespace: plan.namespace },
              ...p.git.deployments.map((d) => ({ apiVersion: 'dataplane.openstack.org/v1beta1', kind: 'OpenStackDataPlaneDeployment', name: d.name, namespace: plan.namespace })),
            ],
            healthCheckExprs: healthCheckExprs(input, p),
          }),
    }));
    const objects = synthObjects((app) => [new FluxChart(app, 'flux', { namespace: options.flux?.namespace ?? 'flux-system', sourceName: options.flux?.source ?? 'flux-system', phases: fluxPhases })]);
    return kustomizeFolder(posix.join(base, 'flux'), objects);
  },
};
