/**
 * src/imports/ must be exactly what `node scripts/import-crds.mjs` generates from crds/. This
 * fails when a CRD is updated without regenerating, or when a generated file is edited by hand.
 * Fix: run `node scripts/import-crds.mjs` and commit the result.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..', '..');
const committed = join(root, 'src', 'imports');
const fresh = mkdtempSync(join(tmpdir(), 'osv-imports-'));
afterAll(() => rmSync(fresh, { recursive: true, force: true }));

describe('src/imports is up to date with crds/', () => {
  // cdk8s import of six CRDs takes ~15 s alone and 30 s with the machine loaded: give it room, not a race
  it('regenerates byte-for-byte', { timeout: 240_000 }, async () => {
    await promisify(execFile)(process.execPath, [join(root, 'scripts', 'import-crds.mjs'), '--out', fresh, '--quiet'], { cwd: root });
    const files = readdirSync(fresh).sort();
    expect(files).toEqual([
      'argocdapplication-argoproj.io.ts',
      'fluxgitrepository-source.toolkit.fluxcd.io.ts',
      'fluxkustomization-kustomize.toolkit.fluxcd.io.ts',
      'openstackdataplanedeployment-dataplane.openstack.org.ts',
      'openstackdataplanenodeset-dataplane.openstack.org.ts',
      'openstackversion-core.openstack.org.ts',
    ]);
    expect(readdirSync(committed).sort(), 'files in src/imports/ that the script does not generate').toEqual(files);
    for (const f of files) {
      const same = readFileSync(join(fresh, f)).equals(readFileSync(join(committed, f)));
      expect(same, `src/imports/${f} differs from a fresh import: run \`node scripts/import-crds.mjs\``).toBe(true);
    }
  });
});
