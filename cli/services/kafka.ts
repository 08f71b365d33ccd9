import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, openSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Kafka, logLevel } from 'kafkajs';
import { ServicesError } from './fetch.ts';
import { isAlive, portOpen } from './process.ts';
import { kafkaUsesLog4j2 } from './versions.ts';

export interface KafkaOptions {
  libs: string;
  /** The broker's version: Kafka 4 logs through log4j 2, 3.x through log4j 1. */
  version: string;
  dir: string;
  port: number;
  controllerPort: number;
  heapMb?: number;
}

export interface RunningKafka {
  pid: number;
  /** Absent in the state files of older checkouts (3.9.1). */
  version?: string;
  brokers: string;
  dir: string;
  port: number;
  controllerPort: number;
}

const log4j2 = `rootLogger.level=WARN
rootLogger.appenderRef.stdout.ref=stdout
appender.stdout.type=Console
appender.stdout.name=stdout
appender.stdout.layout.type=PatternLayout
appender.stdout.layout.pattern=[%d] %p %m (%c)%n
`;

const log4j = `log4j.rootLogger=WARN, stdout
log4j.appender.stdout=org.apache.log4j.ConsoleAppender
log4j.appender.stdout.layout=org.apache.log4j.PatternLayout
log4j.appender.stdout.layout.ConversionPattern=[%d] %p %m (%c)%n
`;

function serverProperties(o: KafkaOptions): string {
  return `process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:${o.controllerPort}
listeners=PLAINTEXT://127.0.0.1:${o.port},CONTROLLER://127.0.0.1:${o.controllerPort}
advertised.listeners=PLAINTEXT://127.0.0.1:${o.port}
controller.listener.names=CONTROLLER
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
log.dirs=${join(o.dir, 'data')}
num.partitions=1
offsets.topic.replication.factor=1
offsets.topic.num.partitions=8
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
group.initial.rebalance.delay.ms=0
auto.create.topics.enable=true
`;
}

/** Starts a single-node KRaft broker in the background; returns once it answers metadata requests. */
export async function startKafka(o: KafkaOptions): Promise<RunningKafka> {
  mkdirSync(join(o.dir, 'data'), { recursive: true });
  const props = join(o.dir, 'server.properties');
  writeFileSync(props, serverProperties(o));
  const v2 = kafkaUsesLog4j2(o.version);
  const logConfig = join(o.dir, v2 ? 'log4j2.properties' : 'log4j.properties');
  writeFileSync(logConfig, v2 ? log4j2 : log4j);
  const logOption = v2 ? `-Dlog4j2.configurationFile=${logConfig}` : `-Dlog4j.configuration=file:${logConfig}`;
  const cp = `${o.libs}/*`;
  if (!existsSync(join(o.dir, 'data', 'meta.properties'))) {
    const clusterId = randomBytes(16).toString('base64url');
    const r = spawnSync('java', ['-cp', cp, logOption, 'kafka.tools.StorageTool', 'format', '-t', clusterId, '-c', props], { encoding: 'utf8' });
    if (r.status !== 0) throw new ServicesError(`kafka storage format failed: ${(r.stderr || r.stdout).trim().split('\n').pop()}`);
  }
  if (await portOpen(o.port)) throw new ServicesError(`port ${o.port} is already taken; stop what listens there or pick another port`);
  const out = openSync(join(o.dir, 'kafka.log'), 'a');
  const heap = o.heapMb ?? 512;
  const child = spawn(
    'java',
    [`-Xms${Math.min(256, heap)}m`, `-Xmx${heap}m`, '-XX:+UseG1GC', '-Djava.awt.headless=true', logOption, '-cp', cp, 'kafka.Kafka', props],
    { detached: true, stdio: ['ignore', out, out] },
  );
  child.unref();
  const pid = child.pid!;
  const brokers = `127.0.0.1:${o.port}`;
  await waitForKafka(brokers, pid, join(o.dir, 'kafka.log'));
  return { pid, version: o.version, brokers, dir: o.dir, port: o.port, controllerPort: o.controllerPort };
}

export async function kafkaAnswers(brokers: string): Promise<boolean> {
  const admin = new Kafka({ brokers: [brokers], logLevel: logLevel.NOTHING, retry: { retries: 0 }, connectionTimeout: 1000 }).admin();
  try {
    await admin.connect();
    await admin.describeCluster();
    return true;
  } catch {
    return false;
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

async function waitForKafka(brokers: string, pid: number, logFile: string, timeoutMs = 90_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!isAlive(pid)) throw new ServicesError(`kafka exited during start; see ${logFile}`);
    if (await kafkaAnswers(brokers)) return;
    await sleep(250);
  }
  throw new ServicesError(`kafka did not answer on ${brokers} within ${timeoutMs / 1000}s; see ${logFile}`);
}
