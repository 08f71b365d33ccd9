import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { parseSignatureHeader, signatureHeader, verifySignature, type SignatureAlgorithm } from './signature.ts';

const body = Buffer.from('{"objects":[]}');

describe('detached signatures of pushed bundles', () => {
  const ed = generateKeyPairSync('ed25519');
  const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const cases: [SignatureAlgorithm, string | Buffer, Parameters<typeof verifySignature>[2], Parameters<typeof verifySignature>[2]][] = [
    ['ed25519', ed.privateKey.export({ type: 'pkcs8', format: 'pem' }), ed.publicKey, generateKeyPairSync('ed25519').publicKey],
    [
      'ecdsa-p256-sha256',
      ec.privateKey.export({ type: 'pkcs8', format: 'pem' }),
      ec.publicKey.export({ type: 'spki', format: 'pem' }),
      generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey,
    ],
    ['hmac-sha256', 'shared-secret', 'shared-secret', 'other-secret'],
  ];
  for (const [algorithm, key, good, wrong] of cases) {
    it(`${algorithm}: verifies with the right key only, and only the exact bytes`, () => {
      const header = signatureHeader({ algorithm, keyId: 'k1', key }, body);
      expect(parseSignatureHeader(header)).toMatchObject({ keyId: 'k1', algorithm });
      expect(verifySignature(body, header, good)).toBe(true);
      expect(verifySignature(body, header, wrong)).toBe(false);
      expect(verifySignature(Buffer.from('{"objects":[1]}'), header, good)).toBe(false);
    });
  }

  it('refuses a header it cannot read or an unknown algorithm', () => {
    expect(verifySignature(body, 'garbage', 'k')).toBe(false);
    expect(verifySignature(body, 'keyId="k",algorithm="rsa-md5",signature="AAAA"', 'k')).toBe(false);
  });
});
