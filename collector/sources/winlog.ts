import type { Logger } from '../../shared/log.ts';
import type { WinlogSourceConfig } from '../config.ts';
import type { CollectorMetrics } from '../metrics.ts';
import { envelopePrefix, envelopeValue, type OutRecord, type RecordSink } from '../record.ts';
import type { ChannelBookmark, CheckpointStore } from './checkpoints.ts';
import { PowershellReader, type ChannelRead, type WinlogReader } from './winlog-reader.ts';

export interface WinlogOptions {
  host: string;
  unit?: string;
  drill?: string;
  lineLimit: number;
  sink: RecordSink;
  metrics: CollectorMetrics;
  log: Logger;
  checkpoints: CheckpointStore;
  /** PowerShell's Get-WinEvent by default. */
  reader?: WinlogReader;
}

/** The decoder the events are shaped for: it hands each to the Defender, WFP or generic JSON decoder. */
export const WINLOG_FORMAT = 'windows-event';

interface ChannelState {
  name: string;
  ids?: readonly number[];
  /** A batch handed to the sink and not yet durable: the channel is not read again until it is. */
  inFlight: boolean;
}

/**
 * Polls event log channels through a reader, one batch per channel in flight. The bookmark (the last
 * record id) moves only when the sink reports the batch durable, and is saved with the file checkpoints,
 * so a kill -9 re-sends at most the batch that was in flight, under the same envelope ids.
 *
 * Gaps are found from the channel's record-id bounds: a newest record below the bookmark (the log was
 * cleared and its ids restarted) or an oldest record past it (records overwritten before they were read).
 * Each is logged, counted for the heartbeat, and reading goes on from what the channel holds.
 */
export class WinlogSource {
  private readonly channels: ChannelState[];
  private readonly reader: WinlogReader;
  private readonly prefix: string;
  private timer: NodeJS.Timeout | null = null;
  private polling: Promise<void> | null = null;
  private stopped = false;
  private unsubscribe: (() => void) | null = null;
  /** A poll stopped because the sink was full: the sink's next "ready" resumes it (not every ready, each costing a PowerShell). */
  private waitingForRoom = false;

  constructor(
    private readonly cfg: WinlogSourceConfig,
    private readonly o: WinlogOptions,
  ) {
    this.channels = cfg.channels.map((c) => ({ name: c.name, ...(c.ids ? { ids: c.ids } : {}), inFlight: false }));
    this.reader = o.reader ?? new PowershellReader(cfg.command);
    this.prefix = envelopePrefix({ host: o.host, source: cfg.name, format: WINLOG_FORMAT, unit: o.unit, drill: o.drill });
  }

  start(): void {
    this.unsubscribe = this.o.sink.onReady(() => {
      if (this.waitingForRoom) this.kick();
    });
    this.kick();
  }

  /** Stops polling; a read in progress finishes (its batch still goes to the sink, its bookmark moves on acknowledgement). */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.unsubscribe?.();
    await this.polling;
  }

  /** Polls now unless a poll is running; the next one is scheduled when it ends. */
  private kick(): void {
    if (this.stopped || this.polling) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.polling = this.pollAll().finally(() => {
      this.polling = null;
      if (!this.stopped) this.timer = setTimeout(() => this.kick(), this.cfg.pollSeconds * 1000);
    });
  }

  private async pollAll(): Promise<void> {
    this.waitingForRoom = false;
    for (const ch of this.channels) {
      if (this.stopped) return;
      if (!this.o.sink.ready()) {
        this.waitingForRoom = true;
        return;
      }
      if (ch.inFlight) continue;
      try {
        await this.poll(ch);
      } catch (err) {
        this.o.log.error({ source: this.cfg.name, channel: ch.name, err: (err as Error).message }, 'cannot read event log channel');
      }
    }
  }

  private bookmarkOf(ch: ChannelState, newest: number | null): ChannelBookmark {
    const saved = this.o.checkpoints.bookmark(ch.name);
    if (saved) return saved;
    const first = { recordId: this.cfg.startAt === 'end' ? (newest ?? 0) : 0, generation: 0, updated: new Date().toISOString() };
    this.o.checkpoints.setBookmark(ch.name, first);
    return first;
  }

  private async poll(ch: ChannelState): Promise<void> {
    const known = this.o.checkpoints.bookmark(ch.name);
    const read = await this.reader.read({
      channel: ch.name,
      ...(ch.ids ? { ids: ch.ids } : {}),
      afterRecordId: known?.recordId ?? 0,
      max: this.cfg.batchEvents,
    });
    if (this.stopped) return;
    if (!known) {
      // First sight of the channel: the read above only served to learn where it ends.
      const b = this.bookmarkOf(ch, read.newest);
      if (b.recordId === 0) this.ship(ch, b, read);
      return;
    }
    if (read.newest !== null ? read.newest < known.recordId : known.recordId > 0 && read.oldest === null) {
      // Record ids went back: the log was cleared. Start over at its first record under a new generation,
      // so that the new records' envelope ids do not collide with the old ones.
      this.gap(ch, { kind: 'record-id-went-back', bookmark: known.recordId, newest: read.newest });
      this.o.checkpoints.setBookmark(ch.name, { recordId: 0, generation: known.generation + 1, updated: new Date().toISOString() });
      return;
    }
    if (read.oldest !== null && known.recordId > 0 && read.oldest > known.recordId + 1) {
      this.gap(ch, { kind: 'records-overwritten', firstMissing: known.recordId + 1, lastMissing: read.oldest - 1 });
    }
    this.ship(ch, known, read);
  }

  private gap(ch: ChannelState, detail: Record<string, unknown>): void {
    this.o.metrics.gap(this.cfg.name, ch.name);
    this.o.log.warn({ source: this.cfg.name, channel: ch.name, ...detail }, 'event log gap: records were lost before the collector read them');
  }

  private ship(ch: ChannelState, b: ChannelBookmark, read: ChannelRead): void {
    const events = read.events.filter((e) => e.recordId > b.recordId).sort((x, y) => x.recordId - y.recordId);
    const full = read.events.length >= this.cfg.batchEvents;
    // A batch that was not full holds every matching record up to `newest`: the bookmark may pass the
    // records the id filter left out, so that they never look like a gap when the log wraps.
    const end = Math.max(b.recordId, events.at(-1)?.recordId ?? 0, full ? 0 : (read.newest ?? 0));
    if (events.length === 0) {
      if (end > b.recordId) this.o.checkpoints.setBookmark(ch.name, { ...b, recordId: end, updated: new Date().toISOString() });
      return;
    }
    const received = new Date().toISOString();
    const idBase = `${this.o.host}:winlog:${ch.name}:${b.generation}:`;
    let truncated = 0;
    const records: OutRecord[] = events.map((e) => {
      const cut = Buffer.byteLength(e.line) > this.o.lineLimit;
      if (cut) truncated++;
      const line = cut ? Buffer.from(e.line).subarray(0, this.o.lineLimit).toString('utf8') : e.line;
      return { key: this.o.host, source: this.cfg.name, value: envelopeValue(this.prefix, idBase + e.recordId, received, line, cut) };
    });
    ch.inFlight = true;
    records.at(-1)!.done = {
      file: {
        commit: (recordId) => {
          this.o.checkpoints.setBookmark(ch.name, { ...b, recordId, updated: new Date().toISOString() });
          ch.inFlight = false;
          // A full batch means more is waiting: read on without waiting for the poll interval.
          if (full) setImmediate(() => this.kick());
        },
      },
      end,
    };
    this.o.metrics.read(this.cfg.name, records.length, received);
    if (truncated) this.o.metrics.truncated(this.cfg.name, truncated);
    this.o.sink.offer(records, true);
  }
}
