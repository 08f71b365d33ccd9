import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { topicNames } from '../../shared/topics.ts';
import { createTopics, kafkaBrokers, testKafka, uniqueName } from '../../test/support/services.ts';
import { DEFENDER, FIREWALL, mixedEvents, SECURITY } from '../sources/winlog-fixtures.ts';
import { installStandin, StandinLog } from '../sources/winlog-standin.ts';
import { spawnCollector, TopicReader, waitFor, writeConfig } from './helpers.ts';

const BATCH = 50;
const KILLS = 3;

describe('collector: winlog source through the stand-in Get-WinEvent, three kill -9s and a cleared log, into soc.raw', () => {
  const dir = mkdtempSync(join(tmpdir(), 'canhgac-winlog-kill-'));
  const cleanup: (() => Promise<unknown> | void)[] = [];
  let passed = false;
  afterAll(async () => {
    for (const c of cleanup.reverse()) await c();
    if (passed) rmSync(dir, { recursive: true, force: true });
    else process.stderr.write(`[winlog kill -9] kept ${dir}\n`);
  });

  it('ships every event record once by id, duplicates bounded by one batch per kill, and reports the gap', async () => {
    const prefix = `${uniqueName('winlog-kill')}.`;
    const topic = topicNames(prefix).raw;
    await createTopics(testKafka(), [topic], 1);
    const reader = new TopicReader(kafkaBrokers(), topic);
    await reader.start();
    cleanup.push(() => reader.stop());

    process.env.PATH = `${installStandin(join(dir, 'bin'))}${delimiter}${process.env.PATH}`;
    const store = new StandinLog(join(dir, 'eventlog.json'));
    process.env.WINLOG_STANDIN_STORE = store.file;
    const config = writeConfig(join(dir, 'collector.yml'), {
      kafka: { brokers: kafkaBrokers(), topicPrefix: prefix },
      collector: {
        host: 'srv-win-kill',
        unit: 'so-tttt',
        dataDir: join(dir, 'data'),
        heartbeatSeconds: 1,
        sources: [{ type: 'winlog', name: 'winlog', command: 'powershell', securityWfp: true, pollSeconds: 0.1, batchEvents: BATCH, startAt: 'beginning' }],
        shipping: { batchRecords: BATCH, lingerMs: 5 },
      },
    });
    for (const c of [DEFENDER, FIREWALL, SECURITY]) store.create(c);
    /** Every record written, by the envelope id it must arrive under (generation 1 after the clear). */
    const expected = new Set<string>();
    let generation = 0;
    let written = 0;
    const write = (n: number) => {
      for (const e of store.append(mixedEvents('SRV-WIN-KILL', written, n)))
        expected.add(`srv-win-kill:winlog:${e.Channel}:${e.Channel === DEFENDER ? generation : 0}:${e.RecordId}`);
      written += n;
    };

    let child = spawnCollector(config);
    cleanup.push(() => void child.kill('SIGKILL'));
    write(60);
    await waitFor(() => reader.lines().length > 0, 'the first events', 30_000);
    for (let kill = 0; kill < KILLS; kill++) {
      // A backlog, and the kill while it is being shipped batch after batch.
      const before = reader.lines().length;
      write(600);
      await waitFor(() => reader.lines().length > before + BATCH, 'the backlog to be shipping', 30_000);
      child.kill('SIGKILL');
      await child.exited;
      write(30);
      child = spawnCollector(config);
      cleanup.push(() => void child.kill('SIGKILL'));
    }
    await waitFor(() => new Set(reader.lines().map((e) => e.id)).size >= expected.size, `${expected.size} distinct events before the clear`, 90_000);
    // wevtutil cl on the Defender channel, then new detections: their record ids start again at 1.
    store.clear(DEFENDER);
    generation = 1;
    write(60);
    await waitFor(() => new Set(reader.lines().map((e) => e.id)).size >= expected.size, `${expected.size} distinct events`, 60_000);
    await waitFor(() => reader.envelopes.some((e) => e.kind === 'heartbeat' && (e.heartbeat?.gaps ?? 0) > 0), 'a heartbeat reporting the gap', 20_000);
    child.kill('SIGTERM');
    expect(await child.exited).toBe(0);

    expect(reader.bad).toEqual([]);
    const lines = reader.lines();
    const ids = lines.map((e) => e.id);
    expect(new Set(ids)).toEqual(expected);
    const duplicates = ids.length - expected.size;
    expect(duplicates).toBeLessThanOrEqual(KILLS * BATCH * 3);
    // A re-sent record carries the same content as the first.
    const byId = new Map<string, string>();
    for (const e of lines) {
      if (byId.has(e.id)) expect(e.line).toBe(byId.get(e.id));
      byId.set(e.id, e.line);
    }
    // Records of one channel arrive in record-id order, first occurrences.
    for (const channel of [DEFENDER, FIREWALL, SECURITY]) {
      const seen = new Set<string>();
      const order = lines.filter((e) => e.id.includes(`:${channel}:`) && !seen.has(e.id) && seen.add(e.id)).map((e) => e.id.split(':').slice(-2).map(Number));
      expect(order).toEqual([...order].sort((a, b) => a[0]! - b[0]! || a[1]! - b[1]!));
    }
    expect(lines.every((e) => e.format === 'windows-event' && e.host === 'srv-win-kill' && e.unit === 'so-tttt' && e.source === 'winlog')).toBe(true);
    const gapBeats = reader.envelopes.filter((e) => e.kind === 'heartbeat' && (e.heartbeat?.gaps ?? 0) > 0);
    expect(gapBeats.map((e) => e.heartbeat!.gapChannels)).toEqual([[DEFENDER]]);
    expect(reader.envelopes.filter((e) => e.kind === 'heartbeat').every((e) => e.heartbeat!.logTypes?.join() === 'antivirus,firewall')).toBe(true);
    const log = readFileSync(`${config}.log`, 'utf8');
    expect(log).toContain('event log gap');
    process.stderr.write(`[winlog kill -9] ${expected.size} events, ${KILLS} kills, ${duplicates} duplicates\n`);
    passed = true;
  }, 240_000);
});
