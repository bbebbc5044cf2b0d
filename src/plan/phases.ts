/**
 * The phases of a minor update and the gate that ends each one, as DESIGN.md lays them out and
 * as the operator really runs them (facts §4.2, §4.3, §5, §7).
 */
import { deploymentName } from './names.js';
import type { DeploymentPlan, DurationClass, Gate, GateCheck, ObjectRef, OperatorUpgradeRecord, PhaseName, PhasePlan, PlanOptionsRecord } from './types.js';

export interface PhaseContext {
  readonly target: string;
  readonly osvName: string;
  readonly cpName: string;
  readonly csvName: string | undefined;
  readonly ovnEnabled: boolean;
  readonly ovnImageChanged: boolean;
  /** The target release waits to see an OVN deployment when the OVN image is unchanged (fr6 on, facts §10). */
  readonly ovnUnchangedRule: boolean;
  readonly releaseBranch: string;
  readonly nodeSetNames: readonly string[];
  /** Nodesets with nodes, in deployment batches. */
  readonly batches: readonly (readonly string[])[];
  readonly options: PlanOptionsRecord;
  /** Phase 0 `operator`: only when the user gave their Subscription (`--subscription`). */
  readonly operator?: OperatorUpgradeRecord;
}

const DEADLINES: Record<DurationClass, number> = { minutes: 30 * 60, 'tens-of-minutes': 2 * 3600, hours: 8 * 3600 };

/** The control-plane sub-steps the operator walks through, in order (facts §4.2 c–f). */
export const CONTROLPLANE_SUBSTEPS = ['MinorUpdateRabbitMQ', 'MinorUpdateMariaDB', 'MinorUpdateMemcached', 'MinorUpdateKeystone'] as const;

function describeCheck(c: GateCheck): { text: string; reads: string[] } {
  const ref = (o: ObjectRef) => `${o.kind}/${o.name}`;
  switch (c.kind) {
    case 'csv-succeeded':
      return { text: `CSV ${c.csv ?? '(operator)'} phase Succeeded`, reads: [`ClusterServiceVersion/${c.csv ?? '*'} .status.phase`] };
    case 'olm-upgrade':
      return {
        text: `OLM installed ${c.csv}: its InstallPlan approved, the CSV Succeeded, availableVersion its release`,
        reads: [
          `InstallPlan/* (${c.operatorNamespace}) .spec.clusterServiceVersionNames, .spec.approved, .status.phase`,
          `ClusterServiceVersion/${c.csv} .status.phase, OPENSTACK_RELEASE_VERSION`,
        ],
      };
    case 'field':
      return { text: `${ref(c.object)} .${c.path} ${c.negate ? '≠' : '='} ${c.value}`, reads: [`${ref(c.object)} .${c.path}`] };
    case 'version-observed':
      return {
        text: `${ref(c.object)} carries targetVersion ${c.targetVersion} and the operator observed it`,
        reads: [`${ref(c.object)} .spec.targetVersion`, `${ref(c.object)} .metadata.generation`, `${ref(c.object)} .status.observedGeneration`],
      };
    case 'condition':
      return { text: `${ref(c.object)} ${c.type}=${c.status}`, reads: [`${ref(c.object)} .status.conditions[type=${c.type}]`] };
    case 'nodesets-ready':
      return {
        text: `every nodeset Ready (${c.nodeSets.join(', ') || 'none'})`,
        reads: c.nodeSets.map((n) => `OpenStackDataPlaneNodeSet/${n} .status.conditions[type=Ready], .metadata.generation, .status.observedGeneration`),
      };
    case 'no-deployment-running':
      return { text: 'no data-plane deployment running', reads: ['OpenStackDataPlaneDeployment/* .status.deployed, .status.conditions[type=Ready]'] };
    case 'deployment-ready':
      return {
        text: `OpenStackDataPlaneDeployment/${c.name} deployed and Ready`,
        reads: [`OpenStackDataPlaneDeployment/${c.name} .status.deployed, .status.conditions[type=Ready], .status.conditions[type=DeploymentReady]`],
      };
    case 'nodeset-deployed-version':
      return {
        text: `nodesets ${c.nodeSets.join(', ')} report deployedVersion ${c.version}`,
        reads: c.nodeSets.map((n) => `OpenStackDataPlaneNodeSet/${n} .status.deployedVersion`),
      };
    case 'agent-applied':
      return { text: "the agent's applied revision contains this phase's commit", reads: ['agent object: Argo CD .status.sync.revision / Flux .status.lastAppliedRevision'] };
  }
}

function gate(summary: string, checks: GateCheck[], durationClass: DurationClass, extra: { progress?: string[]; failWhen?: string[] } = {}): Gate {
  const reads = [...new Set(checks.flatMap((c) => describeCheck(c).reads))];
  return {
    summary,
    checks,
    progress: extra.progress ?? [],
    failWhen: extra.failWhen ?? [],
    reads,
    deadlineSeconds: DEADLINES[durationClass],
  };
}

export function checkText(c: GateCheck): string {
  return describeCheck(c).text;
}

export function buildPhases(ctx: PhaseContext): PhasePlan[] {
  const osv: ObjectRef = { kind: 'OpenStackVersion', name: ctx.osvName };
  const cp: ObjectRef = { kind: 'OpenStackControlPlane', name: ctx.cpName };
  const o = ctx.options;
  const allWithNodes = ctx.batches.flat().sort();
  const phases: Omit<PhasePlan, 'index'>[] = [];
  const errorOn = (type: string) => `OpenStackVersion/${ctx.osvName} ${type}=False with reason Error`;
  const deploymentFails = 'a deployment fails (DeploymentReady=False, severity Error, e.g. BackoffLimitExceeded)';
  const versionCheck: GateCheck = { kind: 'version-observed', object: osv, targetVersion: ctx.target };
  const name = (step: string, batch?: number) =>
    deploymentName({ prefix: o.namePrefix, step, version: ctx.target, ...(batch !== undefined ? { batch } : {}), attempt: o.attempt });

  if (ctx.operator) {
    const op = ctx.operator;
    phases.push({
      id: 'operator',
      phase: 'operator',
      title: `The operator: OLM installs ${op.csv}`,
      git: { changes: true, summary: `Subscription/${op.subscription} startingCSV: ${op.csv}, channel: ${op.channel}, installPlanApproval: Manual`, setsTargetVersion: false, deployments: [] },
      gate: gate(
        `InstallPlan for exactly ${op.csv} approved, CSV Succeeded, availableVersion = ${ctx.target}`,
        [
          { kind: 'agent-applied' },
          { kind: 'olm-upgrade', csv: op.csv, operatorNamespace: op.operatorNamespace },
          { kind: 'field', object: osv, path: 'status.availableVersion', value: ctx.target },
        ],
        'minutes',
        { failWhen: ['the InstallPlan or the CSV phase is Failed'] },
      ),
      durationClass: 'minutes',
      notes: [
        'OLM bundles the pending upgrades of every operator in the namespace into one InstallPlan: approve it (advance --approve-installplan) only when it installs exactly this CSV.',
      ],
    });
  }

  phases.push({
    id: 'preflight',
    phase: 'preflight',
    title: 'Preflight: the operator runs the new release',
    git: { changes: false, summary: 'nothing', setsTargetVersion: false, deployments: [] },
    gate: gate(
      `CSV Succeeded, availableVersion = ${ctx.target}, control plane and nodesets Ready, no deployment running`,
      [
        { kind: 'csv-succeeded', csv: ctx.csvName },
        { kind: 'field', object: osv, path: 'status.availableVersion', value: ctx.target },
        { kind: 'field', object: osv, path: 'status.deployedVersion', value: ctx.target, negate: true },
        { kind: 'condition', object: cp, type: 'Ready', status: 'True' },
        { kind: 'nodesets-ready', nodeSets: ctx.nodeSetNames },
        { kind: 'no-deployment-running' },
      ],
      'minutes',
      { failWhen: ['the CSV phase is Failed'] },
    ),
    durationClass: 'minutes',
    notes: [],
  });

  const targetSummary = `OpenStackVersion/${ctx.osvName} spec.targetVersion: ${ctx.target} (+ customContainerImages)`;
  if (ctx.ovnEnabled) {
    phases.push({
      id: 'ovn-controlplane',
      phase: 'ovn-controlplane',
      title: 'OVN controllers on the control plane',
      git: { changes: true, summary: targetSummary, setsTargetVersion: true, deployments: [] },
      gate: gate(
        'MinorUpdateOVNControlplane=True',
        [{ kind: 'agent-applied' }, versionCheck, { kind: 'condition', object: osv, type: 'MinorUpdateOVNControlplane', status: 'True' }],
        'minutes',
        { failWhen: [errorOn('MinorUpdateOVNControlplane')] },
      ),
      durationClass: 'minutes',
      notes: ['Only the OVNController CR moves now; OVN databases and northd move with the rest of the control plane (facts §5).'],
    });
    // before fr6 an unchanged OVN image needs no deployment: the nodesets already match and the condition turns True at once
    const ovnNeeded = ctx.ovnImageChanged || ctx.ovnUnchangedRule;
    const ovnDeployments: DeploymentPlan[] = allWithNodes.length && ovnNeeded
      ? [{ name: name('ovn'), nodeSets: allWithNodes, servicesOverride: o.ovnServices }]
      : [];
    const ovnNotes = ctx.ovnImageChanged
      ? []
      : ctx.ovnUnchangedRule
        ? [
            'The OVN controller image is the same in both versions, but the OVN deployment is kept: MinorUpdateOVNDataplane only turns True after the operator sees an OVN deployment run (facts §4.3, §8.13).',
          ]
        : [
            `The OVN controller image is the same in both versions: ${ctx.releaseBranch} sets MinorUpdateOVNDataplane=True at once, so no OVN deployment runs (facts §10).`,
          ];
    if (!allWithNodes.length) {
      ovnNotes.push(
        !ctx.ovnImageChanged && ctx.ovnUnchangedRule
          ? 'No nodeset has nodes: there is no OVN deployment to run, and MinorUpdateOVNDataplane never turns True (see the OVN_DATAPLANE_STALL warning).'
          : 'No nodeset has nodes: there is no OVN deployment to run.',
      );
    }
    phases.push({
      id: 'ovn-dataplane',
      phase: 'ovn-dataplane',
      title: 'OVN on the data plane',
      git: {
        changes: ovnDeployments.length > 0,
        summary: ovnDeployments.length ? `OpenStackDataPlaneDeployment ${ovnDeployments[0]!.name} (servicesOverride: [${o.ovnServices.join(', ')}])` : 'nothing',
        setsTargetVersion: false,
        deployments: ovnDeployments,
      },
      gate: gate(
        'OVN deployment Ready and MinorUpdateOVNDataplane=True',
        [
          ...(ovnDeployments.length ? [{ kind: 'agent-applied' } as const] : []),
          versionCheck,
          ...ovnDeployments.map((d) => ({ kind: 'deployment-ready', name: d.name }) as const),
          { kind: 'condition', object: osv, type: 'MinorUpdateOVNDataplane', status: 'True' },
        ],
        'tens-of-minutes',
        { failWhen: [deploymentFails, errorOn('MinorUpdateOVNDataplane')] },
      ),
      durationClass: 'tens-of-minutes',
      notes: ovnNotes,
    });
  }

  phases.push({
    id: 'controlplane',
    phase: 'controlplane',
    title: 'The rest of the control plane',
    git: ctx.ovnEnabled
      ? { changes: false, summary: 'nothing (the operator proceeds on its own)', setsTargetVersion: false, deployments: [] }
      : { changes: true, summary: targetSummary, setsTargetVersion: true, deployments: [] },
    gate: gate(
      'MinorUpdateControlplane=True',
      [
        ...(ctx.ovnEnabled ? [] : [{ kind: 'agent-applied' } as const]),
        versionCheck,
        { kind: 'condition', object: osv, type: 'MinorUpdateControlplane', status: 'True' },
      ],
      'tens-of-minutes',
      { progress: [...CONTROLPLANE_SUBSTEPS], failWhen: [errorOn('MinorUpdateControlplane')] },
    ),
    durationClass: 'tens-of-minutes',
    notes: [
      'Order: RabbitMQ → MariaDB → Memcached → Keystone → the rest (facts §5). Control-plane spec edits are held until the OVN data-plane step is done (facts §8.6).',
      ...(ctx.ovnEnabled ? [] : ['OVN is disabled: the OVN phases fold into this one.']),
    ],
  });

  const batchCount = ctx.batches.length;
  const step = o.dataplaneService;
  ctx.batches.forEach((nodeSets, i) => {
    const batched = batchCount > 1;
    const last = i === batchCount - 1;
    const d: DeploymentPlan = { name: name(step, batched ? i + 1 : undefined), nodeSets, servicesOverride: [step] };
    const checks: GateCheck[] = [
      { kind: 'agent-applied' },
      versionCheck,
      { kind: 'deployment-ready', name: d.name },
      { kind: 'nodeset-deployed-version', nodeSets, version: ctx.target },
    ];
    if (last) {
      checks.push({ kind: 'condition', object: osv, type: 'MinorUpdateDataplane', status: 'True' });
      checks.push({ kind: 'field', object: osv, path: 'status.deployedVersion', value: ctx.target });
    }
    phases.push({
      id: batched ? `dataplane-b${i + 1}` : 'dataplane',
      phase: 'dataplane',
      title: batched ? `The data plane, batch ${i + 1} of ${batchCount}` : 'The data plane',
      ...(batched ? { batch: { index: i + 1, count: batchCount } } : {}),
      git: { changes: true, summary: `OpenStackDataPlaneDeployment ${d.name} (servicesOverride: [${step}])`, setsTargetVersion: false, deployments: [d] },
      gate: gate(
        last ? `deployment Ready, MinorUpdateDataplane=True, deployedVersion = ${ctx.target}` : `deployment Ready, nodesets at ${ctx.target}`,
        checks,
        'hours',
        { failWhen: [deploymentFails, ...(last ? [errorOn('MinorUpdateDataplane')] : [])] },
      ),
      durationClass: 'hours',
      notes: batched && !last ? ['MinorUpdateDataplane turns True only when every nodeset is updated.'] : [],
    });
  });

  if (o.updateSystem && batchCount > 0) {
    ctx.batches.forEach((nodeSets, i) => {
      const batched = batchCount > 1;
      const d: DeploymentPlan = {
        name: name('system', batched ? i + 1 : undefined),
        nodeSets,
        servicesOverride: o.reboot ? ['update-system', 'reboot-os'] : ['update-system'],
        ...(o.reboot ? { ansibleExtraVars: { edpm_reboot_strategy: 'force' } } : {}),
      };
      phases.push({
        id: batched ? `dataplane-system-b${i + 1}` : 'dataplane-system',
        phase: 'dataplane-system',
        title: batched ? `System packages${o.reboot ? ' and reboot' : ''}, batch ${i + 1} of ${batchCount}` : `System packages${o.reboot ? ' and reboot' : ''}`,
        ...(batched ? { batch: { index: i + 1, count: batchCount } } : {}),
        git: { changes: true, summary: `OpenStackDataPlaneDeployment ${d.name} (servicesOverride: [${d.servicesOverride.join(', ')}])`, setsTargetVersion: false, deployments: [d] },
        gate: gate('deployment Ready', [{ kind: 'agent-applied' }, { kind: 'deployment-ready', name: d.name }], 'hours', { failWhen: [deploymentFails] }),
        durationClass: 'hours',
        notes: o.reboot ? ['edpm_reboot_strategy: force, because reboot-os does not reboot deployed nodes otherwise (facts §6.3).'] : [],
      });
    });
  }

  phases.push({
    id: 'complete',
    phase: 'complete',
    title: 'Update complete',
    git: { changes: false, summary: 'nothing', setsTargetVersion: false, deployments: [] },
    gate: gate(
      `Ready=True, deployedVersion = ${ctx.target}`,
      [
        versionCheck,
        { kind: 'condition', object: osv, type: 'Ready', status: 'True' },
        { kind: 'field', object: osv, path: 'status.deployedVersion', value: ctx.target },
      ],
      'minutes',
    ),
    durationClass: 'minutes',
    notes: [],
  });

  return phases.map((p, index) => ({ index, ...p }));
}

export type { PhaseName };
