/** Who applies the live OpenStackVersion, from the marks Argo CD and Flux leave on it. */
import { describe, expect, it } from 'vitest';
import { liveOwnerOf, secondLiveOwner } from '../../src/status/live-owner.js';
import type { AgentView, KubeObject } from '../../src/status/snapshot.js';

const osv = (metadata: Record<string, unknown>): KubeObject => ({ kind: 'OpenStackVersion', metadata: { name: 'openstack', namespace: 'openstack', ...metadata } });
const argo = (name: string, namespace = 'openshift-gitops'): AgentView => ({ engine: 'argocd', namespace, name, object: {} });
const flux = (name: string, namespace = 'flux-system'): AgentView => ({ engine: 'flux', namespace, name, object: {} });
const tracked = (app: string) => osv({ annotations: { 'argocd.argoproj.io/tracking-id': `${app}:core.openstack.org/OpenStackVersion:openstack/openstack` } });

describe('the live owner of the OpenStackVersion', () => {
  it('reads the Argo CD tracking annotation, the Argo CD instance label and the Flux labels', () => {
    expect(liveOwnerOf(tracked('openstack-prod'))).toMatchObject({ engine: 'argocd', shown: 'openstack-prod' });
    expect(liveOwnerOf(osv({ labels: { 'app.kubernetes.io/instance': 'openstack-prod' } }))).toMatchObject({ engine: 'argocd', shown: 'openstack-prod' });
    const fluxMarked = osv({ labels: { 'kustomize.toolkit.fluxcd.io/name': 'openstack', 'kustomize.toolkit.fluxcd.io/namespace': 'flux-system' } });
    expect(liveOwnerOf(fluxMarked)).toMatchObject({ engine: 'flux', shown: 'flux-system/openstack' });
    expect(liveOwnerOf(osv({}))).toBeUndefined();
  });

  it('names another Application or Kustomization as a second owner, never the agent itself', () => {
    expect(secondLiveOwner(tracked('openstack-prod'), argo('openstack-prod'))).toBeUndefined();
    // Argo CD writes `<namespace>_<name>` for an Application outside its control namespace
    expect(secondLiveOwner(tracked('team-a_openstack'), argo('openstack', 'team-a'))).toBeUndefined();
    const problem = secondLiveOwner(tracked('user-openstack'), argo('osv-update'));
    expect(problem).toContain('Application user-openstack');
    expect(problem).toContain('openshift-gitops/osv-update');
    expect(secondLiveOwner(tracked('user-openstack'), flux('openstack'))).toContain('Application user-openstack');
    const fluxMarked = osv({ labels: { 'kustomize.toolkit.fluxcd.io/name': 'infra', 'kustomize.toolkit.fluxcd.io/namespace': 'flux-system' } });
    expect(secondLiveOwner(fluxMarked, flux('openstack'))).toContain('Kustomization flux-system/infra');
    expect(secondLiveOwner(fluxMarked, flux('infra'))).toBeUndefined();
  });

  it('says nothing without a mark, an object or an agent (applied by hand, or nothing to compare)', () => {
    expect(secondLiveOwner(osv({}), argo('x'))).toBeUndefined();
    expect(secondLiveOwner(undefined, argo('x'))).toBeUndefined();
    expect(secondLiveOwner(tracked('other'), undefined)).toBeUndefined();
  });
});
