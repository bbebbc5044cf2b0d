/**
 * The deployments folder is added to the parent folder's kustomization by one splice of its text:
 * comments, indentation and quoting stay, the entry goes in once, and the result reads back.
 */
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { OsvError } from '../../src/errors.js';
import { referenceFolder, unreferencedWarning } from '../../src/git/parent-kustomization.js';

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    return e instanceof OsvError ? e.code : `not an OsvError: ${String(e)}`;
  }
  return undefined;
}

const ISSUE_12 = `# prod: the base plus our OpenStackVersion
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
namespace: openstack
resources:
  - ../../base            # control plane and nodesets
  - openstackversion.yaml # edited by osv-gitops
# patches come last
patches:
  - path: scale.yaml
`;

describe('referenceFolder', () => {
  it('adds the folder after the last resources entry, in the list’s own indentation, keeping every comment', () => {
    const out = referenceFolder(ISSUE_12, 'updates', 'k.yaml');
    expect(out).toBe(ISSUE_12.replace('  - openstackversion.yaml # edited by osv-gitops\n', '  - openstackversion.yaml # edited by osv-gitops\n  - updates\n'));
    // once: a second run, or an entry the user wrote as ./updates/, changes nothing
    expect(referenceFolder(out, 'updates', 'k.yaml')).toBe(out);
    const own = ISSUE_12.replace('- openstackversion.yaml', '- ./updates/\n  - openstackversion.yaml');
    expect(referenceFolder(own, 'updates', 'k.yaml')).toBe(own);
    // the deprecated bases: list counts as a reference too
    const bases = 'bases:\n- updates\nresources:\n- a.yaml\n';
    expect(referenceFolder(bases, 'updates', 'k.yaml')).toBe(bases);
  });

  it('handles every shape of resources: missing, empty, null, flow and unindented block lists', () => {
    const cases: [string, string][] = [
      ['resources:\n- a.yaml\n- b.yaml', 'resources:\n- a.yaml\n- b.yaml\n- updates\n'],
      ['namespace: openstack   # ns\n', 'namespace: openstack   # ns\nresources:\n- updates\n'],
      ['resources: []   # none yet\n', 'resources: [updates]   # none yet\n'],
      ['resources: [a.yaml, "b.yaml"]\nnamespace: x\n', 'resources: [a.yaml, "b.yaml", updates]\nnamespace: x\n'],
      ['resources:   # filled by osv-gitops\nnamespace: x\n', 'resources:   # filled by osv-gitops\n- updates\nnamespace: x\n'],
      ['resources: ~\n', 'resources: [updates]\n'],
      ['# nothing yet\n', '# nothing yet\nresources:\n- updates\n'],
      ['', 'resources:\n- updates\n'],
      ['{namespace: x}\n', '{namespace: x, resources: [updates]}\n'],
      ['resources:\n- path: a.yaml\n  note: x\n', 'resources:\n- path: a.yaml\n  note: x\n- updates\n'],
    ];
    for (const [src, want] of cases) {
      const out = referenceFolder(src, 'updates', 'k.yaml');
      expect(out, JSON.stringify(src)).toBe(want);
      expect(referenceFolder(out, 'updates', 'k.yaml')).toBe(out);
    }
    // a folder name YAML would read as something else is quoted
    expect(parse(referenceFolder('resources: []\n', '18.0', 'k.yaml'))).toEqual({ resources: ['18.0'] });
    expect(parse(referenceFolder('resources:\n- a\n', 'yes', 'k.yaml'))).toEqual({ resources: ['a', 'yes'] });
  });

  it('refuses a kustomization it cannot edit safely with KUSTOMIZATION_INVALID', () => {
    for (const src of ['resources: a.yaml\n', 'resources: {a: b}\n', 'x: &l [a]\nresources: *l\n', 'resources:\n- a\n---\nresources: []\n', 'resources: [a\n', '- a\n- b\n']) {
      expect(codeOf(() => referenceFolder(src, 'updates', 'k.yaml')), src).toBe('KUSTOMIZATION_INVALID');
    }
  });

  it('warns with the exact line to add', () => {
    const w = unreferencedWarning('clusters/prod/updates');
    expect(w).toContain('clusters/prod has no kustomization.yaml, so nothing references clusters/prod/updates');
    expect(w).toContain('will not apply the data-plane deployments');
    expect(w).toMatch(/in clusters\/prod\/kustomization\.yaml .*: - updates$/);
    expect(unreferencedWarning('updates')).toContain('the repository root has no kustomization.yaml');
  });
});
