import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { MemoryBus } from '../../shared/bus/memory.ts';
import type { EnvelopeInput } from '../../shared/envelope.ts';
import { EmbeddedIncidentStore } from '../../shared/store/embedded.ts';
import { topicNames } from '../../shared/topics.ts';
import type { Correlator } from '../service.ts';
import { correlatorFor, summarize, until } from '../test/harness.ts';
import { replayRecording, type ReplaySpeed } from './replay.ts';

/** A six-second recording: a brute force on one server and a sweep over three, from two sources. */
function shortRecording(): string {
  const base = Date.UTC(2026, 10, 26, 1, 0, 0);
  const lines: EnvelopeInput[] = [];
  const at = (s: number) => new Date(base + s * 1000);
  const netfilter = (host: string, s: number, src: string, port: number) =>
    `<4>${'Nov 26'} ${at(s + 7 * 3600)
      .toISOString()
      .slice(11, 19)} ${host} kernel: [UFW BLOCK] IN=eth0 OUT= SRC=${src} DST=10.0.0.9 LEN=60 PROTO=TCP SPT=${port} DPT=22 SYN URGP=0`;
  for (let k = 0; k < 6; k++)
    lines.push({
      v: 1,
      id: `b${k}`,
      host: 'srv-01',
      source: 'kern',
      received: at(k).toISOString(),
      line: netfilter('srv-01', k, '198.51.100.9', 50000 + k),
    });
  ['srv-01', 'srv-02', 'srv-03'].forEach(
    (h, i) =>
      void lines.push({
        v: 1,
        id: `s${i}`,
        host: h,
        source: 'kern',
        received: at(1 + i * 2).toISOString(),
        line: netfilter(h, 1 + i * 2, '203.0.113.7', 40000 + i),
      }),
  );
  lines.sort((a, b) => Date.parse(a.received) - Date.parse(b.received));
  const file = join(mkdtempSync(join(tmpdir(), 'canhgac-short-')), 'short.ndjson');
  writeFileSync(file, lines.map((l) => JSON.stringify(l)).join('\n') + '\n');
  return file;
}

describe('drill replay speed', () => {
  const running: { c: Correlator; store: EmbeddedIncidentStore }[] = [];
  afterEach(async () => {
    for (const r of running.splice(0)) {
      await r.c.stop();
      await r.store.close();
    }
  });

  it('gives the same incidents at x1, x10 and x100', async () => {
    const recording = shortRecording();
    const runAt = async (speed: ReplaySpeed) => {
      const store = new EmbeddedIncidentStore(mkdtempSync(join(tmpdir(), 'canhgac-speed-')));
      const bus = new MemoryBus(3);
      const topics = topicNames('s.');
      const c = correlatorFor(bus, store, topics, 'speed');
      running.push({ c, store });
      await c.start();
      const r = await replayRecording({ file: recording, producer: await bus.producer(), topic: topics.raw, speed, drillId: 'speed-drill', rebase: 'now' });
      expect(r.sent).toBe(9);
      const s = await until('both incidents', 30_000, async () => {
        const got = await summarize(store);
        return got.incidents.length >= 2 ? got : undefined;
      });
      await until('the drill to close', 30_000, async () => ((await c.drillClosed('speed-drill')) ? true : undefined));
      const settled = await summarize(store);
      expect(settled).toEqual(s);
      // Rule, group and count, with the shift of this run taken out of the times.
      return (await store.searchIncidents({ size: 50 })).incidents
        .map((i) => `${i.rule.id} ${i.group_key} x${i.alert_count} ${new Date(Date.parse(i.first_seen) - r.shiftMs).toISOString()}`)
        .sort();
    };
    const x1 = await runAt(1);
    const x10 = await runAt(10);
    const x100 = await runAt(100);
    expect(x1).toHaveLength(2);
    expect(x10).toEqual(x1);
    expect(x100).toEqual(x1);
  }, 120_000);
});
