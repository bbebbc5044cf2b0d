/** A source file's name (for messages) and text. */
export interface SourceText {
  readonly file: string;
  readonly text: string;
}

/** Every `.ts` file under `dir`, with its text. */
export function typeScriptSources(dir: string): SourceText[];

/** The names our sources take of the Kubernetes client as `k8s.Name`, among `exported`, sorted. */
export function kubernetesClientNames(sources: readonly SourceText[], exported: ReadonlySet<string>): string[];

/** The part of an esbuild metafile the check reads. */
export interface BundleMetafile {
  readonly outputs: Readonly<Record<string, { readonly imports: readonly { readonly path: string; readonly kind: string }[] }>>;
}

/** Throws when a bundle keeps an `import()`. */
export function checkNoDynamicImport(metafiles: readonly BundleMetafile[]): void;
