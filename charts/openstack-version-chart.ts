import { Chart, type ChartProps } from 'cdk8s';
import type { Construct } from 'constructs';
import { OpenStackVersion } from '../src/imports/openstackversion-core.openstack.org.js';
import { HEALTH_GATE_ANNOTATION, TARGET_VERSION_ANNOTATION } from '../src/health/annotations.js';
import { SKIP_CUSTOM_IMAGES_ANNOTATION } from '../src/inputs/openstack-version.js';
import { customImagesToProps } from '../src/render/image-names.js';

export interface OpenStackVersionChartProps extends ChartProps {
  readonly name: string;
  readonly namespace: string;
  readonly targetVersion: string;
  /** `spec.customContainerImages` in the CRD's JSON names. */
  readonly customContainerImages: Readonly<Record<string, unknown>>;
  /** Set the operator's skip-custom-images-validation annotation. @default false */
  readonly skipCustomImagesValidation?: boolean;
  /** The condition this phase waits for, read by the Argo CD health script. @default none */
  readonly healthGate?: string;
  /** Extra annotations, e.g. the agent's own. @default none */
  readonly annotations?: Readonly<Record<string, string>>;
}

/** The `OpenStackVersion` of one phase: target version, custom images, the gate annotations. */
export class OpenStackVersionChart extends Chart {
  constructor(scope: Construct, id: string, props: OpenStackVersionChartProps) {
    super(scope, id, { disableResourceNameHashes: true });
    const annotations: Record<string, string> = {
      ...(props.annotations ?? {}),
      [TARGET_VERSION_ANNOTATION]: props.targetVersion,
      ...(props.healthGate ? { [HEALTH_GATE_ANNOTATION]: props.healthGate } : {}),
      ...(props.skipCustomImagesValidation ? { [SKIP_CUSTOM_IMAGES_ANNOTATION]: '' } : {}),
    };
    const custom = customImagesToProps(props.customContainerImages);
    new OpenStackVersion(this, 'openstackversion', {
      metadata: { name: props.name, namespace: props.namespace, annotations },
      spec: { targetVersion: props.targetVersion, ...(Object.keys(custom).length ? { customContainerImages: custom } : {}) },
    });
  }
}
