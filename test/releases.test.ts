/**
 * Issue 10, plan side: the per-release rule table, how the release is recognised, and the rules
 * applied in plan building (OVN unchanged, stall warning, custom-images rule, service defaults,
 * the operator's published defaults, the init operator by content, operator holds).
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { rolloutPhases } from '../src/images/diff.js';
import { loadControlPlane } from '../src/inputs/controlplane.js';
import { loadCsv, type CsvInput } from '../src/inputs/csv.js';
import { loadCustomImages } from '../src/inputs/custom-images.js';
import { loadNodeSets } from '../src/inputs/nodesets.js';
import { loadOpenStackVersion, type OpenStackVersionInput } from '../src/inputs/openstack-version.js';
import { buildPlan, type PlanInputs } from '../src/plan/build.js';
import { conditionsAllowedBy, isOperatorHold, operatorHold, UPDATE_TARGET_STAGE_ANNOTATION } from '../src/plan/operator-hold.js';
import { detectRelease, effectiveServiceDefaults, RELEASES, type ReleaseEvidence } from '../src/plan/releases.js';
import { commitMessage, fill } from '../src/render/commit-message.js';

const fixtures = join(import.meta.dirname, '..', 'fixtures');

function inputsOf(name: string, custom = false): PlanInputs {
  const dir = join(fixtures, name);
  return {
    csv: loadCsv(join(dir, 'csv.yaml')),
    openStackVersion: loadOpenStackVersion(join(dir, 'openstackversion.yaml')),
    controlPlane: loadControlPlane(join(dir, 'controlplane.yaml')),
    nodeSets: loadNodeSets(join(dir, 'nodesets')),
    ...(custom ? { customImages: loadCustomImages(join(dir, 'custom-images.yaml')) } : {}),
  };
}

const codes = (p: { warnings: readonly { code: string }[] }) => p.warnings.map((w) => w.code);
const withCsv = (i: PlanInputs, patch: Partial<CsvInput>): PlanInputs => ({ ...i, csv: { ...i.csv!, ...patch } });
const withOsv = (i: PlanInputs, patch: Partial<OpenStackVersionInput>): PlanInputs => ({ ...i, openStackVersion: { ...i.openStackVersion, ...patch } });

const MAIN_FIELDS = new Set(['openstackNetworkExporterImage', 'novaAPIImage']);
const FR6_FIELDS = new Set([...MAIN_FIELDS, 'edpmIscsidImage', 'edpmMultipathdImage']);
const ev = (e: Partial<ReleaseEvidence>): ReleaseEvidence => ({ versions: [], imageFields: MAIN_FIELDS, ...e });

describe('the release table (facts §10)', () => {
  it('holds the rules read from each branch', () => {
    const row = (r: keyof typeof RELEASES) => {
      const x = RELEASES[r];
      return [x.ovnUnchangedRule, x.trackedCustomImages, x.ovnDisabledGuard, x.inventoryImages.join(','), x.serviceDefaults['rabbitmqVersion'] ?? '-'];
    };
    expect(row('fr3')).toEqual([false, false, false, 'edpmIscsidImage,edpmMultipathdImage', '-']);
    expect(row('fr4')).toEqual([false, true, true, 'edpmIscsidImage,edpmMultipathdImage', '-']);
    expect(row('fr5')).toEqual([false, true, true, 'edpmIscsidImage,edpmMultipathdImage', '-']);
    expect(row('fr6')).toEqual([true, true, true, 'edpmIscsidImage,edpmMultipathdImage', '4.2']);
    expect(row('18-stable')).toEqual([true, true, true, 'edpmIscsidImage', '4.2']);
    expect(row('main')).toEqual([true, true, true, '', '4.2']);
    expect(RELEASES.fr4.initDeployment).toBe('openstack-operator-controller-operator');
    expect(RELEASES.fr5.initDeployment).toBe('openstack-operator-controller-init');
  });

  it('says what the control plane acts on when a service default is unset', () => {
    // an FR5 operator published only glanceWsgi: the FR6 control plane reads rabbitmq 3.9, sharev1 off
    expect(effectiveServiceDefaults(RELEASES.fr6, { glanceWsgi: 'true' })).toEqual({ glanceLocationAPI: 'false', glanceWsgi: 'true', manilaSharev1: 'false', rabbitmqVersion: '3.9' });
    expect(effectiveServiceDefaults(RELEASES.fr6, RELEASES.fr6.serviceDefaults)['rabbitmqVersion']).toBe('4.2');
    // before fr6 only glanceWsgi is read
    expect(Object.keys(effectiveServiceDefaults(RELEASES.fr5, {}))).toEqual(['glanceWsgi']);
  });
});

describe('recognising the release', () => {
  it.each([
    ['0.3.0', 'fr3'],
    ['0.4.0-1768000000', 'fr4'],
    ['0.5.0', 'fr5'],
    ['v0.6.0', 'fr6'],
    ['0.7.0-1784642723', '18-stable'],
    ['19.0.0-1784551341', 'main'],
    ['20.1.0', 'main'],
  ])('bundle version %s is %s', (v, r) => {
    expect(detectRelease(ev({ versions: [v], imageFields: r === 'main' ? MAIN_FIELDS : FR6_FIELDS })).rules.release).toBe(r);
  });

  it('falls back to main with a warning for a bundle version it does not know', () => {
    const d = detectRelease(ev({ versions: ['0.2.0'] }));
    expect(d.rules.release).toBe('main');
    expect(d.warnings.join()).toMatch(/0\.2\.0 is no release this tool knows; applying the rules of main/);
  });

  it('reads downstream numbering (18.0.x) from the layout and the image list', () => {
    const fields = (...f: string[]) => new Set([...MAIN_FIELDS, ...f]);
    expect(detectRelease(ev({ versions: ['18.0.4'], initDeployment: 'openstack-operator-controller-operator', imageFields: fields('edpmMultipathdImage') })).rules.release).toBe('fr4');
    expect(detectRelease(ev({ versions: ['18.0.4'], imageFields: new Set(['novaAPIImage', 'edpmOpenstackNetworkExporterImage']) })).rules.release).toBe('fr3');
    expect(detectRelease(ev({ versions: ['18.0.4'], imageFields: fields('edpmIscsidImage') })).rules.release).toBe('18-stable');
    const none = detectRelease(ev({ versions: ['18.0.4'] }));
    expect([none.rules.release, none.warnings]).toEqual(['main', []]);
  });

  it('tells fr5 from fr6 by the service defaults the operator published, else says it cannot', () => {
    const f = FR6_FIELDS;
    expect(detectRelease(ev({ versions: ['18.0.9'], imageFields: f, publishedServiceDefaults: { glanceWsgi: 'true' } })).rules.release).toBe('fr5');
    expect(detectRelease(ev({ versions: ['18.0.9'], imageFields: f, publishedServiceDefaults: { rabbitmqVersion: '4.2' } })).rules.release).toBe('fr6');
    const d = detectRelease(ev({ versions: ['18.0.9'], imageFields: f }));
    expect(d.rules.release).toBe('fr6');
    expect(d.warnings.join()).toMatch(/does not tell 18\.0-fr5 from 18\.0-fr6/);
  });

  it('trusts the bundle version over the layout, and says they disagree', () => {
    const d = detectRelease(ev({ versions: ['0.4.0'], initDeployment: 'openstack-operator-controller-init', imageFields: MAIN_FIELDS }));
    expect(d.rules.release).toBe('fr4');
    expect(d.warnings.join()).toMatch(/look like main/);
  });
});

describe('the init operator by content (issue 10 item 1)', () => {
  const fr4Csv = join(fixtures, 'fr3-to-fr4-controller-operator', 'csv.yaml');

  it('reads an FR2–FR4 bundle: -controller-operator, kube-rbac-proxy first, TEST_* left unset', () => {
    const c = loadCsv(fr4Csv);
    expect([c.deployment, c.container, c.initOperator, c.version]).toEqual(['openstack-operator-controller-operator', 'operator', true, '0.4.0']);
    expect(Object.keys(c.imageEnv).filter((k) => k.startsWith('TEST_'))).toEqual([]);
    expect(c.notes.filter((n) => n.includes('does not forward TEST_*'))).toHaveLength(3);
  });

  function rewritten(edit: (csv: Record<string, unknown>) => void): string {
    const doc = parse(readFileSync(fr4Csv, 'utf8')) as Record<string, unknown>;
    edit(doc);
    const file = join(mkdtempSync(join(tmpdir(), 'osv-csv-')), 'csv.yaml');
    writeFileSync(file, stringify(doc));
    return file;
  }
  // the one deployment of the fixture CSV, its operator container (second, after kube-rbac-proxy)
  type Dep = { name: string; spec: { template: { spec: { containers: { name: string; env: { name: string; value?: string }[] }[] } } } };
  const deploymentOf = (csv: Record<string, unknown>) => ((csv['spec'] as { install: { spec: { deployments: Dep[] } } }).install.spec.deployments)[0]!;

  it('warns about csvEpochAppend on the old init deployment too', () => {
    const file = rewritten((csv) => deploymentOf(csv).spec.template.spec.containers[1]!.env.push({ name: 'OPENSTACK_RELEASE_VERSION_SCHEME', value: 'csvEpochAppend' }));
    expect(loadCsv(file).warnings.join()).toMatch(/csvEpochAppend is set on the init deployment/);
  });

  it('recognises an init operator under another name by the operator images it deploys', () => {
    const file = rewritten((csv) => {
      deploymentOf(csv).name = 'rhoso-operator-init';
    });
    const c = loadCsv(file);
    expect([c.deployment, c.initOperator]).toEqual(['rhoso-operator-init', true]);
    expect(Object.keys(c.imageEnv).some((k) => k.startsWith('TEST_'))).toBe(false);
  });

  it('keeps TEST_* when the env sits on the manager (older bundles)', () => {
    const c = loadCsv(join(fixtures, 'csv-manager-layout', 'csv.yaml'));
    expect(c.initOperator).toBe(false);
    expect(Object.keys(c.imageEnv).filter((k) => k.startsWith('TEST_'))).toHaveLength(3);
  });
});

describe('rules applied in the plan', () => {
  it('FR4 with the OVN image unchanged: no OVN deployment, the condition turns True at once', () => {
    const p = buildPlan(inputsOf('fr3-to-fr4-controller-operator'));
    const ovn = p.phases.find((x) => x.id === 'ovn-dataplane')!;
    expect([p.operatorRelease.release, p.ovnImageChanged, ovn.git.changes, ovn.git.deployments.length]).toEqual(['fr4', false, false, 0]);
    expect(ovn.gate.checks.map((c) => c.kind)).toEqual(['version-observed', 'condition']);
    expect(ovn.notes.join()).toMatch(/18\.0-fr4 sets MinorUpdateOVNDataplane=True at once/);
  });

  it('the same update run by an FR6 operator keeps the OVN deployment', () => {
    const i = inputsOf('fr3-to-fr4-controller-operator');
    const p = buildPlan(withCsv(i, { version: '0.6.0', deployment: 'openstack-operator-controller-init' }));
    expect(p.operatorRelease.release).toBe('fr6');
    expect(p.phases.find((x) => x.id === 'ovn-dataplane')!.git.deployments).toHaveLength(1);
  });

  it('warns before a stall: FR6, OVN unchanged, no nodeset with nodes', () => {
    const p = buildPlan(inputsOf('fr6-ovn-unchanged-no-nodes'));
    expect(codes(p)).toContain('OVN_DATAPLANE_STALL');
    expect(p.warnings.find((w) => w.code === 'OVN_DATAPLANE_STALL')!.message).toMatch(/customContainerImages\.ovnControllerImage/);
    // FR5 rules never stall there
    const fr5 = buildPlan(withCsv(inputsOf('fr6-ovn-unchanged-no-nodes'), { version: '0.5.0' }));
    expect(codes(fr5)).not.toContain('OVN_DATAPLANE_STALL');
  });

  it('FR3 has no OVN-disabled guard and no custom-images rule', () => {
    const i = inputsOf('main-ovn-disabled');
    const p = buildPlan(withCsv(i, { version: '0.3.0' }), { skipCustomImagesValidation: true });
    expect(p.operatorRelease.release).toBe('fr3');
    expect(codes(p)).toEqual(expect.arrayContaining(['OVN_DISABLED_STALL', 'OPERATOR_RELEASE']));
    expect(p.skipCustomImagesValidation).toBe(false);
    // custom images kept unchanged: refused from fr4 on, accepted on fr3 (no webhook rule)
    const fr6 = inputsOf('fr5-to-fr6-backends-hotfix');
    const keep = { ...fr6, customImages: { images: fr6.openStackVersion.customImages, warnings: [] } };
    expect(() => buildPlan(keep)).toThrow(/customContainerImages are set and identical/);
    expect(() => buildPlan(withCsv(keep, { version: '0.3.0' }))).not.toThrow();
  });

  it('main: iscsid and multipathd do not roll out; FR6: they do, in the data-plane phase', () => {
    expect(rolloutPhases('edpmIscsidImage', true)).toEqual([]);
    expect(rolloutPhases('edpmIscsidImage', true, RELEASES.fr6.inventoryImages)).toEqual(['dataplane']);
    expect(rolloutPhases('edpmMultipathdImage', true, RELEASES['18-stable'].inventoryImages)).toEqual([]);
    expect(rolloutPhases('openstackNetworkExporterImage', true)).toEqual(['ovn-controlplane', 'controlplane', 'dataplane']);
  });

  it('FR5 → FR6 shows the service defaults that change: RabbitMQ 3.9 → 4.2, Manila sharev1 on', () => {
    const p = buildPlan(inputsOf('fr5-to-fr6-backends-hotfix', true));
    const changed = p.serviceDefaults.filter((d) => d.change === 'changed').map((d) => `${d.field} ${d.from}→${d.to}`);
    expect(changed).toEqual(['manilaSharev1 false→true', 'rabbitmqVersion 3.9→4.2']);
    const setTarget = p.phases.find((x) => x.git.setsTargetVersion)!;
    const msg = commitMessage(p, setTarget);
    expect(msg).toMatch(/Service defaults changing with the version, applied in the controlplane phase \(2\):\n- manila manilaSharev1: false → true — .*\n- rabbitmq rabbitmqVersion: 3\.9 → 4\.2 — RabbitMQ server version/);
    // the other commits do not repeat them
    expect(commitMessage(p, p.phases.find((x) => x.id === 'dataplane')!)).not.toMatch(/Service defaults/);
  });

  it("uses the operator's published defaults and names each field the recomputation disagrees on", () => {
    const p = buildPlan(inputsOf('csv-status-mismatch'));
    expect(p.imageSource.kind).toBe('openstackversion-status');
    const mismatch = p.warnings.filter((w) => w.code === 'DEFAULTS_MISMATCH');
    expect(mismatch.map((w) => w.message.split(':')[0])).toEqual(['novaAPIImage']);
    // the operator does not run the CSV yet: the CSV is used
    const i = inputsOf('csv-status-mismatch');
    const st = i.openStackVersion.status!;
    const notRolled = buildPlan(withOsv(i, { status: { ...st, availableVersion: st.deployedVersion } }));
    expect(notRolled.imageSource.kind).toBe('csv');
  });

  it('reports an operator hold set on the OpenStackVersion', () => {
    const i = inputsOf('example');
    const p = buildPlan(withOsv(i, { annotations: { [UPDATE_TARGET_STAGE_ANNOTATION]: 'ovn-dataplane' } }));
    expect(p.warnings.find((w) => w.code === 'OPERATOR_HOLD')?.message).toMatch(/holds the update after stage ovn-dataplane/);
  });
});

describe('operator holds (upstream PR #1913)', () => {
  const gated = { type: 'MinorUpdateRabbitMQ', status: 'False', reason: 'Gated', message: 'Minor update progression stopped after stage: ovn-dataplane' };

  it('a Gated condition is a hold, not an error', () => {
    expect(isOperatorHold(gated)).toBe(true);
    expect(isOperatorHold({ ...gated, reason: 'Error' })).toBe(false);
    const h = operatorHold({ annotations: {}, conditions: [gated] }, 'MinorUpdateRabbitMQ');
    expect(h?.message).toMatch(/^held by the operator: MinorUpdateRabbitMQ=False \(Gated\)/);
  });

  it('the annotation holds the stages after the one it names', () => {
    const osv = { annotations: { [UPDATE_TARGET_STAGE_ANNOTATION]: 'keystone' } };
    expect(conditionsAllowedBy('keystone')).toContain('MinorUpdateKeystone');
    expect(operatorHold(osv, 'MinorUpdateKeystone')).toBeUndefined();
    expect(operatorHold(osv, 'MinorUpdateControlplane')?.stage).toBe('keystone');
    expect(operatorHold(osv, 'MinorUpdateDataplane')).toBeDefined();
    expect(operatorHold({ annotations: { [UPDATE_TARGET_STAGE_ANNOTATION]: 'controlplane' } }, 'MinorUpdateDataplane')).toBeUndefined();
    expect(operatorHold({ annotations: { [UPDATE_TARGET_STAGE_ANNOTATION]: 'bogus' } })?.message).toMatch(/names no stage/);
    expect(operatorHold({ annotations: {} })).toBeUndefined();
  });
});

describe('templates', () => {
  it('{{?name}} is an optional section, {{name}} is required', () => {
    expect(fill('a{{?x}}b', {})).toBe('ab');
    expect(fill('a{{?x}}b', { x: '-' })).toBe('a-b');
    expect(() => fill('a{{x}}b', {})).toThrow(/has no value/);
  });
});
