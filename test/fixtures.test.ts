/**
 * Every folder under fixtures/ is a case: `case.yaml` gives the plan arguments and what to expect;
 * successful cases compare the plan with `expected/plan.json` (regenerate with UPDATE_GOLDEN=1).
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { runCli } from './helpers/cli.js';

const root = join(import.meta.dirname, '..', 'fixtures');
const cases = readdirSync(root).filter((d) => existsSync(join(root, d, 'case.yaml')));

interface CaseSpec {
  description: string;
  args: string[];
  expect: { exitCode: number; errorCode?: string; warningCodes?: string[] };
}

describe('fixture cases (plan)', () => {
  it('has the cases the issue asks for', () => {
    for (const c of ['example', 'custom-backends', 'glance-hotfix', 'ovn-disabled', 'ovn-image-unchanged', 'rollback-refused', 'major-refused',
      'target-not-available', 'unknown-env-warned', 'csv-no-release-version', 'malformed-yaml', 'alias-bomb', 'duplicate-keys', 'unquoted-version',
      // issue 10: the release branches
      'fr3-to-fr4-controller-operator', 'fr5-to-fr6-backends-hotfix', 'fr6-ovn-unchanged-no-nodes', 'main-ovn-disabled']) {
      expect(cases).toContain(c);
    }
  });

  for (const name of cases) {
    it(name, async () => {
      const dir = join(root, name);
      const spec = parse(readFileSync(join(dir, 'case.yaml'), 'utf8')) as CaseSpec;
      const res = await runCli(['plan', ...spec.args, '--json'], dir);
      expect(res.exitCode, res.stderr).toBe(spec.expect.exitCode);
      const out = JSON.parse(res.stdout) as { error?: { code: string; message: string }; warnings?: { code: string }[] };
      if (spec.expect.errorCode) {
        expect(out.error?.code).toBe(spec.expect.errorCode);
        expect(res.stderr).toContain(spec.expect.errorCode);
        return;
      }
      expect(out.error).toBeUndefined();
      for (const w of spec.expect.warningCodes ?? []) expect(out.warnings?.map((x) => x.code)).toContain(w);
      const golden = join(dir, 'expected', 'plan.json');
      if (process.env['UPDATE_GOLDEN'] === '1' || !existsSync(golden)) {
        if (process.env['CI']) throw new Error(`missing golden ${golden}; run UPDATE_GOLDEN=1 npm test`);
        mkdirSync(join(dir, 'expected'), { recursive: true });
        writeFileSync(golden, res.stdout);
      }
      expect(res.stdout).toBe(readFileSync(golden, 'utf8'));
    });
  }
});
