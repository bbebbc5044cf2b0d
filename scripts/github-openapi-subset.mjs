#!/usr/bin/env node
// Extract the operations the GitHub driver (src/forge/github.ts) uses from GitHub's published
// OpenAPI description, with every `$ref` they reach, into test/forge/github-openapi.json. The
// whole description is hundreds of megabytes; the test needs a few dozen kilobytes of it.
//
//   npm pack @octokit/openapi@23.0.2 && tar xzf octokit-openapi-23.0.2.tgz
//   node scripts/github-openapi-subset.mjs package/generated/api.github.com.json
//
// The description is GitHub's (github/rest-api-description), published by Octokit as
// @octokit/openapi under the MIT license; the output names its source, version and license.
// Prose (descriptions, examples) is dropped: only what validates a request or a response stays.
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const OPERATIONS = [
  ['get', '/repos/{owner}/{repo}/pulls'],
  ['post', '/repos/{owner}/{repo}/pulls'],
  ['get', '/repos/{owner}/{repo}/pulls/{pull_number}'],
  ['patch', '/repos/{owner}/{repo}/pulls/{pull_number}'],
  ['put', '/repos/{owner}/{repo}/pulls/{pull_number}/merge'],
  ['post', '/repos/{owner}/{repo}/statuses/{sha}'],
  ['get', '/repos/{owner}/{repo}/commits/{ref}/statuses'],
];

const source = process.argv[2];
if (!source) {
  console.error('usage: node scripts/github-openapi-subset.mjs <api.github.com.json>');
  process.exit(2);
}
const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const full = JSON.parse(readFileSync(source, 'utf8'));

const PROSE = new Set(['description', 'summary', 'examples', 'example', 'externalDocs', 'x-github', 'x-octokit', 'x-github-breaking-changes', 'x-stability-level']);

/** A copy without prose, collecting every `#/components/...` reference on the way. */
function strip(value, refs, namesOfFields = false) {
  if (Array.isArray(value)) return value.map((v) => strip(v, refs));
  if (value === null || typeof value !== 'object') return value;
  const out = {};
  for (const [k, v] of Object.entries(value)) {
    // inside `properties` the keys are field names (a status has a field called `description`)
    if (!namesOfFields && (PROSE.has(k) || k.startsWith('x-'))) continue;
    if (k === '$ref' && typeof v === 'string') refs.add(v);
    out[k] = strip(v, refs, !namesOfFields && k === 'properties');
  }
  return out;
}

function resolvePointer(ref) {
  if (!ref.startsWith('#/')) throw new Error(`external $ref ${ref} is not supported`);
  return ref
    .slice(2)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
    .reduce((node, key) => {
      if (node?.[key] === undefined) throw new Error(`$ref ${ref} does not resolve`);
      return node[key];
    }, full);
}

const refs = new Set();
const paths = {};
for (const [method, path] of OPERATIONS) {
  const op = full.paths?.[path]?.[method];
  if (!op) throw new Error(`${method.toUpperCase()} ${path} is not in ${source}`);
  paths[path] ??= {};
  paths[path][method] = strip(op, refs);
}

const components = {};
const done = new Set();
for (let pending = [...refs]; pending.length; ) {
  const ref = pending.pop();
  if (done.has(ref)) continue;
  done.add(ref);
  const [, section, name] = ref.split('/').slice(1);
  const found = new Set();
  (components[section] ??= {})[name] = strip(resolvePointer(ref), found);
  pending.push(...[...found].filter((r) => !done.has(r)));
}
// a stable file: sections and names sorted
const sorted = Object.fromEntries(Object.keys(components).sort().map((s) => [s, Object.fromEntries(Object.keys(components[s]).sort().map((n) => [n, components[s][n]]))]));

const subset = {
  openapi: full.openapi,
  info: {
    title: 'Subset of GitHub\'s REST API description: the operations of osv-gitops\'s GitHub driver',
    version: full.info.version,
    'x-source': `@octokit/openapi ${full.info.version}, generated/api.github.com.json (github/rest-api-description, https://github.com/octokit/openapi)`,
    'x-generated-by': 'scripts/github-openapi-subset.mjs (descriptions and examples dropped)',
    license: { name: 'MIT', url: 'https://spdx.org/licenses/MIT' },
  },
  paths,
  components: sorted,
};
const out = join(root, 'test', 'forge', 'github-openapi.json');
writeFileSync(out, `${JSON.stringify(subset, null, 1)}\n`);
console.log(`wrote ${out}: ${OPERATIONS.length} operations, ${done.size} components`);
