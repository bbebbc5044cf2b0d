import { mkdtempSync, statSync, writeFileSync, openSync, ftruncateSync, closeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { deploymentName, MAX_DEPLOYMENT_NAME, versionSlug } from '../src/plan/names.js';
import { compareReleaseVersions } from '../src/plan/versions.js';
import { applyReleaseVersionScheme } from '../src/inputs/csv.js';
import { runCli } from './helpers/cli.js';

describe('release version ordering', () => {
  it.each([
    ['18.0.3', '18.0.4', -1],
    ['18.0.4-1764633600', '18.0.3-1761036417', 1],
    ['19.0.0-1784642723', '19.0.0-1784642724', -1],
    ['19.0.0-1784642724', '19.0.0-1784642723', 1],
    ['19.0.0', '19.0.0-1784642723', -1],
    ['18.0', '18.1', -1],
    ['1.2.3.1234567890.p', '1.2.3.1234567891.p', -1],
    ['18.0.10', '18.0.9', 1],
  ])('%s vs %s', (a, b, sign) => {
    expect(Math.sign(compareReleaseVersions(a, b) ?? NaN)).toBe(sign);
  });

  it('refuses to order opaque strings', () => {
    expect(compareReleaseVersions('old', '18.0.1')).toBeUndefined();
  });

  it('appends the CSV epoch with csvEpochAppend, as the operator test does', () => {
    expect(applyReleaseVersionScheme('1.2.3', 'csvEpochAppend', 'openstack-operator.v1.0.0-0.1234567890.p')).toBe('1.2.3.1234567890.p');
    expect(applyReleaseVersionScheme('1.2.3', undefined, 'openstack-operator.v1.0.0-0.1234567890.p')).toBe('1.2.3');
  });
});

describe('data-plane deployment names', () => {
  it('are RFC 1123, deterministic and unique per version, step, batch and attempt', () => {
    const a = deploymentName({ prefix: 'edpm', step: 'update', version: '18.0.4-1764633600' });
    expect(a).toBe('edpm-update-18-0-4-1764633600');
    expect(deploymentName({ prefix: 'edpm', step: 'update', version: '18.0.4-1764633600', batch: 2, attempt: 3 })).toBe('edpm-update-18-0-4-1764633600-b2-r3');
    expect(versionSlug('1.2.3.1234567890.p')).toBe('1-2-3-1234567890-p');
  });

  it('stay within 53 characters and keep uniqueness with a hash', () => {
    const long = 'x'.repeat(80);
    const a = deploymentName({ prefix: 'my-very-long-site-prefix', step: 'update-services', version: `${long}1`, batch: 12 });
    const b = deploymentName({ prefix: 'my-very-long-site-prefix', step: 'update-services', version: `${long}2`, batch: 12 });
    expect(a.length).toBeLessThanOrEqual(MAX_DEPLOYMENT_NAME);
    expect(a).toMatch(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/);
    expect(a).not.toBe(b);
    expect(a.endsWith('-b12')).toBe(true);
  });
});

describe('hostile input', () => {
  it('refuses a 50 MB file fast, before reading it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'osv-big-'));
    const big = join(dir, 'osv.yaml');
    const fd = openSync(big, 'w');
    ftruncateSync(fd, 50 * 1024 * 1024);
    closeSync(fd);
    expect(statSync(big).size).toBe(50 * 1024 * 1024);
    const t0 = performance.now();
    const res = await runCli(['plan', '--openstack-version', big, '--json'], dir);
    expect(performance.now() - t0).toBeLessThan(2000);
    expect(res.exitCode).toBe(2);
    expect(res.stderr).toContain('INPUT_TOO_LARGE');
    expect(res.stderr).toContain('osv.yaml');
  });

  it('names the file and the path inside it for a wrong type', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'osv-bad-'));
    writeFileSync(join(dir, 'osv.yaml'), 'apiVersion: core.openstack.org/v1beta1\nkind: OpenStackVersion\nmetadata: {name: openstack}\nspec:\n  targetVersion: 18.0.3\n  customContainerImages:\n    novaAPIImage: [not, an, image]\n');
    const res = await runCli(['plan', '--openstack-version', 'osv.yaml'], dir);
    expect(res.exitCode).toBe(2);
    expect(res.stderr).toMatch(/osv\.yaml: spec\.customContainerImages\.novaAPIImage: expected a string, found a list/);
  });

  it('answers "nothing to do" with exit 0 when the target is deployed', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'osv-same-'));
    writeFileSync(join(dir, 'osv.yaml'), 'apiVersion: core.openstack.org/v1beta1\nkind: OpenStackVersion\nmetadata: {name: openstack}\nspec: {targetVersion: "18.0.3"}\nstatus: {availableVersion: "18.0.3", deployedVersion: "18.0.3", containerImageVersionDefaults: {"18.0.3": {novaAPIImage: "quay.io/x/n:1"}}}\n');
    const res = await runCli(['plan', '--openstack-version', 'osv.yaml'], dir);
    expect(res.exitCode).toBe(0);
    expect(res.stderr).toContain('already deployed');
  });

  it('gives usage errors exit 2 and lists the commands in --help', async () => {
    const bad = await runCli(['plan', '--no-such-flag'], tmpdir());
    expect(bad.exitCode).toBe(2);
    const help = await runCli(['--help'], tmpdir());
    expect(help.exitCode).toBe(0);
    expect(help.stdout).toContain('plan');
  });
});
