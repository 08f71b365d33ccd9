import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startElasticsearch, elasticsearchAnswers, type RunningElasticsearch } from './elasticsearch.ts';
import { ensureTools, fetchKafka, fetchServices } from './fetch.ts';
import { kafkaAnswers, startKafka, type RunningKafka } from './kafka.ts';
import { freePort, isAlive, stopPid } from './process.ts';
import { ELASTICSEARCH_VERSION, KAFKA_VERSION } from './versions.ts';
import { PACKAGE_ROOT } from '../../shared/package-root.ts';

export function servicesDir(): string {
  return process.env.CANHGAC_SERVICES_DIR ?? join(PACKAGE_ROOT, '.cache', 'services');
}

export const DEFAULT_PORTS = { kafka: 19092, kafkaController: 19093, esHttp: 19200, esTransport: 19300 };

interface State {
  kafka?: RunningKafka;
  elasticsearch?: RunningElasticsearch;
}

function stateFile(): string {
  return join(servicesDir(), 'state.json');
}

function readState(): State {
  try {
    return JSON.parse(readFileSync(stateFile(), 'utf8')) as State;
  } catch {
    return {};
  }
}

function writeState(s: State): void {
  mkdirSync(servicesDir(), { recursive: true });
  writeFileSync(stateFile(), `${JSON.stringify(s, null, 2)}\n`);
}

export interface Addresses {
  kafkaBrokers: string;
  elasticsearchUrl: string;
  started: string[];
  downloaded: string[];
}

/** `canhgac services up`: fetch once, start what is not running, wait until both answer. */
export async function servicesUp(): Promise<Addresses> {
  const dir = servicesDir();
  // Java before anything else; Maven too when a service is still to be fetched.
  ensureTools(!servicesFetched());
  const fetched = fetchServices(dir);
  const state = readState();
  const started: string[] = [];
  if (!(state.kafka && isAlive(state.kafka.pid) && (await kafkaAnswers(state.kafka.brokers)))) {
    state.kafka = await startKafka({
      libs: fetched.kafkaLibs,
      version: KAFKA_VERSION,
      dir: join(dir, 'run', `kafka-${KAFKA_VERSION}`),
      port: DEFAULT_PORTS.kafka,
      controllerPort: DEFAULT_PORTS.kafkaController,
    });
    writeState(state);
    started.push(`kafka ${KAFKA_VERSION}`);
  }
  if (!(state.elasticsearch && isAlive(state.elasticsearch.pid) && (await elasticsearchAnswers(state.elasticsearch.url)))) {
    state.elasticsearch = await startElasticsearch({
      home: fetched.elasticsearchHome,
      dir: join(dir, 'run', 'elasticsearch'),
      httpPort: DEFAULT_PORTS.esHttp,
      transportPort: DEFAULT_PORTS.esTransport,
    });
    writeState(state);
    started.push(`elasticsearch ${ELASTICSEARCH_VERSION}`);
  }
  return { kafkaBrokers: state.kafka.brokers, elasticsearchUrl: state.elasticsearch.url, started, downloaded: fetched.downloaded };
}

/** `canhgac services down`: stops exactly the processes `up` recorded. */
export async function servicesDown(): Promise<string[]> {
  const state = readState();
  const stopped: string[] = [];
  if (state.elasticsearch) {
    if (isAlive(state.elasticsearch.pid)) stopped.push(`elasticsearch (pid ${state.elasticsearch.pid})`);
    await stopPid(state.elasticsearch.pid);
  }
  if (state.kafka) {
    if (isAlive(state.kafka.pid)) stopped.push(`kafka (pid ${state.kafka.pid})`);
    await stopPid(state.kafka.pid);
  }
  rmSync(stateFile(), { force: true });
  return stopped;
}

export interface ServiceStatus {
  name: string;
  version: string;
  running: boolean;
  pid?: number;
  address?: string;
}

export async function servicesStatus(): Promise<ServiceStatus[]> {
  const s = readState();
  return [
    {
      name: 'kafka',
      // What `up` started, which may be an older version than this checkout's.
      version: s.kafka?.version ?? KAFKA_VERSION,
      running: !!s.kafka && isAlive(s.kafka.pid) && (await kafkaAnswers(s.kafka.brokers)),
      pid: s.kafka?.pid,
      address: s.kafka?.brokers,
    },
    {
      name: 'elasticsearch',
      version: ELASTICSEARCH_VERSION,
      running: !!s.elasticsearch && isAlive(s.elasticsearch.pid) && (await elasticsearchAnswers(s.elasticsearch.url)),
      pid: s.elasticsearch?.pid,
      address: s.elasticsearch?.url,
    },
  ];
}

export function servicesFetched(): boolean {
  const dir = servicesDir();
  return existsSync(join(dir, `kafka-${KAFKA_VERSION}`, '.complete')) && existsSync(join(dir, `elasticsearch-${ELASTICSEARCH_VERSION}`, '.complete'));
}

/**
 * A broker or cluster of a test's own, on free ports, for fault tests that stop and restart it
 * without disturbing the shared services other test files use at the same time.
 */
export interface PrivateService<R> {
  readonly running: R;
  stop(): Promise<void>;
  kill(): Promise<void>;
  restart(): Promise<void>;
  destroy(): Promise<void>;
}

/** Wraps one started process so that a test can stop, kill, restart and finally remove it. */
async function privateService<R extends { pid: number }>(dir: string, start: () => Promise<R>, graceMs: number): Promise<PrivateService<R>> {
  let running = await start();
  return {
    get running() {
      return running;
    },
    stop: () => stopPid(running.pid),
    kill: () => stopPid(running.pid, 0),
    restart: async () => {
      running = await start();
    },
    destroy: async () => {
      await stopPid(running.pid, graceMs);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A broker of the test's own; `version` picks another supported Kafka (the oldest, for the bus contract). */
export async function privateKafka(name: string, version = KAFKA_VERSION): Promise<PrivateService<RunningKafka>> {
  const libs = fetchKafka(servicesDir(), version);
  const dir = join(servicesDir(), 'run', `private-kafka-${name}-${process.pid}-${Date.now()}`);
  const opts = { libs, version, dir, port: await freePort(), controllerPort: await freePort() };
  return privateService(dir, () => startKafka(opts), 5000);
}

export async function privateElasticsearch(name: string): Promise<PrivateService<RunningElasticsearch>> {
  const fetched = fetchServices(servicesDir());
  const dir = join(servicesDir(), 'run', `private-es-${name}-${process.pid}-${Date.now()}`);
  const opts = { home: fetched.elasticsearchHome, dir, httpPort: await freePort(), transportPort: await freePort(), heapMb: 384 };
  return privateService(dir, () => startElasticsearch(opts), 10_000);
}
