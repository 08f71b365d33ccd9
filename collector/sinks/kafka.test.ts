import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { KafkaBus } from '../../shared/bus/kafka.ts';
import { createLogger } from '../../shared/log.ts';
import { CollectorMetrics } from '../metrics.ts';
import type { OutRecord } from '../record.ts';
import { Spool } from '../spool.ts';
import { KafkaSink } from './kafka.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** A sink whose broker refuses connections: everything it must keep ends up in the spool. */
function deadSink(opts: { memoryRecords: number; maxBytes: number }) {
  const dir = mkdtempSync(join(tmpdir(), 'canhgac-sink-'));
  dirs.push(dir);
  const metrics = new CollectorMetrics();
  const spool = Spool.open(dir, { maxBytes: opts.maxBytes, segmentBytes: 1 << 20 });
  let durable = 0;
  const sink = new KafkaSink({
    bus: new KafkaBus({ brokers: ['127.0.0.1:1'], clientId: 'test', topicPrefix: '', ssl: false }, createLogger('test', {}, 'silent'), {
      connectionTimeoutMs: 3000,
      requestTimeoutMs: 10_000,
      quiet: true,
    }),
    topic: 'soc.raw',
    spool,
    metrics,
    log: createLogger('test', {}, 'silent'),
    batchRecords: 100,
    batchBytes: 900_000,
    lingerMs: 0,
    compression: 'none',
    memoryRecords: opts.memoryRecords,
    slowAfterMs: 200,
    onDurable: () => durable++,
  });
  return { dir, sink, metrics, durable: () => durable };
}

function records(source: string, from: number, n: number, commits: number[]): OutRecord[] {
  return Array.from({ length: n }, (_, i) => ({
    key: 'h',
    source,
    value: `{"n":${from + i}}`,
    done: { file: { commit: (end: number) => void commits.push(end) }, end: from + i + 1 },
  }));
}

describe('KafkaSink without a reachable broker', () => {
  it('on stop, leaves what Kafka did not take in the spool, in order, and calls it durable', async () => {
    const { dir, sink, durable } = deadSink({ memoryRecords: 1000, maxBytes: 1 << 20 });
    sink.start();
    const commits: number[] = [];
    sink.offer(records('f', 0, 30, commits), true);
    sink.offer(records('f', 30, 20, commits), true);
    expect(commits).toEqual([]);
    await sink.stop(300);
    expect(commits).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
    expect(durable()).toBeGreaterThan(0);
    const spool = Spool.open(dir, { maxBytes: 1 << 20, segmentBytes: 1 << 20 });
    expect(spool.read(1000, 1 << 20).records.map((r) => JSON.parse(r.value).n)).toEqual(Array.from({ length: 50 }, (_, i) => i));
    spool.close();
  }, 20_000);

  it('holds waiting sources back when memory is full and Kafka is not slow yet, then spools; drops only what cannot wait once the spool is full', async () => {
    const { sink, metrics } = deadSink({ memoryRecords: 10, maxBytes: 2000 });
    sink.start();
    const commits: number[] = [];
    sink.offer(records('f', 0, 10, commits), true);
    // The first ten go out as the batch that hangs (memory takes lines again once it is taken); the next ten fill memory.
    await vi.waitFor(() => expect(sink.ready()).toBe(true), { timeout: 5000, interval: 5 });
    sink.offer(records('f', 10, 10, commits), true);
    expect(sink.ready()).toBe(false);
    // Once the send has hung past slowAfterMs, the sink takes lines again, into the spool.
    const deadline = Date.now() + 5000;
    while (!sink.ready() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(sink.ready()).toBe(true);
    expect(commits).toEqual([]);
    sink.offer(records('f', 20, 5, commits), true);
    // The batch in flight, memory and the new lines, in order, are now on disk: all durable.
    expect(metrics.source('f').spooled).toBe(25);
    expect(commits).toEqual(Array.from({ length: 25 }, (_, i) => i + 1));
    let dropped = 0;
    for (let i = 0; i < 100; i++) dropped += sink.offer(records('udp', 100 + i, 1, []), false);
    expect(dropped).toBeGreaterThan(0);
    expect(metrics.source('udp').dropped).toBe(dropped);
    expect(metrics.source('udp').spooled + dropped).toBe(100);
    expect(sink.ready()).toBe(false);
    expect(await metrics.registry.metrics()).toContain(`canhgac_collector_lines_dropped_total{source="udp"} ${dropped}`);
    await sink.stop(0);
  }, 20_000);
});
