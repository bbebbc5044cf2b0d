import { createRequire } from 'node:module';
import { ApiObject, Chart, Duration, JsonPatch, Size } from 'cdk8s';
import type { Construct } from 'constructs';
import type * as Kplus from 'cdk8s-plus-28';

// cdk8s-plus-28 is a large CommonJS (jsii) module that only Argo CD gate Jobs need: load it on the
// first gate Job, so `render --engine flux|plain` and `commit` do not pay for it at start-up.
let kplusModule: typeof Kplus | undefined;
export function kplus(): typeof Kplus {
  kplusModule ??= createRequire(import.meta.url)('cdk8s-plus-28') as typeof Kplus;
  return kplusModule;
}

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

/**
 * The small, locked-down container every Job we render runs (gate and approval Jobs): Pod Security
 * `restricted` and OpenShift `restricted-v2` shaped (non-root, read-only root, no escalation, no
 * capabilities, the runtime's seccomp); `runAsUser` undefined leaves the UID to the platform.
 */
export function restrictedContainer(runAsUser: number | undefined): Pick<Kplus.ContainerProps, 'resources' | 'securityContext'> {
  const k = kplus();
  return {
    resources: {
      cpu: { request: k.Cpu.millis(10), limit: k.Cpu.millis(100) },
      memory: { request: Size.mebibytes(32), limit: Size.mebibytes(128) },
    },
    securityContext: {
      ...(runAsUser !== undefined ? { user: runAsUser, group: runAsUser } : {}),
      ensureNonRoot: true,
      readOnlyRootFilesystem: true,
      allowPrivilegeEscalation: false,
      privileged: false,
      capabilities: { drop: [k.Capability.ALL] },
      seccompProfile: { type: k.SeccompProfileType.RUNTIME_DEFAULT },
    },
  };
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
    const k = kplus();
    const account = `osv-gitops-gate`;
    const sa = new k.ServiceAccount(this, 'sa', { metadata: { name: account }, automountToken: false });
    const role = new k.Role(this, 'role', { metadata: { name: account } });
    role.allow(['get', 'list', 'watch'], k.ApiResource.custom({ apiGroup: 'core.openstack.org', resourceType: 'openstackversions' }));
    const binding = new k.RoleBinding(this, 'binding', { metadata: { name: account }, role });
    binding.addSubjects(sa);
    const job = new k.Job(this, 'job', {
      metadata: { name: props.name, annotations: { 'argocd.argoproj.io/sync-options': 'Replace=false' } },
      serviceAccount: sa,
      automountServiceAccountToken: true,
      backoffLimit: 0,
      activeDeadline: Duration.seconds(props.deadlineSeconds + 60),
      containers: [
        {
          name: 'gate',
          image: props.image,
          imagePullPolicy: k.ImagePullPolicy.IF_NOT_PRESENT,
          command: ['/bin/sh', '-c', GATE_SCRIPT],
          envVariables: {
            OSV: k.EnvValue.fromValue(props.openStackVersion),
            NS: k.EnvValue.fromValue(props.namespace),
            TARGET: k.EnvValue.fromValue(props.targetVersion),
            COND: k.EnvValue.fromValue(props.condition),
            NEED_DEPLOYED: k.EnvValue.fromValue(props.requireDeployedVersion ? 'true' : 'false'),
            DEADLINE: k.EnvValue.fromValue(String(props.deadlineSeconds)),
          },
          ...restrictedContainer(props.runAsUser),
        },
      ],
    });
    // no construct-path label (output must not carry cdk8s hashes), and no template metadata left
    // empty: the API server fills in the labels, and Argo CD would never see the Job Synced
    ApiObject.of(job).addJsonPatch(JsonPatch.remove('/spec/template/metadata'));
  }
}
