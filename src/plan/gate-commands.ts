/**
 * The `oc` commands a reviewer runs to see a phase's gate for themselves: one read per object the
 * gate looks at, printing the very fields src/status/gates.ts judges, and what the gate waits for.
 * `osv-gitops status` judges them all at once, with the agent's applied revision besides.
 */
import type { GateCheck, PhasePlan, UpdatePlan } from './types.js';

export interface GateCommand {
  /** A shell command line (values quoted for a POSIX shell). */
  readonly command: string;
  /** What the gate waits to see in its output. */
  readonly expect: string;
}

/** Kubernetes names and release versions never hold a quote (checked on input), but quote anyway. */
function sh(value: string): string {
  return /^[A-Za-z0-9._/:=-]+$/.test(value) ? value : `'${value.replace(/'/g, `'\\''`)}'`;
}

const condPath = (type: string) => `.status.conditions[?(@.type=="${type}")].status`;

function openStackVersionCommand(name: string, ns: string, checks: readonly GateCheck[]): GateCommand | undefined {
  const ours = checks.filter((c) => (c.kind === 'condition' || c.kind === 'field' || c.kind === 'version-observed') && c.object.kind === 'OpenStackVersion');
  if (!ours.length) return undefined;
  const paths: string[] = [];
  const wants: string[] = [];
  const versionCheck = ours.find((c) => c.kind === 'version-observed');
  if (versionCheck?.kind === 'version-observed') {
    paths.push('.spec.targetVersion', '.metadata.generation', '.status.observedGeneration');
    wants.push(versionCheck.targetVersion, 'G', 'G');
  }
  const notes: string[] = [];
  for (const c of ours) {
    if (c.kind === 'condition') {
      paths.push(condPath(c.type));
      wants.push(c.status);
      // the operator drops the MinorUpdate* conditions once deployedVersion reaches the target (gates.ts)
      notes.push(c.type.startsWith('MinorUpdate') ? `${c.type} ${c.status} (or gone once deployedVersion is the target; False with reason Error fails the gate)` : `${c.type} ${c.status}`);
    } else if (c.kind === 'field') {
      paths.push(`.${c.path}`);
      wants.push(c.negate ? `≠${c.value}` : c.value);
    }
  }
  const jsonpath = `${paths.map((p) => `{${p}}`).join(' ')}{"\\n"}`;
  const same = versionCheck ? '; G: generation = observedGeneration' : '';
  return {
    command: `oc get openstackversion ${sh(name)} -n ${sh(ns)} -o jsonpath='${jsonpath}'`,
    expect: `${wants.join(' ')}${same}${notes.length ? `; ${notes.join('; ')}` : ''}`,
  };
}

/** The commands for a phase's gate, in the order of its checks; empty when the gate reads nothing on the cluster. */
export function gateCommands(plan: Pick<UpdatePlan, 'namespace' | 'openStackVersion'>, phase: PhasePlan): GateCommand[] {
  const ns = plan.namespace;
  const out: GateCommand[] = [];
  const osv = openStackVersionCommand(plan.openStackVersion, ns, phase.gate.checks);
  let osvDone = false;
  const fresh = 'GENERATION:.metadata.generation,OBSERVED:.status.observedGeneration';
  for (const c of phase.gate.checks) {
    switch (c.kind) {
      case 'olm-upgrade':
        out.push({
          command: `oc get installplan -n ${sh(c.operatorNamespace)} -o custom-columns=NAME:.metadata.name,CSVS:.spec.clusterServiceVersionNames,APPROVED:.spec.approved,PHASE:.status.phase`,
          expect: `one plan whose CSVS hold ${c.csv} (and nothing you did not mean to install), APPROVED true, PHASE Complete`,
        });
        out.push({
          command: `oc get csv ${sh(c.csv)} -n ${sh(c.operatorNamespace)} -o jsonpath='{.status.phase}{"\\n"}'`,
          expect: 'Succeeded (Failed fails the gate)',
        });
        break;
      case 'csv-succeeded':
        out.push({
          command: `oc get csv -A ${c.csv ? `--field-selector metadata.name=${sh(c.csv)} ` : ''}-o custom-columns=NAME:.metadata.name,PHASE:.status.phase`,
          expect: 'PHASE Succeeded (Failed fails the gate)',
        });
        break;
      case 'condition':
      case 'field':
      case 'version-observed':
        if (c.object.kind === 'OpenStackVersion') {
          if (!osvDone && osv) out.push(osv);
          osvDone = true;
        } else if (c.kind === 'condition') {
          out.push({
            command: `oc get ${c.object.kind.toLowerCase()} ${sh(c.object.name)} -n ${sh(ns)} -o jsonpath='{${condPath(c.type)}} {.metadata.generation} {.status.observedGeneration}{"\\n"}'`,
            expect: `${c.status} G G; G: generation = observedGeneration`,
          });
        }
        break;
      case 'nodesets-ready':
        if (c.nodeSets.length) {
          out.push({
            command: `oc get openstackdataplanenodeset ${c.nodeSets.map(sh).join(' ')} -n ${sh(ns)} -o custom-columns='NAME:.metadata.name,READY:${condPath('Ready')},${fresh}'`,
            expect: 'READY True on every nodeset, GENERATION = OBSERVED',
          });
        }
        break;
      case 'no-deployment-running':
        out.push({
          command: `oc get openstackdataplanedeployment -n ${sh(ns)} -o custom-columns=NAME:.metadata.name,DEPLOYED:.status.deployed`,
          expect: 'DEPLOYED true on every deployment (a failed one counts as running: delete it first)',
        });
        break;
      case 'deployment-ready':
        out.push({
          command: `oc get openstackdataplanedeployment ${sh(c.name)} -n ${sh(ns)} -o jsonpath='{.status.deployed} {${condPath('Ready')}} {.metadata.generation} {.status.observedGeneration}{"\\n"}'`,
          expect: `true True G G; G: generation = observedGeneration (DeploymentReady False with severity Error fails the gate)`,
        });
        break;
      case 'nodeset-deployed-version':
        out.push({
          command: `oc get openstackdataplanenodeset ${c.nodeSets.map(sh).join(' ')} -n ${sh(ns)} -o custom-columns='NAME:.metadata.name,DEPLOYED:.status.deployedVersion,${fresh}'`,
          expect: `DEPLOYED ${c.version} on every nodeset, GENERATION = OBSERVED`,
        });
        break;
      case 'agent-applied':
        // the agent is not part of the plan: osv-gitops status reads it (--agent)
        break;
    }
  }
  return out;
}

/**
 * The gate's commands as a shell snippet: a comment with what to expect above each command, then
 * (unless `statusLine` is false) the `osv-gitops status` line that judges them all.
 */
export function gateCommandsText(plan: Pick<UpdatePlan, 'namespace' | 'openStackVersion'>, phase: PhasePlan, statusLine = true): string {
  const lines = gateCommands(plan, phase).flatMap((c) => [`# expect: ${c.expect}`, c.command]);
  if (!statusLine) return lines.join('\n');
  const agent = phase.gate.checks.some((c) => c.kind === 'agent-applied');
  return [
    ...lines,
    `# every check at once${agent ? ", with the agent's applied revision containing this phase's commit" : ''}:`,
    `osv-gitops status --repo . --agent <flux|argocd>:<namespace>/<name>`,
  ].join('\n');
}
