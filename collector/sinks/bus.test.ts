import { createSocket } from 'node:dgram';
import { appendFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { MemoryBus } from '../../shared/bus/memory.ts';
import type { BusProducer } from '../../shared/bus/types.ts';
import { parseEnvelope } from '../../shared/envelope.ts';
import { createLogger } from '../../shared/log.ts';
import { runCollector, type CollectorAgent } from '../agent.ts';
import { CollectorSectionSchema } from '../config.ts';
import { CollectorMetrics } from '../metrics.ts';
import { BusSink } from './bus.ts';

const log = createLogger('bus-sink-test', {}, 'silent');

async function waitFor(what: string, ok: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!ok()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('collector BusSink: sources into the in-process bus of canhgac start', () => {
  const dirs: string[] = [];
  let agent: CollectorAgent<BusSink> | null = null;
  afterEach(async () => {
    await agent?.stop();
    agent = null;
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  it('ships file lines and syslog datagrams to soc.raw keyed by host, in order, and checkpoints what the bus took', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'canhgac-bus-sink-'));
    dirs.push(dir);
    const logFile = join(dir, 'fw.log');
    writeFileSync(logFile, '');
    const bus = new MemoryBus(1);
    const producer = await bus.producer();
    const section = CollectorSectionSchema.parse({
      host: 'srv-web-01',
      dataDir: join(dir, 'data'),
      pollMs: 20,
      heartbeatSeconds: 3600,
      sources: [
        { type: 'file', name: 'fw', paths: [logFile], startAt: 'beginning' },
        { type: 'syslog', name: 'udp', protocol: 'udp', listen: { host: '127.0.0.1', port: 0 } },
      ],
    });
    agent = await runCollector(
      section,
      log,
      ({ metrics, onDurable }) => new BusSink({ producer, topic: 'soc.raw', metrics, log, batchRecords: 100, memoryRecords: 1000, onDurable }),
    );
    appendFileSync(logFile, Array.from({ length: 50 }, (_, i) => `line ${i}\n`).join(''));
    const udp = createSocket('udp4');
    await new Promise<void>((resolve) => udp.send('<134>hello over udp', agent!.addresses.udp!.port, '127.0.0.1', () => resolve()));
    udp.close();
    const raw = () => bus.partitionsOf('soc.raw')[0]!.map((m) => parseEnvelope(m.value));
    await waitFor('51 envelopes on soc.raw', () => raw().length >= 51);
    const envelopes = raw().map((p) => (p.ok ? p.envelope : null));
    expect(envelopes.every((e) => e?.host === 'srv-web-01' && e.kind === 'line')).toBe(true);
    expect(bus.partitionsOf('soc.raw')[0]!.every((m) => m.key === 'srv-web-01')).toBe(true);
    expect(envelopes.filter((e) => e!.source === logFile).map((e) => e!.line)).toEqual(Array.from({ length: 50 }, (_, i) => `line ${i}`));
    expect(envelopes.filter((e) => e!.source !== logFile).map((e) => e!.line)).toEqual(['<134>hello over udp']);
    await agent.stop();
    agent = null;
    const checkpoints = JSON.parse(readFileSync(join(dir, 'data', 'checkpoints', 'fw.json'), 'utf8')) as { files: Record<string, { offset: number }> };
    expect(Object.values(checkpoints.files).map((f) => f.offset)).toEqual([readFileSync(logFile).length]);
  });

  it('makes waiting sources wait and counts datagrams it cannot hold while the bus is stuck', async () => {
    let release!: () => void;
    const stuck = new Promise<void>((r) => (release = r));
    const sent: string[] = [];
    const producer: BusProducer = {
      send: async (_topic, messages) => {
        await stuck;
        sent.push(...messages.map((m) => m.value));
      },
      close: async () => undefined,
    };
    const metrics = new CollectorMetrics();
    const sink = new BusSink({ producer, topic: 'soc.raw', metrics, log, batchRecords: 2, memoryRecords: 3 });
    sink.start();
    const rec = (v: string) => ({ key: 'h', value: v, source: 'udp' });
    expect(sink.offer([rec('a'), rec('b'), rec('c')], false)).toBe(0);
    expect(sink.ready()).toBe(false);
    expect(sink.offer([rec('d')], false)).toBe(1);
    expect(metrics.source('udp').dropped).toBe(1);
    let readyCalls = 0;
    sink.onReady(() => readyCalls++);
    release();
    await waitFor('everything the sink held on the bus', () => sent.length === 3);
    expect(sent).toEqual(['a', 'b', 'c']);
    expect(readyCalls).toBeGreaterThan(0);
    expect(metrics.source('udp').shipped).toBe(3);
    await sink.stop(1000);
  });

  it('moves file checkpoints only once the bus says the lines are settled', async () => {
    let settle!: () => void;
    let settledCalls = 0;
    const committed: number[] = [];
    const file = { commit: (end: number) => committed.push(end) };
    const sink = new BusSink({
      producer: { send: async () => undefined, close: async () => undefined },
      topic: 'soc.raw',
      metrics: new CollectorMetrics(),
      log,
      batchRecords: 10,
      memoryRecords: 10,
      settled: () => {
        settledCalls++;
        return new Promise<void>((r) => (settle = r));
      },
    });
    sink.start();
    sink.offer([{ key: 'h', value: 'l1', source: 'f', done: { file, end: 3 } }], true);
    await waitFor('the batch sent and waiting to settle', () => settledCalls === 1);
    await new Promise((r) => setTimeout(r, 50));
    expect(committed).toEqual([]);
    settle();
    await waitFor('the checkpoint', () => committed.length === 1);
    expect(committed).toEqual([3]);
    await sink.stop(1000);
  });
});
