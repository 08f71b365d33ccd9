import { createHash, randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseEnvelope, type Envelope } from '../../shared/envelope.ts';
import type { AuditEntry } from '../../shared/incident.ts';
import type { BusProducer, OutgoingMessage } from '../../shared/bus/types.ts';
import { readRecordingLines, summarizeRecording, type RecordingSummary } from './recording.ts';

/** `--speed`: a factor from 0.1 to 1000, or as fast as the bus takes it. */
export type ReplaySpeed = number | 'max';
export const MIN_SPEED = 0.1;
export const MAX_SPEED = 1000;

export function parseSpeed(text: string): ReplaySpeed | null {
  if (text === 'max') return 'max';
  const n = Number(text.replace(/^x/i, ''));
  return Number.isFinite(n) && n >= MIN_SPEED && n <= MAX_SPEED ? n : null;
}

export function newDrillId(now = new Date()): string {
  return `drill-${now.toISOString().slice(0, 19).replace(/[-:]/g, '').replace('T', '-')}-${randomBytes(2).toString('hex')}`;
}

/** The id of a replayed line: the same drill, pass and line always give the same id, whatever the speed. */
export function replayLineId(drillId: string, pass: number, lineNo: number): string {
  return `drill:${createHash('sha256').update(`${drillId}\u0000${pass}\u0000${lineNo}`).digest('hex').slice(0, 32)}`;
}

/** Messages due within this much of each other go to the bus in one send. */
export const BATCH_WINDOW_MS = 5;
const MAX_BATCH = 500;
/** Between two passes of `--loop`, in the recording's timeline. */
export const LOOP_GAP_MS = 1000;

export interface ReplayProgress {
  sent: number;
  /** Lines of one pass (envelopes), for a progress bar's total. */
  total: number;
  pass: number;
  /** Line number in the file of the last line sent. */
  lineNo: number;
  /** Recording time (original `received`) of the last line sent, and of the pass's last line. */
  at: number | null;
  last: number | null;
  skipped: number;
}

export interface ReplayOptions {
  file: string;
  producer: BusProducer;
  topic: string;
  speed: ReplaySpeed;
  drillId?: string;
  loop?: boolean;
  /** 'now': move the recording's event times so that its last line falls on the present (timeShiftMs): nothing lands in the future. */
  rebase?: 'now';
  signal?: AbortSignal;
  onProgress?: (p: ReplayProgress) => void;
  /** A line that is not an envelope is skipped and reported here, never fatal. */
  onSkip?: (lineNo: number, reason: string) => void;
  /** Clock and wait, replaceable so that pacing can be checked without waiting in real time. */
  now?: () => number;
  wait?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

export interface ReplayResult {
  sent: number;
  drillId: string;
  /** Added to every event time (through the envelopes' timeShiftMs) in the first pass. */
  shiftMs: number;
  passes: number;
  skipped: number;
  /** True when the signal stopped the replay; `lineNo` then says how far it got. */
  stopped: boolean;
  lineNo: number;
  summary: RecordingSummary;
}

const defaultWait = (ms: number, signal?: AbortSignal) => sleep(ms, undefined, { signal }).catch(() => undefined);

/**
 * Produces a recording's lines to soc.raw as new envelopes of one drill. Line i is sent at
 * start + (received_i - received_0) / speed of wall-clock time; what the correlator sees as event time
 * comes from the line itself (plus the shift), so the speed changes the pacing only, never the spacing
 * of events. Streams the file: memory does not grow with its size.
 */
export async function replayRecording(opts: ReplayOptions): Promise<ReplayResult> {
  const now = opts.now ?? Date.now;
  const wait = opts.wait ?? defaultWait;
  const drillId = opts.drillId ?? newDrillId(new Date(now()));
  const summary = await summarizeRecording(opts.file);
  const first = summary.firstReceived;
  const span = first === null ? 0 : summary.lastReceived! - first;
  const baseShift = opts.rebase === 'now' && first !== null ? now() - summary.lastReceived! : 0;
  const speed = opts.speed;
  const progress: ReplayProgress = { sent: 0, total: summary.envelopes, pass: 0, lineNo: 0, at: null, last: summary.lastReceived, skipped: 0 };
  const aborted = () => opts.signal?.aborted === true;

  let pass = 0;
  let startWall = now();
  let prevTarget = -Infinity;
  for (;;) {
    const shift = baseShift + pass * (span + LOOP_GAP_MS);
    let batch: OutgoingMessage[] = [];
    let batchLast = 0;
    const flush = async () => {
      if (!batch.length) return;
      const stamp = now();
      for (const m of batch) m.timestamp = stamp;
      await opts.producer.send(opts.topic, batch);
      progress.sent += batch.length;
      progress.lineNo = batchLast;
      batch = [];
      opts.onProgress?.(progress);
    };
    for await (const { lineNo, text } of readRecordingLines(opts.file)) {
      if (aborted()) break;
      if (!text.trim()) continue;
      const parsed = parseEnvelope(text);
      if (!parsed.ok || parsed.envelope.kind !== 'line') {
        progress.skipped++;
        if (pass === 0) opts.onSkip?.(lineNo, parsed.ok ? `a ${parsed.envelope.kind} envelope is not replayed` : parsed.reason);
        continue;
      }
      const received = Date.parse(parsed.envelope.received);
      // Lines recorded out of order (several partitions) go out at once rather than making time run back.
      const target = speed === 'max' || first === null ? 0 : Math.max(prevTarget, startWall + (received - first) / speed);
      prevTarget = target;
      if (batch.length && (target - now() > BATCH_WINDOW_MS || batch.length >= MAX_BATCH)) await flush();
      const delay = target - now();
      if (delay > 0) {
        if (batch.length) await flush();
        await wait(delay, opts.signal);
        if (aborted()) break;
      }
      batch.push({ key: parsed.envelope.host, value: JSON.stringify(replayEnvelope(parsed.envelope, drillId, pass, lineNo, shift)) });
      batchLast = lineNo;
      progress.at = received;
    }
    await flush();
    if (aborted() || !opts.loop || summary.envelopes === 0) break;
    pass++;
    progress.pass = pass;
    startWall += (span + LOOP_GAP_MS) / (speed === 'max' ? Infinity : speed);
  }
  return {
    sent: progress.sent,
    drillId,
    shiftMs: baseShift,
    passes: pass + 1,
    skipped: progress.skipped,
    stopped: aborted(),
    lineNo: progress.lineNo,
    summary,
  };
}

/** The envelope a replay sends for one recorded line: same line and origin, marked as the drill's. */
export function replayEnvelope(e: Envelope, drillId: string, pass: number, lineNo: number, shiftMs: number): Envelope {
  const out: Envelope = {
    v: 1,
    kind: 'line',
    id: replayLineId(drillId, pass, lineNo),
    host: e.host,
    source: e.source,
    format: e.format,
    // Kept as recorded: decoders read year-less times (RFC 3164, clamd) and lines without a time against
    // `received`, so it must stay in the recording's timeline; timeShiftMs moves the decoded time once.
    received: e.received,
    drill: drillId,
    line: e.line,
  };
  if (e.unit !== undefined) out.unit = e.unit;
  if (e.peer !== undefined) out.peer = e.peer;
  if (e.truncated) out.truncated = true;
  if (shiftMs !== 0) out.timeShiftMs = shiftMs;
  return out;
}

/** The audit action a replay leaves behind: drills held (layer-3 reports), and the shift the scorer needs. */
export const REPLAY_AUDIT_ACTION = 'drill.replay';

export function replayAuditEntry(r: ReplayResult, file: string, speed: ReplaySpeed, actor: string, at: Date): AuditEntry {
  return {
    id: `drill-replay-${createHash('sha256').update(`${r.drillId}\u0000${at.toISOString()}`).digest('hex').slice(0, 24)}`,
    '@timestamp': at.toISOString(),
    actor,
    action: REPLAY_AUDIT_ACTION,
    incident_id: null,
    source_ip: null,
    after: { drill: r.drillId, recording: file, speed, shiftMs: r.shiftMs, sent: r.sent, passes: r.passes, stopped: r.stopped },
  };
}
