import { randomBytes } from 'node:crypto';
import { Kafka, logLevel, type Admin } from 'kafkajs';
import { KafkaBus } from '../../../shared/bus/kafka.ts';
import type { EnvelopeInput } from '../../../shared/envelope.ts';
import { IncidentChangeSchema } from '../../../shared/incident.ts';
import { createLogger } from '../../../shared/log.ts';
import { ElasticsearchIncidentStore } from '../../../shared/store/elasticsearch.ts';
import { topicNames } from '../../../shared/topics.ts';
import { loadRuleSet } from '../../../correlator/detection/ruleset.ts';
import { correlatorFor, drillAssets } from '../../../correlator/test/harness.ts';
import { correlatorMetrics } from '../../../correlator/metrics.ts';
import type { IncidentSink } from '../../../correlator/sinks/incidents.ts';
import { RawStage } from '../../../correlator/stages/raw.ts';
import { assetLookup } from '../../../correlator/stages/rules.ts';
import type { BusMessage, BusProducer } from '../../../shared/bus/types.ts';
import { consumeRate } from './baseline.ts';
import { percentile, withRatio, type BenchContext, type BenchSuite, type Figure } from '../figure.ts';

/**
 * One correlator instance with the full rule pack, from soc.raw in Kafka to Elasticsearch, against a
 * bare kafkajs consumer reading the same topic in the same run, and against the same decode + match
 * work in-process without I/O (RawStage.process on the same envelopes): the pipeline's efficiency.
 * Then, at a steady 5,000 lines per second, the latency from producing a line to its incident change
 * on soc.incidents: of a single-event detection, and of the line that crosses the SSH brute-force
 * threshold (a correlation, raised early with the default 5-minute lateness).
 */
const BRUTE_FORCE = '9a1d4f1e-8c3e-4f3b-9a52-0f5a1f1d2c11';
/** Brute-force attempts before the crossing one (the bundled rule fires at ten within five minutes). */
const BRUTE_BEFORE = 9;
const EVENTS = 300_000;
const RATE = 5000;
const LATENCY_SECONDS = 12;
const HOSTS = Array.from({ length: 40 }, (_, i) => `srv-${String(i + 1).padStart(2, '0')}`);

function timeOfDay(ms: number): string {
  return new Date(ms + 7 * 3600_000).toISOString().slice(11, 19);
}

/** A mix of what shared servers send: allowed and denied traffic, FortiGate sessions, AV updates. */
function line(i: number, at: number): { host: string; line: string } {
  const host = HOSTS[i % HOSTS.length]!;
  const t = timeOfDay(at);
  switch (i % 4) {
    case 0:
      return {
        host,
        line: `<4>Nov 26 ${t} ${host} kernel: [UFW ALLOW] IN=eth0 OUT= SRC=10.9.${(i >> 8) % 250}.${i % 250} DST=10.0.0.${i % 200} LEN=60 PROTO=TCP SPT=${1024 + (i % 60000)} DPT=443 SYN URGP=0`,
      };
    case 1:
      return {
        host,
        line: `<4>Nov 26 ${t} ${host} kernel: [UFW BLOCK] IN=eth0 OUT= SRC=172.16.${(i >> 8) % 250}.${i % 250} DST=10.0.0.${i % 200} LEN=60 PROTO=UDP SPT=${1024 + (i % 60000)} DPT=${5000 + (i % 3000)} LEN=40`,
      };
    case 2:
      return {
        host,
        line: `date=2026-11-26 time=${t} devname="FGT-${host}" logid="0000000013" type="traffic" subtype="forward" level="notice" srcip=10.8.${(i >> 8) % 250}.${i % 250} srcport=${1024 + (i % 60000)} dstip=93.184.${i % 250}.10 dstport=443 proto=6 action="accept" policyid=7 service="HTTPS" sentbyte=${i % 9000} rcvdbyte=${i % 7000}`,
      };
    default:
      return { host, line: `Nov 26 ${t} ${host} freshclam[411]: daily.cvd updated (version: 27${i % 1000}, sigs: 2061548, f-level: 90, builder: raynman)` };
  }
}

function envelope(i: number, host: string, text: string, received: string): string {
  const env: EnvelopeInput = { v: 1, id: `bench/${i}`, host, source: '/var/log/syslog', format: 'auto', received, line: text };
  return JSON.stringify(env);
}

async function lagOf(admin: Admin, groupId: string, topic: string): Promise<number> {
  const [ends, committed] = await Promise.all([admin.fetchTopicOffsets(topic), admin.fetchOffsets({ groupId, topics: [topic] })]);
  const done = new Map(committed[0]!.partitions.map((p) => [p.partition, Math.max(0, Number(p.offset))]));
  return ends.reduce((n, e) => n + Number(e.high) - (done.get(e.partition) ?? 0), 0);
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
/** An RFC 3164 time stamp in Asia/Ho_Chi_Minh (UTC+7). */
function syslogStamp(ms: number): string {
  const d = new Date(ms + 7 * 3600_000);
  return `${MONTHS[d.getUTCMonth()]} ${String(d.getUTCDate()).padStart(2, ' ')} ${timeOfDay(ms)}`;
}

function bruteSource(k: number): string {
  return `198.18.${Math.floor(k / 250) % 250}.${k % 250}`;
}

/** Events/s of RawStage.process over the throughput run's envelopes: decode, rules, feeds, no I/O. */
async function inProcessRate(ruleset: ReturnType<typeof loadRuleSet>['ruleset'], received: string, start: number): Promise<number> {
  const rules = () => ruleset;
  const noIo = new Proxy({}, { get: () => () => Promise.reject(new Error('no I/O here')) });
  const stage = new RawStage({
    rules,
    assets: assetLookup(rules),
    producer: noIo as BusProducer,
    sink: noIo as IncidentSink,
    topics: topicNames('inproc.'),
    correlatePartitions: 3,
    partitionOf: (key, n) => key.length % n,
    timezone: 'Asia/Ho_Chi_Minh',
    metrics: correlatorMetrics(),
    log: createLogger('bench-inprocess', {}, 'warn'),
  });
  const batches: BusMessage[][] = [];
  for (let i = 0; i < EVENTS; i += 1000) {
    batches.push(
      Array.from({ length: 1000 }, (_, k) => {
        const n = i + k;
        const l = line(n, start + n * 50);
        return { topic: 'inproc.soc.raw', partition: n % 3, offset: n, key: l.host, value: envelope(n, l.host, l.line, received), timestamp: 0 };
      }),
    );
  }
  const t0 = performance.now();
  let newest: Record<string, number> = {};
  for (const messages of batches)
    newest = (await stage.process({ topic: 'inproc.soc.raw', partition: 0, messages, heartbeat: async () => undefined, isStale: () => false }, newest)).newest;
  return EVENTS / ((performance.now() - t0) / 1000);
}

export const suite: BenchSuite = {
  name: 'correlator',
  needsServices: true,
  async run(ctx: BenchContext): Promise<Figure[]> {
    const log = createLogger('bench-correlator', {}, 'warn');
    const kafka = new Kafka({ clientId: 'bench-correlator', brokers: ctx.kafkaBrokers!, logLevel: logLevel.NOTHING });
    const admin = kafka.admin();
    await admin.connect();
    const prefix = `bench-corr-${randomBytes(4).toString('hex')}`;
    const topics = topicNames(`${prefix}.`);
    await admin.createTopics({
      waitForLeaders: true,
      topics: [
        { topic: topics.raw, numPartitions: 3 },
        { topic: topics.correlate, numPartitions: 3 },
        { topic: topics.incidents, numPartitions: 1 },
      ],
    });
    const producer = kafka.producer();
    await producer.connect();
    const start = Date.now() - 3600_000;
    const received = new Date().toISOString();
    ctx.log(`producing ${EVENTS} envelopes`);
    for (let i = 0; i < EVENTS; i += 1000) {
      await producer.send({
        topic: topics.raw,
        messages: Array.from({ length: 1000 }, (_, k) => {
          const n = i + k;
          const l = line(n, start + n * 50);
          return { key: l.host, value: envelope(n, l.host, l.line, received) };
        }),
      });
    }
    ctx.log('bare kafkajs consumer');
    const bare = await consumeRate(kafka, topics.raw, EVENTS, (value) => JSON.parse(value.toString()));

    // The drills' data centre as the register (the pack's own ships empty), as the figures always had it.
    const extraAssets = drillAssets();
    const { ruleset, findings } = loadRuleSet(['rules'], { extraAssets });
    ctx.log('the same decode + match work in-process');
    const inProcess = await inProcessRate(ruleset, received, start);
    ctx.log(`correlator with ${ruleset.size} rules (${findings.filter((f) => f.severity === 'error').length} rule errors)`);
    const store = new ElasticsearchIncidentStore({ url: ctx.elasticsearchUrl!, indexPrefix: prefix });
    const groupId = `${prefix}-g`;
    const bus = new KafkaBus({ brokers: ctx.kafkaBrokers!, clientId: 'bench', topicPrefix: '', ssl: false }, log);
    const correlator = correlatorFor(bus, store, topics, groupId, { rules: ['rules'], extraAssets, tickMs: 2000, log });
    await correlator.start();
    // Timed from the first commit (group joined, templates in place) until nothing is left to read.
    let first = EVENTS;
    let t0 = 0;
    for (;;) {
      const lag = await lagOf(admin, groupId, topics.raw);
      if (t0 === 0 && lag < EVENTS) {
        first = lag;
        t0 = performance.now();
      }
      if (lag === 0) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    const rate = first / ((performance.now() - t0) / 1000);

    ctx.log(`latency at ${RATE} lines/s for ${LATENCY_SECONDS}s`);
    const sentAt = new Map<string, number>();
    const latencies: number[] = [];
    const crossedAt = new Map<string, number>();
    const correlationLatencies: number[] = [];
    const watcher = kafka.consumer({ groupId: `${prefix}-watch` });
    await watcher.connect();
    await watcher.subscribe({ topic: topics.incidents, fromBeginning: false });
    await watcher.run({
      eachMessage: async ({ message }) => {
        const change = IncidentChangeSchema.safeParse(JSON.parse(message.value!.toString()));
        if (!change.success || change.data.type !== 'created') return;
        if (change.data.incident.rule.id === BRUTE_FORCE) {
          const t = crossedAt.get(change.data.incident.group['source.ip'] ?? '');
          if (t !== undefined) correlationLatencies.push(Date.now() - t);
          crossedAt.delete(change.data.incident.group['source.ip'] ?? '');
          return;
        }
        for (const h of change.data.incident.host) {
          const t = sentAt.get(h);
          if (t !== undefined) {
            latencies.push(Date.now() - t);
            sentAt.delete(h);
          }
        }
      },
    });
    await new Promise((r) => setTimeout(r, 3000));
    const tick = 100;
    const perTick = (RATE * tick) / 1000;
    let n = EVENTS;
    const live = Date.now();
    for (let k = 0; k < (LATENCY_SECONDS * 1000) / tick; k++) {
      const due = live + k * tick;
      const wait = due - Date.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      const now = new Date().toISOString();
      const messages = Array.from({ length: perTick }, () => {
        const l = line(n, Date.now());
        return { key: l.host, value: envelope(n++, l.host, l.line, now) };
      });
      // One detection a tick, on a host of its own: its incident change marks the end to end time.
      const marker = `bench-av-${k}`;
      const detection = `Nov 26 ${timeOfDay(Date.now())} ${marker} clamd[812]: /srv/upload/f${k}.exe: Win.Trojan.Bench-${k} FOUND`;
      messages.push({ key: marker, value: envelope(n++, marker, detection, now) });
      sentAt.set(marker, Date.now());
      // Every half second a new source starts a brute force; three ticks later its tenth attempt crosses the threshold.
      const attempt = (source: string, j: number) => {
        // Today's date: a correlation counts live events only (older than the allowed lateness is late).
        const text = `<4>${syslogStamp(Date.now())} srv-01 kernel: [UFW BLOCK] IN=eth0 OUT= SRC=${source} DST=10.0.0.1 LEN=60 PROTO=TCP SPT=${40000 + j} DPT=22 SYN URGP=0`;
        return { key: 'srv-01', value: envelope(n++, 'srv-01', text, now) };
      };
      if (k % 5 === 0) for (let j = 0; j < BRUTE_BEFORE; j++) messages.push(attempt(bruteSource(k), j));
      const crossing = k >= 3 && (k - 3) % 5 === 0 ? bruteSource(k - 3) : null;
      if (crossing) messages.push(attempt(crossing, BRUTE_BEFORE));
      await producer.send({ topic: topics.raw, messages });
      if (crossing) crossedAt.set(crossing, Date.now());
    }
    const deadline = Date.now() + 30_000;
    while ((sentAt.size > 0 || crossedAt.size > 0) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
    const lost = sentAt.size;
    const lostCorrelations = crossedAt.size;
    await watcher.disconnect();
    await correlator.stop();
    await producer.disconnect();
    await admin.deleteTopics({ topics: Object.values(topics) }).catch(() => undefined);
    await store.client.indices.delete({ index: `${prefix}-*`, ignore_unavailable: true, allow_no_indices: true });
    await store.close();
    await admin.disconnect();
    latencies.sort((a, b) => a - b);
    correlationLatencies.sort((a, b) => a - b);
    return [
      withRatio({ bench: 'correlator.throughput', unit: 'events/s', value: Math.round(rate), baseline: Math.round(bare) }),
      withRatio({
        bench: 'correlator.pipeline_efficiency',
        unit: 'events/s',
        value: Math.round(rate),
        baseline: Math.round(inProcess),
        note: 'through Kafka and Elasticsearch / the same decode + match in-process (RawStage.process), same run',
      }),
      {
        bench: 'correlator.correlation_latency',
        unit: 'ms',
        value: Math.round(percentile(correlationLatencies, 50)),
        p50: Math.round(percentile(correlationLatencies, 50)),
        p99: Math.round(percentile(correlationLatencies, 99)),
        note: `produce of the line crossing the SSH brute-force threshold to its incident on soc.incidents, 5-minute lateness; ${correlationLatencies.length} measured, ${lostCorrelations} not seen within 30 s`,
      },
      {
        bench: 'correlator.latency.5000eps',
        unit: 'ms',
        value: Math.round(percentile(latencies, 50)),
        p50: Math.round(percentile(latencies, 50)),
        p99: Math.round(percentile(latencies, 99)),
        note: `${latencies.length} detections measured, ${lost} not seen within 30 s`,
      },
    ];
  },
};
