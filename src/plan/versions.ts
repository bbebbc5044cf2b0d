/**
 * Ordering OpenStack release versions. The operator treats versions as opaque strings (facts §1.1,
 * §8.3); builds carry a timestamp suffix (`19.0.0-1784642723`, facts §3.1) or, with the
 * csvEpochAppend scheme, an epoch (`1.2.3.1234567890.p`). We order them to refuse rollbacks and
 * major updates: first by major.minor.patch, then by the numeric build suffix.
 */
// the three functions used, not the whole package (its ranges and their regular expressions): start-up cost
import type SemVer from 'semver/classes/semver.js';
import compare from 'semver/functions/compare.js';
import parse from 'semver/functions/parse.js';

export interface ParsedVersion {
  readonly raw: string;
  readonly semver: SemVer;
}

const VERSION_RE = /^v?(\d+)(?:\.(\d+))?(?:\.(\d+))?(?:[-.+](.+))?$/;

export function parseReleaseVersion(raw: string): ParsedVersion | undefined {
  const m = VERSION_RE.exec(raw.trim());
  if (!m) return undefined;
  const [, major, minor = '0', patch = '0', suffix] = m;
  // the suffix becomes a semver prerelease so that numeric parts compare as numbers
  const pre = suffix ? `-${suffix.replace(/[^0-9A-Za-z.-]/g, '-').replace(/\.{2,}/g, '.')}` : '';
  const v = parse(`${major}.${minor}.${patch}${pre}`);
  return v ? { raw, semver: v } : undefined;
}

/** Negative when a < b, 0 when equal, positive when a > b; undefined when either cannot be ordered. */
export function compareReleaseVersions(a: string, b: string): number | undefined {
  if (a === b) return 0;
  const pa = parseReleaseVersion(a);
  const pb = parseReleaseVersion(b);
  if (!pa || !pb) return undefined;
  const core = compare(
    `${pa.semver.major}.${pa.semver.minor}.${pa.semver.patch}`,
    `${pb.semver.major}.${pb.semver.minor}.${pb.semver.patch}`,
  );
  if (core !== 0) return core;
  // same release, different builds: a later build timestamp is newer; a bare version counts as older
  // than any timestamped build of itself, because upstream every real build carries a suffix
  const sa = pa.semver.prerelease;
  const sb = pb.semver.prerelease;
  if (sa.length === 0 || sb.length === 0) return sa.length - sb.length;
  return compareIdentifiers(String(sa[0]), String(sb[0])) || compare(pa.semver, pb.semver);
}

/** Two prerelease identifiers as SemVer orders them: numbers by value and before words, words by code unit. */
function compareIdentifiers(a: string, b: string): number {
  const an = /^\d+$/.test(a);
  const bn = /^\d+$/.test(b);
  if (an && bn) return Math.sign(Number(a) - Number(b));
  if (an !== bn) return an ? -1 : 1;
  return a === b ? 0 : a < b ? -1 : 1;
}

export function majorOf(v: string): number | undefined {
  return parseReleaseVersion(v)?.semver.major;
}
