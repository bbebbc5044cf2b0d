import { Chart } from 'cdk8s';
import type { Construct } from 'constructs';
import { Kustomization, KustomizationSpecSourceRefKind } from '../../imports/fluxkustomization-kustomize.toolkit.fluxcd.io.js';
import type { FluxHealthCheckExpr } from './health-checks.js';

export interface FluxPhase {
  readonly name: string;
  readonly path: string;
  readonly dependsOn?: string;
  readonly timeoutSeconds: number;
  /** Wait for every applied object to be Current (kstatus), not only the health checks. @default false */
  readonly wait?: boolean;
  readonly healthChecks: readonly { readonly apiVersion: string; readonly kind: string; readonly name: string; readonly namespace: string }[];
  readonly healthCheckExprs: readonly FluxHealthCheckExpr[];
}

export interface FluxChartProps {
  readonly namespace: string;
  readonly sourceName: string;
  readonly phases: readonly FluxPhase[];
}

function duration(seconds: number): string {
  return seconds % 3600 === 0 ? `${seconds / 3600}h` : `${Math.ceil(seconds / 60)}m`;
}

/** One Flux `Kustomization` per phase, chained with `dependsOn`, each gated by CEL health checks. */
export class FluxChart extends Chart {
  constructor(scope: Construct, id: string, props: FluxChartProps) {
    super(scope, id, { disableResourceNameHashes: true });
    for (const p of props.phases) {
      new Kustomization(this, p.name, {
        metadata: { name: p.name, namespace: props.namespace },
        spec: {
          interval: '10m',
          retryInterval: '1m',
          timeout: duration(p.timeoutSeconds),
          // one-shot deployments must never be pruned (conventions d1); the update never deletes
          prune: false,
          wait: p.wait ?? false,
          path: p.path,
          sourceRef: { kind: KustomizationSpecSourceRefKind.GIT_REPOSITORY, name: props.sourceName },
          ...(p.dependsOn ? { dependsOn: [{ name: p.dependsOn }] } : {}),
          healthChecks: p.healthChecks.map((h) => ({ ...h })),
          healthCheckExprs: p.healthCheckExprs.map((e) => ({ ...e, kind: e.kind ?? '' })),
        },
      });
    }
  }
}
