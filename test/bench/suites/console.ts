import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import WebSocket from 'ws';
import { buildConsole } from '../../../console/app.ts';
import { hashPassword } from '../../../console/auth/password.ts';
import { writeUsers } from '../../../console/auth/users-file.ts';
import { ChangeHub, type StreamSocket } from '../../../console/stream/hub.ts';
import { KafkaBus } from '../../../shared/bus/kafka.ts';
import { KafkaConfigSchema } from '../../../shared/config.ts';
import type { IncidentChange } from '../../../shared/incident.ts';
import { createLogger } from '../../../shared/log.ts';
import { ElasticsearchIncidentStore } from '../../../shared/store/elasticsearch.ts';
import { incidentFixture } from '../../../shared/store/fixtures.ts';
import { topicNames } from '../../../shared/topics.ts';
import { percentile, withRatio, type BenchContext, type BenchSuite, type Figure } from '../figure.ts';

const CLIENTS = 100;
const CHANGES = 2000;
const ROUND_TRIPS = 150;

class CountingSocket implements StreamSocket {
  bytes = 0;
  bufferedAmount = 0;
  send(data: Buffer) {
    this.bytes += data.length;
  }
  close() {}
}

/** Hub fan-out against the bare cost of serialising each change once and handing it to every socket. */
function fanout(): Figure {
  const changes: IncidentChange[] = Array.from({ length: CHANGES }, (_, i) => ({
    type: 'created',
    at: new Date().toISOString(),
    incident: incidentFixture({ id: `f${i}`, version: 1 }),
  }));
  const hub = new ChangeHub({ replayLimit: 2000 });
  const sockets = Array.from({ length: CLIENTS }, () => new CountingSocket());
  for (const s of sockets) hub.attach(s);
  const t0 = performance.now();
  for (const c of changes) hub.apply(c);
  const hubSecs = (performance.now() - t0) / 1000;
  const bare = Array.from({ length: CLIENTS }, () => new CountingSocket());
  const t1 = performance.now();
  for (const c of changes) {
    const msg = Buffer.from(JSON.stringify({ type: 'change', cursor: 'x', change: c }));
    for (const s of bare) s.send(msg);
  }
  const bareSecs = (performance.now() - t1) / 1000;
  return withRatio({
    bench: 'console.fanout',
    unit: 'deliveries/s',
    value: Math.round((CHANGES * CLIENTS) / hubSecs),
    baseline: Math.round((CHANGES * CLIENTS) / bareSecs),
    note: `${CLIENTS} clients`,
  });
}

/** Publish-to-WebSocket latency through a console, against bare produce-to-consume on Kafka. */
async function latencies(ctx: BenchContext): Promise<Figure[]> {
  const tag = randomBytes(4).toString('hex');
  const prefix = `bench-console-${tag}`;
  const log = createLogger('bench-console', {}, 'silent');
  const store = new ElasticsearchIncidentStore({ url: ctx.elasticsearchUrl!, indexPrefix: prefix });
  await store.init();
  const bus = new KafkaBus(KafkaConfigSchema.parse({ brokers: ctx.kafkaBrokers! }), log);
  const usersFile = join(mkdtempSync(join(tmpdir(), 'bench-console-')), 'users.json');
  const password = 'bench password 1234';
  writeUsers(usersFile, [{ username: 'bench', role: 'responder', hash: await hashPassword(password), created_at: new Date().toISOString() }]);
  const topic = topicNames(`${prefix}.`).incidents;
  const { app } = await buildConsole({
    store,
    bus,
    incidentsTopic: topic,
    usersFile,
    rules: async () => ({ rules: [], unloaded: [] }),
    log,
    loginAttemptsPerMinute: 100,
  });
  const address = await app.listen({ host: '127.0.0.1', port: 0 });
  const figures: Figure[] = [];
  try {
    const login = await fetch(`${address}/api/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'bench', password }),
    });
    const cookie = login.headers.get('set-cookie')!.split(';')[0]!;
    const ws = new WebSocket(`${address.replace('http', 'ws')}/ws`, { headers: { cookie } });
    const waiting = new Map<string, () => void>();
    ws.on('message', (d) => {
      const m = JSON.parse(d.toString());
      if (m.type === 'change') waiting.get(`${m.change.incident.id}@${m.change.incident.version}`)?.();
    });
    await new Promise((r) => ws.once('open', r));
    const arrived = (key: string) => new Promise<void>((r) => waiting.set(key, r));

    const kafka = new Kafka({ clientId: 'bench-console', brokers: ctx.kafkaBrokers!, logLevel: logLevel.NOTHING });
    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    ctx.log(`console: ${ROUND_TRIPS} changes published one at a time, each awaited on the WebSocket`);
    const viaConsole: number[] = [];
    for (let i = 0; i < ROUND_TRIPS; i++) {
      const incident = incidentFixture({ id: `lat-${i}`, version: 1 });
      const got = arrived(`${incident.id}@1`);
      const t0 = performance.now();
      await producer.send({
        topic,
        acks: -1,
        messages: [{ key: incident.id, value: JSON.stringify({ type: 'created', at: new Date().toISOString(), incident }) }],
      });
      await got;
      viaConsole.push(performance.now() - t0);
    }

    ctx.log(`kafkajs: ${ROUND_TRIPS} messages produced one at a time, each awaited by a consumer`);
    const bareTopic = `${prefix}.bare`;
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ waitForLeaders: true, topics: [{ topic: bareTopic, numPartitions: 1 }] });
    const consumer = kafka.consumer({ groupId: `${prefix}-bare`, maxWaitTimeInMs: 250 });
    await consumer.connect();
    await consumer.subscribe({ topic: bareTopic, fromBeginning: true });
    const bareWaiting = new Map<string, () => void>();
    let joined!: () => void;
    const join_ = new Promise<void>((r) => (joined = r));
    consumer.on(consumer.events.GROUP_JOIN, () => joined());
    await consumer.run({ eachMessage: async ({ message }) => bareWaiting.get(message.key!.toString())?.() });
    await join_;
    const bare: number[] = [];
    for (let i = 0; i < ROUND_TRIPS; i++) {
      const key = `bare-${i}`;
      const got = new Promise<void>((r) => bareWaiting.set(key, r));
      const t0 = performance.now();
      await producer.send({ topic: bareTopic, acks: -1, messages: [{ key, value: JSON.stringify(incidentFixture({ id: key })) }] });
      await got;
      bare.push(performance.now() - t0);
    }

    ctx.log(`console: ${ROUND_TRIPS / 3} actions over HTTP, each awaited on the WebSocket; baseline a bare get + conditional index`);
    await store.upsertIncident(incidentFixture({ id: 'act', version: 0 }));
    const acting: number[] = [];
    for (let i = 0; i < ROUND_TRIPS / 3; i++) {
      const got = arrived(`act@${i + 2}`);
      const t0 = performance.now();
      const res = await fetch(`${address}/api/incidents/act/actions`, {
        method: 'POST',
        headers: { cookie, 'content-type': 'application/json' },
        body: JSON.stringify({ action: 'comment', note: `n${i}` }),
      });
      if (res.status !== 200) throw new Error(`action answered ${res.status}`);
      await got;
      acting.push(performance.now() - t0);
    }
    const rmw: number[] = [];
    for (let i = 0; i < ROUND_TRIPS / 3; i++) {
      const t0 = performance.now();
      const doc = await store.client.get({ index: store.indices.incidents, id: 'act' });
      await store.client.index({
        index: store.indices.incidents,
        id: 'act',
        document: doc._source as object,
        if_seq_no: doc._seq_no,
        if_primary_term: doc._primary_term,
      });
      rmw.push(performance.now() - t0);
    }
    await consumer.disconnect();
    await producer.disconnect();
    await admin.deleteTopics({ topics: [bareTopic, topic] }).catch(() => undefined);
    await admin.disconnect();
    ws.close();

    const fig = (bench: string, v: number[], b: number[], note: string) => {
      const vs = [...v].sort((x, y) => x - y);
      const bs = [...b].sort((x, y) => x - y);
      const r = (n: number) => Math.round(n * 10) / 10;
      return withRatio({
        bench,
        unit: 'ms',
        value: r(percentile(vs, 50)),
        baseline: r(percentile(bs, 50)),
        p50: r(percentile(vs, 50)),
        p99: r(percentile(vs, 99)),
        note,
      });
    };
    figures.push(fig('console.publish_to_ws', viaConsole, bare, 'baseline: kafkajs produce to consume'));
    figures.push(fig('console.action_to_ws', acting, rmw, 'baseline: Elasticsearch get + conditional index'));
  } finally {
    await app.close();
    await store.client.indices.delete({ index: `${prefix}-*`, ignore_unavailable: true, allow_no_indices: true });
    await store.client.indices.deleteIndexTemplate({ name: `${prefix}-*` });
    await store.client.cluster.deleteComponentTemplate({ name: `${prefix}-*` });
    await store.close();
  }
  return figures;
}

export const suite: BenchSuite = {
  name: 'console',
  needsServices: true,
  async run(ctx) {
    return [fanout(), ...(await latencies(ctx))];
  },
};
