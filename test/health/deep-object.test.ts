import { describe, expect, it } from 'vitest';
import { evaluateArgoHealth } from '../../src/health/evaluate.js';
import { argoHealthCustomizations } from '../../src/agents/argocd/health-checks.js';

describe('Argo CD health of deep objects', () => {
  it('evaluates an object nested deeper than Lua\'s guaranteed stack (a defaulted control plane)', () => {
    let deep: Record<string, unknown> = { leaf: 'x' };
    for (let i = 0; i < 40; i++) deep = { [`level${i}`]: deep, list: [{ a: { b: { c: 1 } } }] };
    const cp = {
      apiVersion: 'core.openstack.org/v1beta1',
      kind: 'OpenStackControlPlane',
      metadata: { name: 'openstack', generation: 1 },
      spec: deep,
      status: { observedGeneration: 1, conditions: [{ type: 'Ready', status: 'True', message: 'Setup complete' }] },
    };
    const script = argoHealthCustomizations()['core.openstack.org_OpenStackControlPlane']!;
    expect(evaluateArgoHealth(script, cp).status).toBe('Healthy');
  });
});
