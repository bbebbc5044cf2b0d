// The fast YAML reader against the full parser: on every YAML file of the project, on tricky
// snippets and on mutated manifests it must either step aside (undefined) or give exactly the
// values `yaml` gives; and it must take the example's inputs, or it saves nothing.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parsePlainYaml } from '../../src/inputs/plain-yaml.js';
import { parseWithYaml, parseYamlDocuments } from '../../src/inputs/yaml.js';
import { OsvError } from '../../src/errors.js';

const root = join(import.meta.dirname, '..', '..');

function yamlFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && /\.ya?ml$/.test(e.name))
    .map((e) => join(e.parentPath, e.name));
}

/** What the full parser says: the documents, or that the text is an error. */
function full(text: string): unknown[] | 'error' {
  try {
    return parseWithYaml(text, 'x.yaml');
  } catch {
    return 'error';
  }
}

/** The fast reader agrees with the full parser or steps aside; true when it took the text. */
function agrees(text: string): boolean {
  const fast = parsePlainYaml(text);
  if (fast === undefined) return false;
  expect(full(text), text).toEqual(fast);
  return true;
}

describe('plain-yaml', () => {
  it('reads every YAML file of the project as `yaml` does, or leaves it to `yaml`', () => {
    const files = ['fixtures', 'test', 'crds', 'reference-data', 'templates'].flatMap((d) => yamlFiles(join(root, d)));
    expect(files.length).toBeGreaterThan(100);
    const taken = files.filter((f) => agrees(readFileSync(f, 'utf8')));
    // most manifests are in the subset; a reader that refuses everything would pass the check above
    expect(taken.length).toBeGreaterThan(files.length / 2);
  });

  it('takes the example inputs (the start-up path of plan --example)', () => {
    const example = join(root, 'fixtures', 'example');
    for (const f of ['csv.yaml', 'openstackversion.yaml', 'controlplane.yaml', 'nodesets/compute-a.yaml', 'nodesets/compute-b.yaml']) {
      expect(agrees(readFileSync(join(example, f), 'utf8')), f).toBe(true);
    }
  });

  const taken: [string, unknown][] = [
    ['a: 1\nb: -2\nc: 0\nd: 18.0\ne: 1e5\nf: .5\ng: true\nh: False\ni: ~\nj: NULL\nk:\n', { a: 1, b: -2, c: 0, d: '18.0', e: '1e5', f: '.5', g: true, h: false, i: null, j: null, k: null }],
    ['a:\n- 1\n- x: y\n  z: w\n-\n- - n\nb: []\nc: {}\n', { a: [1, { x: 'y', z: 'w' }, null, ['n']], b: [], c: {} }],
    ["a: 'it''s # not a comment' # a comment\nb: \"q \\\" \\\\ \\n\"\nc: x#y\nd: http://h:8080/p\n", { a: "it's # not a comment", b: 'q " \\ \n', c: 'x#y', d: 'http://h:8080/p' }],
    ['18.0.3-1761036417:\n  glanceWsgi: "true"\n18.0: x\n', { '18.0.3-1761036417': { glanceWsgi: 'true' }, '18.0': 'x' }],
    ['# lead\n---\na: 1\n---\n- b\n', [{ a: 1 }, ['b']]],
    ['  a:\n    b: yes\n  c: on\n', { a: { b: 'yes' }, c: 'on' }],
    ['- k:\n  - a\n  j: 1\n- k:\n- z\n', [{ k: ['a'], j: 1 }, { k: null }, 'z']],
  ];
  it.each(taken)('takes %j', (text, value) => {
    expect(agrees(text)).toBe(true);
    const docs = parsePlainYaml(text)!;
    expect(docs.length === 1 ? docs[0] : docs).toEqual(value);
  });

  const leftToYaml = [
    'a: &x 1\nb: *x\n', 'a: !!str 1\n', 'a: |\n  text\n', 'a: >-\n  text\n', 'a: [1, 2]\n', 'a: {b: 1}\n',
    'a: one\n  two\n', 'a: "one\n  two"\n', 'a: 1\na: 2\n', 'a: 0x1F\n', 'a: 010\n', 'a: +1\n', 'a: .inf\n',
    '1: a\n', 'true: a\n', '0x1F: a\n', '"k": v\n', 'a b: c\n', 'a: b: c\n', 'a:\tb\n', 'a: 1\r\nb: 2\r\n',
    '\ufeffa: 1\n', '%YAML 1.1\n---\na: 1\n', 'a: 1\n---\n', 'a: 1\n---\n---\nb: 2\n', 'a: 1\n...\n', '', '# only\n',
    'text\n', 'a:\n  b: 1\n c: 2\n', '- a\nb: 1\n', 'a: "\\x41"\n', "a: 'x' y\n", '__proto__: 1\n', '<<: 1\n',
    'a: \u00a0b\n', '? a\n: b\n', 'a: - b\n', 'a:\n  - b\n  c: d\n', 'a: 99999999999999999999\n',
  ];
  it.each(leftToYaml)('leaves %j to yaml', (text) => {
    expect(parsePlainYaml(text)).toBeUndefined();
  });

  it('agrees with `yaml` on mutated manifests (seeded)', () => {
    const texts = ['csv.yaml', 'openstackversion.yaml', 'nodesets/compute-a.yaml'].map((f) => readFileSync(join(root, 'fixtures', 'example', f), 'utf8'));
    const pieces = [' ', '  ', ':', ': ', '-', '- ', '#', ' #', '"', "'", '\n', '[', ']', '{}', '0', '.', 'x', '---\n', '\\'];
    let seed = 14;
    const random = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed % n;
    };
    let tried = 0;
    for (let i = 0; i < 600; i++) {
      const text = texts[i % texts.length]!;
      const at = random(text.length);
      const cut = random(3);
      const mutated = text.slice(0, at) + pieces[random(pieces.length)] + text.slice(at + cut);
      if (agrees(mutated)) tried++;
    }
    // many mutations stay in the subset, so the comparison above ran on them
    expect(tried).toBeGreaterThan(100);
  });

  it('agrees with `yaml` on every kind of plain scalar, as a value, a key and an item', () => {
    const scalars = ['~', 'null', 'Null', 'NULL', 'nULL', 'true', 'True', 'TRUE', 'tRUE', 'false', 'False', 'FALSE', 'yes', 'no', 'on', 'off', 'y', 'n', 't', 'f'];
    scalars.push('0', '7', '-1', '+1', '012', '0o17', '0x1F', '-0x1', '1_000', '1.5', '-.5', '.5', '+.5', '1e3', '-1E-3', '.inf', '-.Inf', '+.INF', '.nan', '.NaN', '.NAN');
    scalars.push('-', '+', '.', '+-', '..', 'name', 'Zebra', '_x', '9lives', '0755', '12:30', '2001-12-14', '-compute', '.hidden', 'nodes', 'template', 'F00D');
    let took = 0;
    for (const x of scalars) for (const text of [`k: ${x}\n`, `${x}: v\n`, `- ${x}\n`]) if (agrees(text)) took++;
    expect(took).toBeGreaterThan(scalars.length);
  });

  it('reads `key: word` lines (its one-step path) as `yaml` does, and steps aside on all the rest', () => {
    const keys = ['name', 'Name', 'A', '_x', 'a.b/c-d', 'nova', 'true', 'False', 'Null', 'x1', '9a', '__proto__'];
    const values = ['x', 'Zebra', '/var/lib', '_x', 'quay.io/a/b:1.2', 'a@sha256:ab', 'http://h:80/p', 'a:', 'a::', 'a:b:', 'b:c', 'x-', 'x.', 'x/', 'nope', 'T', 'y', 'a#b', 'a #b', 'a b'];
    let took = 0;
    for (const k of keys) for (const v of values) for (const text of [`${k}: ${v}\n`, `${k}:\n  ${k}: ${v}\n`, `- ${k}: ${v}\n  o: ${v}\n`]) if (agrees(text)) took++;
    expect(took).toBeGreaterThan(keys.length * values.length);
    // a value that ends with `:` is a key of a mapping `yaml` refuses there: never read as a string
    for (const text of ['a: b:\n', 'a: b::\n', 'a: x:y:\n']) expect(parsePlainYaml(text)).toBeUndefined();
  });

  it('steps aside on deep nesting, and deep hostile input is a typed input error, not a stack overflow', () => {
    const nested = (levels: number) => `${'- '.repeat(levels)}x\n`;
    expect(parsePlainYaml(nested(150))).toBeDefined();
    expect(parsePlainYaml(nested(1_000))).toBeUndefined();
    let thrown: unknown;
    try {
      parseYamlDocuments(nested(100_000), 'deep.yaml');
    } catch (e) {
      thrown = e;
    }
    expect(thrown).toBeInstanceOf(OsvError);
    expect((thrown as OsvError).code).toBe('INPUT_YAML');
  });
});
