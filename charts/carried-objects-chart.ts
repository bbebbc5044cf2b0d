import { ApiObject, Chart } from 'cdk8s';
import type { Construct } from 'constructs';

export interface CarriedObjectsChartProps {
  readonly objects: readonly Readonly<Record<string, unknown>>[];
  readonly namespace: string;
  /** Annotations added to each object (the agent's own). @default none */
  readonly annotations?: Readonly<Record<string, string>>;
}

const SERVER_FIELDS = ['creationTimestamp', 'generation', 'resourceVersion', 'uid', 'managedFields', 'selfLink', 'ownerReferences', 'finalizers'];

/**
 * The user's own objects (OpenStackControlPlane, nodesets), carried through with their spec
 * unchanged. Untyped on purpose: the control-plane CRD is ~1 MB and every field must survive.
 * Server-written fields and `status` are dropped so that a live dump renders like the repository file.
 */
export class CarriedObjectsChart extends Chart {
  constructor(scope: Construct, id: string, props: CarriedObjectsChartProps) {
    super(scope, id, { disableResourceNameHashes: true });
    for (const obj of props.objects) {
      const { status: _status, metadata, ...rest } = obj as { status?: unknown; metadata?: Record<string, unknown> } & Record<string, unknown>;
      const meta: Record<string, unknown> = { ...(metadata ?? {}) };
      for (const f of SERVER_FIELDS) delete meta[f];
      const annotations = { ...((meta['annotations'] as Record<string, string> | undefined) ?? {}) };
      delete annotations['kubectl.kubernetes.io/last-applied-configuration'];
      Object.assign(annotations, props.annotations ?? {});
      meta['annotations'] = Object.keys(annotations).length ? annotations : undefined;
      meta['namespace'] = meta['namespace'] ?? props.namespace;
      new ApiObject(this, `${String(rest['kind'])}-${String(meta['name'])}`, { ...(rest as { apiVersion: string; kind: string }), metadata: meta });
    }
  }
}
