import { createReadStream, createWriteStream, type WriteStream } from 'node:fs';
import { once } from 'node:events';
import { createGunzip, createGzip, type Gzip } from 'node:zlib';
import { parseEnvelope, type Envelope } from '../../shared/envelope.ts';
import type { Bus, BusConsumer, TopicPartition } from '../../shared/bus/types.ts';

/**
 * A recording is NDJSON: one soc.raw envelope per line, exactly as the collector produced it (original
 * `received`, host, source, format, line). A name ending in .gz is gzip-compressed. Lines are in the order
 * they were read from Kafka; a replay paces them by their `received` times.
 */
export const isGzipName = (file: string) => file.endsWith('.gz');

/** Longest recording line accepted: an envelope carries at most a 128 KiB log line, JSON-escaped. */
const MAX_RECORDING_LINE = 2 * 1024 * 1024;

export interface RecordingLine {
  /** 1-based line number in the (uncompressed) file. */
  lineNo: number;
  text: string;
}

/**
 * The file's lines, one at a time, pulled from the stream: memory stays bounded by one chunk and one
 * line whatever the file size. An oversized line is yielded cut (so that the caller reports it) and
 * the rest of it skipped.
 */
export async function* readRecordingLines(file: string): AsyncGenerator<RecordingLine> {
  const raw = createReadStream(file);
  const stream = isGzipName(file) ? raw.pipe(createGunzip()) : raw;
  let pending = '';
  let oversized = false;
  let lineNo = 0;
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      const text = pending + chunk.toString('utf8');
      let start = 0;
      let nl: number;
      while ((nl = text.indexOf('\n', start)) >= 0) {
        const line = text.slice(start, nl);
        start = nl + 1;
        lineNo++;
        if (oversized) {
          oversized = false;
          continue;
        }
        yield { lineNo, text: line.endsWith('\r') ? line.slice(0, -1) : line };
      }
      pending = text.slice(start);
      if (pending.length > MAX_RECORDING_LINE && !oversized) {
        // Yield the cut head now so that the caller can name the line; it will not parse.
        yield { lineNo: lineNo + 1, text: pending.slice(0, 256) };
        oversized = true;
        pending = '';
      } else if (oversized) pending = '';
    }
    if (pending.length && !oversized) yield { lineNo: lineNo + 1, text: pending };
  } finally {
    raw.destroy();
  }
}

/** What a quick first pass learns about a recording: line count and the span of `received` times. */
export interface RecordingSummary {
  lines: number;
  envelopes: number;
  firstReceived: number | null;
  lastReceived: number | null;
}

export async function summarizeRecording(file: string): Promise<RecordingSummary> {
  let lines = 0;
  let envelopes = 0;
  let first: number | null = null;
  let last: number | null = null;
  for await (const { text } of readRecordingLines(file)) {
    if (!text.trim()) continue;
    lines++;
    const received = receivedOf(text);
    if (received === null) continue;
    envelopes++;
    first ??= received;
    last = received;
  }
  return { lines, envelopes, firstReceived: first, lastReceived: last };
}

/**
 * The `received` time of a line envelope, read without the full validation (the replay validates each line
 * as it sends it): the summary pass only needs the count and the time span.
 */
function receivedOf(text: string): number | null {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return null;
  }
  if (typeof json !== 'object' || json === null) return null;
  const { kind, received } = json as { kind?: unknown; received?: unknown };
  if ((kind !== undefined && kind !== 'line') || typeof received !== 'string') return null;
  const t = Date.parse(received);
  return Number.isFinite(t) ? t : null;
}

/** Appends NDJSON lines to a file (gzip when the name ends in .gz), honouring the stream's backpressure. */
export class RecordingWriter {
  private readonly file: WriteStream;
  private readonly out: WriteStream | Gzip;

  constructor(path: string) {
    this.file = createWriteStream(path);
    if (isGzipName(path)) {
      const gz = createGzip();
      gz.pipe(this.file);
      this.out = gz;
    } else this.out = this.file;
  }

  async write(line: string): Promise<void> {
    if (!this.out.write(`${line}\n`)) await once(this.out, 'drain');
  }

  async close(): Promise<void> {
    const finished = once(this.file, 'close');
    this.out.end();
    await finished;
  }
}

export interface RecordOptions {
  bus: Bus;
  topic: string;
  out: string;
  /** Envelopes received at or after this time (ms); absent: from now on. */
  from?: number;
  /** Envelopes received before this time (ms); absent: until stopped. */
  to?: number;
  /** Only these hosts (envelope host); absent or empty: every host. */
  hosts?: string[];
  /** Stops the recording (Ctrl-C); what was captured so far is kept. */
  signal?: AbortSignal;
  /** A unique consumer group so that recording never takes messages from the correlator's group. */
  groupId?: string;
  onProgress?: (p: { recorded: number; seen: number }) => void;
  /** Called once the partitions are assigned and positioned: what is produced from now on is captured. */
  onStarted?: () => void;
  now?: () => number;
}

export interface RecordResult {
  recorded: number;
  seen: number;
  /** True when stopped by the signal before `to`. */
  stopped: boolean;
}

/**
 * Captures envelopes from soc.raw into a recording, keeping them as produced (original timestamps).
 * With `from`, each partition starts at the first message stored at or after it; with `to`, recording
 * ends once the clock passed `to` and every partition was read up to where it ended at that moment.
 */
export async function recordDrill(opts: RecordOptions): Promise<RecordResult> {
  const now = opts.now ?? Date.now;
  const hosts = opts.hosts?.length ? new Set(opts.hosts) : null;
  const writer = new RecordingWriter(opts.out);
  let recorded = 0;
  let seen = 0;
  let owned: TopicPartition[] = [];
  const position = new Map<string, number>();
  const k = (tp: TopicPartition) => `${tp.topic}/${tp.partition}`;
  let consumer: BusConsumer | undefined;
  let ends: Map<string, number> | null = null;
  let finish!: () => void;
  const finished = new Promise<void>((r) => (finish = r));
  const caughtUp = () => ends !== null && [...ends].every(([key, end]) => (position.get(key) ?? 0) >= end);
  let writing: Promise<void> = Promise.resolve();
  let failure: Error | undefined;
  let assigned!: () => void;
  const firstAssignment = new Promise<void>((r) => (assigned = r));

  try {
    consumer = await opts.bus.consumer({
      groupId: opts.groupId ?? `canhgac-drill-record-${process.pid}-${now().toString(36)}`,
      topics: [opts.topic],
      fromBeginning: opts.from !== undefined,
      onAssigned: async (tps) => {
        owned = tps;
        for (const tp of tps) {
          const start = opts.from !== undefined ? await consumer!.offsetForTime(tp, opts.from) : await consumer!.offsetForTime(tp, Number.MAX_SAFE_INTEGER);
          position.set(k(tp), start);
          consumer!.seek(tp, start);
        }
        assigned();
        opts.onStarted?.();
      },
    });
    const c = consumer;
    await c.run(async (batch) => {
      const lines: string[] = [];
      for (const m of batch.messages) {
        seen++;
        const parsed = parseEnvelope(m.value);
        if (!parsed.ok || !wanted(parsed.envelope, opts.from, opts.to, hosts)) continue;
        lines.push(m.value!);
      }
      writing = writing.then(async () => {
        for (const line of lines) await writer.write(line);
      });
      await writing;
      recorded += lines.length;
      position.set(k(batch), batch.messages[batch.messages.length - 1]!.offset + 1);
      opts.onProgress?.({ recorded, seen });
      if (caughtUp()) finish();
    });

    const onAbort = () => finish();
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    if (opts.signal?.aborted) finish();
    const untilTo = opts.to === undefined ? null : Math.max(0, opts.to - now());
    const timer =
      untilTo === null
        ? undefined
        : setTimeout(() => {
            // The window closed: read each partition up to where it ends now, then stop.
            void (async () => {
              await firstAssignment;
              const snapshot = new Map<string, number>();
              for (const tp of owned) snapshot.set(k(tp), await c.offsetForTime(tp, Number.MAX_SAFE_INTEGER));
              ends = snapshot;
              if (caughtUp()) finish();
            })().catch((err: unknown) => {
              failure = err as Error;
              finish();
            });
          }, untilTo);
    await finished;
    clearTimeout(timer);
    opts.signal?.removeEventListener('abort', onAbort);
    await c.stop();
    consumer = undefined;
    await writing;
    if (failure) throw failure;
    return { recorded, seen, stopped: opts.signal?.aborted === true && !caughtUp() };
  } finally {
    if (consumer) await consumer.stop().catch(() => undefined);
    await writer.close();
  }
}

function wanted(e: Envelope, from: number | undefined, to: number | undefined, hosts: Set<string> | null): boolean {
  if (e.kind !== 'line') return false;
  if (hosts && !hosts.has(e.host)) return false;
  const t = Date.parse(e.received);
  if (from !== undefined && t < from) return false;
  if (to !== undefined && t >= to) return false;
  return true;
}
