/**
 * The harness reads kube-apiserver's self-signed serving certificate file as the CA to trust only
 * once it is written whole: the server creates the file before writing it, and a read in between
 * left the harness trusting no CA.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { servingCertificateWithCa } from './harness.js';

const dir = mkdtempSync(join(tmpdir(), 'osv-serving-cert-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A PEM block of the shape the server writes: base64 in lines of 64. */
const pem = () => `-----BEGIN CERTIFICATE-----\n${(randomBytes(300).toString('base64').match(/.{1,64}/g) ?? []).join('\n')}\n-----END CERTIFICATE-----\n`;

function read(text: string | undefined): string | undefined {
  const file = join(dir, `apiserver-${randomBytes(4).toString('hex')}.crt`);
  if (text !== undefined) writeFileSync(file, text);
  return servingCertificateWithCa(file);
}

describe('reading the serving certificate with its CA', () => {
  const whole = pem() + pem();

  it('takes the file once it holds the certificate and its CA', () => {
    expect(read(whole)).toBe(whole);
  });

  it('waits while the file is missing, empty, or cut anywhere before the CA ends', () => {
    expect(read(undefined)).toBeUndefined();
    for (let cut = 0; cut < whole.length; cut += 7) expect(read(whole.slice(0, cut))).toBeUndefined();
    expect(read(whole.slice(0, -1))).toBeUndefined();
  });
});
