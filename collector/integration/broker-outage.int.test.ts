import { createSocket } from 'node:dgram';
import { appendFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../shared/log.ts';
import { topicNames } from '../../shared/topics.ts';
import { privateKafka, type PrivateService } from '../../cli/services/manager.ts';
import type { RunningKafka } from '../../cli/services/kafka.ts';
import { startCollector, type CollectorAgent } from '../agent.ts';
import { CollectorConfigSchema } from '../config.ts';
import { checkFileLines, TopicReader, waitFor } from './helpers.ts';

const OUTAGE_MS = 30_000;

describe('collector: the broker stopped for 30 seconds while lines keep coming', () => {
  const dir = mkdtempSync(join(tmpdir(), 'canhgac-collector-outage-'));
  let kafka: PrivateService<RunningKafka> | null = null;
  let agent: CollectorAgent | null = null;
  let reader: TopicReader | null = null;
  afterAll(async () => {
    await agent?.stop();
    await reader?.stop();
    await kafka?.destroy();
    rmSync(dir, { recursive: true, force: true });
  }, 60_000);

  it('spools, holds file sources back when the spool is full, counts UDP drops, and loses no file line', async () => {
    kafka = await privateKafka('collector-outage');
    const brokers = [kafka.running.brokers];
    const prefix = 'outage.';
    const topic = topicNames(prefix).raw;
    const admin = new Kafka({ brokers, logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
    await admin.createTopics({ waitForLeaders: true, topics: [{ topic, numPartitions: 1 }] });
    await admin.disconnect();

    const logs = join(dir, 'logs');
    mkdirSync(logs, { recursive: true });
    const file = join(logs, 'fw.log');
    writeFileSync(file, '');
    const config = CollectorConfigSchema.parse({
      kafka: { brokers, topicPrefix: prefix },
      collector: {
        host: 'srv-outage',
        dataDir: join(dir, 'data'),
        pollMs: 50,
        heartbeatSeconds: 2,
        sources: [
          { type: 'file', name: 'fw', paths: [join(logs, '*.log')], startAt: 'beginning' },
          { type: 'syslog', name: 'udp', protocol: 'udp', listen: { host: '127.0.0.1', port: 0 } },
        ],
        // Small enough that the outage fills memory and the spool: files must wait, UDP must drop.
        spool: { maxBytes: '96KiB', segmentBytes: '16KiB' },
        shipping: { memoryRecords: 100, batchRecords: 100, slowAfterMs: 1000 },
      },
    });
    agent = await startCollector(config, createLogger('collector-test', {}, 'silent'));
    const udpPort = agent.addresses.udp!.port;
    const udp = createSocket('udp4');
    let udpSent = 0;
    const expected: string[] = [];
    const tick = async () => {
      let text = '';
      for (let i = 0; i < 20; i++) {
        const line = `fw seq=${expected.length} action=deny SRC=10.1.${expected.length % 200}.7 ${'p'.repeat(100)}`;
        expected.push(line);
        text += `${line}\n`;
      }
      appendFileSync(file, text);
      for (let i = 0; i < 5; i++) {
        await new Promise<void>((resolve) => udp.send(`<13>udp msg ${udpSent++}`, udpPort, '127.0.0.1', () => resolve()));
      }
      await new Promise((r) => setTimeout(r, 100));
    };

    for (let i = 0; i < 20; i++) await tick();
    await waitFor(() => agent!.metrics.source('fw').shipped > 0, 'lines shipped before the outage', 20_000);
    await kafka.stop();
    const outageEnds = Date.now() + OUTAGE_MS;
    let sawSpool = false;
    let sawBackpressure = false;
    while (Date.now() < outageEnds) {
      await tick();
      sawSpool ||= agent.sink.spoolBytes > 0;
      sawBackpressure ||= !agent.sink.ready();
    }
    await kafka.restart();
    for (let i = 0; i < 20; i++) await tick();
    udp.close();
    // Read after the outage: a consumer that lived through the broker's restart takes long to rejoin its group.
    reader = new TopicReader(brokers, topic);
    await reader.start();

    await waitFor(
      () =>
        new Set(
          reader!
            .lines()
            .filter((e) => e.line.startsWith('fw '))
            .map((e) => e.line),
        ).size >= expected.length,
      `${expected.length} file lines`,
      90_000,
    );
    const fileLines = reader.lines().filter((e) => e.line.startsWith('fw '));
    const check = checkFileLines(fileLines, expected, 'fw.log');
    expect(check.missing).toEqual([]);
    expect(sawSpool).toBe(true);
    expect(sawBackpressure).toBe(true);

    const udpStats = agent.metrics.source('udp');
    expect(udpStats.dropped).toBeGreaterThan(0);
    const metrics = await agent.metrics.registry.metrics();
    expect(metrics).toContain(`canhgac_collector_lines_dropped_total{source="udp"} ${udpStats.dropped}`);
    // Every datagram that was read is either in Kafka or counted as dropped; the heartbeats carry the drops.
    await waitFor(() => reader!.lines().filter((e) => e.line.startsWith('<13>udp')).length + udpStats.dropped >= udpStats.read, 'udp lines', 30_000);
    await waitFor(
      () => reader!.envelopes.filter((e) => e.kind === 'heartbeat' && e.source === 'udp').reduce((n, e) => n + e.heartbeat!.dropped, 0) === udpStats.dropped,
      'heartbeats reporting the drops',
      15_000,
    );
    expect(udpStats.read).toBeLessThanOrEqual(udpSent);
    process.stderr.write(
      `[collector outage] ${expected.length} file lines, ${check.duplicates} duplicates; udp read ${udpStats.read}, dropped ${udpStats.dropped}\n`,
    );
  }, 200_000);
});
