/**
 * The user's own objects (OpenStackControlPlane, nodesets), carried through every phase with their
 * spec unchanged. Untyped on purpose: the control-plane CRD is ~1 MB and every field must survive.
 * Server-written fields and `status` are dropped so that a live dump renders like the repository file.
 *
 * They are plain data, so they need none of cdk8s's machinery (constructs, tokens, patches): each
 * is written as cdk8s 2's `ApiObject.toJson()` writes plain data, which costs a render of 200
 * nodesets ~30 ms less. test/render/carried-objects.test.ts holds the two equal.
 */

const SERVER_FIELDS = ['creationTimestamp', 'generation', 'resourceVersion', 'uid', 'managedFields', 'selfLink', 'ownerReferences', 'finalizers'];

type Data = Record<string, unknown>;

/** What the user's object keeps: no status, no server-written metadata, the namespace filled in. */
export function carriedProps(obj: Readonly<Data>, namespace: string): Data & { metadata: Data } {
  const { status: _status, metadata, ...rest } = obj as { status?: unknown; metadata?: Data } & Data;
  const meta: Data = { ...(metadata ?? {}) };
  for (const f of SERVER_FIELDS) delete meta[f];
  const annotations = { ...((meta['annotations'] as Record<string, string> | undefined) ?? {}) };
  delete annotations['kubectl.kubernetes.io/last-applied-configuration'];
  meta['annotations'] = Object.keys(annotations).length ? annotations : undefined;
  meta['namespace'] = meta['namespace'] ?? namespace;
  return { ...rest, metadata: meta };
}

/** The user's objects as rendered, in the order given. */
export function carriedObjects(objects: readonly Readonly<Data>[], namespace: string): Data[] {
  return objects.map((o) => plainApiObjectJson(carriedProps(o, namespace)));
}

/**
 * cdk8s's `sanitizeValue`: nullish values dropped, keys sorted (UTF-16 order), and with
 * `filterEmpty` (metadata) empty lists and maps dropped too; anything but plain data refused.
 */
function sanitize(value: unknown, filterEmpty: boolean, sortKeys: boolean): unknown {
  if (value === null || value === undefined) return undefined;
  if (typeof value !== 'object') return value;
  if (Array.isArray(value)) {
    if (filterEmpty && value.length === 0) return undefined;
    return value.map((x) => sanitize(x, filterEmpty, sortKeys));
  }
  const ctor = (value as { constructor?: { name?: unknown } }).constructor;
  if (ctor?.name !== 'Object') throw new Error(`can't render non-simple object of type '${String(ctor?.name)}'`);
  const out: Data = {};
  const keys = sortKeys ? Object.keys(value).sort() : Object.keys(value);
  for (const k of keys) {
    const v = sanitize((value as Data)[k], filterEmpty, sortKeys);
    if (v !== null && v !== undefined) out[k] = v;
  }
  if (filterEmpty && Object.keys(out).length === 0) return undefined;
  return out;
}

/**
 * `new ApiObject(chart, id, props).toJson()` for plain data in a chart with no namespace and no
 * labels: metadata as cdk8s builds it (name, labels, annotations, finalizers, owner references,
 * the rest carried), sanitized, then apiVersion, kind and metadata first. cdk8s reads
 * CDK8S_DISABLE_SORT for the body (not the metadata); so does this.
 */
export function plainApiObjectJson(props: Data & { metadata: Data }): Data {
  const m = props.metadata;
  if (m['name'] === undefined || m['name'] === null) throw new Error('a carried object needs metadata.name');
  const metadata = sanitize(
    {
      ...m,
      labels: { ...(m['labels'] as Data | undefined) },
      annotations: { ...((m['annotations'] as Data | undefined) ?? {}) },
      finalizers: m['finalizers'] ? [...(m['finalizers'] as unknown[])] : [],
      ownerReferences: m['ownerReferences'] ? [...(m['ownerReferences'] as unknown[])] : [],
    },
    true,
    true,
  );
  const json = sanitize({ ...props, metadata }, false, !process.env['CDK8S_DISABLE_SORT']) as Data;
  const result: Data = {};
  for (const k of ['apiVersion', 'kind', 'metadata', ...Object.keys(json)]) if (k in json) result[k] = json[k];
  return result;
}
