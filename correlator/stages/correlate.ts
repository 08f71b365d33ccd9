import type { NormalizedEvent } from '../../shared/event.ts';
import type { Batch, BusProducer, OutgoingMessage, TopicPartition } from '../../shared/bus/types.ts';
import type { Logger } from '../../shared/log.ts';
import type { Topics } from '../../shared/topics.ts';
import type { CorrelatorMetrics } from '../metrics.ts';
import type { IncidentSink, PendingAlert } from '../sinks/incidents.ts';
import { correlationAlert } from './alerts.ts';
import type { AssetLookup, Detection, Windows } from './detection.ts';
import { untilAcknowledged } from '../sinks/retry.ts';
import { CorrelateMessageSchema, deadLetter, StaleBatchError } from './raw.ts';

/** The correlation state of one partition of soc.correlate. */
interface PartitionState {
  windows: Windows;
  watermark: number;
  maxEventTime: number;
  /** Events by ref, kept as long as a window may still need them; also drops duplicates of a re-sent event. */
  events: Map<string, { event: NormalizedEvent; t: number }>;
  /** Offsets below this were handled before a restart: their alerts are already written. */
  replayUntil: number;
  rebuilt: boolean;
  lateBefore: number;
}

export interface Seeker {
  offsetForTime(tp: TopicPartition, timestampMs: number): Promise<number>;
  seek(tp: TopicPartition, offset: number): void;
}

export interface CorrelateStageDeps {
  detection: () => Detection;
  assets: AssetLookup;
  producer: BusProducer;
  sink: IncidentSink;
  topics: Topics;
  allowedLatenessMs: number;
  eventsPerAlert: number;
  metrics: CorrelatorMetrics;
  log: Logger;
}

/** Windows on event time, per partition of the repartitioned stream. */
export class CorrelateStage {
  private readonly partitions = new Map<string, PartitionState>();

  constructor(private readonly deps: CorrelateStageDeps) {}

  private fresh(replayUntil = -1): PartitionState {
    return {
      windows: this.deps.detection().newWindows({ allowedLatenessMs: this.deps.allowedLatenessMs }),
      watermark: Number.NEGATIVE_INFINITY,
      maxEventTime: Number.NEGATIVE_INFINITY,
      events: new Map(),
      replayUntil,
      rebuilt: false,
      lateBefore: 0,
    };
  }

  /** After a rebalance every owned partition starts over: its windows are rebuilt on its first batch. */
  reset(): void {
    this.partitions.clear();
  }

  private state(partition: number): PartitionState {
    let s = this.partitions.get(`${partition}`);
    if (!s) {
      s = this.fresh();
      this.partitions.set(`${partition}`, s);
    }
    return s;
  }

  /**
   * The first batch of a partition after a (re)start tells where its input resumes; the windows open
   * there are rebuilt by re-reading back by the longest timespan plus the allowed lateness (message
   * timestamps on soc.correlate are event times). Alerts from the re-read part were written before the
   * restart and are not sent again.
   */
  private async rebuildIfNeeded(batch: Batch, st: PartitionState, consumer: Seeker): Promise<boolean> {
    if (st.rebuilt) return false;
    st.rebuilt = true;
    const first = batch.messages[0]!;
    const tp = { topic: batch.topic, partition: batch.partition };
    const span = this.deps.detection().maxTimespanMs() + this.deps.allowedLatenessMs;
    const from = await consumer.offsetForTime(tp, first.timestamp - span);
    if (from >= first.offset) return false;
    st.replayUntil = first.offset;
    this.deps.log.info({ partition: batch.partition, from, resume: first.offset }, 'rebuilding correlation windows');
    consumer.seek(tp, from);
    return true;
  }

  async handle(batch: Batch, consumer: Seeker): Promise<void> {
    const st = this.state(batch.partition);
    if (await this.rebuildIfNeeded(batch, st, consumer)) return;
    const stream = `${batch.topic}/${batch.partition}`;
    const alerts: PendingAlert[] = [];
    const dlq: OutgoingMessage[] = [];
    const emit = (hits: ReturnType<Windows['advance']>, offset: number) => {
      if (offset < st.replayUntil) return;
      for (const hit of hits) {
        const events = hit.refs.map((r) => st.events.get(r)?.event).filter((e): e is NormalizedEvent => !!e);
        alerts.push(correlationAlert(hit, events, stream, offset, this.deps.assets, this.deps.eventsPerAlert));
      }
    };
    for (const m of batch.messages) {
      let parsed;
      try {
        parsed = CorrelateMessageSchema.safeParse(JSON.parse(m.value ?? ''));
      } catch {
        parsed = null;
      }
      if (!parsed?.success) {
        dlq.push(deadLetter(m, 'unreadable soc.correlate message'));
        this.deps.metrics.deadLetters.inc();
        continue;
      }
      const { c, t, ref, e } = parsed.data;
      const seenKey = `${c}\u0000${ref}`;
      if (st.events.has(seenKey)) continue;
      const event = e as NormalizedEvent;
      st.events.set(seenKey, { event, t });
      st.events.set(ref, { event, t });
      emit(st.windows.feed(c, event, t, ref), m.offset);
      if (t > st.maxEventTime) {
        st.maxEventTime = t;
        st.watermark = t - this.deps.allowedLatenessMs;
        emit(st.windows.advance(st.watermark), m.offset);
      }
    }
    this.prune(st);
    const late = st.windows.lateEvents();
    if (late > st.lateBefore) this.deps.metrics.lateEvents.inc(late - st.lateBefore);
    st.lateBefore = late;
    const done = await untilAcknowledged('correlation outputs', batch, this.deps.log, async () => {
      await this.deps.producer.send(this.deps.topics.dlq, dlq);
      await this.deps.sink.write(alerts);
    });
    if (!done) throw new StaleBatchError();
    this.deps.metrics.alerts.inc({ stage: 'correlate' }, alerts.length);
  }

  /** Forget events no window can reach any more. */
  private prune(st: PartitionState): void {
    const horizon = st.watermark - this.deps.detection().maxTimespanMs() - this.deps.allowedLatenessMs;
    if (!Number.isFinite(horizon)) return;
    for (const [k, v] of st.events) if (v.t < horizon) st.events.delete(k);
  }
}
