import { appendFileSync, copyFileSync, mkdirSync, mkdtempSync, renameSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { topicNames } from '../../shared/topics.ts';
import { createTopics, kafkaBrokers, testKafka, uniqueName } from '../../test/support/services.ts';
import { checkFileLines, spawnCollector, TopicReader, waitFor, writeConfig } from './helpers.ts';

const BATCH = 200;
const STEPS = 150;
const PER_STEP = 20;

describe('collector: tailed files through rotations and a kill -9, into soc.raw', () => {
  const dir = mkdtempSync(join(tmpdir(), 'canhgac-collector-kill-'));
  const cleanup: (() => Promise<unknown> | void)[] = [];
  let passed = false;
  afterAll(async () => {
    for (const c of cleanup.reverse()) await c();
    // A failed run keeps the folder (config, collector log, checkpoints, spool) to look at.
    if (passed) rmSync(dir, { recursive: true, force: true });
    else process.stderr.write(`[collector kill -9] kept ${dir}\n`);
  });

  it('delivers every line once in order per file, with duplicates bounded by one batch', async () => {
    const prefix = `${uniqueName('coll-kill')}.`;
    const topic = topicNames(prefix).raw;
    await createTopics(testKafka(), [topic], 1);
    const reader = new TopicReader(kafkaBrokers(), topic);
    await reader.start();
    cleanup.push(() => reader.stop());

    const config = writeConfig(join(dir, 'collector.yml'), {
      kafka: { brokers: kafkaBrokers(), topicPrefix: prefix },
      collector: {
        host: 'srv-kill',
        dataDir: join(dir, 'data'),
        pollMs: 50,
        rotateWaitMs: 1000,
        heartbeatSeconds: 1,
        sources: [{ type: 'file', name: 'app', paths: [join(dir, 'logs', '*.log')], startAt: 'beginning' }],
        shipping: { batchRecords: BATCH, lingerMs: 5 },
      },
    });
    const logs = join(dir, 'logs');
    const a = join(logs, 'a.log');
    const b = join(logs, 'b.log');
    mkdirSync(logs, { recursive: true });
    const expected: Record<'a' | 'b', string[]> = { a: [], b: [] };
    const write = (name: 'a' | 'b', file: string) => {
      let text = '';
      for (let i = 0; i < PER_STEP; i++) {
        const line = `${name} seq=${expected[name].length} SRC=10.0.0.${expected[name].length % 250} DPT=22 action=deny ${'x'.repeat(expected[name].length % 40)}`;
        expected[name].push(line);
        text += `${line}\n`;
      }
      appendFileSync(file, text);
    };
    writeFileSync(a, '');
    writeFileSync(b, '');

    let child = spawnCollector(config);
    cleanup.push(() => void child.kill('SIGKILL'));
    write('a', a);
    write('b', b);
    // The rotations and the kill must hit a collector that is running and shipping.
    await waitFor(() => reader.lines().length > 0, 'the first lines', 30_000);
    for (let step = 1; step < STEPS; step++) {
      if (step === 30) {
        // rename-and-create: the writer still appends to the old file once before reopening.
        renameSync(a, `${a}.1`);
        write('a', `${a}.1`);
        writeFileSync(a, '');
      }
      if (step === 45) {
        // copytruncate while the collector runs.
        copyFileSync(b, `${b}.1`);
        truncateSync(b, 0);
      }
      if (step === 60) {
        // A burst, and the kill while it is being shipped, batch after batch.
        const before = reader.lines().length;
        for (let i = 0; i < 150; i++) write('a', a);
        await waitFor(() => reader.lines().length > before + BATCH, 'the burst to be shipping', 20_000);
        child.kill('SIGKILL');
        await child.exited;
      }
      if (step === 70) {
        // Rotated by rename while the collector is down: the rest of the old file is read after the restart.
        renameSync(b, `${b}.2`);
        write('b', `${b}.2`);
        writeFileSync(b, '');
      }
      if (step === 85) {
        child = spawnCollector(config);
        cleanup.push(() => void child.kill('SIGKILL'));
      }
      if (step === 110) {
        renameSync(`${a}.1`, `${a}.2`);
        copyFileSync(a, `${a}.1`);
        truncateSync(a, 0);
      }
      write('a', a);
      write('b', b);
      await new Promise((r) => setTimeout(r, 25));
    }
    const total = expected.a.length + expected.b.length;
    await waitFor(() => new Set(reader.lines().map((e) => e.line)).size >= total, `${total} distinct lines`, 60_000);
    child.kill('SIGTERM');
    expect(await child.exited).toBe(0);

    const lines = reader.lines();
    expect(reader.bad).toEqual([]);
    const ra = checkFileLines(
      lines.filter((e) => e.line.startsWith('a ')),
      expected.a,
      'a',
    );
    const rb = checkFileLines(
      lines.filter((e) => e.line.startsWith('b ')),
      expected.b,
      'b',
    );
    expect(ra.missing).toEqual([]);
    expect(rb.missing).toEqual([]);
    const duplicates = ra.duplicates + rb.duplicates;
    // A re-sent line keeps its id, so duplicates by id and by content agree.
    expect(lines.length - new Set(lines.map((e) => e.id)).size).toBe(duplicates);
    expect(duplicates).toBeLessThanOrEqual(BATCH);
    expect(lines.every((e) => e.host === 'srv-kill' && e.source.startsWith(logs))).toBe(true);
    const heartbeats = reader.envelopes.filter((e) => e.kind === 'heartbeat');
    expect(heartbeats.length).toBeGreaterThan(0);
    expect(heartbeats.reduce((n, h) => n + h.heartbeat!.lines, 0)).toBeGreaterThan(0);
    process.stderr.write(`[collector kill -9] ${total} lines, ${duplicates} duplicates after the kill\n`);
    passed = true;
  }, 120_000);
});
