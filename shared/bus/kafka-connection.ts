import { connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect, type ConnectionOptions } from 'node:tls';
import { Kafka, logLevel, type KafkaConfig as KafkaJsConfig, type SASLOptions } from 'kafkajs';
import type { KafkaConfig } from '../config.ts';
import { readCertificates, readPrivateKey, readSecretFile } from '../connection-files.ts';
import { ConnectionRefusedError, describeTlsFailure, tlsFailureCode } from '../tls-errors.ts';

export type KafkaClientOptions = Required<Pick<KafkaJsConfig, 'clientId' | 'brokers'>> & Pick<KafkaJsConfig, 'ssl' | 'sasl'>;

/**
 * The connection part of every Kafka client canhgac builds: brokers, TLS (the site's CA, a client
 * certificate, the server name) and SASL. Files are read here, once, at start; an unreadable file, an
 * expired certificate or a wrong key passphrase throws a ConnectionSettingsError naming field and file.
 */
export function kafkaClientOptions(cfg: KafkaConfig): KafkaClientOptions {
  return { clientId: cfg.clientId, brokers: cfg.brokers, ssl: kafkaTlsOptions(cfg), sasl: kafkaSaslOptions(cfg) };
}

function kafkaTlsOptions(cfg: KafkaConfig): ConnectionOptions | boolean {
  const t = cfg.tls;
  if (!t) return cfg.ssl;
  const passphrase = t.passphraseFile ? readSecretFile('kafka.tls.passphraseFile', t.passphraseFile) : t.passphrase;
  return {
    ca: t.ca ? readCertificates('kafka.tls.ca', t.ca) : undefined,
    cert: t.cert ? readCertificates('kafka.tls.cert', t.cert) : undefined,
    key: t.key ? readPrivateKey('kafka.tls.key', t.key, passphrase) : undefined,
    passphrase,
    servername: t.servername,
    rejectUnauthorized: t.rejectUnauthorized,
  };
}

function kafkaSaslOptions(cfg: KafkaConfig): SASLOptions | undefined {
  const s = cfg.sasl;
  if (!s) return undefined;
  const password = s.passwordFile ? readSecretFile('kafka.sasl.passwordFile', s.passwordFile) : s.password!;
  return { mechanism: s.mechanism, username: s.username, password } as SASLOptions;
}

/** host:port of a broker address as the config gives it. */
function hostPort(broker: string): { host: string; port: number } {
  const i = broker.lastIndexOf(':');
  return { host: broker.slice(0, i).replace(/^\[|\]$/g, ''), port: Number(broker.slice(i + 1)) };
}

/** An ApiVersions v0 request: any reply proves that the TLS session (client certificate included) was accepted. */
function apiVersionsRequest(clientId: string): Buffer {
  const id = Buffer.from(clientId, 'utf8');
  const body = Buffer.alloc(2 + 2 + 4 + 2 + id.length);
  body.writeInt16BE(18, 0);
  body.writeInt16BE(0, 2);
  body.writeInt32BE(1, 4);
  body.writeInt16BE(id.length, 8);
  id.copy(body, 10);
  const size = Buffer.alloc(4);
  size.writeInt32BE(body.length, 0);
  return Buffer.concat([size, body]);
}

type Probe = { ok: true } | { ok: false; final: string } | { ok: false; transient: string };

function probe(broker: string, opts: KafkaClientOptions, timeoutMs: number): Promise<Probe> {
  const { host, port } = hostPort(broker);
  const tls = opts.ssl;
  return new Promise((resolve) => {
    let socket: Socket;
    const done = (p: Probe) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(p);
    };
    const send = () => socket.write(apiVersionsRequest(opts.clientId));
    socket = tls
      ? tlsConnect(
          {
            host,
            port,
            ...(typeof tls === 'object' ? tls : {}),
            servername: (typeof tls === 'object' && tls.servername) || (/^[\d.:]+$/.test(host) ? undefined : host),
          },
          send,
        )
      : netConnect({ host, port }, send);
    const timer = setTimeout(() => done({ ok: false, transient: 'no answer' }), timeoutMs);
    let got = 0;
    socket.on('data', (d: Buffer) => {
      got += d.length;
      if (got >= 8) done({ ok: true });
    });
    socket.on('error', (err) => {
      const code = tlsFailureCode(err);
      done(
        code
          ? { ok: false, final: describeTlsFailure(code, 'kafka', broker, typeof tls === 'object' && !!tls.cert) }
          : { ok: false, transient: (err as NodeJS.ErrnoException).code ?? err.message },
      );
    });
    socket.on('close', () => done({ ok: false, transient: 'connection closed' }));
  });
}

/**
 * Checks the TLS session with the brokers before a client starts, because kafkajs takes every
 * connection error as retriable and would retry a wrong CA or a missing client certificate for
 * minutes, and the collector would spool behind a refused password for ever. Throws
 * ConnectionRefusedError (one line, no secret) when a broker refuses the TLS settings or the SASL
 * credentials; a broker that is down is not an error here (the components ride out an outage).
 */
export async function checkKafkaConnection(cfg: KafkaConfig, timeoutMs = 5000): Promise<void> {
  const opts = kafkaClientOptions(cfg);
  if (cfg.tls || cfg.ssl) {
    let reached = false;
    for (const broker of opts.brokers as string[]) {
      const p = await probe(broker, opts, timeoutMs);
      if ('final' in p) throw new ConnectionRefusedError(p.final);
      if (p.ok) {
        reached = true;
        break;
      }
    }
    if (!reached) return;
  }
  if (!opts.sasl) return;
  const admin = new Kafka({ ...opts, logLevel: logLevel.NOTHING, connectionTimeout: timeoutMs, retry: { retries: 0 } }).admin();
  try {
    await admin.connect();
  } catch (err) {
    if ((err as Error).name === 'KafkaJSSASLAuthenticationError') throw new ConnectionRefusedError(describeKafkaError(err, cfg));
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

/** One line for a Kafka error as the operator should read it: what failed and which setting to check. */
export function describeKafkaError(err: unknown, cfg: KafkaConfig): string {
  const e = err as { name?: string; message?: string; broker?: string };
  if (e?.name === 'KafkaJSSASLAuthenticationError' || /SASL .* authentication failed/i.test(e?.message ?? '')) {
    return `kafka ${e.broker ?? cfg.brokers.join(',')}: SASL ${cfg.sasl?.mechanism ?? ''} authentication failed for user ${cfg.sasl?.username ?? '?'}; check kafka.sasl.password${cfg.sasl?.passwordFile ? 'File' : ''}`;
  }
  const code = tlsFailureCode(err);
  if (code) return describeTlsFailure(code, 'kafka', e.broker ?? cfg.brokers.join(','), !!cfg.tls?.cert);
  return e?.message ?? String(err);
}
