/**
 * The openstack-operator rules that differ between the releases users run (facts §10), one row
 * per release, and how the release is recognised from the target CSV. Adding a release is one
 * entry in RELEASES (and its bundle version in BUNDLE_VERSIONS when upstream gave it one).
 *
 * Read from the release branches of openstack-k8s-operators/openstack-operator: 18.0-fr3
 * (fafab786), 18.0-fr4 (5dc7d821), 18.0-fr5 (c891dd4b), 18.0-fr6 (394c46c1), 18-stable
 * (6eadcb96), main (84322c77).
 */

export type OperatorRelease = 'fr3' | 'fr4' | 'fr5' | 'fr6' | '18-stable' | 'main';

/** What a consumer of `status.serviceDefaults` does with one key (glance.go, manila.go, rabbitmq.go). */
export interface ServiceDefaultUse {
  readonly service: string;
  /** The value the consumer acts on when the key is absent from the target's service defaults. */
  readonly whenUnset: string;
  readonly effect: string;
}

export interface ReleaseRules {
  readonly release: OperatorRelease;
  readonly branch: string;
  /** The init deployment that carries OPENSTACK_RELEASE_VERSION and the RELATED_IMAGE_* list. */
  readonly initDeployment: string;
  /** MinorUpdateOVNDataplane waits to see an OVN deployment run when the OVN image is unchanged (66f54ea0). */
  readonly ovnUnchangedRule: boolean;
  /** `status.trackedCustomImages` and the webhook rule with its skip-custom-images-validation annotation. */
  readonly trackedCustomImages: boolean;
  /** The version controller skips the OVN steps when `spec.ovn.enabled` is false. */
  readonly ovnDisabledGuard: boolean;
  /** Deprecated-on-main image fields this release still writes into the nodeset inventory. */
  readonly inventoryImages: readonly string[];
  /** `InitializeOpenStackVersionServiceDefaults`: what `availableServiceDefaults[v]` gets. */
  readonly serviceDefaults: Readonly<Record<string, string>>;
  /** The keys this release's control plane reads, and what it does with each. */
  readonly serviceDefaultUses: Readonly<Record<string, ServiceDefaultUse>>;
}

const GLANCE_WSGI: ServiceDefaultUse = { service: 'glance', whenUnset: 'false', effect: 'Glance API served through WSGI (annotation on the Glance CR)' };
// rabbitmq.go copies it into the RabbitMQ CR's targetVersion, 3.9 when unset: the server version changes
const FR6_USES: Readonly<Record<string, ServiceDefaultUse>> = {
  glanceWsgi: GLANCE_WSGI,
  glanceLocationAPI: { service: 'glance', whenUnset: 'false', effect: 'Glance location API (annotation on the Glance CR)' },
  manilaSharev1: { service: 'manila', whenUnset: 'false', effect: 'Manila sharev1 service and endpoints (annotation on the Manila CR)' },
  rabbitmqVersion: { service: 'rabbitmq', whenUnset: '3.9', effect: 'RabbitMQ server version (the RabbitMQ CR spec.targetVersion)' },
};
const FR6_DEFAULTS = { glanceLocationAPI: 'false', glanceWsgi: 'true', manilaSharev1: 'true', rabbitmqVersion: '4.2' };

export const RELEASES: Readonly<Record<OperatorRelease, ReleaseRules>> = {
  fr3: {
    release: 'fr3',
    branch: '18.0-fr3',
    initDeployment: 'openstack-operator-controller-operator',
    ovnUnchangedRule: false,
    trackedCustomImages: false,
    ovnDisabledGuard: false,
    inventoryImages: ['edpmIscsidImage', 'edpmMultipathdImage'],
    serviceDefaults: { glanceWsgi: 'true' },
    serviceDefaultUses: { glanceWsgi: GLANCE_WSGI },
  },
  fr4: {
    release: 'fr4',
    branch: '18.0-fr4',
    initDeployment: 'openstack-operator-controller-operator',
    ovnUnchangedRule: false,
    trackedCustomImages: true,
    ovnDisabledGuard: true,
    inventoryImages: ['edpmIscsidImage', 'edpmMultipathdImage'],
    serviceDefaults: { glanceWsgi: 'true' },
    serviceDefaultUses: { glanceWsgi: GLANCE_WSGI },
  },
  fr5: {
    release: 'fr5',
    branch: '18.0-fr5',
    initDeployment: 'openstack-operator-controller-init',
    ovnUnchangedRule: false,
    trackedCustomImages: true,
    ovnDisabledGuard: true,
    inventoryImages: ['edpmIscsidImage', 'edpmMultipathdImage'],
    serviceDefaults: { glanceWsgi: 'true' },
    serviceDefaultUses: { glanceWsgi: GLANCE_WSGI },
  },
  fr6: {
    release: 'fr6',
    branch: '18.0-fr6',
    initDeployment: 'openstack-operator-controller-init',
    ovnUnchangedRule: true,
    trackedCustomImages: true,
    ovnDisabledGuard: true,
    inventoryImages: ['edpmIscsidImage', 'edpmMultipathdImage'],
    serviceDefaults: FR6_DEFAULTS,
    serviceDefaultUses: FR6_USES,
  },
  '18-stable': {
    release: '18-stable',
    branch: '18-stable',
    initDeployment: 'openstack-operator-controller-init',
    ovnUnchangedRule: true,
    trackedCustomImages: true,
    ovnDisabledGuard: true,
    inventoryImages: ['edpmIscsidImage'],
    serviceDefaults: FR6_DEFAULTS,
    serviceDefaultUses: FR6_USES,
  },
  main: {
    release: 'main',
    branch: 'main',
    initDeployment: 'openstack-operator-controller-init',
    ovnUnchangedRule: true,
    trackedCustomImages: true,
    ovnDisabledGuard: true,
    inventoryImages: [],
    serviceDefaults: FR6_DEFAULTS,
    serviceDefaultUses: FR6_USES,
  },
};

export const FALLBACK_RELEASE: OperatorRelease = 'main';

/** Upstream bundles carry the Makefile VERSION of their branch (CSV name, spec.version, OPENSTACK_RELEASE_VERSION prefix). */
const BUNDLE_VERSIONS: Readonly<Record<string, OperatorRelease>> = {
  '0.3': 'fr3',
  '0.4': 'fr4',
  '0.5': 'fr5',
  '0.6': 'fr6',
  '0.7': '18-stable',
};
/** main's VERSION is 19.0.0: any upstream bundle from 19 on is built from main. */
const MAIN_FROM_MAJOR = 19;

/** What the target CSV (or, without one, the operator's status) shows about the release that runs it. */
export interface ReleaseEvidence {
  /** Versions as written: CSV spec.version, the version in the CSV name, OPENSTACK_RELEASE_VERSION. */
  readonly versions: readonly string[];
  readonly initDeployment?: string;
  /** Image fields the release defines (JSON names of its RELATED_IMAGE_* variables or its published defaults). */
  readonly imageFields: ReadonlySet<string>;
  /** `availableServiceDefaults[target]` when the operator running the CSV already published it. */
  readonly publishedServiceDefaults?: Readonly<Record<string, string>>;
}

export interface DetectedRelease {
  readonly rules: ReleaseRules;
  /** How it was recognised, for the plan. */
  readonly via: string;
  readonly warnings: readonly string[];
}

function fromVersion(version: string): { release: OperatorRelease | undefined; upstream: boolean } {
  const m = /^v?(\d+)\.(\d+)(?:\.|$|-)/.exec(version.trim());
  if (!m) return { release: undefined, upstream: false };
  const major = Number(m[1]);
  if (major === 0) return { release: BUNDLE_VERSIONS[`0.${m[2]}`], upstream: true };
  if (major >= MAIN_FROM_MAJOR) return { release: 'main', upstream: true };
  return { release: undefined, upstream: false }; // 18.0.x, 1.0.x: downstream numbering, no branch in it
}

/** The release the layout and image list point to; `ambiguous` lists the candidates when they cannot tell. */
function fromMarkers(e: ReleaseEvidence): { release: OperatorRelease; ambiguous?: readonly OperatorRelease[]; why: string } {
  const f = e.imageFields;
  const oldLayout = e.initDeployment === RELEASES.fr4.initDeployment;
  if (oldLayout || !f.has('openstackNetworkExporterImage')) {
    // fr4 added openstackNetworkExporterImage, cloudkitty and watcher; the init deployment was renamed in fr5 (889c3965)
    const fr4 = f.has('openstackNetworkExporterImage');
    return { release: fr4 ? 'fr4' : 'fr3', why: `${oldLayout ? `init deployment ${e.initDeployment}, ` : ''}${fr4 ? 'with' : 'without'} openstackNetworkExporterImage` };
  }
  if (f.has('edpmMultipathdImage')) {
    // fr5 and fr6 ship the same image list; fr6 is the first to publish rabbitmqVersion
    const sd = e.publishedServiceDefaults;
    if (sd) {
      const fr6 = sd['rabbitmqVersion'] !== undefined;
      return { release: fr6 ? 'fr6' : 'fr5', why: `multipathd image listed, published service defaults ${fr6 ? 'with' : 'without'} rabbitmqVersion` };
    }
    return { release: 'fr6', ambiguous: ['fr5', 'fr6'], why: 'multipathd image listed (fr5 and fr6 list the same images)' };
  }
  if (f.has('edpmIscsidImage')) return { release: '18-stable', why: 'iscsid image listed without multipathd' };
  return { release: 'main', why: 'neither iscsid nor multipathd images listed' };
}

export function detectRelease(e: ReleaseEvidence): DetectedRelease {
  const warnings: string[] = [];
  const markers = fromMarkers(e);
  for (const v of e.versions) {
    const { release, upstream } = fromVersion(v);
    if (!upstream) continue;
    if (release === undefined) {
      warnings.push(`operator version ${v} is no release this tool knows; applying the rules of ${FALLBACK_RELEASE}`);
      return { rules: RELEASES[FALLBACK_RELEASE], via: `version ${v} unknown, fallback`, warnings };
    }
    const agrees = release === markers.release || (markers.ambiguous ?? []).includes(release);
    if (!agrees) {
      warnings.push(`version ${v} is the ${RELEASES[release].branch} bundle but its layout and images look like ${RELEASES[markers.release].branch} (${markers.why}); applying ${RELEASES[release].branch}`);
    }
    return { rules: RELEASES[release], via: `bundle version ${v}`, warnings };
  }
  if (markers.ambiguous) {
    warnings.push(
      `the CSV does not tell ${markers.ambiguous.map((r) => RELEASES[r].branch).join(' from ')} (${markers.why}); applying ${RELEASES[markers.release].branch}, the stricter rules — the OVN data-plane deployment is kept and the service defaults shown are ${RELEASES[markers.release].branch}'s`,
    );
  }
  return { rules: RELEASES[markers.release], via: markers.why, warnings };
}

/** The value a consumer of the target release acts on for each service default it reads. */
export function effectiveServiceDefaults(rules: ReleaseRules, published: Readonly<Record<string, string>> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, use] of Object.entries(rules.serviceDefaultUses)) out[k] = published?.[k] ?? use.whenUnset;
  return out;
}
