/**
 * The one shape of every Job we render (the gate Jobs and phase 0's approval Job): a shell script in
 * a small, locked-down container, run by a ServiceAccount that holds only the Roles it names.
 * Built as plain cdk8s `ApiObject`s: cdk8s-plus would cost render ~0.1 s of CommonJS loading for
 * four small objects, and the objects below are exactly what it synthesized for us.
 */
import { ApiObject, type Chart } from 'cdk8s';

/** One RBAC rule: these verbs on these resources of one API group. */
export interface ScriptJobRule {
  readonly apiGroup: string;
  readonly resources: readonly string[];
  readonly verbs: readonly string[];
}

/** A Role the Job's ServiceAccount is bound to, in its own namespace. */
export interface ScriptJobRole {
  readonly name: string;
  readonly namespace: string;
  readonly rules: readonly ScriptJobRule[];
}

export interface ScriptJobProps {
  /** Namespace of the ServiceAccount and the Job. */
  readonly namespace: string;
  /** Name of the ServiceAccount. */
  readonly account: string;
  /** Roles bound to the ServiceAccount, in this order. */
  readonly roles: readonly ScriptJobRole[];
  /** Job name: unique per version and phase (Jobs are immutable). */
  readonly name: string;
  readonly containerName: string;
  /** An image with `sh` and `kubectl` (or `oc`). */
  readonly image: string;
  /** Run with `/bin/sh -c`. */
  readonly script: string;
  /** The script's environment, in this order. */
  readonly env: ReadonlyArray<readonly [string, string]>;
  /** The Job is stopped this long after it started. */
  readonly activeDeadlineSeconds: number;
  /**
   * Fixed UID and GID of the container; undefined leaves them to the platform (OpenShift's
   * `restricted-v2` SCC assigns the namespace's range and refuses any other).
   */
  readonly runAsUser?: number;
}

/**
 * Pod Security `restricted` and OpenShift `restricted-v2` shaped: non-root, read-only root, no
 * escalation, no capabilities, the runtime's seccomp; small requests and limits.
 */
function restrictedContainer(runAsUser: number | undefined): Record<string, unknown> {
  return {
    resources: { limits: { cpu: '100m', memory: '128Mi' }, requests: { cpu: '10m', memory: '32Mi' } },
    securityContext: {
      allowPrivilegeEscalation: false,
      capabilities: { drop: ['ALL'] },
      privileged: false,
      readOnlyRootFilesystem: true,
      ...(runAsUser !== undefined ? { runAsGroup: runAsUser, runAsUser } : {}),
      runAsNonRoot: true,
      seccompProfile: { type: 'RuntimeDefault' },
    },
  };
}

/** Adds the ServiceAccount, each Role and its RoleBinding, then the Job to `chart`. */
export function addScriptJob(chart: Chart, props: ScriptJobProps): void {
  const { namespace, account } = props;
  new ApiObject(chart, 'sa', {
    apiVersion: 'v1',
    kind: 'ServiceAccount',
    metadata: { name: account, namespace },
    automountServiceAccountToken: false,
  });
  for (const role of props.roles) {
    new ApiObject(chart, `role-${role.name}`, {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'Role',
      metadata: { name: role.name, namespace: role.namespace },
      rules: role.rules.map((r) => ({ apiGroups: [r.apiGroup], resources: [...r.resources], verbs: [...r.verbs] })),
    });
    new ApiObject(chart, `binding-${role.name}`, {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata: { name: role.name, namespace: role.namespace },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: role.name },
      subjects: [{ apiGroup: '', kind: 'ServiceAccount', name: account, namespace }],
    });
  }
  new ApiObject(chart, 'job', {
    apiVersion: 'batch/v1',
    kind: 'Job',
    // Replace=false: a Job is immutable, Argo CD must not replace one that ran
    metadata: { name: props.name, namespace, annotations: { 'argocd.argoproj.io/sync-options': 'Replace=false' } },
    spec: {
      activeDeadlineSeconds: props.activeDeadlineSeconds,
      backoffLimit: 0,
      // no template metadata: the API server fills in the labels, and an empty one here would
      // keep Argo CD from ever seeing the Job Synced
      template: {
        spec: {
          automountServiceAccountToken: true,
          containers: [
            {
              command: ['/bin/sh', '-c', props.script],
              env: props.env.map(([name, value]) => ({ name, value })),
              image: props.image,
              imagePullPolicy: 'IfNotPresent',
              name: props.containerName,
              ...restrictedContainer(props.runAsUser),
            },
          ],
          dnsPolicy: 'ClusterFirst',
          hostNetwork: false,
          restartPolicy: 'Never',
          securityContext: { fsGroupChangePolicy: 'Always', runAsNonRoot: true },
          serviceAccountName: account,
          setHostnameAsFQDN: false,
          terminationGracePeriodSeconds: 30,
        },
      },
    },
  });
}
