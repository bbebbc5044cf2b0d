import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { computeContainerImages, defaultsFromEnv, goFieldNameForEnv } from '../src/images/defaults.js';
import { diffImages, rolloutPhases, shortChange } from '../src/images/diff.js';
import { BACKEND_MAPS, IMAGE_FIELDS, STATUS_ONLY_FIELDS } from '../src/images/fields.js';
import { EMPTY_IMAGE_SET } from '../src/images/image-set.js';

const root = join(import.meta.dirname, '..');
const envList = (parse(readFileSync(join(root, 'reference-data/openstack-operator/default_images.yaml'), 'utf8')) as {
  spec: { template: { spec: { containers: { env: { name: string; value: string }[] }[] } } };
}).spec.template.spec.containers[0]!.env;
const env = Object.fromEntries(envList.map((e) => [e.name, e.value]));

describe('the operator env → field rule (facts §3.2)', () => {
  it('computes Go field names like the operator', () => {
    expect(goFieldNameForEnv('RELATED_IMAGE_BARBICAN_KEYSTONE_LISTENER_IMAGE_URL_DEFAULT')).toBe('BarbicanKeystoneListenerImage');
    expect(goFieldNameForEnv('RELATED_IMAGE_CLOUDKITTY_API_IMAGE_URL_DEFAULT')).toBe('CloudKittyAPIImage');
    expect(goFieldNameForEnv('RELATED_IMAGE_HEAT_CFNAPI_IMAGE_URL_DEFAULT')).toBe('HeatCfnapiImage');
    expect(goFieldNameForEnv('RELATED_IMAGE_OPENSTACK_MUST_GATHER_DEFAULT')).toBe('OpenstackMust');
    expect(goFieldNameForEnv('TEST_TOBIKO_IMAGE_URL_DEFAULT')).toBe('');
  });

  it('maps every variable of the real default_images.yaml, with only must-gather left over', () => {
    const r = defaultsFromEnv(env);
    expect(r.warnings.map((w) => `${w.code} ${w.name}`)).toEqual(['IMAGE_ENV_IGNORED RELATED_IMAGE_OPENSTACK_MUST_GATHER_DEFAULT']);
    expect(r.defaults['cloudkittyAPIImage']).toBe(env['RELATED_IMAGE_CLOUDKITTY_API_IMAGE_URL_DEFAULT']);
    expect(r.defaults['cloudkittyProcImage']).toBe(env['RELATED_IMAGE_CLOUDKITTY_PROC_IMAGE_URL_DEFAULT']);
    expect(r.defaults['infraDnsmasqImage']).toBe(env['RELATED_IMAGE_NEUTRON_API_IMAGE_URL_DEFAULT']);
    expect(r.defaults['cinderVolumeImage']).toBe(env['RELATED_IMAGE_CINDER_VOLUME_IMAGE_URL_DEFAULT']);
    expect(r.defaults['manilaShareImage']).toBe(env['RELATED_IMAGE_MANILA_SHARE_IMAGE_URL_DEFAULT']);
    expect(r.defaults['testTobikoImage']).toBe(env['TEST_TOBIKO_IMAGE_URL_DEFAULT']);
    expect(r.defaults['designateBackendbind9Image']).toBeDefined();
    // fields no variable fills (facts §3.4)
    for (const f of ['edpmIscsidImage', 'edpmMultipathdImage', 'edpmOpenstackNetworkExporterImage', 'telemetryNodeExporterImage']) {
      expect(r.defaults[f]).toBeUndefined();
    }
    // 88 RELATED_IMAGE_*_URL_DEFAULT + 3 TEST_* − (cinder volume, manila share → singular keys, counted) + dnsmasq
    expect(Object.keys(r.defaults)).toHaveLength(88 + 3 + 1);
  });

  it('warns about a variable no field takes, naming the field the operator computed', () => {
    const r = defaultsFromEnv({ RELATED_IMAGE_CLOUDKITTY_PROCESSOR_IMAGE_URL_DEFAULT: 'quay.io/x/y:1' });
    expect(r.warnings[0]?.code).toBe('IMAGE_ENV_UNMAPPED');
    expect(r.warnings[0]?.message).toContain('cloudKittyProcessorImage');
    expect(r.defaults).toEqual({});
  });
});

describe('status.containerImages (facts §1.3, §1.4)', () => {
  const { defaults } = defaultsFromEnv(env);

  it('overlays custom images and copies apache into the two status-only fields', () => {
    const ci = computeContainerImages(defaults, { ...EMPTY_IMAGE_SET, fields: { apacheImage: 'quay.io/x/httpd:2', glanceAPIImage: 'quay.io/x/glance:hotfix' } });
    expect(ci.fields['glanceAPIImage']).toBe('quay.io/x/glance:hotfix');
    expect(ci.fields['octaviaApacheImage']).toBe('quay.io/x/httpd:2');
    expect(ci.fields['ceilometerProxyImage']).toBe('quay.io/x/httpd:2');
    expect(ci.fields['novaAPIImage']).toBe(defaults['novaAPIImage']);
  });

  it('always overwrites the default backend key, keeps the others', () => {
    const ci = computeContainerImages(defaults, { ...EMPTY_IMAGE_SET, cinderVolumeImages: { default: 'quay.io/mine/cv:1', pure: 'quay.io/pure/cv:1' } });
    expect(ci.cinderVolumeImages).toEqual({ default: defaults['cinderVolumeImage'], pure: 'quay.io/pure/cv:1' });
    expect(ci.manilaShareImages).toEqual({ default: defaults['manilaShareImage'] });
  });

  it('falls back to the deprecated network exporter field, and never sets it in status', () => {
    const ci = computeContainerImages(defaults, { ...EMPTY_IMAGE_SET, fields: { edpmOpenstackNetworkExporterImage: 'quay.io/old/exporter:1' } });
    expect(ci.fields['openstackNetworkExporterImage']).toBe('quay.io/old/exporter:1');
    expect(ci.fields['edpmOpenstackNetworkExporterImage']).toBeUndefined();
    const both = computeContainerImages(defaults, {
      ...EMPTY_IMAGE_SET,
      fields: { edpmOpenstackNetworkExporterImage: 'quay.io/old/exporter:1', openstackNetworkExporterImage: 'quay.io/new/exporter:2' },
    });
    expect(both.fields['openstackNetworkExporterImage']).toBe('quay.io/new/exporter:2');
  });
});

describe('the field catalogue against the real CRD', () => {
  it('lists exactly the image fields of spec.customContainerImages and status.containerImages', () => {
    const crd = parse(readFileSync(join(root, 'crds/openstack-operator/core.openstack.org_openstackversions.yaml'), 'utf8')) as {
      spec: { versions: { schema: { openAPIV3Schema: { properties: Record<string, { properties: Record<string, { properties: Record<string, unknown> }> }> } } }[] };
    };
    const s = crd.spec.versions[0]!.schema.openAPIV3Schema.properties;
    const custom = Object.keys(s['spec']!.properties['customContainerImages']!.properties).sort();
    expect([...Object.keys(IMAGE_FIELDS), ...Object.keys(BACKEND_MAPS)].sort()).toEqual(custom);
    const status = Object.keys(s['status']!.properties['containerImages']!.properties).sort();
    expect([...Object.keys(IMAGE_FIELDS), ...Object.keys(BACKEND_MAPS), ...Object.keys(STATUS_ONLY_FIELDS)].sort()).toEqual(status);
  });
});

describe('rollout phases and the diff', () => {
  it('puts each image in the phase that rolls it out', () => {
    expect(rolloutPhases('ovnControllerImage', true)).toEqual(['ovn-controlplane', 'ovn-dataplane']);
    expect(rolloutPhases('ovnControllerOvsImage', true)).toEqual(['ovn-controlplane']);
    expect(rolloutPhases('ovnNbDbclusterImage', true)).toEqual(['controlplane']);
    expect(rolloutPhases('novaComputeImage', true)).toEqual(['controlplane', 'dataplane']);
    expect(rolloutPhases('edpmFrrImage', true)).toEqual(['dataplane']);
    expect(rolloutPhases('ovnControllerImage', false)).toEqual(['controlplane', 'dataplane']);
    expect(rolloutPhases('edpmIscsidImage', true)).toEqual([]);
  });

  it('reports changed, added, removed and unchanged per field and backend', () => {
    const d = diffImages(
      { fields: { glanceAPIImage: 'a', novaAPIImage: 'n' }, cinderVolumeImages: { default: 'c1', old: 'o' }, manilaShareImages: {} },
      { fields: { glanceAPIImage: 'b', novaAPIImage: 'n', heatAPIImage: 'h' }, cinderVolumeImages: { default: 'c2', pure: 'p' }, manilaShareImages: {} },
      true,
    );
    const by = (f: string, b?: string) => d.find((x) => x.field === f && x.backend === b)?.change;
    expect(by('glanceAPIImage')).toBe('changed');
    expect(by('novaAPIImage')).toBe('unchanged');
    expect(by('heatAPIImage')).toBe('added');
    expect(by('cinderVolumeImages', 'default')).toBe('changed');
    expect(by('cinderVolumeImages', 'old')).toBe('removed');
    expect(by('cinderVolumeImages', 'pure')).toBe('added');
  });

  it('shortens digests and names the repository once', () => {
    const a = 'quay.io/x/nova-api@sha256:' + '0'.repeat(64);
    const b = 'quay.io/x/nova-api@sha256:' + '1'.repeat(64);
    expect(shortChange(a, b)).toBe('quay.io/x/nova-api@sha256:000000000000 → @sha256:111111111111');
  });
});
