/**
 * The agent registry is the one place that knows the GitOps agents (src/agents/index.ts): every
 * engine the CLI accepts has its folder behind `api.ts`, no folder is left out of the registry,
 * engine names are not compared outside it, and each rehearsed agent's parts agree with each
 * other on one small scenario: the rehearsal model applies our first phase commit, the status
 * reader reads that commit back as applied, and the owner marks the model left on the live
 * OpenStackVersion name the agent object our commits go through.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ENGINES, REHEARSED_ENGINES, agentFor, engineOf, rehearsedEngineOf, statusOf } from '../../src/agents/index.js';
import { wiringFor } from '../../src/agents/wiring.js';
import { advanceOnce, type AdvanceResult } from '../../src/advance/advance.js';
import { startRehearsalCluster } from '../../src/simulate/rehearsal.js';
import { liveOwnerOf, secondLiveOwner } from '../../src/status/live-owner.js';
import { agentRevision } from '../../src/status/agent.js';
import { projectRoot } from '../../src/validate/project-root.js';
import { sealGitEnv } from '../helpers/git-repo.js';
import { clusterReader, rehearsalInputs } from '../helpers/rehearsal.js';

const SRC = join(projectRoot(), 'src');
const AGENTS_DIR = join(SRC, 'agents');

function tsFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? tsFiles(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : []));
}

/**
 * Engine names compared outside src/agents, each with why it stays: the Argo CD flags of `render`
 * (--repo-url, --profile) and the kustomize build flavour the simulated agents ask for.
 */
const ALLOWED_OUTSIDE = [
  'cli/render.ts: --profile must be argocd or openshift-gitops',
  "cli/render.ts: if (engine === 'argocd' && !flags.repoUrl)",
  'cli/render.ts: --profile openshift-gitops goes with --engine argocd',
  "simulate/agent/build.ts: opts.plainDirectory === 'flux'",
];

describe('the agent registry', () => {
  it('has one folder with an api.ts and a wiring.ts for every engine the CLI accepts, and no other folder', () => {
    const folders = readdirSync(AGENTS_DIR).filter((n) => statSync(join(AGENTS_DIR, n)).isDirectory());
    expect([...folders].sort()).toEqual([...ENGINES].sort());
    for (const engine of ENGINES) {
      expect(engineOf(engine)).toBe(engine);
      expect(statSync(join(AGENTS_DIR, engine, 'api.ts')).isFile()).toBe(true);
      expect(statSync(join(AGENTS_DIR, engine, 'wiring.ts')).isFile()).toBe(true);
      expect(agentFor(engine).engine).toBe(engine);
      expect(typeof wiringFor(engine).render).toBe('function');
    }
    expect(() => engineOf('kargo')).toThrow(/--engine must be flux, argocd or plain, not "kargo"/);
    // simulate takes the engines that have a rehearsal model
    for (const engine of ENGINES) {
      if (agentFor(engine).rehearsal) expect(rehearsedEngineOf(engine)).toBe(engine);
      else expect(() => rehearsedEngineOf(engine)).toThrow(/--engine must be/);
    }
  });

  it('is the only place that compares engine names (outside it, only the agent-specific flags listed here)', () => {
    const engineLiteral = /(?:===|!==)\s*'(flux|argocd|plain)'|'(flux|argocd|plain)'\s*(?:===|!==)/;
    const outside = tsFiles(SRC)
      .filter((f) => !f.startsWith(AGENTS_DIR) && !f.startsWith(join(SRC, 'imports')))
      .flatMap((f) =>
        readFileSync(f, 'utf8')
          .split('\n')
          .filter((line) => engineLiteral.test(line))
          .map((line) => ({ file: relative(SRC, f), line: line.trim() })),
      );
    const unexplained = outside.filter((o) => !ALLOWED_OUTSIDE.some((a) => a.startsWith(`${o.file}: `) && o.line.includes(a.slice(a.indexOf(': ') + 2))));
    expect(unexplained).toEqual([]);
    // the list above does not outlive the lines it explains
    for (const allowed of ALLOWED_OUTSIDE) expect(outside.some((o) => allowed.startsWith(`${o.file}: `) && o.line.includes(allowed.slice(allowed.indexOf(': ') + 2))), allowed).toBe(true);
  });
});

describe('the Agent contract on one scenario: rehearsal model, status reader and owner marks agree', () => {
  beforeAll(sealGitEnv);

  it.each(REHEARSED_ENGINES.map((e) => [e]))('%s: the first phase commit is applied, read back as applied, and marked as the agent object’s', async (engine) => {
    const opts = rehearsalInputs('example', engine, 'commits');
    const cluster = await startRehearsalCluster(opts);
    try {
      const read = clusterReader(cluster);
      let committed: AdvanceResult['committed'];
      for (let i = 0; i < 200 && !committed; i++) committed = (await advanceOnce(opts.update, { repo: cluster.repo.work, engine, remote: 'origin', readSnapshot: read })).committed;
      expect(committed).toBeDefined();
      const deadline = Date.now() + 60_000;
      let snapshot = await read();
      while (agentRevision(snapshot.agent!)?.sha !== committed!.sha || agentRevision(snapshot.agent!)?.notYet !== undefined) {
        if (Date.now() > deadline) throw new Error(`${engine}: ${JSON.stringify(agentRevision(snapshot.agent!))}`);
        await new Promise((r) => setTimeout(r, 100));
        snapshot = await read();
      }
      const agent = snapshot.agent!;
      expect(agent.engine).toBe(engine);
      expect(statusOf(engine).objectType.kind).toBe(statusOf(engine).objectKind);
      const osv = snapshot.openStackVersions.find((o) => (o['metadata'] as { name?: string }).name === opts.update.plan.openStackVersion);
      const owner = liveOwnerOf(osv!);
      expect(owner?.engine).toBe(engine);
      expect(statusOf(engine).names(owner!.shown, agent)).toBe(true);
      expect(secondLiveOwner(osv, agent)).toBeUndefined();
    } finally {
      await cluster.stop();
    }
  }, 150_000);
});
