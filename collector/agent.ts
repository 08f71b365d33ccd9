import { mkdirSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { checkKafkaConnection } from '../shared/bus/kafka-connection.ts';
import { createLogger, type Logger } from '../shared/log.ts';
import { topicNames } from '../shared/topics.ts';
import { winlogLogTypes, type CollectorConfig, type CollectorSection } from './config.ts';
import { Heartbeat } from './heartbeat.ts';
import { CollectorMetrics, serveMetrics } from './metrics.ts';
import type { CollectorSink } from './record.ts';
import { KafkaSink } from './sinks/kafka.ts';
import { CheckpointStore } from './sources/checkpoints.ts';
import { FileTailSource } from './sources/file-tail.ts';
import { SyslogTcpSource } from './sources/syslog-tcp.ts';
import { SyslogUdpSource } from './sources/syslog-udp.ts';
import { KafkaBus } from '../shared/bus/kafka.ts';
import { WinlogSource } from './sources/winlog.ts';
import { Spool } from './spool.ts';

export interface CollectorAgent<S extends CollectorSink = KafkaSink> {
  readonly metrics: CollectorMetrics;
  /** Bound addresses of syslog sources by source name, and of the metrics endpoint as `metrics`. */
  readonly addresses: Record<string, AddressInfo>;
  readonly sink: S;
  /** Graceful stop: stop reading, flush to the sink (Kafka or the spool), save checkpoints. */
  stop(): Promise<void>;
}

/** The bus the collector ships through: short timeouts so that an outage is noticed and spooled within seconds. */
function collectorBus(config: CollectorConfig, log: Logger): KafkaBus {
  return new KafkaBus(config.kafka, log, { connectionTimeoutMs: 3000, requestTimeoutMs: 10_000, quiet: true });
}

/** Wires sources -> sink -> Kafka from a validated config and starts everything. */
export async function startCollector(config: CollectorConfig, log: Logger = createLogger('collector', {}, config.log.level)): Promise<CollectorAgent> {
  const c = config.collector;
  await checkKafkaConnection(config.kafka);
  const spool = Spool.open(join(c.dataDir, 'spool'), c.spool);
  return runCollector(
    c,
    log,
    ({ metrics, onDurable }) =>
      new KafkaSink({ bus: collectorBus(config, log), topic: topicNames(config.kafka.topicPrefix).raw, spool, metrics, log, ...c.shipping, onDurable }),
  );
}

/** What a sink needs from the agent: the metrics to count in, and the hook that saves checkpoints. */
export interface SinkContext {
  metrics: CollectorMetrics;
  /**
   * To call right after records became durable, before the next batch goes out: saving checkpoints
   * there bounds what a kill -9 re-sends to the batch in flight.
   */
  onDurable: () => void;
}

/** Starts the sources of a collector section into the sink `makeSink` builds (Kafka, or the bus of `canhgac start`). */
export async function runCollector<S extends CollectorSink>(c: CollectorSection, log: Logger, makeSink: (ctx: SinkContext) => S): Promise<CollectorAgent<S>> {
  mkdirSync(c.dataDir, { recursive: true });
  const metrics = new CollectorMetrics();
  const stores: CheckpointStore[] = [];
  const sink = makeSink({
    metrics,
    onDurable: () => {
      for (const s of stores) s.flush();
    },
  });
  sink.start();

  const files: FileTailSource[] = [];
  const winlogs: WinlogSource[] = [];
  const syslog: (SyslogUdpSource | SyslogTcpSource)[] = [];
  const addresses: Record<string, AddressInfo> = {};
  let metricsServer: Server | null = null;
  const common = { host: c.host, unit: c.unit, drill: c.drill, lineLimit: c.lineLimit, sink, metrics, log };
  try {
    // One checkpoint file per source, so that a source never prunes another's entries.
    const storeOf = (name: string) => {
      const store = new CheckpointStore(join(c.dataDir, 'checkpoints', `${name}.json`), (err) =>
        log.error({ source: name, err: err.message }, 'cannot save checkpoints'),
      );
      stores.push(store);
      return store;
    };
    for (const s of c.sources) {
      if (s.type === 'file') {
        files.push(new FileTailSource(s, { ...common, pollMs: c.pollMs, rotateWaitMs: c.rotateWaitMs, checkpoints: storeOf(s.name) }));
      } else if (s.type === 'winlog') {
        winlogs.push(new WinlogSource(s, { ...common, checkpoints: storeOf(s.name) }));
      } else {
        const src = s.protocol === 'udp' ? new SyslogUdpSource(s, common) : new SyslogTcpSource(s, common);
        addresses[s.name] = await src.start();
        syslog.push(src);
        log.info({ source: s.name, protocol: s.protocol, address: addresses[s.name] }, 'syslog listening');
      }
    }
    if (c.metrics) {
      const served = await serveMetrics(metrics, c.metrics.listen.host, c.metrics.listen.port);
      metricsServer = served.server;
      addresses.metrics = served.address;
    }
  } catch (err) {
    await Promise.all(syslog.map((s) => s.stop()));
    await sink.stop(0);
    throw err;
  }
  for (const f of files) f.start();
  for (const w of winlogs) w.start();
  const logTypes = Object.fromEntries(c.sources.flatMap((s) => (s.type === 'winlog' ? [[s.name, winlogLogTypes(s)]] : [])));
  const heartbeat = new Heartbeat({
    host: c.host,
    unit: c.unit,
    drill: c.drill,
    sources: c.sources.map((s) => s.name),
    logTypes,
    intervalMs: c.heartbeatSeconds * 1000,
    sink,
    metrics,
    spoolBytes: () => sink.spoolBytes,
  });
  heartbeat.start();
  log.info({ host: c.host, sources: c.sources.length }, 'collector started');

  let stopping: Promise<void> | null = null;
  return {
    metrics,
    addresses,
    sink,
    stop() {
      stopping ??= (async () => {
        heartbeat.stop();
        for (const f of files) f.stop();
        await Promise.all(winlogs.map((w) => w.stop()));
        await Promise.all(syslog.map((s) => s.stop()));
        await sink.stop(c.shipping.flushTimeoutMs);
        for (const s of stores) s.save();
        if (metricsServer) await new Promise<void>((resolve) => metricsServer!.close(() => resolve()));
        log.info('collector stopped');
      })();
      return stopping;
    },
  };
}
