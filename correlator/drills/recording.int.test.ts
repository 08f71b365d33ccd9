import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KafkaBus } from '../../shared/bus/kafka.ts';
import type { BusProducer } from '../../shared/bus/types.ts';
import type { EnvelopeInput } from '../../shared/envelope.ts';
import { createLogger } from '../../shared/log.ts';
import { createTopics, kafkaBrokers, testKafka, uniqueName } from '../../test/support/services.ts';
import { recordDrill } from './recording.ts';

const T0 = Date.parse('2025-03-04T02:00:00Z');

function envelope(i: number, host: string, at: number): string {
  const e: EnvelopeInput = {
    v: 1,
    id: `${host}-${i}`,
    host,
    source: 'udp:514',
    format: 'fortigate',
    received: new Date(at).toISOString(),
    line: `date=2025-03-04 time=02:00:${String(i).padStart(2, '0')} devname="${host}" action="deny" seq=${i}`,
  };
  return JSON.stringify(e);
}

const linesOf = (text: string) => text.split('\n').filter(Boolean);

describe('drill record (Kafka)', () => {
  const bus = new KafkaBus({ brokers: kafkaBrokers(), clientId: 'drill-record-test', topicPrefix: '', ssl: false }, createLogger('test'));
  let producer: BusProducer;
  const dir = mkdtempSync(join(tmpdir(), 'record-'));

  beforeAll(async () => {
    producer = await bus.producer();
  });
  afterAll(async () => {
    await producer.close();
    await bus.close();
  });

  it('captures a past window of envelopes for the chosen hosts, unchanged, and stops by itself', async () => {
    const topic = uniqueName('drill-rec');
    await createTopics(testKafka(), [topic], 2);
    const all: { host: string; value: string; at: number }[] = [];
    for (let i = 0; i < 60; i++) {
      const host = ['fw-a', 'fw-b', 'fw-c'][i % 3]!;
      const at = T0 + i * 1000;
      all.push({ host, at, value: envelope(i, host, at) });
    }
    await producer.send(
      topic,
      all.map((m) => ({ key: m.host, value: m.value })),
    );
    await producer.send(topic, [
      { key: 'fw-a', value: 'not an envelope' },
      {
        key: 'fw-a',
        value: JSON.stringify({
          v: 1,
          kind: 'heartbeat',
          id: 'hb',
          host: 'fw-a',
          source: 'agent',
          received: new Date(T0 + 20_000).toISOString(),
          line: '',
          heartbeat: { lines: 1 },
        }),
      },
    ]);
    const out = join(dir, 'window.ndjson');
    const from = T0 + 10_000;
    const to = T0 + 40_000;
    const r = await recordDrill({ bus, topic, out, from, to, hosts: ['fw-a', 'fw-b'] });
    const want = all.filter((m) => m.at >= from && m.at < to && m.host !== 'fw-c');
    expect(r).toMatchObject({ recorded: want.length, stopped: false });
    expect(r.seen).toBe(62);
    const got = linesOf(readFileSync(out, 'utf8'));
    // Exactly the produced values (original ids and timestamps), in order per host.
    expect([...got].sort()).toEqual(want.map((m) => m.value).sort());
    for (const host of ['fw-a', 'fw-b']) {
      expect(got.filter((l) => l.includes(`"host":"${host}"`))).toEqual(want.filter((m) => m.host === host).map((m) => m.value));
    }
  });

  it('records live traffic for a duration into a gzip file, leaving out what came before it', async () => {
    const topic = uniqueName('drill-live');
    await createTopics(testKafka(), [topic], 1);
    await producer.send(topic, [{ key: 'fw-a', value: envelope(0, 'fw-a', Date.now() - 60_000) }]);
    const out = join(dir, 'live.ndjson.gz');
    const start = Date.now();
    let started!: () => void;
    const joined = new Promise<void>((r) => (started = r));
    const recording = recordDrill({ bus, topic, out, to: start + 8000, onStarted: () => started() });
    await joined;
    const live = [1, 2, 3].map((i) => envelope(i, 'fw-b', Date.now()));
    await producer.send(
      topic,
      live.map((value) => ({ key: 'fw-b', value })),
    );
    const r = await recording;
    expect(Date.now() - start).toBeGreaterThanOrEqual(7900);
    expect(r.recorded).toBe(3);
    expect(linesOf(gunzipSync(readFileSync(out)).toString('utf8'))).toEqual(live);
  });

  it('stops on the signal and keeps what it captured', async () => {
    const topic = uniqueName('drill-stop');
    await createTopics(testKafka(), [topic], 1);
    await producer.send(
      topic,
      [1, 2].map((i) => ({ key: 'fw-a', value: envelope(i, 'fw-a', T0 + i) })),
    );
    const ac = new AbortController();
    const out = join(dir, 'stop.ndjson');
    const r = await recordDrill({ bus, topic, out, from: T0, signal: ac.signal, onProgress: ({ recorded }) => recorded >= 2 && ac.abort() });
    expect(r).toMatchObject({ recorded: 2, stopped: true });
    expect(linesOf(readFileSync(out, 'utf8'))).toHaveLength(2);
  });
});
