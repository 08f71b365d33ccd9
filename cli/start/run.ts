import type { AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';
import { runCollector, startCollector } from '../../collector/agent.ts';
import { BusSink } from '../../collector/sinks/bus.ts';
import { buildConsole } from '../../console/app.ts';
import { consoleGuardOptions } from '../../console/config.ts';
import { rulesFromFolder } from '../../console/rules-provider.ts';
import { AssetRegister } from '../../correlator/detection/assets.ts';
import { replayAuditEntry, replayRecording } from '../../correlator/drills/replay.ts';
import { startCorrelatorService } from '../../correlator/run.ts';
import { MemoryBus } from '../../shared/bus/memory.ts';
import type { Bus } from '../../shared/bus/types.ts';
import { createLogger, type Logger } from '../../shared/log.ts';
import { EmbeddedIncidentStore } from '../../shared/store/embedded.ts';
import { lockDataFolder } from '../../shared/store/folder-lock.ts';
import type { IncidentStore } from '../../shared/store/types.ts';
import { topicNames, type Topics } from '../../shared/topics.ts';
import { formatFinding } from '../../shared/yaml-source.ts';
import { checkAdminPassword, ensureFirstAdmin, type AdminSetup } from './admin.ts';
import { startControlSocket } from './control.ts';
import { giveBackMemoryWhenIdle } from './idle-memory.ts';
import { loadMallocTrim } from './malloc-trim.ts';
import { DEMO_ASSETS, DEMO_RECORDING, DEMO_SPEED, type StartConfig } from './config.ts';

export interface StartOptions {
  config: StartConfig;
  dataDir: string;
  host: string;
  port: number;
  demo: boolean;
  adminPassword?: string;
}

export interface Backends {
  mode: 'embedded' | 'distributed';
  bus: Bus;
  store: IncidentStore;
  topics: Topics;
}

export interface RunningStart {
  mode: Backends['mode'];
  address: string;
  usersFile: string;
  admin: AdminSetup;
  /** Bound addresses of the collector's syslog sources, by source name. */
  listening: Record<string, AddressInfo>;
  /** The demo drill's id, when the demo runs. */
  demoDrill: string | null;
  stop(): Promise<void>;
}

/**
 * Both KAFKA_BROKERS and ELASTICSEARCH_URL (or the config's kafka and elasticsearch): the deployment's
 * Kafka and Elasticsearch. Neither: the in-memory bus and the embedded store under DATA/store. One alone
 * is refused: half a deployment would split incidents between two places.
 */
export async function chooseBackends(config: StartConfig, dataDir: string, log: Logger): Promise<Backends> {
  if (config.kafka && config.elasticsearch) {
    // Loaded only here: the Elasticsearch client takes a noticeable part of a start the embedded default never needs.
    const [{ KafkaBus }, { ElasticsearchIncidentStore }] = await Promise.all([
      import('../../shared/bus/kafka.ts'),
      import('../../shared/store/elasticsearch.ts'),
    ]);
    return {
      mode: 'distributed',
      bus: new KafkaBus(config.kafka, log),
      store: ElasticsearchIncidentStore.fromConfig(config.elasticsearch),
      topics: topicNames(config.kafka.topicPrefix),
    };
  }
  if (config.kafka || config.elasticsearch) {
    throw new Error(
      `${config.kafka ? 'Kafka' : 'Elasticsearch'} is configured but ${config.kafka ? 'Elasticsearch' : 'Kafka'} is not: set both KAFKA_BROKERS and ELASTICSEARCH_URL, or neither for the embedded default`,
    );
  }
  const store = new EmbeddedIncidentStore(join(dataDir, 'store'), {
    retentionMonths: config.store.retentionMonths,
    onRetention: (deleted) => log.info(deleted, 'retention deleted alerts and closed incidents older than the setting'),
  });
  // The bus lives and dies with this process: a message goes once read, not once committed (memory.ts),
  // or the correlator's long windows, committing their oldest event, would hold every message after it.
  // Only the console's change feed looks back by time (on soc.incidents): a flood's lines go once handled.
  const topics = topicNames();
  return { mode: 'embedded', bus: new MemoryBus(1, { release: 'read', keepOnly: [topics.incidents] }), store, topics };
}

/** `canhgac start`: collector sources, correlator with operations, and the console, over one bus and one store. */
export async function startAllInOne(o: StartOptions): Promise<RunningStart> {
  const level = (process.env.CANHGAC_LOG_LEVEL ?? o.config.log.level) as StartConfig['log']['level'];
  const log = createLogger('start', {}, level);
  const usersFile = join(o.dataDir, 'users.json');
  checkAdminPassword(o.adminPassword);
  // TLS files are read before anything starts: an unreadable one stops `start` at once, naming its field.
  const consoleGuards = consoleGuardOptions(o.config.console, resolve);
  const lock = lockDataFolder(o.dataDir);
  const stack: (() => Promise<void>)[] = [async () => lock.release()];
  let backends: Backends;
  try {
    backends = await chooseBackends(o.config, o.dataDir, log);
  } catch (err) {
    lock.release();
    throw err;
  }
  const { bus, store, topics } = backends;
  const unwind = async () => {
    for (const step of stack.splice(0).reverse()) {
      await step().catch((err: unknown) => log.error({ err: (err as Error).message }, 'error while stopping'));
    }
  };
  try {
    await store.init();
    stack.push(
      () => store.close(),
      () => bus.close(),
    );
    if (store instanceof EmbeddedIncidentStore) {
      const imported = store.imported;
      if (imported) log.info({ files: imported.files }, 'imported the JSON journals of the previous embedded store');
      if (imported?.skipped.length) log.warn({ files: imported.files, skipped: imported.skipped }, 'journal import skipped records it could not read');
    }
    const correlator = await startCorrelatorService({ ...o.config, log: { level } }, backends, { extraAssets: o.demo ? demoRegister() : undefined });
    stack.push(() => correlator.stop());

    const { app } = await buildConsole({
      store,
      bus,
      incidentsTopic: topics.incidents,
      usersFile,
      rules: rulesFromFolder(o.config.correlator.rules),
      log: log.child({ part: 'console' }),
      ...consoleGuards,
    });
    stack.push(() => app.close());
    const address = await app.listen({ host: o.host, port: o.port });
    if (bus instanceof MemoryBus) {
      stack.push(() => drained(bus, topics.raw, o.config.correlator.groupId, 10_000, log));
      const memoryLog = log.child({ part: 'memory' });
      const idle = giveBackMemoryWhenIdle({
        busy: quietWatch(bus, topics.raw, o.config.correlator.groupId),
        released: () => bus.droppedChars(),
        shrink: store instanceof EmbeddedIncidentStore ? () => store.shrinkMemory() : undefined,
        trimNativeHeap: await loadMallocTrim(memoryLog),
        log: memoryLog,
      });
      stack.push(async () => idle.stop());
    }

    const producer = await bus.producer();
    stack.push(() => producer.close());
    if (backends.mode === 'embedded') {
      const control = await startControlSocket({
        dataDir: o.dataDir,
        store,
        producer,
        rawTopic: topics.raw,
        incidentsTopic: topics.incidents,
        drillSettled: (drillId) => correlator.correlator.drillSettled(drillId),
        log: log.child({ part: 'control' }),
      });
      stack.push(() => control.close());
    }
    let listening: Record<string, AddressInfo> = {};
    if (o.config.collector) {
      const section = o.config.collector;
      const agent =
        backends.mode === 'distributed'
          ? await startCollector({ ...o.config, kafka: o.config.kafka!, collector: section }, log.child({ part: 'collector' }))
          : await runCollector(
              section,
              log.child({ part: 'collector' }),
              ({ metrics, onDurable }) =>
                new BusSink({
                  producer,
                  topic: topics.raw,
                  metrics,
                  log,
                  batchRecords: section.shipping.batchRecords,
                  memoryRecords: section.shipping.memoryRecords,
                  onDurable,
                  settled: bus instanceof MemoryBus ? () => handled(bus, topics.raw, o.config.correlator.groupId) : undefined,
                }),
            );
      stack.push(() => agent.stop());
      listening = Object.fromEntries(Object.entries(agent.addresses).filter(([name]) => name !== 'metrics'));
    }

    let demoDrill: string | null = null;
    if (o.demo) {
      demoDrill = `demo-${new Date().toISOString().slice(0, 19).replace(/[-:]/g, '').replace('T', '-')}`;
      const abort = new AbortController();
      const drillId = demoDrill;
      const replay = replayRecording({ file: DEMO_RECORDING, producer, topic: topics.raw, speed: DEMO_SPEED, drillId, rebase: 'now', signal: abort.signal })
        .then(async (r) => {
          await store.appendAudit(replayAuditEntry(r, DEMO_RECORDING, DEMO_SPEED, 'canhgac-start', new Date()));
          log.info({ drill: drillId, sent: r.sent, stopped: r.stopped }, 'demo replay finished');
        })
        .catch((err: unknown) => log.error({ err: (err as Error).message }, 'demo replay failed'));
      stack.push(async () => {
        abort.abort();
        await replay;
      });
    }
    // Last, so that a start that failed never leaves an admin whose generated password nobody saw.
    const admin = await ensureFirstAdmin(usersFile, o.adminPassword);
    return { mode: backends.mode, address, usersFile, admin, listening, demoDrill, stop: unwind };
  } catch (err) {
    await unwind();
    throw err;
  }
}

/** The demo's sample register (bundled, so a broken one is a packaging fault, not a user's). */
function demoRegister(): AssetRegister {
  const { register, findings } = AssetRegister.load(DEMO_ASSETS);
  if (!register) throw new Error(findings.map(formatFinding).join('\n'));
  return register;
}

/** Resolves once the correlator has committed every message now on soc.raw (each raw batch commits its end). */
async function handled(bus: MemoryBus, topic: string, groupId: string): Promise<void> {
  const ends = bus.endsOf(topic);
  const behind = () => ends.some((end, partition) => Math.max(0, bus.committedFor(groupId, { topic, partition })) < end);
  // Unref'd: a sink still waiting here when the correlator is gone must not keep the process alive.
  while (behind()) await new Promise((r) => setTimeout(r, 10).unref());
}

/**
 * Whether more than a trickle of lines came onto soc.raw since the last call or wait for the correlator:
 * the collector's own heartbeats arrive every few seconds, however quiet the sources.
 */
function quietWatch(bus: MemoryBus, topic: string, groupId: string, trickle = 100): () => boolean {
  let seen = 0;
  return () => {
    const ends = bus.endsOf(topic);
    const total = ends.reduce((n, end) => n + end, 0);
    const arrived = total - seen;
    seen = total;
    return arrived > trickle || uncommitted(bus, topic, groupId) > trickle;
  };
}

/** The messages on `topic` its group has not committed yet. */
function uncommitted(bus: MemoryBus, topic: string, groupId: string): number {
  return bus.endsOf(topic).reduce((n, end, partition) => n + end - Math.max(0, bus.committedFor(groupId, { topic, partition })), 0);
}

/** Waits until the correlator has handled everything on soc.raw: the in-memory bus is gone after the stop. */
async function drained(bus: MemoryBus, topic: string, groupId: string, timeoutMs: number, log: Logger): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const behind = () => uncommitted(bus, topic, groupId);
  while (behind() > 0) {
    if (Date.now() > deadline) {
      log.warn({ lines: behind() }, 'stopping before the correlator handled every line');
      return;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}
