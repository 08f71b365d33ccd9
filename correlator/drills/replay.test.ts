import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { MemoryBus } from '../../shared/bus/memory.ts';
import { parseEnvelope, type Envelope, type EnvelopeInput } from '../../shared/envelope.ts';
import type { BusMessage } from '../../shared/bus/types.ts';
import { decodeEnvelope } from '../decoders/index.ts';
import { BATCH_WINDOW_MS, parseSpeed, replayLineId, replayRecording, type ReplaySpeed } from './replay.ts';

const T0 = Date.parse('2025-03-04T02:00:00Z');

/** A recording of `n` lines spread evenly over `spanMs`, from three hosts, with one unreadable line. */
function recording(n: number, spanMs: number, opts: { gzip?: boolean; junk?: boolean } = {}): string {
  const lines: string[] = [];
  for (let i = 0; i < n; i++) {
    const at = T0 + Math.round((i * spanMs) / (n - 1));
    const host = `srv-${i % 3}`;
    const env: EnvelopeInput = {
      v: 1,
      id: `orig-${i}`,
      host,
      source: '/var/log/kern.log',
      format: 'netfilter',
      received: new Date(at).toISOString(),
      unit: 'so-tttt',
      line: `<4>1 ${new Date(at).toISOString()} ${host} kernel - - - [UFW BLOCK] IN=eth0 OUT= SRC=203.0.113.${i % 250} DST=10.0.0.5 PROTO=TCP SPT=4000 DPT=22 seq=${i}`,
    };
    lines.push(JSON.stringify(env));
    if (opts.junk && i === 2) lines.push('{not json');
  }
  const dir = mkdtempSync(join(tmpdir(), 'replay-'));
  const text = `${lines.join('\n')}\n`;
  const file = join(dir, opts.gzip ? 'rec.ndjson.gz' : 'rec.ndjson');
  writeFileSync(file, opts.gzip ? gzipSync(text) : text);
  return file;
}

async function replayToMemory(
  file: string,
  speed: ReplaySpeed,
  extra: { drillId?: string; rebase?: 'now'; loop?: boolean; signal?: AbortSignal; now?: () => number } = {},
) {
  const bus = new MemoryBus(3);
  const producer = await bus.producer();
  const skipped: string[] = [];
  const result = await replayRecording({
    file,
    producer,
    topic: 'soc.raw',
    speed,
    drillId: extra.drillId ?? 'drill-test',
    ...extra,
    onSkip: (n, why) => skipped.push(`${n}: ${why}`),
  });
  const messages = bus
    .partitionsOf('soc.raw')
    .flat()
    .sort((a, b) => a.timestamp - b.timestamp || envOf(a).id.localeCompare(envOf(b).id));
  return { result, messages, skipped };
}

function envOf(m: BusMessage): Envelope {
  const p = parseEnvelope(m.value);
  if (!p.ok) throw new Error(p.reason);
  return p.envelope;
}

/** The event time the correlator will use: decoded from the line, then moved by timeShiftMs. */
const eventTime = (e: Envelope) => Date.parse(decodeEnvelope(e)['@timestamp']) + (e.timeShiftMs ?? 0);

/** Messages in the order of their recording line (the replay keeps it; the memory bus spreads them by host). */
const byLine = (ms: BusMessage[]) => [...ms].sort((a, b) => seqOf(a) - seqOf(b));
const seqOf = (m: BusMessage) => Number(/seq=(\d+)/.exec(envOf(m).line)![1]);

describe('drill replay', () => {
  it('parses speeds from 0.1 to 1000 and max', () => {
    expect(parseSpeed('100')).toBe(100);
    expect(parseSpeed('x10')).toBe(10);
    expect(parseSpeed('0.1')).toBe(0.1);
    expect(parseSpeed('max')).toBe('max');
    for (const bad of ['0.05', '1001', 'fast', '', '-1']) expect(parseSpeed(bad)).toBeNull();
  });

  it('paces by the recorded spacing divided by the speed: 10 s at x100 is sent over ~0.1 s, in order', async () => {
    const file = recording(21, 10_000);
    const started = Date.now();
    const { result, messages } = await replayToMemory(file, 100);
    expect(result.sent).toBe(21);
    const ordered = byLine(messages);
    const sendTimes = ordered.map((m) => m.timestamp);
    // Send times never go back along the recording, and never run ahead of the recorded spacing / 100 by
    // more than the batching window (a line due that soon goes with the batch in hand). Measured from the
    // start of the replay: the first line's own send may come late on a busy machine.
    // Every line waits for its own time (a busy machine can only make it later, so that is all a test can hold).
    for (let i = 1; i < sendTimes.length; i++) expect(sendTimes[i]!).toBeGreaterThanOrEqual(sendTimes[i - 1]!);
    for (let i = 0; i < sendTimes.length; i++) expect(sendTimes[i]! - started, `line ${i}`).toBeGreaterThanOrEqual(i * 5 - BATCH_WINDOW_MS);
    expect(sendTimes.at(-1)! - started).toBeLessThan(1000);
    // Event spacing is untouched: event times keep the original 500 ms steps.
    const times = ordered.map((m) => eventTime(envOf(m)));
    expect(times[1]! - times[0]!).toBe(500);
    expect(times.at(-1)! - times[0]!).toBe(10_000);
  });

  it('produces the same envelopes at x1, x10, x100 and max: same lines, ids and times for the same drill id', async () => {
    const file = recording(6, 600);
    const runs = [];
    for (const speed of [1, 10, 100, 'max'] as const) {
      const { messages } = await replayToMemory(file, speed);
      runs.push(byLine(messages).map((m) => ({ key: m.key, env: envOf(m) })));
    }
    for (const run of runs.slice(1)) expect(run).toEqual(runs[0]);
    const first = runs[0]![0]!.env;
    expect(first).toMatchObject({
      kind: 'line',
      drill: 'drill-test',
      host: 'srv-0',
      unit: 'so-tttt',
      format: 'netfilter',
      received: new Date(T0).toISOString(),
      id: replayLineId('drill-test', 0, 1),
    });
    expect(first.timeShiftMs).toBeUndefined();
    expect(runs[0]![0]!.key).toBe('srv-0');
    // Another drill id gives other ids for the same lines.
    const other = await replayToMemory(file, 'max', { drillId: 'drill-other' });
    expect(byLine(other.messages).map((m) => envOf(m).id)).not.toContain(first.id);
  });

  it('x1 takes the recorded time, x10 a tenth of it', async () => {
    const file = recording(5, 400);
    // Measured from the start of each replay: the first line's own send may come late on a busy machine,
    // and a line due within the batching window goes with the batch in hand.
    const timed = async (speed: ReplaySpeed) => {
      const started = Date.now();
      const { messages } = await replayToMemory(file, speed);
      return messages.at(-1)!.timestamp - started;
    };
    const slow = await timed(1);
    const fast = await timed(10);
    expect(slow).toBeGreaterThanOrEqual(400 - BATCH_WINDOW_MS);
    expect(fast).toBeGreaterThanOrEqual(40 - BATCH_WINDOW_MS);
    expect(fast / slow).toBeLessThan(0.5);
  });

  it('--rebase now moves event times by one shift so that the last lands on now, carried in timeShiftMs; lines and received stay as recorded', async () => {
    const file = recording(4, 3000);
    const now = T0 + 86_400_000 * 30;
    const { result, messages } = await replayToMemory(file, 'max', { rebase: 'now', now: () => now });
    expect(result.shiftMs).toBe(now - (T0 + 3000));
    const envs = byLine(messages).map(envOf);
    for (const [i, env] of envs.entries()) {
      expect(env.timeShiftMs).toBe(now - (T0 + 3000));
      // Decoders anchor year-less times and time-less lines on received: it stays in the recording's timeline.
      expect(env.received).toBe(new Date(T0 + i * 1000).toISOString());
      expect(env.line).toContain(` ${new Date(T0 + i * 1000).toISOString()} `);
    }
    expect(envs.map(eventTime)).toEqual([-3, -2, -1, 0].map((i) => now + i * 1000));
  });

  it('reads gzip recordings and skips lines that are not envelopes, naming them', async () => {
    const { result, skipped } = await replayToMemory(recording(5, 100, { gzip: true, junk: true }), 'max');
    expect(result.sent).toBe(5);
    expect(result.skipped).toBe(1);
    expect(skipped).toEqual([expect.stringMatching(/^4: not JSON/)]);
  });

  it('skips an oversized line by its number and carries on with the next', async () => {
    const file = recording(3, 100);
    const text = readFileSync(file, 'utf8').split('\n');
    text.splice(1, 0, `{"v":1,"line":"${'x'.repeat(3 * 1024 * 1024)}"}`);
    writeFileSync(file, text.join('\n'));
    const { result, skipped } = await replayToMemory(file, 'max');
    expect(result.sent).toBe(3);
    expect(skipped).toEqual([expect.stringMatching(/^2: not JSON/)]);
    expect(result.lineNo).toBe(4);
  });

  it('--loop replays again later in time with new ids until stopped', async () => {
    const file = recording(3, 1000);
    const ac = new AbortController();
    const bus = new MemoryBus(1);
    const producer = await bus.producer();
    const result = await replayRecording({
      file,
      producer,
      topic: 'soc.raw',
      speed: 'max',
      drillId: 'd-loop',
      loop: true,
      signal: ac.signal,
      onProgress: (p) => {
        if (p.sent >= 9) ac.abort();
      },
    });
    expect(result.stopped).toBe(true);
    expect(result.sent).toBe(9);
    const envs = bus.partitionsOf('soc.raw')[0]!.map(envOf);
    expect(new Set(envs.map((e) => e.id)).size).toBe(9);
    const times = envs.map(eventTime);
    expect(times[3]! - times[2]!).toBe(1000);
    expect(times[6]! - times[0]!).toBe(2 * 2000);
    expect(envs[3]!.timeShiftMs).toBe(2000);
  });

  it('stops on the signal between lines and reports how far it got', async () => {
    const file = recording(50, 5000);
    const ac = new AbortController();
    const bus = new MemoryBus(1);
    const producer = await bus.producer();
    setTimeout(() => ac.abort(), 150);
    const result = await replayRecording({ file, producer, topic: 'soc.raw', speed: 2, drillId: 'd-stop', signal: ac.signal });
    expect(result.stopped).toBe(true);
    expect(result.sent).toBeGreaterThan(0);
    expect(result.sent).toBeLessThan(50);
    expect(result.lineNo).toBe(result.sent);
    expect(bus.partitionsOf('soc.raw')[0]!.length).toBe(result.sent);
  });
});
