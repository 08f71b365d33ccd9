import { createHmac, createPrivateKey, createPublicKey, KeyObject, sign, timingSafeEqual, verify } from 'node:crypto';

/**
 * Detached signature of the exact bytes of a pushed bundle, in one header the receiver can check:
 * `keyId="province-2026",algorithm="ed25519",signature="BASE64"`.
 */
export type SignatureAlgorithm = 'ed25519' | 'ecdsa-p256-sha256' | 'hmac-sha256';

export interface Signer {
  algorithm: SignatureAlgorithm;
  keyId: string;
  /** PEM private key (ed25519, ecdsa) or the shared secret (hmac). */
  key: string | Buffer;
}

function signBytes(s: Signer, body: Buffer): Buffer {
  switch (s.algorithm) {
    case 'ed25519':
      return sign(null, body, createPrivateKey(s.key));
    case 'ecdsa-p256-sha256':
      return sign('sha256', body, { key: createPrivateKey(s.key), dsaEncoding: 'ieee-p1363' });
    case 'hmac-sha256':
      return createHmac('sha256', s.key).update(body).digest();
  }
}

export function signatureHeader(s: Signer, body: Buffer): string {
  return `keyId="${s.keyId}",algorithm="${s.algorithm}",signature="${signBytes(s, body).toString('base64')}"`;
}

export function parseSignatureHeader(value: string): { keyId: string; algorithm: string; signature: Buffer } | null {
  const fields = new Map<string, string>();
  for (const m of value.matchAll(/([a-zA-Z]+)="([^"]*)"/g)) fields.set(m[1]!, m[2]!);
  const keyId = fields.get('keyId');
  const algorithm = fields.get('algorithm');
  const signature = fields.get('signature');
  if (!keyId || !algorithm || !signature) return null;
  return { keyId, algorithm, signature: Buffer.from(signature, 'base64') };
}

/** What a receiver does: checks the header against the body with the sender's public key (or the shared secret). */
export function verifySignature(body: Buffer, header: string, key: KeyObject | string | Buffer): boolean {
  const h = parseSignatureHeader(header);
  if (!h) return false;
  try {
    switch (h.algorithm) {
      case 'ed25519':
        return verify(null, body, key instanceof KeyObject ? key : createPublicKey(key), h.signature);
      case 'ecdsa-p256-sha256':
        return verify('sha256', body, { key: key instanceof KeyObject ? key : createPublicKey(key), dsaEncoding: 'ieee-p1363' }, h.signature);
      case 'hmac-sha256': {
        const want = createHmac('sha256', key as string | Buffer)
          .update(body)
          .digest();
        return want.length === h.signature.length && timingSafeEqual(want, h.signature);
      }
      default:
        return false;
    }
  } catch {
    return false;
  }
}
