/** `osv-gitops render`: the directories delivery mode, written to a folder. */
import { resolve } from 'node:path';
import { posix } from 'node:path';
import type { Command } from 'commander';
import { OsvError } from '../errors.js';
import { ensureFolder, safeRelativePath } from '../fs/contained.js';
import { writeFiles } from '../git/write-tree.js';
import { renderDirectories, type Engine, type RenderOptions } from '../render/render.js';
import { parseImageReference, parseName, parseNamespace, parseRepoUrl } from '../validate/grammar.js';
import { addInputOptions, loadUpdate, type InputFlags } from './inputs.js';
import type { CliIo } from './io.js';

export interface RenderFlags extends InputFlags {
  readonly mode?: string;
  readonly engine?: string;
  readonly out?: string;
  readonly repoPath?: string;
  readonly repoUrl?: string;
  readonly revision?: string;
  readonly fluxNamespace?: string;
  readonly fluxSource?: string;
  readonly argoNamespace?: string;
  readonly argoProject?: string;
  readonly gateImage?: string;
  readonly json?: boolean;
}

export function engineOf(value: string | undefined): Engine {
  const e = value ?? 'flux';
  if (e !== 'flux' && e !== 'argocd' && e !== 'plain') throw new OsvError('USAGE', `--engine must be flux, argocd or plain, not "${e}"`);
  return e;
}

export function addAgentOptions(cmd: Command): Command {
  return cmd
    .option('--engine <engine>', 'the GitOps agent: flux, argocd or plain (kustomize folders only)', 'flux')
    .option('--repo-path <path>', 'where the output folder sits inside the Git repository (for agent paths)')
    .option('--repo-url <url>', 'Argo CD: the repository URL of the Applications')
    .option('--revision <rev>', 'Argo CD: targetRevision of the Applications', 'HEAD')
    .option('--flux-namespace <ns>', 'Flux: namespace of the Kustomizations', 'flux-system')
    .option('--flux-source <name>', 'Flux: the GitRepository the Kustomizations read', 'flux-system')
    .option('--argo-namespace <ns>', 'Argo CD: namespace of the Applications', 'argocd')
    .option('--argo-project <name>', 'Argo CD: project of the Applications', 'default')
    .option('--gate-image <image>', 'Argo CD: image with sh and kubectl/oc for the gate Jobs');
}

/** The agent flags, each checked against its grammar (names, URL, image) before anything is read. */
export function agentFlags(flags: RenderFlags): Pick<RenderOptions, 'flux' | 'argo' | 'gateImage'> {
  const name = (v: string | undefined, dflt: string, what: string, kind: 'namespace' | 'object') => (kind === 'namespace' ? parseNamespace(v ?? dflt, what) : parseName(v ?? dflt, kind, what));
  if (flags.revision !== undefined && !/^[A-Za-z0-9][A-Za-z0-9._/-]{0,199}$/.test(flags.revision)) {
    throw new OsvError('USAGE', `--revision ${JSON.stringify(flags.revision.slice(0, 100))} is not a branch, tag or commit`);
  }
  return {
    flux: { namespace: name(flags.fluxNamespace, 'flux-system', '--flux-namespace', 'namespace'), source: name(flags.fluxSource, 'flux-system', '--flux-source', 'object') },
    argo: {
      namespace: name(flags.argoNamespace, 'argocd', '--argo-namespace', 'namespace'),
      project: name(flags.argoProject, 'default', '--argo-project', 'object'),
      ...(flags.repoUrl ? { repoURL: parseRepoUrl(flags.repoUrl) } : {}),
      revision: flags.revision ?? 'HEAD',
    },
    ...(flags.gateImage ? { gateImage: parseImageReference(flags.gateImage, '--gate-image') } : {}),
  };
}

export function registerRender(program: Command, io: CliIo, setExit: (code: number) => void): void {
  const cmd = program
    .command('render')
    .summary('write every phase as kustomize folders with the agent wiring (directories mode)')
    .description(
      'Render the update as updates/<version>/<NN>-<phase>/ folders, each the whole desired state at that\n' +
        'phase, plus Flux Kustomizations chained by dependsOn with CEL health checks, or Argo CD Applications\n' +
        'in sync waves with Lua health checks and gate Jobs. Commit the folder once; the agent runs the phases.',
    );
  addAgentOptions(addInputOptions(cmd, { savedPlan: true }))
    .option('--mode <mode>', 'directories (the commits mode is `osv-gitops commit`)', 'directories')
    .requiredOption('--out <dir>', 'output folder (updates/<version>/ is created inside and owned by osv-gitops)')
    .option('--json', 'print the list of written files as JSON')
    .addHelpText('after', '\nExamples:\n  osv-gitops render --example --engine flux --out gitops/\n  osv-gitops render --plan plan.json --controlplane cp.yaml --nodesets nodesets/ --engine argocd --repo-url https://git.example.com/ops.git --out .\n')
    .action((flags: RenderFlags) => {
      if (flags.mode !== 'directories') {
        throw new OsvError('USAGE', `--mode ${flags.mode} is not rendered here`, { hint: 'For ordered commits use `osv-gitops commit --repo PATH`.' });
      }
      const engine = engineOf(flags.engine);
      const agent = agentFlags(flags);
      const update = loadUpdate(flags, io);
      const out = resolve(io.cwd, flags.out ?? '.');
      const files = renderDirectories(update, {
        engine,
        repoPath: flags.repoPath ?? (flags.out && !posix.isAbsolute(flags.out) ? flags.out : '.'),
        ...agent,
      });
      // the output folder may be new; what we replace inside it is only updates/<version>/
      writeFiles(ensureFolder(out, '--out'), files, [safeRelativePath('the version folder', posix.join('updates', update.plan.versions.target))]);
      if (flags.json) io.stdout(JSON.stringify({ plan: update.plan.id, engine, files: files.map((f) => f.path) }, null, 2) + '\n');
      else io.stdout(`${files.length} files written under ${posix.join(flags.out ?? '.', 'updates', update.plan.versions.target)} (engine ${engine}, plan ${update.plan.id})\n`);
      setExit(0);
    });
}
