import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { Kafka, logLevel } from 'kafkajs';
import type { TestCa } from './test-ca.ts';

/**
 * Private Kafka and an nginx in front of the shared Elasticsearch, both speaking TLS with a test CA:
 * what a site with its own PKI runs. Each test file starts its own and stops it; nothing is installed
 * here (Java and the Kafka jars come from `canhgac services up`, nginx from Debian's package).
 */

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

export function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer();
    s.once('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => res(port));
    });
  });
}

/** The Kafka jars `canhgac services up` fetched: this checkout's cache, CANHGAC_SERVICES_DIR, or the main checkout's. */
function kafkaLibs(): string {
  const candidates = [process.env.CANHGAC_SERVICES_DIR, join(repoRoot, '.cache', 'services'), '/work/main/.cache/services'].filter(
    (d): d is string => !!d && existsSync(d),
  );
  for (const dir of candidates) {
    const kafka = readdirSync(dir).find((n) => /^kafka-[\d.]+$/.test(n) && existsSync(join(dir, n, 'libs')));
    if (kafka) return join(dir, kafka, 'libs');
  }
  throw new Error('no Kafka jars found: run `canhgac services up` once');
}

export interface TlsKafka {
  /** SSL listener that requires a client certificate signed by the test CA. */
  ssl: string;
  /** SASL_SSL listener (SCRAM-SHA-512 and PLAIN), server certificate only. */
  saslSsl: string;
  /** SSL listener that presents an expired certificate. */
  expired: string;
  users: { username: string; password: string }[];
  dir: string;
  stop(): Promise<void>;
}

/** Kafka in PEM mode needs the certificate chain and the key inline, on one line each with \n escapes. */
function inlinePem(file: string): string {
  return readFileSync(file, 'utf8').trim().replace(/\n/g, '\\n');
}

async function waitForBroker(brokers: string, child: ChildProcess, logFile: string): Promise<void> {
  const deadline = Date.now() + 120_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`tls kafka exited: ${readFileSync(logFile, 'utf8').split('\n').slice(-5).join(' | ')}`);
    const admin = new Kafka({ brokers: [brokers], logLevel: logLevel.NOTHING, retry: { retries: 0 }, connectionTimeout: 1000 }).admin();
    try {
      await admin.connect();
      await admin.describeCluster();
      return;
    } catch {
      await sleep(300);
    } finally {
      await admin.disconnect().catch(() => undefined);
    }
  }
  throw new Error(`tls kafka did not start; see ${logFile}`);
}

export async function startTlsKafka(pki: TestCa, dir: string, users: { username: string; password: string }[]): Promise<TlsKafka> {
  mkdirSync(join(dir, 'data'), { recursive: true });
  const [internal, controller, ssl, saslSsl, expired] = [await freePort(), await freePort(), await freePort(), await freePort(), await freePort()];
  const keystore = (cert: string) => [
    `ssl.keystore.type=PEM`,
    `ssl.keystore.certificate.chain=${inlinePem(cert)}`,
    `ssl.keystore.key=${inlinePem(pki.serverKey)}`,
  ];
  const listener = (name: string, lines: string[]) => lines.map((l) => `listener.name.${name}.${l}`);
  const props = [
    'process.roles=broker,controller',
    'node.id=1',
    `controller.quorum.voters=1@127.0.0.1:${controller}`,
    `listeners=INTERNAL://127.0.0.1:${internal},CONTROLLER://127.0.0.1:${controller},MTLS://127.0.0.1:${ssl},SASL://127.0.0.1:${saslSsl},EXPIRED://127.0.0.1:${expired}`,
    `advertised.listeners=INTERNAL://127.0.0.1:${internal},MTLS://127.0.0.1:${ssl},SASL://127.0.0.1:${saslSsl},EXPIRED://127.0.0.1:${expired}`,
    'controller.listener.names=CONTROLLER',
    'inter.broker.listener.name=INTERNAL',
    'listener.security.protocol.map=CONTROLLER:PLAINTEXT,INTERNAL:PLAINTEXT,MTLS:SSL,SASL:SASL_SSL,EXPIRED:SSL',
    `log.dirs=${join(dir, 'data')}`,
    'num.partitions=1',
    'offsets.topic.replication.factor=1',
    'offsets.topic.num.partitions=4',
    'transaction.state.log.replication.factor=1',
    'transaction.state.log.min.isr=1',
    'group.initial.rebalance.delay.ms=0',
    'auto.create.topics.enable=true',
    'ssl.truststore.type=PEM',
    `ssl.truststore.location=${pki.ca}`,
    ...listener('mtls', [...keystore(pki.serverCert), 'ssl.client.auth=required']),
    ...listener('expired', keystore(pki.expiredServerCert)),
    ...listener('sasl', [...keystore(pki.serverCert), 'ssl.client.auth=none', 'sasl.enabled.mechanisms=SCRAM-SHA-512,PLAIN']),
    'listener.name.sasl.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;',
    `listener.name.sasl.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required ${users.map((u) => `user_${u.username}="${u.password}"`).join(' ')};`,
    '',
  ].join('\n');
  const propsFile = join(dir, 'server.properties');
  writeFileSync(propsFile, props);
  const log4j = join(dir, 'log4j.properties');
  writeFileSync(
    log4j,
    'log4j.rootLogger=WARN, stdout\nlog4j.appender.stdout=org.apache.log4j.ConsoleAppender\nlog4j.appender.stdout.layout=org.apache.log4j.PatternLayout\nlog4j.appender.stdout.layout.ConversionPattern=[%d] %p %m (%c)%n\n',
  );
  const cp = `${kafkaLibs()}/*`;
  const scram = users.flatMap((u) => ['--add-scram', `SCRAM-SHA-512=[name=${u.username},password=${u.password}]`]);
  const format = spawnSync(
    'java',
    [
      '-cp',
      cp,
      `-Dlog4j.configuration=file:${log4j}`,
      'kafka.tools.StorageTool',
      'format',
      '-t',
      randomBytes(16).toString('base64url'),
      '-c',
      propsFile,
      ...scram,
    ],
    { encoding: 'utf8' },
  );
  if (format.status !== 0) throw new Error(`kafka storage format failed: ${(format.stderr || format.stdout).trim()}`);
  const logFile = join(dir, 'kafka.log');
  const out = openSync(logFile, 'a');
  const child = spawn(
    'java',
    ['-Xms128m', '-Xmx384m', '-XX:+UseG1GC', '-Djava.awt.headless=true', `-Dlog4j.configuration=file:${log4j}`, '-cp', cp, 'kafka.Kafka', propsFile],
    { stdio: ['ignore', out, out] },
  );
  await waitForBroker(`127.0.0.1:${internal}`, child, logFile);
  return {
    ssl: `127.0.0.1:${ssl}`,
    saslSsl: `127.0.0.1:${saslSsl}`,
    expired: `127.0.0.1:${expired}`,
    users,
    dir,
    stop: () => stopChild(child),
  };
}

function stopChild(child: ChildProcess, graceMs = 10_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((res) => {
    const kill = setTimeout(() => child.kill('SIGKILL'), graceMs);
    child.once('exit', () => {
      clearTimeout(kill);
      res();
    });
    child.kill('SIGTERM');
  });
}

export interface TlsProxy {
  /** https URL that requires a client certificate signed by the test CA. */
  url: string;
  /** https URL that presents an expired certificate (client certificate required too). */
  expiredUrl: string;
  stop(): Promise<void>;
}

/**
 * nginx terminating TLS in front of an Elasticsearch that speaks plain HTTP (the integ-test distribution
 * has no security module). Runs in the foreground, one process, everything under `dir`.
 */
export async function startTlsProxy(pki: TestCa, dir: string, upstream: string): Promise<TlsProxy> {
  const nginx = ['/usr/sbin/nginx', '/usr/bin/nginx'].find((p) => existsSync(p));
  if (!nginx) throw new Error('nginx is not installed: apt-get install nginx (Debian package), as .ci/run does');
  mkdirSync(join(dir, 'tmp'), { recursive: true });
  const [port, expiredPort] = [await freePort(), await freePort()];
  const server = (p: number, cert: string) => `
    server {
      listen 127.0.0.1:${p} ssl;
      ssl_certificate ${cert};
      ssl_certificate_key ${pki.serverKey};
      ssl_client_certificate ${pki.ca};
      ssl_verify_client on;
      location / { proxy_pass ${upstream}; proxy_http_version 1.1; proxy_set_header Connection ""; }
    }`;
  const conf = join(dir, 'nginx.conf');
  writeFileSync(
    conf,
    `daemon off;
master_process off;
pid ${join(dir, 'nginx.pid')};
error_log ${join(dir, 'error.log')} warn;
events { worker_connections 256; }
http {
  access_log off;
  client_body_temp_path ${join(dir, 'tmp')};
  proxy_temp_path ${join(dir, 'tmp')};
  fastcgi_temp_path ${join(dir, 'tmp')};
  uwsgi_temp_path ${join(dir, 'tmp')};
  scgi_temp_path ${join(dir, 'tmp')};
  client_max_body_size 100m;
  ${server(port, pki.serverCert)}
  ${server(expiredPort, pki.expiredServerCert)}
}
`,
  );
  const child = spawn(nginx, ['-p', dir, '-c', conf, '-e', join(dir, 'error.log')], { stdio: 'ignore' });
  const deadline = Date.now() + 20_000;
  while (!(await listening(port))) {
    if (child.exitCode !== null || Date.now() > deadline)
      throw new Error(`nginx did not start: ${existsSync(join(dir, 'error.log')) ? readFileSync(join(dir, 'error.log'), 'utf8').trim() : 'no log'}`);
    await sleep(100);
  }
  return {
    url: `https://127.0.0.1:${port}`,
    expiredUrl: `https://127.0.0.1:${expiredPort}`,
    stop: async () => {
      await stopChild(child, 3000);
      rmSync(join(dir, 'tmp'), { recursive: true, force: true });
    },
  };
}

function listening(port: number): Promise<boolean> {
  return new Promise((res) => {
    const s = createServer();
    s.once('error', () => res(true));
    s.listen(port, '127.0.0.1', () => s.close(() => res(false)));
  });
}
