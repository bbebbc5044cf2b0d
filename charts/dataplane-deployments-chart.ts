import { Chart } from 'cdk8s';
import type { Construct } from 'constructs';
import { OpenStackDataPlaneDeployment } from '../src/imports/openstackdataplanedeployment-dataplane.openstack.org.js';
import type { DeploymentPlan } from '../src/plan/types.js';

export interface DataPlaneDeploymentsChartProps {
  readonly namespace: string;
  readonly deployments: readonly DeploymentPlan[];
  /** Annotations for every deployment, e.g. "never prune" for the agent. @default none */
  readonly annotations?: Readonly<Record<string, string>>;
}

/** The one-shot `OpenStackDataPlaneDeployment`s of the phases so far (facts §6.1). */
export class DataPlaneDeploymentsChart extends Chart {
  constructor(scope: Construct, id: string, props: DataPlaneDeploymentsChartProps) {
    super(scope, id, { disableResourceNameHashes: true });
    for (const d of props.deployments) {
      new OpenStackDataPlaneDeployment(this, d.name, {
        metadata: { name: d.name, namespace: props.namespace, ...(props.annotations ? { annotations: { ...props.annotations } } : {}) },
        spec: {
          nodeSets: [...d.nodeSets],
          servicesOverride: [...d.servicesOverride],
          // the CRD default, written out because the schema lists it as required
          deploymentRequeueTime: 15,
          ...(d.ansibleLimit ? { ansibleLimit: d.ansibleLimit } : {}),
          ...(d.ansibleExtraVars ? { ansibleExtraVars: { ...d.ansibleExtraVars } } : {}),
        },
      });
    }
  }
}
