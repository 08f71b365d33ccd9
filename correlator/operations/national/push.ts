import { readFileSync } from 'node:fs';
import { request, type RequestOptions } from 'node:https';
import type { Logger } from '../../../shared/log.ts';
import type { PushConfig } from '../config.ts';
import { signatureHeader, type Signer } from './signature.ts';
import type { StixBundle } from './stix-schema.ts';

export const TAXII_MEDIA_TYPE = 'application/taxii+json;version=2.1';

export interface PushResult {
  status: number;
  attempts: number;
}

export class PushError extends Error {
  override name = 'PushError';
  constructor(
    message: string,
    readonly status: number | null,
    readonly attempts: number,
  ) {
    super(message);
  }
}

/** Statuses worth another attempt: the centre is busy or down, not refusing what we sent. */
const retryable = (status: number | null) => status === null || status === 408 || status === 429 || status >= 500;

const readSecret = (file: string) => readFileSync(file, 'utf8').trim();

/**
 * POSTs a bundle's objects to a TAXII 2.1 collection (Add Objects, an envelope `{"objects": [...]}`),
 * over HTTPS with a token, basic credentials or a TLS client certificate, with a detached signature of
 * the exact body in a header, and retries with doubling delays while the centre is unreachable or busy.
 * Credentials are read from their files on each push, so rotating them needs no restart.
 */
export class TaxiiPush {
  constructor(
    private readonly cfg: PushConfig,
    private readonly log: Logger,
    private readonly sleep: (ms: number) => Promise<void> = (ms) => new Promise((r) => setTimeout(r, ms)),
  ) {}

  private requestOptions(body: Buffer): RequestOptions {
    const url = new URL(this.cfg.url);
    const headers: Record<string, string> = {
      'content-type': TAXII_MEDIA_TYPE,
      accept: TAXII_MEDIA_TYPE,
      'content-length': String(body.length),
    };
    if (this.cfg.tokenFile) headers.authorization = `Bearer ${readSecret(this.cfg.tokenFile)}`;
    else if (this.cfg.basic)
      headers.authorization = `Basic ${Buffer.from(`${this.cfg.basic.username}:${readSecret(this.cfg.basic.passwordFile)}`).toString('base64')}`;
    if (this.cfg.signing) {
      const s = this.cfg.signing;
      const signer: Signer = { algorithm: s.algorithm, keyId: s.keyId, key: s.algorithm === 'hmac-sha256' ? readSecret(s.keyFile) : readFileSync(s.keyFile) };
      headers[s.header.toLowerCase()] = signatureHeader(signer, body);
    }
    const cc = this.cfg.clientCert;
    return {
      method: 'POST',
      protocol: url.protocol,
      hostname: url.hostname,
      port: url.port || 443,
      path: `${url.pathname}${url.search}`,
      headers,
      timeout: this.cfg.timeout,
      ...(cc ? { cert: readFileSync(cc.cert), key: readFileSync(cc.key), ...(cc.passphraseFile ? { passphrase: readSecret(cc.passphraseFile) } : {}) } : {}),
      ...(this.cfg.ca ? { ca: readFileSync(this.cfg.ca) } : {}),
    };
  }

  private once(body: Buffer): Promise<{ status: number; text: string }> {
    const opts = this.requestOptions(body);
    return new Promise((resolve, reject) => {
      const req = request(opts, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.length < 64 && chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8').slice(0, 500) }));
        res.on('error', reject);
      });
      req.on('timeout', () => req.destroy(new Error(`no answer within ${this.cfg.timeout} ms`)));
      req.on('error', reject);
      req.end(body);
    });
  }

  async push(bundle: StixBundle): Promise<PushResult> {
    const body = Buffer.from(JSON.stringify({ objects: bundle.objects ?? [] }));
    let delay = this.cfg.backoff;
    for (let attempt = 1; ; attempt++) {
      let status: number | null = null;
      let reason: string;
      try {
        const res = await this.once(body);
        status = res.status;
        if (status >= 200 && status < 300) return { status, attempts: attempt };
        reason = `HTTP ${status}: ${res.text}`;
      } catch (err) {
        reason = (err as Error).message;
      }
      if (!retryable(status) || attempt >= this.cfg.attempts)
        throw new PushError(`national push of ${bundle.id} failed after ${attempt} attempt(s): ${reason}`, status, attempt);
      this.log.warn({ bundle: bundle.id, attempt, reason }, 'national push failed; retrying');
      await this.sleep(delay);
      delay *= 2;
    }
  }
}
