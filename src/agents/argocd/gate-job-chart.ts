import { Chart } from 'cdk8s';
import type { Construct } from 'constructs';
import { addScriptJob } from './script-job.js';

export interface GateJobChartProps {
  readonly namespace: string;
  /** Job name: unique per version and phase (Jobs are immutable). */
  readonly name: string;
  readonly openStackVersion: string;
  readonly targetVersion: string;
  /** The OpenStackVersion condition to wait for. */
  readonly condition: string;
  /** Also wait for `status.deployedVersion` = target. @default false */
  readonly requireDeployedVersion?: boolean;
  readonly deadlineSeconds: number;
  /** An image with `sh` and `kubectl` (or `oc`). */
  readonly image: string;
  /**
   * Fixed UID and GID of the gate container; undefined leaves them to the platform (OpenShift's
   * `restricted-v2` SCC assigns the namespace's range and refuses any other). @default undefined
   */
  readonly runAsUser?: number;
}

// Waits until the live OpenStackVersion carries our target, the operator has observed its
// generation, and the condition is True; fails on the condition's Error reason (DESIGN.md gate rules).
const GATE_SCRIPT = `set -u
end=$(( $(date +%s) + DEADLINE ))
cli=kubectl; command -v kubectl >/dev/null 2>&1 || cli=oc
while :; do
  out=$($cli get openstackversion "$OSV" -n "$NS" -o jsonpath="{.spec.targetVersion}|{.metadata.generation}|{.status.observedGeneration}|{.status.conditions[?(@.type==\\"$COND\\")].status}|{.status.conditions[?(@.type==\\"$COND\\")].reason}|{.status.deployedVersion}|" 2>/dev/null) || out=""
  IFS='|'; set -- $out; unset IFS
  if [ "\${1:-}" = "$TARGET" ] && [ -n "\${2:-}" ] && [ "\${2:-}" = "\${3:-}" ]; then
    if [ "\${4:-}" = True ] && { [ "$NEED_DEPLOYED" != true ] || [ "\${6:-}" = "$TARGET" ]; }; then echo "gate passed: $COND=True"; exit 0; fi
    if [ "\${4:-}" = False ] && [ "\${5:-}" = Error ]; then echo "gate failed: $COND=False reason Error"; exit 1; fi
  fi
  echo "waiting: targetVersion=\${1:-?} generation=\${2:-?} observed=\${3:-?} $COND=\${4:-missing} reason=\${5:-}"
  [ "$(date +%s)" -ge "$end" ] && { echo "gate deadline passed"; exit 1; }
  sleep 15
done`;

/**
 * A Job that ends only when an `OpenStackVersion` condition holds, so an Argo CD sync wave can wait
 * on it (conventions d6). Least privilege: a ServiceAccount that may only read OpenStackVersions.
 */
export class GateJobChart extends Chart {
  constructor(scope: Construct, id: string, props: GateJobChartProps) {
    super(scope, id, { namespace: props.namespace, disableResourceNameHashes: true });
    const account = 'osv-gitops-gate';
    addScriptJob(this, {
      namespace: props.namespace,
      account,
      roles: [{ name: account, namespace: props.namespace, rules: [{ apiGroup: 'core.openstack.org', resources: ['openstackversions'], verbs: ['get', 'list', 'watch'] }] }],
      name: props.name,
      containerName: 'gate',
      image: props.image,
      script: GATE_SCRIPT,
      env: [
        ['OSV', props.openStackVersion],
        ['NS', props.namespace],
        ['TARGET', props.targetVersion],
        ['COND', props.condition],
        ['NEED_DEPLOYED', props.requireDeployedVersion ? 'true' : 'false'],
        ['DEADLINE', String(props.deadlineSeconds)],
      ],
      activeDeadlineSeconds: props.deadlineSeconds + 60,
      ...(props.runAsUser !== undefined ? { runAsUser: props.runAsUser } : {}),
    });
  }
}
