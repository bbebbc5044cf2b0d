/** `osv-gitops commit`: the commits delivery mode, one commit per phase that changes Git. */
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { OsvError } from '../errors.js';
import { commitPhases } from '../git/commit-phases.js';
import { addInputOptions, loadUpdate, type InputFlags } from './inputs.js';
import type { CliIo } from './io.js';
import { engineOf } from './render.js';

interface CommitFlags extends InputFlags {
  readonly repo: string;
  readonly branch?: string;
  readonly path?: string;
  readonly push?: string | boolean;
  readonly phase?: string;
  readonly all?: boolean;
  readonly engine?: string;
  readonly date?: string;
  readonly json?: boolean;
}

export function registerCommit(program: Command, io: CliIo, setExit: (code: number) => void): void {
  const cmd = program
    .command('commit')
    .summary('write phases as ordered Git commits with trailers (commits mode)')
    .description(
      'Commit the next phase of the update (or up to --phase N, or --all) into a folder of your repository.\n' +
        'Each commit holds the whole desired state of its phase and carries the trailers Osv-Update-Target,\n' +
        'Osv-Update-Phase and Osv-Update-Plan; phases already committed are never committed again.',
    );
  addInputOptions(cmd, { savedPlan: true })
    .requiredOption('--repo <path>', 'the Git work tree of your GitOps repository')
    .option('--branch <name>', 'commit on this branch (created from HEAD when missing)')
    .option('--path <dir>', 'folder inside the repository that osv-gitops owns', 'openstack-update')
    .option('--engine <engine>', 'annotations for flux, argocd or plain', 'flux')
    .option('--push [remote]', 'push the branch afterwards (default remote: origin)')
    .option('--phase <n>', 'commit every pending phase up to this index')
    .option('--all', 'commit every pending phase (e.g. to review the whole update in one pull request)')
    .option('--date <iso>', 'author and committer date (reproducible commits)')
    .option('--json', 'print what was committed as JSON')
    .addHelpText('after', '\nExamples:\n  osv-gitops commit --example --repo ../gitops --push\n  osv-gitops commit --plan plan.json --controlplane cp.yaml --nodesets nodesets/ --repo . --all\n')
    .action(async (flags: CommitFlags) => {
      const upto = flags.phase !== undefined ? Number(flags.phase) : undefined;
      if (upto !== undefined && !Number.isInteger(upto)) throw new OsvError('USAGE', `--phase must be a phase number, not "${flags.phase}"`);
      const update = loadUpdate(flags, io);
      const result = await commitPhases(update, {
        repo: resolve(io.cwd, flags.repo),
        engine: engineOf(flags.engine),
        ...(flags.path ? { path: flags.path } : {}),
        ...(flags.branch ? { branch: flags.branch } : {}),
        ...(upto !== undefined ? { uptoPhase: upto } : {}),
        ...(flags.all ? { all: true } : {}),
        ...(flags.date ? { date: flags.date } : {}),
        ...(flags.push !== undefined && flags.push !== false ? { push: { remote: typeof flags.push === 'string' ? flags.push : 'origin' } } : {}),
      });
      if (flags.json) io.stdout(JSON.stringify({ plan: update.plan.id, target: update.plan.versions.target, ...result }, null, 2) + '\n');
      else {
        for (const c of result.committed) io.stdout(`committed ${c.phase} ${c.sha.slice(0, 12)}\n`);
        if (!result.committed.length) io.stdout(`nothing to commit: ${result.alreadyCommitted.length ? `phases ${result.alreadyCommitted.join(', ')} already committed` : 'no phase changes Git'}\n`);
        if (result.pushed) io.stdout(`pushed ${result.branch}\n`);
      }
      setExit(0);
    });
}
