/**
 * What a reviewer reads (issue 12): each phase's commit and pull request list only the images that
 * phase rolls out, later phases are counted, and "phase i of N" reads the same in the commit
 * subject, the pull-request title, the pull-request file name and `status`.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { formatStatus } from '../../src/cli/status.js';
import { gateCommands } from '../../src/plan/gate-commands.js';
import { imagesInNoPhase, phaseImages, phaseLabel, phaseTotal } from '../../src/plan/numbering.js';
import type { UpdatePlan } from '../../src/plan/types.js';
import { updateStatus } from '../../src/status/update-status.js';
import { runCli } from '../helpers/cli.js';
import { newRepo, sealGitEnv, sh, TEST_DATE } from '../helpers/git-repo.js';
import { clusterAt } from '../helpers/snapshots.js';

const fixtures = join(import.meta.dirname, '..', '..', 'fixtures');
const io = { cwd: process.cwd(), stdout: () => {}, stderr: () => {}, color: false };

interface Bpp {
  branches: { phase: string; index: number; branch: string; title: string; body: string; file?: string }[];
}

interface Reviewed {
  plan: UpdatePlan;
  /** Per phase id that changes Git: the commit message, the PR title, body and file name. */
  phases: Map<string, { message: string; title: string; body: string; file: string }>;
}

const caseArgs = (name: string) => (parse(readFileSync(join(fixtures, name, 'case.yaml'), 'utf8')) as { args: string[] }).args;

async function review(name: string): Promise<Reviewed> {
  const dir = join(fixtures, name);
  const planned = await runCli(['plan', ...caseArgs(name), '--json'], dir);
  expect(planned.exitCode, planned.stderr).toBe(0);
  const plan = JSON.parse(planned.stdout) as UpdatePlan;
  const repo = newRepo({ push: false });
  const prDir = join(repo.base, 'prs');
  const res = await runCli(['commit', ...caseArgs(name), '--repo', repo.work, '--branch-per-phase', '--all', '--pr-dir', prDir, '--date', TEST_DATE, '--json'], dir);
  expect(res.exitCode, res.stderr).toBe(0);
  const out = JSON.parse(res.stdout) as Bpp;
  expect(readdirSync(join(prDir, plan.versions.target)).sort()).toEqual(out.branches.map((b) => b.file!.split('/').pop()).sort());
  const phases = new Map(
    out.branches.map((b) => [b.phase, { message: sh(repo.work, 'log', '-1', '--format=%B', b.branch), title: b.title, body: b.body, file: b.file!.split('/').pop()! }]),
  );
  return { plan, phases };
}

/** The rows of a section that starts with `heading` and runs to the next blank line. */
function sectionRows(text: string, heading: RegExp): string[] {
  const lines = text.split('\n');
  const start = lines.findIndex((l) => heading.test(l));
  expect(start, `no section ${heading} in\n${text}`).toBeGreaterThanOrEqual(0);
  const rows: string[] = [];
  for (const l of lines.slice(start + 1)) {
    if (!l.startsWith('- ')) break;
    rows.push(l);
  }
  return rows;
}

/** `- nova novaAPIImage: changed …` → `novaAPIImage`, `cinderVolumeImages[default]` as is. */
const rowField = (row: string) => /^- \S+ (\S+):/.exec(row)?.[1];
const imageKey = (d: { field: string; backend?: string }) => (d.backend !== undefined ? `${d.field}[${d.backend}]` : d.field);
/** The short digest a row shows of an image reference. */
const shortDigest = (ref: string | undefined) => (ref?.includes('@sha256:') ? ref.slice(ref.indexOf('@sha256:'), ref.indexOf('@sha256:') + 20) : undefined);

describe.each(['example', 'batches-canary'])('review content of %s', (name) => {
  let r: Reviewed;
  beforeAll(async () => {
    sealGitEnv();
    r = await review(name);
  }, 60_000);

  it('lists only phase 1 images in phase 1, and counts the later phases', () => {
    const { plan } = r;
    const first = plan.phases.find((p) => p.git.changes)!;
    expect(first.id).toBe('ovn-controlplane');
    const mine = phaseImages(plan, first);
    expect(mine.length).toBeGreaterThan(0);
    const { message, body } = r.phases.get(first.id)!;
    for (const text of [message, body]) {
      const rows = sectionRows(text, /Images rolling out in this phase \(\d+\)/);
      expect(rows.map(rowField).sort()).toEqual(mine.map(imageKey).sort());
      // no other image shows anywhere in phase 1's text, not even by digest
      for (const d of plan.imageDiff.filter((x) => x.change !== 'unchanged' && !mine.includes(x))) {
        const digest = shortDigest(d.to);
        if (digest && !mine.some((m) => shortDigest(m.to) === digest)) expect(text, `${imageKey(d)} in phase 1`).not.toContain(digest);
      }
    }
    expect(message).toContain('Images rolling out in this phase (3):');
    // the rest counted per phase, in phase 1's numbering
    const N = phaseTotal(plan);
    const later = sectionRows(message, /^Later phases/);
    expect(later[0]).toBe(`- phase 2 of ${N} ovn-dataplane: 2 images`);
    expect(later[1]).toBe(`- phase 3 of ${N} controlplane: 75 images, no commit of its own (listed in the commit of phase 2 of ${N})`);
    expect(later.slice(2).every((l) => /^- phase \d+ of \d+ dataplane(-b\d)?: 20 images$/.test(l))).toBe(true);
    expect(sectionRows(body, /^Images rolling out after this phase/)).toEqual(later.map((l) => l.replaceAll('commit', 'pull request')));
  });

  it('gives the full references in a collapsed block of the pull request, and bounded commit bodies', () => {
    const { plan } = r;
    for (const p of plan.phases.filter((x) => x.git.changes)) {
      const { message, body } = r.phases.get(p.id)!;
      const images = phaseImages(plan, p);
      if (images.length) {
        const details = /<details>\n<summary>Full image references \((\d+)\)<\/summary>\n\n([\s\S]*?)\n\n<\/details>/.exec(body);
        expect(details, body).not.toBeNull();
        expect(Number(details![1])).toBe(images.length);
        for (const d of images) expect(details![2]).toContain(`\`${d.to!}\``);
      }
      const bodyLines = message.split('\n');
      expect(bodyLines.length, message).toBeLessThanOrEqual(70);
      expect(Math.max(...bodyLines.map((l) => l.length))).toBeLessThanOrEqual(320);
    }
    // controlplane has no commit of its own: the phase before it carries its images
    const carrier = r.phases.get('ovn-dataplane')!;
    expect(carrier.message).toMatch(new RegExp(`^Then phase 3 of ${phaseTotal(plan)} controlplane, with no commit of its own.*\\(75\\):$`, 'm'));
    expect(carrier.body).toContain(`<summary>Images rolling out in phase 3 of ${phaseTotal(plan)} controlplane, which has no pull request of its own (75)</summary>`);
    // and the command that checks its gate, which holds the next pull request too
    expect(carrier.body).toMatch(new RegExp(`Check phase 3 of ${phaseTotal(plan)} controlplane on the cluster:\n\`\`\`sh\n# expect: .*\noc get openstackversion .*MinorUpdateControlplane`));
  });

  it('says "phase i of N" the same way in the commit, the PR title, the PR file name and status', () => {
    const { plan } = r;
    const N = phaseTotal(plan);
    const gitPhases = plan.phases.filter((p) => p.git.changes);
    expect([...r.phases.keys()]).toEqual(gitPhases.map((p) => p.id));
    for (const p of gitPhases) {
      const { message, title, file } = r.phases.get(p.id)!;
      const label = phaseLabel(plan, p);
      const subject = message.split('\n')[0]!;
      const fromSubject = /^osv-gitops: (phase (\d+) of (\d+)) (\S+) /.exec(subject);
      expect(fromSubject, subject).not.toBeNull();
      expect(fromSubject![1]).toBe(label);
      expect(fromSubject![4]).toBe(p.id);
      expect(Number(fromSubject![3])).toBe(N);
      expect(title).toBe(subject);
      expect(file).toBe(`${fromSubject![2]!.padStart(2, '0')}-${p.id}.md`);
      // the trailer keeps its own form (the tool reads it back) and the same number
      expect(message).toContain(`\nOsv-Update-Phase: ${fromSubject![2]} ${p.id}\n`);
      // status, with this phase committed and its gate not yet holding
      const commits = Object.fromEntries(gitPhases.filter((q) => q.index <= p.index).map((q) => [q.id, { sha: `${q.index}`.repeat(40).slice(0, 40), date: TEST_DATE }]));
      const status = updateStatus(plan, clusterAt(plan, { targetApplied: true, trueConditions: [] }), { commits, ancestry: {} }, 'git');
      expect(status.phase).toBe(p.id);
      expect(formatStatus(status, io)).toContain(`\n${label}: ${p.id} — waiting\n`);
    }
    // every phase folder of the directories mode carries the same number
    for (const p of plan.phases) expect(plan.phases.indexOf(p)).toBe(p.index);
  });

  it('puts the command that checks each gate in each pull request', () => {
    const { plan } = r;
    for (const p of plan.phases.filter((x) => x.git.changes)) {
      const { body } = r.phases.get(p.id)!;
      const block = /Check it on the cluster:\n```sh\n([\s\S]*?)\n```/.exec(body);
      expect(block, body).not.toBeNull();
      for (const c of gateCommands(plan, p)) expect(block![1]).toContain(`${c.command}\n`);
      for (const check of p.gate.checks) {
        if (check.kind === 'condition') expect(block![1]).toContain(`{.status.conditions[?(@.type=="${check.type}")].status}`);
        if (check.kind === 'deployment-ready') expect(block![1]).toContain(`oc get openstackdataplanedeployment ${check.name} -n ${plan.namespace} -o jsonpath=`);
        if (check.kind === 'nodeset-deployed-version') expect(block![1]).toContain(`oc get openstackdataplanenodeset ${check.nodeSets.join(' ')} -n ${plan.namespace}`);
      }
      if (p.gate.checks.some((c) => c.kind === 'version-observed')) {
        expect(block![1]).toContain(`oc get openstackversion ${plan.openStackVersion} -n ${plan.namespace} -o jsonpath='{.spec.targetVersion} {.metadata.generation} {.status.observedGeneration}`);
      }
    }
  });
});

describe('phase images', () => {
  it('place every changed image of every fixture plan in a phase, or name it as rolled out by none', () => {
    let cases = 0;
    for (const name of readdirSync(fixtures)) {
      let plan: UpdatePlan;
      try {
        plan = JSON.parse(readFileSync(join(fixtures, name, 'expected', 'plan.json'), 'utf8')) as UpdatePlan;
      } catch {
        continue;
      }
      cases++;
      const placed = new Set([...plan.phases.flatMap((p) => phaseImages(plan, p)), ...imagesInNoPhase(plan)]);
      expect(plan.imageDiff.filter((d) => d.change !== 'unchanged' && !placed.has(d)), name).toEqual([]);
      // the first commit no longer carries every image
      const first = plan.phases.find((p) => p.git.changes)!;
      expect(phaseImages(plan, first).length, name).toBeLessThan(plan.imageDiff.filter((d) => d.change !== 'unchanged').length);
    }
    expect(cases).toBeGreaterThan(5);
  });

  it('rolls out nothing on the data plane without a deployment, and says so on the commit that sets the version', () => {
    const plan = JSON.parse(readFileSync(join(fixtures, 'fr6-ovn-unchanged-no-nodes', 'expected', 'plan.json'), 'utf8')) as UpdatePlan;
    expect(plan.phases.some((p) => p.phase === 'dataplane')).toBe(false);
    const nowhere = imagesInNoPhase(plan);
    expect(nowhere.map((d) => d.field)).toContain('edpmFrrImage');
    expect(plan.phases.flatMap((p) => phaseImages(plan, p)).some((d) => d.field === 'edpmFrrImage')).toBe(false);
  });
});
