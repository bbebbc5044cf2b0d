/** The user's openstack-operator Subscription the phase 0 tests start from (the example's CSV is v18.0.4). */
export const SUBSCRIPTION = `# the openstack-operator, installed by OLM
apiVersion: operators.coreos.com/v1alpha1
kind: Subscription
metadata:
  name: openstack-operator
  namespace: openstack-operators
spec:
  name: openstack-operator
  channel: stable-v1.0
  startingCSV: openstack-operator.v18.0.3
  installPlanApproval: Automatic # OLM upgrades on its own until phase 0 pins it
  source: redhat-operators
  sourceNamespace: openshift-marketplace
`;
