import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { makeTestCa, type TestCa } from '../test/support/test-ca.ts';
import { kafkaClientOptions } from './bus/kafka-connection.ts';
import { BaseConfigSchema, ConfigError, ElasticsearchConfigSchema, KafkaConfigSchema, loadConfig } from './config.ts';
import { ConnectionSettingsError } from './connection-files.ts';
import { errors } from '@elastic/elasticsearch';
import { describeKafkaError } from './bus/kafka-connection.ts';
import { describeElasticsearchError, elasticsearchClientOptions } from './store/elasticsearch-connection.ts';

let dir: string;
let pki: TestCa;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'canhgac-connection-'));
  pki = makeTestCa(join(dir, 'pki'));
});

function file(name: string, text: string): string {
  const f = join(dir, name);
  writeFileSync(f, text);
  return f;
}

function errorOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    return (err as Error).message;
  }
  throw new Error('expected an error');
}

describe('connection settings in the config file', () => {
  it('takes ${ENV} references in values, and $${ as a literal', () => {
    const f = file(
      'env.yml',
      'kafka:\n  brokers: ["${BROKER}:9093"]\n  clientId: "a$${b}"\n  sasl:\n    mechanism: scram-sha-512\n    username: collector\n    password: "${KAFKA_PASSWORD}"\n',
    );
    const cfg = loadConfig(f, BaseConfigSchema, { BROKER: 'kafka-1', KAFKA_PASSWORD: 's3cret' });
    expect(cfg.kafka?.brokers).toEqual(['kafka-1:9093']);
    expect(cfg.kafka?.clientId).toBe('a${b}');
    expect(cfg.kafka?.sasl?.password).toBe('s3cret');
  });

  it('names file, line and field of an unset variable', () => {
    const f = file('unset.yml', 'elasticsearch:\n  url: https://es:9200\n  apiKey: "${ES_API_KEY}"\n');
    const msg = errorOf(() => loadConfig(f, BaseConfigSchema, {}));
    expect(msg).toBe(`${f}:3:3: error: field elasticsearch.apiKey: environment variable ES_API_KEY is not set`);
  });

  it('refuses a password given twice, a key without a certificate, a half client certificate and a bad fingerprint', () => {
    const f = file(
      'bad.yml',
      [
        'kafka:',
        '  brokers: [k:9093]',
        '  tls: { ca: /x/ca.pem, key: /x/client.key }',
        '  sasl: { mechanism: scram-sha-256, username: u, password: p, passwordFile: /run/secrets/p }',
        'elasticsearch:',
        '  url: https://es:9200',
        '  username: u',
        '  apiKey: abc',
        '  tls: { caFingerprint: "AB:CD" }',
        '',
      ].join('\n'),
    );
    const msg = errorOf(() => loadConfig(f, BaseConfigSchema, {}));
    expect(msg).toContain('field kafka.tls.cert: a client certificate needs both cert and key');
    expect(msg).toContain('field kafka.sasl.passwordFile: give password or passwordFile, not both');
    expect(msg).toContain('field elasticsearch.apiKey: give an API key or username and password, not both');
    expect(msg).toMatch(/field elasticsearch\.tls\.caFingerprint: a SHA-256 fingerprint/);
    expect(msg).not.toMatch(/\bp\b.*passwordFile: \/run/);
  });

  it('needs a password or a password file for SASL', () => {
    expect(KafkaConfigSchema.safeParse({ brokers: ['k:1'], sasl: { mechanism: 'plain', username: 'u' } }).error?.issues[0]?.message).toMatch(
      /password.*passwordFile/,
    );
  });

  it('sets shards and replicas per index family, one shard and 0-1 replicas unless given', () => {
    const cfg = ElasticsearchConfigSchema.parse({ url: 'http://es:9200', indices: { alerts: { shards: 3, replicas: 1 }, audit: { shards: 2 } } });
    expect(cfg.indices).toEqual({ alerts: { shards: 3, replicas: 1 }, audit: { shards: 2, replicas: '0-1' } });
    expect(ElasticsearchConfigSchema.safeParse({ url: 'http://es:9200', indices: { audit: { replicas: 'two' } } }).success).toBe(false);
  });
});

describe('Kafka client options', () => {
  it('reads the CA, the client certificate, an encrypted key with its passphrase file and a password file', () => {
    const pass = file('kafka-pass', 'from-a-file\n');
    const phrase = file('key-pass', `${pki.keyPassphrase}\n`);
    const opts = kafkaClientOptions(
      KafkaConfigSchema.parse({
        brokers: ['k:9093'],
        tls: { ca: pki.ca, cert: pki.clientCert, key: pki.encryptedClientKey, passphraseFile: phrase, servername: 'kafka.example' },
        sasl: { mechanism: 'scram-sha-512', username: 'collector', passwordFile: pass },
      }),
    );
    expect(opts.ssl).toMatchObject({
      ca: readFileSync(pki.ca, 'utf8'),
      cert: readFileSync(pki.clientCert, 'utf8'),
      passphrase: pki.keyPassphrase,
      servername: 'kafka.example',
      rejectUnauthorized: true,
    });
    expect(opts.sasl).toEqual({ mechanism: 'scram-sha-512', username: 'collector', password: 'from-a-file' });
  });

  it('keeps ssl: true as TLS with the system CAs', () => {
    expect(kafkaClientOptions(KafkaConfigSchema.parse({ brokers: ['k:9093'], ssl: true })).ssl).toBe(true);
  });

  it('names the field and the file that cannot be used', () => {
    const kafka = (tls: object) => () => kafkaClientOptions(KafkaConfigSchema.parse({ brokers: ['k:9093'], tls }));
    expect(errorOf(kafka({ ca: join(dir, 'missing.pem') }))).toBe(`kafka.tls.ca: cannot read ${join(dir, 'missing.pem')}: no such file`);
    expect(errorOf(kafka({ ca: pki.clientKey }))).toBe(`kafka.tls.ca: ${pki.clientKey} holds no PEM certificate (-----BEGIN CERTIFICATE-----)`);
    expect(errorOf(kafka({ ca: pki.expiredServerCert }))).toMatch(
      new RegExp(`^kafka\\.tls\\.ca: the certificate in ${pki.expiredServerCert} \\(CN=localhost\\) expired on \\d{4}-02-01`),
    );
    expect(errorOf(kafka({ cert: pki.clientCert, key: pki.encryptedClientKey }))).toBe(
      `kafka.tls.key: ${pki.encryptedClientKey}: the key is encrypted and no passphrase is given`,
    );
    expect(errorOf(kafka({ cert: pki.clientCert, key: pki.encryptedClientKey, passphrase: 'wrong-phrase' }))).toBe(
      `kafka.tls.key: ${pki.encryptedClientKey}: the passphrase does not open the key`,
    );
    const empty = file('empty-pass', '\n');
    const msg = errorOf(() =>
      kafkaClientOptions(KafkaConfigSchema.parse({ brokers: ['k:1'], sasl: { mechanism: 'plain', username: 'u', passwordFile: empty } })),
    );
    expect(msg).toBe(`kafka.sasl.passwordFile: ${empty} is empty`);
    expect(() => kafka({ ca: join(dir, 'missing.pem') })()).toThrowError(ConnectionSettingsError);
  });
});

describe('Elasticsearch client options', () => {
  it('reads an API key file, the CA and a client certificate', () => {
    const key = file('es-key', 'aWQ6a2V5\n');
    const opts = elasticsearchClientOptions(
      ElasticsearchConfigSchema.parse({ url: 'https://es:9200', apiKeyFile: key, tls: { ca: pki.ca, cert: pki.clientCert, key: pki.clientKey } }),
    );
    expect(opts.auth).toEqual({ apiKey: 'aWQ6a2V5' });
    expect(opts.tls).toMatchObject({ ca: readFileSync(pki.ca, 'utf8'), cert: readFileSync(pki.clientCert, 'utf8'), key: readFileSync(pki.clientKey, 'utf8') });
  });

  it('takes the password from a file, and a user in the URL out of the URL', () => {
    const pw = file('es-pass', 'pw-from-file');
    expect(elasticsearchClientOptions(ElasticsearchConfigSchema.parse({ url: 'https://es:9200', username: 'correlator', passwordFile: pw })).auth).toEqual({
      username: 'correlator',
      password: 'pw-from-file',
    });
    const inUrl = elasticsearchClientOptions(ElasticsearchConfigSchema.parse({ url: 'https://elastic:p%40ss@es:9200' }));
    expect(inUrl.node).toBe('https://es:9200');
    expect(inUrl.auth).toEqual({ username: 'elastic', password: 'p@ss' });
  });

  it('normalises a CA fingerprint to the colon form', () => {
    const hex = 'ab'.repeat(32);
    expect(elasticsearchClientOptions(ElasticsearchConfigSchema.parse({ url: 'https://es:9200', tls: { caFingerprint: hex } })).caFingerprint).toBe(
      Array(32).fill('AB').join(':'),
    );
  });

  it('names the field and the file that cannot be used', () => {
    const msg = errorOf(() => elasticsearchClientOptions(ElasticsearchConfigSchema.parse({ url: 'https://es:9200', apiKeyFile: join(dir, 'nope') })));
    expect(msg).toBe(`elasticsearch.apiKeyFile: cannot read ${join(dir, 'nope')}: no such file`);
  });

  it('keeps ConfigError for the file itself', () => {
    expect(() => loadConfig(join(dir, 'absent.yml'), BaseConfigSchema, {})).toThrowError(ConfigError);
  });
});

describe('connection errors', () => {
  it('name the cluster without the credentials of its URL, and the setting to check', () => {
    const cfg = ElasticsearchConfigSchema.parse({ url: 'https://elastic:hunter2-secret@es.dc.example:9200' });
    const refused = new errors.ResponseError({
      body: { error: { type: 'security_exception' } },
      statusCode: 401,
      headers: {},
      warnings: [],
      meta: {} as never,
    });
    expect(describeElasticsearchError(refused, cfg)).toBe(
      'elasticsearch https://es.dc.example:9200: authentication failed (401); check elasticsearch.username and password',
    );
    const down = new errors.ConnectionError('connect ECONNREFUSED 10.0.0.9:9200');
    expect(describeElasticsearchError(down, cfg)).toBe('elasticsearch https://es.dc.example:9200: connect ECONNREFUSED 10.0.0.9:9200');
    const key = ElasticsearchConfigSchema.parse({ url: 'https://es:9200', apiKey: 'c2VjcmV0LWtleQ==' });
    expect(describeElasticsearchError(refused, key)).toBe('elasticsearch https://es:9200: authentication failed (401); check elasticsearch.apiKey');
  });

  it('say which SASL user was refused, never the password', () => {
    const cfg = KafkaConfigSchema.parse({ brokers: ['k:9094'], sasl: { mechanism: 'scram-sha-256', username: 'correlator', password: 'p4ss-secret' } });
    const err = Object.assign(new Error('SASL SCRAM SHA256 authentication failed: wrong password p4ss-secret'), {
      name: 'KafkaJSSASLAuthenticationError',
      broker: 'k:9094',
    });
    expect(describeKafkaError(err, cfg)).toBe('kafka k:9094: SASL scram-sha-256 authentication failed for user correlator; check kafka.sasl.password');
  });

  it("read a TLS failure from its code or from OpenSSL's text", () => {
    const cfg = KafkaConfigSchema.parse({ brokers: ['k:9093'], tls: {} });
    const alert = new Error('Connection error: 408D:error:0A000412:SSL routines:ssl3_read_bytes:ssl/tls alert bad certificate:SSL alert number 42');
    expect(describeKafkaError(Object.assign(alert, { broker: 'k:9093' }), cfg)).toBe(
      'kafka k:9093: TLS failed: it requires a client certificate and none was sent (ERR_SSL_SSLV3_ALERT_BAD_CERTIFICATE); check kafka.tls.cert and kafka.tls.key',
    );
    expect(describeKafkaError(Object.assign(new Error('x'), { code: 'ERR_TLS_CERT_ALTNAME_INVALID' }), cfg)).toBe(
      'kafka k:9093: TLS failed: its certificate does not name this host (ERR_TLS_CERT_ALTNAME_INVALID); check kafka.tls.servername or the broker addresses',
    );
  });
});
