import { isUtf8 } from 'node:buffer';

/** What sources hand to the sink: one serialized soc.raw envelope with its Kafka key. */
export interface OutRecord {
  key: string;
  value: string;
  /** Configured source name, for metrics and heartbeats. */
  source: string;
  /** For file lines: the byte position that becomes safe to checkpoint once this record is durable. */
  done?: { file: CommitTarget; end: number };
}

export interface CommitTarget {
  /** Everything up to `end` is acknowledged by Kafka or written to the spool. */
  commit(end: number): void;
}

/** The sink as sources see it: they check `ready()` before reading more, so memory and spool stay bounded. */
export interface RecordSink {
  ready(): boolean;
  /**
   * `canWait` sources (files, TCP) re-check ready() and pause; the others (UDP, heartbeats) cannot,
   * so their records go to the spool when memory is full and are dropped only when the spool is full.
   * Returns how many records were dropped.
   */
  offer(records: OutRecord[], canWait: boolean): number;
  /** Called whenever room was made; returns the unsubscribe function. */
  onReady(listener: () => void): () => void;
}

/** The sink as the agent drives it: Kafka (with its spool) in a deployment, the bus of `canhgac start` in one process. */
export interface CollectorSink extends RecordSink {
  start(): void;
  /** Ships what is queued, waiting at most `timeoutMs`; what is left stays safe where the sink keeps it. */
  stop(timeoutMs: number): Promise<void>;
  /** Bytes waiting on disk, reported in heartbeats (0 for a sink without a spool). */
  readonly spoolBytes: number;
}

/** Records become durable in order: each file line's checkpoint may move past it. */
export function commitDurable(records: readonly { key: string; done?: OutRecord['done'] }[]): void {
  for (const r of records) r.done?.file.commit(r.done.end);
}

/** Records per source, for metrics; consecutive records of a source are counted in one go. */
export function countBySource(records: readonly { source: string }[]): Map<string, number> {
  const by = new Map<string, number>();
  let last = '';
  let n = 0;
  for (const r of records) {
    if (r.source !== last) {
      if (n) by.set(last, (by.get(last) ?? 0) + n);
      last = r.source;
      n = 0;
    }
    n++;
  }
  if (n) by.set(last, (by.get(last) ?? 0) + n);
  return by;
}

/** Builds envelope JSON by concatenation: the fixed fields are serialized once per source, not once per line. */
export function envelopePrefix(fields: { host: string; source: string; format: string; unit?: string; drill?: string }): string {
  const fixed: Record<string, string | number> = { v: 1, kind: 'line', host: fields.host, source: fields.source, format: fields.format };
  if (fields.unit) fixed.unit = fields.unit;
  if (fields.drill) fixed.drill = fields.drill;
  return JSON.stringify(fixed).slice(0, -1);
}

export function envelopeValue(prefix: string, id: string, received: string, line: string, truncated: boolean, peer?: string, invalidUtf8 = false): string {
  return `${prefix},"id":${JSON.stringify(id)},"received":"${received}"${peer === undefined ? '' : `,"peer":${JSON.stringify(peer)}`},"line":${JSON.stringify(line)}${truncated ? ',"truncated":true' : ''}${invalidUtf8 ? ',"invalid_utf8":true' : ''}}`;
}

/** Where the last complete UTF-8 sequence of `bytes` ends: a line cut at the size limit may end inside one. */
function completeEnd(bytes: Buffer): number {
  let i = bytes.length - 1;
  while (i >= 0 && bytes.length - i <= 3 && (bytes[i]! & 0xc0) === 0x80) i--;
  if (i < 0) return bytes.length;
  const lead = bytes[i]!;
  const need = lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : lead >= 0xc0 ? 2 : 1;
  return bytes.length - i < need ? i : bytes.length;
}

/**
 * A line's bytes as text: invalid UTF-8 becomes U+FFFD and is reported (the envelope's invalid_utf8, which the
 * decoders turn into labels.line_escaped), so that the line still reaches the rules and the event says why it
 * reads oddly. A line cut at the size limit loses the sequence the cut split rather than gaining a U+FFFD.
 */
export function lineText(bytes: Buffer, truncated = false): { text: string; invalidUtf8: boolean } {
  const whole = truncated ? bytes.subarray(0, completeEnd(bytes)) : bytes;
  const text = whole.toString('utf8');
  // Only a text holding U+FFFD can have had a replacement: clean lines skip the byte check.
  return { text, invalidUtf8: text.includes('\ufffd') && !isUtf8(whole) };
}
