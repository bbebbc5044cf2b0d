import { ApiObject, Chart } from 'cdk8s';
import type { Construct } from 'constructs';
import { Application } from '../../imports/argocdapplication-argoproj.io.js';
import { argoHealthCustomizations, argoResourceHealthChecks } from './health-checks.js';

export interface ArgoPhase {
  readonly name: string;
  readonly path: string;
  readonly wave: number;
}

interface ArgoSourceProps {
  readonly argoNamespace: string;
  readonly project: string;
  readonly repoURL: string;
  readonly targetRevision: string;
  readonly destinationNamespace: string;
}

export interface ArgoChartProps extends ArgoSourceProps {
  readonly phases: readonly ArgoPhase[];
}

/** Both the root and the phase Applications sync by themselves and never prune (conventions d1). */
const SYNC_POLICY = {
  automated: { prune: false, selfHeal: true },
  syncOptions: ['ServerSideApply=true', 'SkipDryRunOnMissingResource=true'],
};

/**
 * App-of-apps wiring: one Argo CD `Application` per phase, ordered by sync waves. A wave goes
 * only when the previous phase's Application is Healthy, which the Lua checks and gate Jobs decide.
 */
export class ArgoApplicationsChart extends Chart {
  constructor(scope: Construct, id: string, props: ArgoChartProps) {
    super(scope, id, { disableResourceNameHashes: true });
    for (const p of props.phases) {
      new Application(this, p.name, {
        metadata: { name: p.name, namespace: props.argoNamespace, annotations: { 'argocd.argoproj.io/sync-wave': String(p.wave) } },
        spec: {
          project: props.project,
          source: { repoUrl: props.repoURL, targetRevision: props.targetRevision, path: p.path },
          destination: { server: 'https://kubernetes.default.svc', namespace: props.destinationNamespace },
          syncPolicy: SYNC_POLICY,
        },
      });
    }
  }
}

/**
 * The app-of-apps root: one Application that applies the phase Applications' folder. Applied once
 * by hand (`oc apply -f`); it lives outside that folder, so it never manages itself.
 */
export class ArgoRootApplicationChart extends Chart {
  constructor(scope: Construct, id: string, props: ArgoSourceProps & { readonly name: string; readonly path: string }) {
    super(scope, id, { disableResourceNameHashes: true });
    new Application(this, props.name, {
      metadata: { name: props.name, namespace: props.argoNamespace },
      spec: {
        project: props.project,
        source: { repoUrl: props.repoURL, targetRevision: props.targetRevision, path: props.path },
        // the phase Applications live in Argo CD's own namespace
        destination: { server: 'https://kubernetes.default.svc', namespace: props.argoNamespace },
        syncPolicy: SYNC_POLICY,
      },
    });
  }
}

/**
 * OpenShift GitOps: the operator owns `argocd-cm` and rewrites it from the `ArgoCD` resource, so
 * the health checks go there (`spec.resourceHealthChecks`), as a merge patch of that resource.
 */
export class ArgoCdHealthPatchChart extends Chart {
  constructor(scope: Construct, id: string, props: { readonly argoNamespace: string; readonly name: string }) {
    super(scope, id, { disableResourceNameHashes: true });
    new ApiObject(this, 'argocd', {
      apiVersion: 'argoproj.io/v1beta1',
      kind: 'ArgoCD',
      metadata: { name: props.name, namespace: props.argoNamespace },
      spec: { resourceHealthChecks: argoResourceHealthChecks() },
    });
  }
}

/** The `argocd-cm` patch that installs our health checks (`resource.customizations.health.*`). */
export class ArgoHealthConfigChart extends Chart {
  constructor(scope: Construct, id: string, props: { readonly argoNamespace: string }) {
    super(scope, id, { disableResourceNameHashes: true });
    new ApiObject(this, 'argocd-cm', {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'argocd-cm', namespace: props.argoNamespace, labels: { 'app.kubernetes.io/part-of': 'argocd' } },
      data: argoHealthCustomizations({ configMapKeys: true }),
    });
  }
}
