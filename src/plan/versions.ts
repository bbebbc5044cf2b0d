/**
 * Ordering OpenStack release versions. The operator treats versions as opaque strings (facts §1.1,
 * §8.3); builds carry a timestamp suffix (`19.0.0-1784642723`, facts §3.1) or, with the
 * csvEpochAppend scheme, an epoch (`1.2.3.1234567890.p`). We order them to refuse rollbacks and
 * major updates: first by major.minor.patch, then by the numeric build suffix.
 */
import semver from 'semver';

export interface ParsedVersion {
  readonly raw: string;
  readonly semver: semver.SemVer;
}

const VERSION_RE = /^v?(\d+)(?:\.(\d+))?(?:\.(\d+))?(?:[-.+](.+))?$/;

export function parseReleaseVersion(raw: string): ParsedVersion | undefined {
  const m = VERSION_RE.exec(raw.trim());
  if (!m) return undefined;
  const [, major, minor = '0', patch = '0', suffix] = m;
  // the suffix becomes a semver prerelease so that numeric parts compare as numbers
  const pre = suffix ? `-${suffix.replace(/[^0-9A-Za-z.-]/g, '-').replace(/\.{2,}/g, '.')}` : '';
  const v = semver.parse(`${major}.${minor}.${patch}${pre}`);
  return v ? { raw, semver: v } : undefined;
}

/** Negative when a < b, 0 when equal, positive when a > b; undefined when either cannot be ordered. */
export function compareReleaseVersions(a: string, b: string): number | undefined {
  if (a === b) return 0;
  const pa = parseReleaseVersion(a);
  const pb = parseReleaseVersion(b);
  if (!pa || !pb) return undefined;
  const core = semver.compare(
    `${pa.semver.major}.${pa.semver.minor}.${pa.semver.patch}`,
    `${pb.semver.major}.${pb.semver.minor}.${pb.semver.patch}`,
  );
  if (core !== 0) return core;
  // same release, different builds: a later build timestamp is newer; a bare version counts as older
  // than any timestamped build of itself, because upstream every real build carries a suffix
  const sa = pa.semver.prerelease;
  const sb = pb.semver.prerelease;
  if (sa.length === 0 || sb.length === 0) return sa.length - sb.length;
  return semver.compareIdentifiers(String(sa[0]), String(sb[0])) || semver.compare(pa.semver, pb.semver);
}

export function majorOf(v: string): number | undefined {
  return parseReleaseVersion(v)?.semver.major;
}
