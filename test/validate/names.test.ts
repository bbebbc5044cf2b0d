import { describe, expect, it } from 'vitest';
import { OsvError } from '../../src/errors.js';
import { assertRfc1123Name, isRfc1123Label, isRfc1123Subdomain, rfc1123Problems } from '../../src/validate/names.js';

describe('RFC 1123 names', () => {
  it('tells labels from subdomains', () => {
    for (const ok of ['a', 'openstack', 'edpm-1-0-2-ovn', '0abc', 'a'.repeat(63)]) expect(isRfc1123Label(ok), ok).toBe(true);
    for (const bad of ['', 'A', 'a_b', '-a', 'a-', 'a.b', 'a'.repeat(64), 'ä']) expect(isRfc1123Label(bad), bad).toBe(false);
    for (const ok of ['a.b', 'osv-gitops.plan', 'a'.repeat(253), `${'a'.repeat(70)}.b`]) expect(isRfc1123Subdomain(ok), ok).toBe(true);
    for (const bad of ['', 'a..b', '.a', 'a.', 'a.-b', 'a-.b', 'A.b', 'a'.repeat(254)]) expect(isRfc1123Subdomain(bad), bad).toBe(false);
  });

  it('says what is wrong', () => {
    expect(rfc1123Problems('edpm-1-0-2-ovn')).toEqual([]);
    expect(rfc1123Problems('')).toEqual(['is empty']);
    expect(rfc1123Problems('a..b')).toEqual(["each '.'-separated part must start and end with a lowercase letter or a digit"]);
    expect(rfc1123Problems('a.b', { form: 'label' })).toEqual([
      "contains \".\" (only lowercase letters, digits and '-' are allowed)",
    ]);
    expect(rfc1123Problems('ab-', { maxLen: 2 })).toEqual([
      'is 3 characters long, at most 2 allowed',
      'must start and end with a lowercase letter or a digit',
    ]);
  });

  it('assertRfc1123Name throws NAME_INVALID with the reasons, and passes good names', () => {
    expect(() => assertRfc1123Name('edpm-1-0-2-update', 53)).not.toThrow();
    let caught: unknown;
    try {
      assertRfc1123Name(`Edpm-${'x'.repeat(60)}`, 53, { what: 'deployment name' });
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(OsvError);
    const err = caught as OsvError;
    expect(err.code).toBe('NAME_INVALID');
    expect(err.exitCode).toBe(2);
    expect(err.message).toMatch(/^deployment name "Edpm-x+" is not a valid RFC 1123 name: is 65 characters long, at most 53 allowed; contains "E"/);
    expect(err.details).toHaveLength(3);
    expect(err.hint).toContain('at most 53');
    expect(() => assertRfc1123Name('a.b', 63, { form: 'label' })).toThrow(/contains "\."/);
    expect(() => assertRfc1123Name('a.b', 63)).not.toThrow();
  });
});
