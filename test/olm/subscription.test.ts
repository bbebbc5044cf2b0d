/** The openstack-operator Subscription: read, validated, pinned in place (comments kept) or rendered afresh. */
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { validateObject } from '../../src/validate/crd-schema.js';
import { pinSubscriptionText, readSubscriptionText, renderPinnedSubscription } from '../../src/olm/subscription.js';

const USER_FILE = `# the openstack-operator, installed by OLM
apiVersion: operators.coreos.com/v1alpha1
kind: Subscription
metadata:
  name: openstack-operator
  namespace: openstack-operators # where OLM runs it
spec:
  name: openstack-operator
  channel: stable-v1.0   # the channel we follow
  source: redhat-operators
  sourceNamespace: openshift-marketplace
  installPlanApproval: Automatic
`;

describe('the openstack-operator Subscription', () => {
  it('reads it, names validated', () => {
    const { sub } = readSubscriptionText(USER_FILE, 'sub.yaml');
    expect(sub).toEqual({
      name: 'openstack-operator',
      namespace: 'openstack-operators',
      packageName: 'openstack-operator',
      channel: 'stable-v1.0',
      source: 'redhat-operators',
      sourceNamespace: 'openshift-marketplace',
      startingCSV: undefined,
      installPlanApproval: 'Automatic',
    });
  });

  it('refuses another package, a bad name, and a file without a Subscription', () => {
    expect(() => readSubscriptionText(USER_FILE.replace('  name: openstack-operator\n  channel', '  name: metallb-operator\n  channel'), 'sub.yaml')).toThrow(/openstack-operator/);
    expect(() => readSubscriptionText(USER_FILE.replace('name: openstack-operator\n  namespace', 'name: Openstack_Operator\n  namespace'), 'sub.yaml')).toThrow(/metadata\.name/);
    expect(() => readSubscriptionText('apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n', 'cm.yaml')).toThrow(/no Subscription/);
  });

  it('pins it in place: the three values change, comments and order stay', () => {
    const { text } = pinSubscriptionText(USER_FILE, 'sub.yaml', { csv: 'openstack-operator.v1.0.6' });
    expect(text).toBe(
      USER_FILE.replace('installPlanApproval: Automatic', 'installPlanApproval: Manual') + '  startingCSV: openstack-operator.v1.0.6\n',
    );
    // pinned already: the same text
    expect(pinSubscriptionText(text, 'sub.yaml', { csv: 'openstack-operator.v1.0.6' }).text).toBe(text);
    // a new channel replaces the value, keeping its comment
    const moved = pinSubscriptionText(text, 'sub.yaml', { csv: 'openstack-operator.v1.1.0', channel: 'stable-v1.1' }).text;
    expect(moved).toContain('  channel: stable-v1.1   # the channel we follow\n');
    expect(moved).toContain('  startingCSV: openstack-operator.v1.1.0\n');
  });

  it('needs --channel when the Subscription has none, and refuses a bad CSV name', () => {
    const noChannel = USER_FILE.replace('  channel: stable-v1.0   # the channel we follow\n', '');
    expect(() => pinSubscriptionText(noChannel, 'sub.yaml', { csv: 'openstack-operator.v1.0.6' })).toThrow(/--channel/);
    expect(pinSubscriptionText(noChannel, 'sub.yaml', { csv: 'openstack-operator.v1.0.6', channel: 'stable-v1.0' }).text).toContain('  channel: stable-v1.0\n');
    expect(() => pinSubscriptionText(USER_FILE, 'sub.yaml', { csv: 'Bad CSV' })).toThrow(/--csv/);
  });

  it('renders a cluster dump afresh, without status and managed fields', () => {
    const dump = USER_FILE.replace('metadata:\n', 'metadata:\n  resourceVersion: "991"\n  uid: 0e5c\n') + 'status:\n  state: AtLatestKnown\n  currentCSV: openstack-operator.v1.0.5\n';
    const { text } = renderPinnedSubscription(dump, 'dump.yaml', { csv: 'openstack-operator.v1.0.6' });
    expect(parse(text)).toEqual({
      apiVersion: 'operators.coreos.com/v1alpha1',
      kind: 'Subscription',
      metadata: { name: 'openstack-operator', namespace: 'openstack-operators' },
      spec: { channel: 'stable-v1.0', installPlanApproval: 'Manual', name: 'openstack-operator', source: 'redhat-operators', sourceNamespace: 'openshift-marketplace', startingCSV: 'openstack-operator.v1.0.6' },
    });
  });

  it('the pinned Subscription validates against the real OLM Subscription CRD (crds/olm)', () => {
    const { text } = pinSubscriptionText(USER_FILE, 'sub.yaml', { csv: 'openstack-operator.v1.0.6' });
    expect(validateObject(parse(text))).toEqual({ ok: true, errors: [], warnings: [] });
    // the schema is really applied: a Subscription without its required source is refused
    const bad = parse(text) as { spec: Record<string, unknown> };
    delete bad.spec['source'];
    expect(validateObject(bad).ok).toBe(false);
  });
});
