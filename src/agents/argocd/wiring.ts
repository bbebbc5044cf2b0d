/**
 * Argo CD's wiring for directories mode: an app-of-apps (one Application per phase folder, in
 * sync waves), the root Application applied once by hand, the Lua health checks for the
 * installation, and in each phase folder a gate Job that holds the wave until the phase's
 * OpenStackVersion condition is True.
 */
import { posix } from 'node:path';
import { OsvError } from '../../errors.js';
import { versionSlug } from '../../plan/names.js';
import { phaseNumberText } from '../../plan/numbering.js';
import { kustomizeFolder, objectFile, synthObjects } from '../../render/kustomize-folder.js';
import type { Chart } from 'cdk8s';
import type { Construct } from 'constructs';
import type { AgentWiring, OperatorPhaseInput, PhaseExtras, PhaseExtrasInput, WiringOptions } from '../types.js';
import { ApprovalJobChart, approvalJobProps } from './approval-job-chart.js';
import { GateJobChart } from './gate-job-chart.js';
import { ArgoApplicationsChart, ArgoCdHealthPatchChart, ArgoHealthConfigChart, ArgoRootApplicationChart } from './wiring-charts.js';

/** The Argo CD namespace and the name of the `ArgoCD` resource OpenShift GitOps installs. */
export const OPENSHIFT_GITOPS = { namespace: 'openshift-gitops', argoCdName: 'openshift-gitops' } as const;

/** Image with sh + kubectl for the gate Jobs. */
export const DEFAULT_GATE_IMAGE = 'quay.io/openshift/origin-cli:4.18';

/** The fixed UID of gate containers outside OpenShift (distroless `nonroot`). */
const GATE_UID = 65532;

/** Phase 0: the Job that approves the target CSV's InstallPlan and holds wave 0 until the operator runs it. */
function approvalJob(input: OperatorPhaseInput): (scope: Construct) => Chart[] {
  const onOpenShift = (input.options.argo?.profile ?? 'argocd') === 'openshift-gitops';
  const props = approvalJobProps(input, input.options.gateImage ?? DEFAULT_GATE_IMAGE);
  return (scope) => [new ApprovalJobChart(scope, 'approval', { ...props, ...(onOpenShift ? {} : { runAsUser: GATE_UID }) })];
}

/** The Job that holds the phase's wave until its OpenStackVersion condition is True. */
function gateJob({ plan, phase, gate, deadlineSeconds, options }: PhaseExtrasInput): PhaseExtras['charts'] {
  if (!gate) return undefined;
  const image = options.gateImage ?? DEFAULT_GATE_IMAGE;
  const onOpenShift = (options.argo?.profile ?? 'argocd') === 'openshift-gitops';
  return (scope) => [
    new GateJobChart(scope, 'gate', {
      namespace: plan.namespace,
      name: `osv-gate-${versionSlug(plan.versions.target)}-${phaseNumberText(phase)}`.slice(0, 63).replace(/-+$/, ''),
      openStackVersion: plan.openStackVersion,
      targetVersion: plan.versions.target,
      condition: gate.condition,
      requireDeployedVersion: gate.requireDeployedVersion,
      deadlineSeconds,
      image,
      // OpenShift's restricted-v2 assigns the namespace's UID range and refuses any other
      ...(onOpenShift ? {} : { runAsUser: GATE_UID }),
    }),
  ];
}

export const argoWiring: AgentWiring = {
  validate(options: WiringOptions): void {
    const repoURL = options.argo?.repoURL;
    if (repoURL === undefined || repoURL === '') {
      throw new OsvError('USAGE', 'Argo CD output needs the URL of the repository the Applications read', { hint: 'Pass --repo-url, e.g. --repo-url https://git.example.com/ops/openstack.git.' });
    }
  },
  phaseExtras(input) {
    const charts = gateJob(input);
    return { ...(input.firstGate ? { healthGate: input.firstGate } : {}), ...(charts ? { charts } : {}) };
  },
  operatorPhase: approvalJob,
  // Argo CD tracks each live object in one Application only
  oneFolderPerObject: true,
  render({ plan, phases, base, repoBase, wiringName, dirName, options }) {
    const profile = options.argo?.profile ?? 'argocd';
    const argoNs = options.argo?.namespace ?? (profile === 'openshift-gitops' ? OPENSHIFT_GITOPS.namespace : 'argocd');
    const common = { argoNamespace: argoNs, project: options.argo?.project ?? 'default', repoURL: options.argo?.repoURL ?? '', targetRevision: options.argo?.revision ?? 'HEAD', destinationNamespace: plan.namespace };
    const objects = synthObjects((app) => [
      new ArgoApplicationsChart(app, 'argocd', {
        ...common,
        phases: phases.map((p) => ({ name: wiringName(p), path: posix.normalize(posix.join(repoBase, dirName(p))), wave: p.index })),
      }),
    ]);
    const files = kustomizeFolder(posix.join(base, 'argocd'), objects);
    // applied once by hand, outside the folder it applies (an Application must not manage itself)
    const root = synthObjects((app) => [
      new ArgoRootApplicationChart(app, 'root', { ...common, name: `osv-${versionSlug(plan.versions.target)}`.slice(0, 63).replace(/-+$/, ''), path: posix.normalize(posix.join(repoBase, 'argocd')) }),
    ]);
    files.push(objectFile(posix.join(base, 'argocd-root-application.yaml'), root[0]!));
    // not part of the app-of-apps: merged into the installation's own configuration
    if (profile === 'openshift-gitops') {
      const patch = synthObjects((app) => [new ArgoCdHealthPatchChart(app, 'health', { argoNamespace: argoNs, name: OPENSHIFT_GITOPS.argoCdName })]);
      files.push(objectFile(posix.join(base, 'argocd-health-checks-patch.yaml'), patch[0]!));
    } else {
      const health = synthObjects((app) => [new ArgoHealthConfigChart(app, 'health', { argoNamespace: argoNs })]);
      files.push(objectFile(posix.join(base, 'argocd-cm-health-checks.yaml'), health[0]!));
    }
    return files;
  },
};
