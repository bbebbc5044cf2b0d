import { ApiObject, Chart } from 'cdk8s';
import type { Construct } from 'constructs';
import { Application } from '../src/imports/argocdapplication-argoproj.io.js';
import { argoHealthCustomizations } from '../src/health/lua.js';

export interface ArgoPhase {
  readonly name: string;
  readonly path: string;
  readonly wave: number;
}

export interface ArgoChartProps {
  readonly argoNamespace: string;
  readonly project: string;
  readonly repoURL: string;
  readonly targetRevision: string;
  readonly destinationNamespace: string;
  readonly phases: readonly ArgoPhase[];
}

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
          syncPolicy: {
            automated: { prune: false, selfHeal: true },
            syncOptions: ['ServerSideApply=true', 'SkipDryRunOnMissingResource=true'],
          },
        },
      });
    }
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
