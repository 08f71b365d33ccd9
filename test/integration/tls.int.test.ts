import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { appendFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { usersFile, PASSWORD } from '../../console/test/harness.ts';
import { startCollector } from '../../collector/agent.ts';
import { CollectorConfigSchema } from '../../collector/config.ts';
import { SCENARIO_RULES } from '../../correlator/test/scenario.ts';
import { KafkaBus } from '../../shared/bus/kafka.ts';
import { KafkaConfigSchema, ElasticsearchConfigSchema, type KafkaConfig } from '../../shared/config.ts';
import { createLogger } from '../../shared/log.ts';
import { ElasticsearchIncidentStore } from '../../shared/store/elasticsearch.ts';
import { canhgac, canhgacBin } from '../support/cli.ts';
import { elasticsearchUrl, testElasticsearch, uniqueName } from '../support/services.ts';
import { makeTestCa, type TestCa } from '../support/test-ca.ts';
import { freePort, startTlsKafka, startTlsProxy, type TlsKafka, type TlsProxy } from '../support/tls-services.ts';

/** Secrets that must never show in logs, errors, metrics or the audit trail: distinctive so a leak is found. */
const secret = (label: string) => `${label}-${randomBytes(9).toString('base64url')}`;
const SECRETS = {
  collectorScram: secret('collector-scram'),
  correlatorScram: secret('correlator-scram'),
  consolePlain: secret('console-plain'),
  keyPassphrase: '',
  esApiKey: Buffer.from(`id-x:${secret('api-key')}`).toString('base64'),
  esPassword: secret('es-password'),
};

let dir: string;
let pki: TestCa;
let kafka: TlsKafka;
let proxy: TlsProxy;
const log = createLogger('tls-test', {}, 'silent');

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'canhgac-tls-'));
  pki = makeTestCa(join(dir, 'pki'));
  SECRETS.keyPassphrase = pki.keyPassphrase;
  kafka = await startTlsKafka(pki, join(dir, 'kafka'), [
    { username: 'collector', password: SECRETS.collectorScram },
    { username: 'correlator', password: SECRETS.correlatorScram },
    { username: 'console', password: SECRETS.consolePlain },
  ]);
  proxy = await startTlsProxy(pki, join(dir, 'nginx'), elasticsearchUrl());
}, 240_000);

afterAll(async () => {
  await proxy?.stop();
  await kafka?.stop();
  rmSync(dir, { recursive: true, force: true });
});

function file(name: string, text: string): string {
  const f = join(dir, name);
  writeFileSync(f, text);
  return f;
}

/** How long a refused connection takes to be reported: seconds, not kafkajs' minute of retries. */
async function refusal(what: Promise<unknown>): Promise<{ message: string; ms: number }> {
  const t0 = Date.now();
  try {
    await what;
  } catch (err) {
    return { message: (err as Error).message, ms: Date.now() - t0 };
  }
  throw new Error('expected the connection to be refused');
}

async function kafkaRefusal(cfg: Partial<KafkaConfig> & { brokers: string[] }) {
  const bus = new KafkaBus(KafkaConfigSchema.parse(cfg), log);
  return refusal(bus.producer());
}

describe('Kafka over TLS: refusals are one line naming what is wrong', () => {
  it('a wrong CA', async () => {
    const r = await kafkaRefusal({ brokers: [kafka.ssl], tls: { ca: pki.otherCa, cert: pki.clientCert, key: pki.clientKey, rejectUnauthorized: true } });
    expect(r.message).toBe(
      `kafka ${kafka.ssl}: TLS failed: its certificate is not signed by a trusted CA (UNABLE_TO_VERIFY_LEAF_SIGNATURE); check kafka.tls.ca`,
    );
    expect(r.ms).toBeLessThan(10_000);
  });

  it('an expired broker certificate', async () => {
    const r = await kafkaRefusal({ brokers: [kafka.expired], tls: { ca: pki.ca, cert: pki.clientCert, key: pki.clientKey, rejectUnauthorized: true } });
    expect(r.message).toBe(`kafka ${kafka.expired}: TLS failed: its certificate has expired (CERT_HAS_EXPIRED); check kafka.tls.ca`);
    expect(r.ms).toBeLessThan(10_000);
  });

  it('no client certificate where the listener requires one', async () => {
    const r = await kafkaRefusal({ brokers: [kafka.ssl], tls: { ca: pki.ca, rejectUnauthorized: true } });
    expect(r.message).toMatch(new RegExp(`^kafka ${kafka.ssl}: TLS failed: .*client certificate.*; check kafka\\.tls\\.cert and kafka\\.tls\\.key$`));
    expect(r.message).not.toContain('\n');
    expect(r.ms).toBeLessThan(10_000);
  });

  it('a wrong SCRAM password, in the bus and in the collector', async () => {
    const wrong = {
      brokers: [kafka.saslSsl],
      tls: { ca: pki.ca, rejectUnauthorized: true },
      sasl: { mechanism: 'scram-sha-512' as const, username: 'collector', password: 'not-the-password' },
    };
    const r = await kafkaRefusal(wrong);
    expect(r.message).toBe(`kafka ${kafka.saslSsl}: SASL scram-sha-512 authentication failed for user collector; check kafka.sasl.password`);
    expect(r.ms).toBeLessThan(10_000);
    const config = CollectorConfigSchema.parse({
      kafka: wrong,
      collector: {
        host: 'relay',
        unit: 'soc',
        dataDir: join(dir, 'refused-collector'),
        sources: [{ type: 'file', name: 'f', paths: [join(dir, 'none', '*.log')] }],
      },
    });
    const c = await refusal(startCollector(config, log));
    expect(c.message).toBe(r.message);
    for (const m of [r.message, c.message]) expect(m).not.toContain('not-the-password');
  });
});

describe('Elasticsearch behind a TLS proxy: refusals are one line naming what is wrong', () => {
  const store = (url: string, tls: object) =>
    ElasticsearchIncidentStore.fromConfig(ElasticsearchConfigSchema.parse({ url, indexPrefix: uniqueName('tls-refused'), tls }));

  it('a wrong CA, an expired certificate, a missing client certificate', async () => {
    const wrongCa = await refusal(store(proxy.url, { ca: pki.otherCa, cert: pki.clientCert, key: pki.clientKey }).init());
    expect(wrongCa.message).toMatch(
      new RegExp(
        `^elasticsearch ${proxy.url}: TLS failed: its certificate (is not signed by a trusted CA|chain ends in a CA that is not trusted) \\([A-Z_]+\\); check elasticsearch\\.tls\\.ca or elasticsearch\\.tls\\.caFingerprint$`,
      ),
    );
    const expired = await refusal(store(proxy.expiredUrl, { ca: pki.ca, cert: pki.clientCert, key: pki.clientKey }).init());
    expect(expired.message).toBe(
      `elasticsearch ${proxy.expiredUrl}: TLS failed: its certificate has expired (CERT_HAS_EXPIRED); check elasticsearch.tls.ca or elasticsearch.tls.caFingerprint`,
    );
    const noCert = await refusal(store(proxy.url, { ca: pki.ca }).init());
    expect(noCert.message).toBe(
      `elasticsearch ${proxy.url}: the server requires a client certificate and none was sent; check elasticsearch.tls.cert and elasticsearch.tls.key`,
    );
    for (const r of [wrongCa, expired, noCert]) expect(r.ms).toBeLessThan(5_000);
  });
});

describe('canhgac es setup', () => {
  it('writes the index templates with the configured shapes through the TLS proxy, and prints the roles', async () => {
    const indexPrefix = uniqueName('tls-setup');
    const yml = file(
      'setup.yml',
      [
        'elasticsearch:',
        `  url: ${proxy.url}`,
        `  indexPrefix: ${indexPrefix}`,
        `  tls: { ca: ${pki.ca}, cert: ${pki.clientCert}, key: ${pki.clientKey} }`,
        '  indices: { audit: { shards: 3, replicas: 1 } }',
        '',
      ].join('\n'),
    );
    const noEnv = { ELASTICSEARCH_URL: '', KAFKA_BROKERS: '' };
    const r = canhgac(['es', 'setup', '--config', yml], undefined, noEnv);
    expect(r.stderr).toBe('');
    expect(r.stdout).toContain(`index templates ${indexPrefix}-alerts, ${indexPrefix}-incidents, ${indexPrefix}-audit`);
    const shape = (await testElasticsearch().cluster.getComponentTemplate({ name: `${indexPrefix}-audit-shape` })).component_templates[0]!.component_template
      .template.settings;
    expect(shape?.index ?? shape).toMatchObject({ number_of_shards: '3', number_of_replicas: '1' });
    const printed = canhgac(['es', 'setup', '--config', yml, '--roles', '--ilm', '--print'], undefined, noEnv);
    expect(printed.status).toBe(0);
    expect(printed.stdout).toContain(`PUT /_security/role/${indexPrefix}-correlator`);
    expect(printed.stdout).toContain(`PUT /_ilm/policy/${indexPrefix}-monthly`);
    const refused = canhgac(
      ['es', 'setup', '--config', file('setup-nocert.yml', ['elasticsearch:', `  url: ${proxy.url}`, `  tls: { ca: ${pki.ca} }`, ''].join('\n'))],
      undefined,
      noEnv,
    );
    expect(refused.status).toBe(1);
    expect(refused.stderr).toBe(
      `canhgac es: elasticsearch ${proxy.url}: the server requires a client certificate and none was sent; check elasticsearch.tls.cert and elasticsearch.tls.key\n`,
    );
  });
});

interface Child {
  proc: ChildProcess;
  output: () => string;
}

/** The real executable with its own environment only: KAFKA_BROKERS and ELASTICSEARCH_URL would override the files. */
function run(args: string[], env: Record<string, string>): Child {
  const { KAFKA_BROKERS: _k, ELASTICSEARCH_URL: _e, ...rest } = process.env;
  const proc = spawn(process.execPath, [canhgacBin, ...args], { env: { ...rest, ...env, CANHGAC_LOG_LEVEL: 'debug' }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  proc.stdout!.on('data', (d: Buffer) => (out += d.toString('utf8')));
  proc.stderr!.on('data', (d: Buffer) => (out += d.toString('utf8')));
  return { proc, output: () => out };
}

async function until<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>, children: Child[]): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe().catch(() => undefined);
    if (v !== undefined) return v;
    for (const c of children) if (c.proc.exitCode !== null) throw new Error(`${what}: a component exited:\n${c.output().slice(-2000)}`);
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}\n${children.map((c) => c.output().slice(-1500)).join('\n---\n')}`);
    await new Promise((r) => setTimeout(r, 300));
  }
}

function stop(c: Child): Promise<void> {
  if (c.proc.exitCode !== null) return Promise.resolve();
  return new Promise((res) => {
    c.proc.once('exit', () => res());
    c.proc.kill('SIGTERM');
  });
}

describe('collector -> correlator -> console over TLS, client certificates, SCRAM, PLAIN and an API key', () => {
  const children: Child[] = [];
  afterAll(async () => {
    await Promise.all(children.map(stop));
  });

  it('carries an antivirus line to an incident in the console, and no secret shows anywhere', async () => {
    const prefix = `${uniqueName('tls')}.`;
    const indexPrefix = uniqueName('tls');
    const rules = resolve(SCENARIO_RULES);
    const inbox = join(dir, 'inbox');
    mkdirSync(inbox, { recursive: true });
    const [collectorMetrics, correlatorMetrics, consolePort] = [await freePort(), await freePort(), await freePort()];
    const metricsToken = randomBytes(16).toString('hex');
    const scramFile = file('correlator-scram', `${SECRETS.correlatorScram}\n`);
    const esPasswordFile = file('console-es-password', `${SECRETS.esPassword}\n`);
    const env = {
      COLLECTOR_KEY_PASSPHRASE: SECRETS.keyPassphrase,
      COLLECTOR_SCRAM: SECRETS.collectorScram,
      ES_API_KEY: SECRETS.esApiKey,
      CONSOLE_KAFKA_PASSWORD: SECRETS.consolePlain,
    };

    const collectorYml = file(
      'collector.yml',
      [
        'kafka:',
        `  brokers: ["${kafka.ssl}"]`,
        `  topicPrefix: "${prefix}"`,
        `  tls: { ca: ${pki.ca}, cert: ${pki.clientCert}, key: ${pki.encryptedClientKey}, passphrase: "\${COLLECTOR_KEY_PASSPHRASE}" }`,
        'collector:',
        '  host: relay-01',
        '  unit: soc',
        `  dataDir: ${join(dir, 'collector')}`,
        `  sources: [{ type: file, name: av, paths: ["${inbox}/*.log"], startAt: beginning }]`,
        `  metrics: { listen: { host: 127.0.0.1, port: ${collectorMetrics} } }`,
        '',
      ].join('\n'),
    );
    const correlatorYml = file(
      'correlator.yml',
      [
        'kafka:',
        `  brokers: ["${kafka.saslSsl}"]`,
        `  topicPrefix: "${prefix}"`,
        `  tls: { ca: ${pki.ca} }`,
        `  sasl: { mechanism: scram-sha-512, username: correlator, passwordFile: ${scramFile} }`,
        'elasticsearch:',
        `  url: ${proxy.url}`,
        `  indexPrefix: ${indexPrefix}`,
        '  apiKey: "${ES_API_KEY}"',
        `  tls: { ca: ${pki.ca}, cert: ${pki.clientCert}, key: ${pki.clientKey} }`,
        '  indices: { alerts: { shards: 2, replicas: 0 } }',
        'correlator:',
        `  groupId: ${uniqueName('tls-correlator')}`,
        `  rules: ${rules}`,
        '  partitions: { raw: 1, correlate: 1, incidents: 1 }',
        `  metrics: { port: ${correlatorMetrics} }`,
        'operations:',
        "  escalation: { schedule: '0 0 0 1 1 *' }",
        "  audits: { schedule: '0 0 0 1 1 *' }",
        '',
      ].join('\n'),
    );
    const consoleYml = file(
      'console.yml',
      [
        'kafka:',
        `  brokers: ["${kafka.saslSsl}"]`,
        `  topicPrefix: "${prefix}"`,
        `  tls: { ca: ${pki.ca} }`,
        '  sasl: { mechanism: plain, username: console, password: "${CONSOLE_KAFKA_PASSWORD}" }',
        'elasticsearch:',
        `  url: ${proxy.url}`,
        `  indexPrefix: ${indexPrefix}`,
        '  username: canhgac-console',
        `  passwordFile: ${esPasswordFile}`,
        `  tls: { ca: ${pki.ca}, cert: ${pki.clientCert}, key: ${pki.clientKey} }`,
        'console:',
        `  port: ${consolePort}`,
        `  usersFile: ${await usersFile()}`,
        `  rules: ${rules}`,
        `  metricsToken: ${metricsToken}`,
        '',
      ].join('\n'),
    );

    const correlator = run(['correlator', '--config', correlatorYml], env);
    children.push(correlator);
    await until('the correlator metrics', 90_000, async () => ((await fetch(`http://127.0.0.1:${correlatorMetrics}/metrics`)).ok ? true : undefined), children);
    const collector = run(['collector', '--config', collectorYml], env);
    const consoleApp = run(['console', '--config', consoleYml], env);
    children.push(collector, consoleApp);
    await until('the console', 90_000, async () => (/console listening/.test(consoleApp.output()) ? true : undefined), children);

    appendFileSync(join(inbox, 'av.log'), 'Nov 26 08:02:00 srv-02 clamd[812]: /srv/upload/invoice.exe: Win.Trojan.Agent-123 FOUND\n');

    const base = `http://127.0.0.1:${consolePort}`;
    const login = await fetch(`${base}/api/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'adam', password: PASSWORD }),
    });
    expect(login.status).toBe(200);
    const cookie = login.headers
      .getSetCookie()
      .map((c) => c.split(';')[0])
      .join('; ');
    const incidents = await until(
      'the incident in the console',
      90_000,
      async () => {
        const body = await (await fetch(`${base}/api/incidents`, { headers: { cookie } })).text();
        return body.includes('5b0c3f7e-2d0a-4f57-8d7c-0c1e2f3a4b04') ? body : undefined;
      },
      children,
    );
    expect(incidents).toContain('srv-02');

    // The alerts family got the shape the config asked for.
    const es = testElasticsearch();
    const settings = await es.indices.getSettings({ index: `${indexPrefix}-alerts-*` });
    // Every alerts index, also the one a write created after the console (configured without shapes) started.
    const shapes = Object.values(settings).map((s) => [s.settings!.index!.number_of_shards, s.settings!.index!.number_of_replicas]);
    expect(shapes.length).toBeGreaterThan(0);
    for (const shape of shapes) expect(shape).toEqual(['2', '0']);

    const metrics = [
      await (await fetch(`http://127.0.0.1:${collectorMetrics}/metrics`)).text(),
      await (await fetch(`http://127.0.0.1:${correlatorMetrics}/metrics`)).text(),
      await (await fetch(`${base}/metrics`, { headers: { authorization: `Bearer ${metricsToken}` } })).text(),
    ].join('\n');
    expect(metrics).toContain('canhgac');
    // The console writes the login's audit entry after answering: wait until it is searchable.
    const audit = await until(
      'the login in the audit trail',
      30_000,
      async () => {
        await es.indices.refresh({ index: `${indexPrefix}-audit-*` });
        const hits = JSON.stringify((await es.search({ index: `${indexPrefix}-audit-*`, size: 1000 })).hits.hits);
        return hits.includes('login') ? hits : undefined;
      },
      children,
    );
    await Promise.all([collector, correlator, consoleApp].map(stop));
    const logs = [collector, correlator, consoleApp].map((c) => c.output()).join('\n');
    expect(logs).toContain('"component":"correlator"');
    const apiKeyParts = Buffer.from(SECRETS.esApiKey, 'base64').toString('utf8').split(':');
    for (const [name, value] of [...Object.entries(SECRETS), ['esApiKeySecret', apiKeyParts[1]!]] as [string, string][]) {
      expect(logs.includes(value), `${name} in the logs`).toBe(false);
      expect(metrics.includes(value), `${name} in the metrics`).toBe(false);
      expect(audit.includes(value), `${name} in the audit trail`).toBe(false);
    }
  }, 300_000);
});
