// The fast YAML writer against `yaml`: on every object the example and the fixture cases render
// (flux, argocd and plain folders, commit-mode phase folders, the runner's manifests), on tricky
// snippets and on seeded random mutations it must either step aside (undefined) or give exactly
// the text `yaml` gives; and it must take the rendered objects, or it saves nothing.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { parse } from 'yaml';
import { loadUpdate } from '../../src/cli/inputs.js';
import { runnerOptions } from '../../src/cli/render-runner.js';
import { phaseGateCondition, phaseObjects, renderDirectories, renderedPhases, type Engine, type RenderInputs } from '../../src/render/render.js';
import { oneTestPerFlags, plainYamlOut, yaml11PlainTests } from '../../src/render/plain-yaml-out.js';
import { ALWAYS_QUOTED, toYaml, toYamlSlow } from '../../src/render/yaml-out.js';
import { runnerManifests } from '../../src/runner/manifests.js';
import type * as YamlOut from '../../src/render/yaml-out.js';

// every object the renderers hand to toYaml, recorded on the way
const rendered = vi.hoisted(() => [] as unknown[]);
vi.mock('../../src/render/yaml-out.js', async (importOriginal) => {
  const real = await importOriginal<typeof YamlOut>();
  return {
    ...real,
    toYaml: (obj: unknown) => {
      rendered.push(structuredClone(obj));
      return real.toYaml(obj);
    },
  };
});

const fixtures = join(import.meta.dirname, '..', '..', 'fixtures');
const ENGINES: Engine[] = ['flux', 'argocd', 'plain'];
const REPO = 'https://git.example.com/ops/openstack.git';

/** The fixture case's update, from the plan arguments in its case.yaml (as render.test.ts reads them). */
function load(name: string): RenderInputs {
  const dir = join(fixtures, name);
  const args = (parse(readFileSync(join(dir, 'case.yaml'), 'utf8')) as { args: string[] }).args;
  const flags: Record<string, unknown> = {};
  for (let i = 0; i < args.length; i++) {
    const key = args[i]!.replace(/^--/, '').replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
    const next = args[i + 1];
    if (next === undefined || next.startsWith('--')) flags[key] = true;
    else if (key === 'batch') flags[key] = [...((flags[key] as string[]) ?? []), args[++i]!];
    else flags[key] = args[++i];
  }
  return loadUpdate(flags, { cwd: dir, stdout: () => {}, stderr: () => {}, color: false });
}

/** What the writer gives: 'fast' when it took the value (and agreed), 'slow' when it stepped aside. */
function compare(value: unknown): 'fast' | 'slow' {
  const fast = plainYamlOut(value, ALWAYS_QUOTED);
  if (fast === undefined) return 'slow';
  expect(fast, JSON.stringify(value)).toBe(toYamlSlow(value));
  return 'fast';
}

const count = (results: string[]) => ({ fast: results.filter((r) => r === 'fast').length, total: results.length });

/** Every object the renderers write for the fixture cases, each once. */
function renderAll(): unknown[] {
  rendered.length = 0;
  const cases = readdirSync(fixtures).filter((d) => existsSync(join(fixtures, d, 'case.yaml')));
  for (const name of cases) {
    let inputs: RenderInputs;
    try {
      inputs = load(name);
    } catch {
      continue; // the cases a plan refuses render nothing
    }
    for (const engine of ENGINES) {
      try {
        renderDirectories(inputs, { engine, repoPath: 'clusters/prod', argo: { repoURL: REPO } });
      } catch {
        // phase 0 needs the user's Subscription (and Argo CD); the commit-mode folders below still render
      }
      for (const phase of renderedPhases(inputs.plan)) {
        if (phase.id === 'operator') continue;
        const gate = phaseGateCondition(phase);
        for (const o of phaseObjects(inputs, phase, { engine, ...(gate ? { healthGate: gate.condition } : {}) })) toYaml(o);
      }
    }
  }
  const runnerFlags = { image: 'quay.io/example/osv-gitops:0.1.0', repoUrl: REPO, gitSecret: 'osv-gitops-git', plan: 'updates/plan.json' };
  for (const agent of ['flux:flux-system/openstack', 'argocd:openshift-gitops/openstack']) {
    for (const m of runnerManifests(runnerOptions({ ...runnerFlags, agent }))) toYaml(m);
  }
  const seen = new Set<string>();
  return rendered.filter((o) => !seen.has(JSON.stringify(o)) && seen.add(JSON.stringify(o)));
}

let renderedOnce: unknown[] | undefined;
const renderedObjects = () => (renderedOnce ??= renderAll());

// the YAML 1.1 texts that are not plain strings, and shapes that need quotes or steps aside
const SPECIAL = [
  'y', 'Y', 'yes', 'Yes', 'YES', 'n', 'N', 'no', 'No', 'NO', 'true', 'True', 'TRUE', 'false', 'False', 'FALSE', 'on', 'On', 'ON',
  'off', 'Off', 'OFF', '~', 'null', 'Null', 'NULL', '0', '-1', '+1', '0755', '0o755', '0x1F', '0b101', '1e3', '1E3', '-1.5e-3', '1_000',
  '1.', '.5', '1.0', '18.0', '.inf', '-.Inf', '.nan', '.NaN', '12:30', '190:20:30', '1:2:3.5', '2001-01-01', '2001-12-14t21:59:43.10-05:00',
  '2001-12-14 21:59:43.10 -5', '<<', '=', '', ' ', ' a', 'a ', 'a: b', 'a:', 'a:b', 'a #b', 'a#b', '#a', '- a', '-', '-a', '--a', '---',
  '--- a', '...', '%a', '?', '? a', '?a', ':a', ',a', '[a', ']a', '{a', '}a', '&a', '*a', '!a', '|a', '>a', "'a", '"a', '@a', '`a',
  'a"b', "a'b", 'a"\'b', 'a\\b', 'a\nb', 'a\tb', 'a\rb', '\u0000', 'é', 'snowman ☃', '\u00a0a', 'a\u2028b', '\ud800', '😀',
  'a\nb\n', 'a\nb\n\n', 'a\n\nb', ' a\nb', '\na', 'a\n ', 'a\n\tb', '\ta\nb', 'a\n---\nb', 'a\n...', 'a\n%b', 'a  \nb', 'a\nb  ',
  'a\nb \t\n', '#a\nb', '- a\nb', 'a: b\nc', 'yes\nno', '"a"\n\'b\'', 'a\r\nb', 'a\n\u00e9', 'x\n'.repeat(50), '\n', '\n\n', 'a\n\n\nb\n',
  'http://h:8080/p?q=1#f', 'app.kubernetes.io/name', 'a.b/c:d', 'x'.repeat(2000), `${'word '.repeat(50)}end`,
];
const NUMBERS = [0, 1, -1, 1.5, -0.25, 1e21, 1e-7, 2 ** 53, Number.MAX_VALUE, Number.MIN_VALUE, -0, NaN, Infinity, -Infinity];

describe('plain-yaml-out', () => {
  it('writes every object the example and the fixture cases render as `yaml` does', () => {
    const objects = renderedObjects();
    const { fast, total } = count(objects.map(compare));
    console.log(`rendered objects: ${fast} of ${total} took the fast path`);
    expect(total).toBeGreaterThan(100);
    // the fast path must carry the rendered objects, or it saves nothing: all but the few holding
    // multi-line texts yaml writes its own way
    expect(fast).toBeGreaterThan(total * 0.9);
    const slow = objects.filter((o) => plainYamlOut(o, ALWAYS_QUOTED) === undefined);
    for (const o of slow) expect(JSON.stringify(o)).toMatch(/\\n/);
    // the objects a large estate repeats (nodesets, versions, deployments, folders) all take it
    const kindOf = (o: unknown) => String((o as { kind?: unknown }).kind);
    const perNodeset = objects.filter((o) => /^(?:OpenStackDataPlaneNodeSet|OpenStackVersion|OpenStackDataPlaneDeployment|Kustomization)$/.test(kindOf(o)));
    expect(perNodeset.length).toBeGreaterThan(50);
    expect(perNodeset.filter((o) => plainYamlOut(o, ALWAYS_QUOTED) === undefined).map(kindOf)).toEqual([]);
  });

  it('toYaml (fast or stepping aside) gives the text `yaml` gives for every rendered object', () => {
    const objects = renderedObjects();
    for (const o of objects) expect(toYaml(o)).toBe(toYamlSlow(o));
  });

  it('agrees on tricky snippets as values, keys, items and always-quoted values', () => {
    const values: unknown[] = [...SPECIAL, ...NUMBERS, true, false, null, undefined, [], {}, [[]], [{}], { a: {} }, { a: [] }, new Date(0), 10n];
    const snippets: unknown[] = [
      ...values.flatMap((v) => [{ k: v }, [v], [[v]], { a: { b: [v, { c: v }] } }, [{ k: v, l: [v] }], { targetVersion: v }, { 'argocd.argoproj.io/sync-wave': v }]),
      ...SPECIAL.map((s) => ({ [s]: 1, [`${s}x`]: [s] })),
      [[[1, [2]], [[3]]], { a: [[{ b: [[]] }]] }], { 'a.b': { 'c/d': { 'e:f': 1 } } }, { a: null, b: [null, {}, []] }, {}, [], 'top', 1, null,
      Object.assign(Object.create(null) as object, { a: 1 }), new Map([['a', 1]]), { toJSON: () => 1 },
    ];
    const { fast, total } = count(snippets.map(compare));
    console.log(`snippets: ${fast} of ${total} took the fast path`);
    expect(fast).toBeGreaterThan(total / 2);
  });

  it('agrees on seeded random mutations of rendered objects', () => {
    const objects = renderedObjects().slice(0, 60);
    let seed = 14;
    const random = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed % n;
    };
    const atoms = [...SPECIAL.filter((s) => s.length < 60), 'a', 'b', ' ', ':', '#', '-', '.', '0', '1', '"', "'", '\n', '\t'];
    const randomString = () => Array.from({ length: 1 + random(3) }, () => atoms[random(atoms.length)]!).join('');
    const randomLeaf = (): unknown => {
      switch (random(5)) {
        case 0:
          return NUMBERS[random(NUMBERS.length)];
        case 1:
          return [true, false, null, [], {}][random(5)];
        default:
          return randomString();
      }
    };
    /** One random change somewhere in `value`: a leaf replaced, a key renamed, an item added. */
    const mutate = (value: unknown): unknown => {
      if (Array.isArray(value)) {
        if (value.length === 0 || random(4) === 0) return [...value, randomLeaf()];
        const i = random(value.length);
        return value.map((v, j) => (j === i ? mutate(v) : v));
      }
      if (value !== null && typeof value === 'object') {
        const entries = Object.entries(value);
        if (entries.length === 0) return { [randomString()]: randomLeaf() };
        const i = random(entries.length);
        const rename = random(4) === 0;
        return Object.fromEntries(entries.map(([k, v], j) => (j !== i ? [k, v] : rename ? [randomString(), v] : [k, mutate(v)])));
      }
      return randomLeaf();
    };
    const results: string[] = [];
    for (let i = 0; i < 400; i++) {
      let value = objects[i % objects.length];
      for (let n = 1 + random(3); n > 0; n--) value = mutate(value);
      results.push(compare(value));
    }
    const { fast, total } = count(results);
    console.log(`mutations: ${fast} of ${total} took the fast path`);
    // the mutations hit both paths: the comparison above ran on many
    expect(fast).toBeGreaterThan(100);
    expect(total - fast).toBeGreaterThan(20);
  });

  it('asks the YAML 1.1 tests joined as one regex, with the same answers as one by one', () => {
    const tests = yaml11PlainTests();
    const joined = oneTestPerFlags(tests);
    expect(joined).toHaveLength(1); // yaml's tests have no flags and no back-references
    const separate = tests.map(([source, flags]) => new RegExp(source, flags));
    let seed = 7;
    const random = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed % n;
    };
    const chars = '0123456789_-+.:eEbxoTtZz <Nn~YyOo\t';
    const texts = [...SPECIAL, '', '0b101', '0755', '0x1F', '1_000', '12:30', '12:30.5', '.inf', '-.Inf', '.NaN', '1e3', '2001-12-14t21:59:43.10-05:00', '<<', 'yes', 'Off', 'compute-0000', 'quay.io/a/b:1'];
    for (let i = 0; i < 5000; i++) texts.push(Array.from({ length: 1 + random(12) }, () => chars[random(chars.length)]!).join(''));
    const differ = texts.filter((t) => joined.some((r) => r.test(t)) !== separate.some((r) => r.test(t)));
    expect(differ).toEqual([]);
    // the sample reaches both answers
    expect(texts.filter((t) => separate.some((r) => r.test(t))).length).toBeGreaterThan(100);
  });

  it('keeps a test with a back-reference or a named group alone, and joins only tests of the same flags', () => {
    const tests: [string, string][] = [['^(a)\\1$', ''], ['^(?<x>b)$', ''], ['^c$', ''], ['^d$', ''], ['^E$', 'i']];
    const joined = oneTestPerFlags(tests);
    expect(joined.map((r) => [r.source, r.flags])).toEqual([
      ['(?:^c$)|(?:^d$)', ''],
      ['(?:^E$)', 'i'],
      ['^(a)\\1$', ''],
      ['^(?<x>b)$', ''],
    ]);
    for (const t of ['aa', 'ab', 'b', 'c', 'd', 'e', 'E', 'x']) expect(joined.some((r) => r.test(t))).toBe(tests.some(([s, f]) => new RegExp(s, f).test(t)));
  });
});
