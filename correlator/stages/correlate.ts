import type { NormalizedEvent } from '../../shared/event.ts';
import type { Batch, BusProducer, OutgoingMessage, TopicPartition } from '../../shared/bus/types.ts';
import type { Logger } from '../../shared/log.ts';
import type { Topics } from '../../shared/topics.ts';
import { CorrelationEngine, type CorrelationHit } from '../detection/correlation/engine.ts';
import type { RuleSet } from '../detection/ruleset.ts';
import type { CorrelatorMetrics } from '../metrics.ts';
import type { IncidentSink, PendingAlert } from '../sinks/incidents.ts';
import { heartbeatWhile, untilAcknowledged } from '../sinks/retry.ts';
import { correlationAlert } from './alerts.ts';
import { deadLetter, feedsOf, readCorrelateMessage, StaleBatchError, type CorrelateEvent, type Progress } from './messages.ts';
import { correlatePartitionKey, maxTimespanMs, type AssetLookup, type CurrentRules } from './rules.ts';
import { TimeSlice } from '../../shared/time-slice.ts';

/**
 * How long a drill's input must pause before its last windows close: longer than lines of a recording
 * are ever out of order, shorter than anyone waits for a drill's last incident.
 */
const DRILL_QUIET_MS = 2000;
const MINUTE = 60_000;

/** The correlation state of one partition of soc.correlate: one engine per drill ('' for real traffic). */
interface PartitionState {
  ruleset: RuleSet;
  engines: Map<string, CorrelationEngine>;
  /** Events by ref while a window may still need them, with the offset they came at and how many correlations hold them. */
  events: Map<string, { event: NormalizedEvent; t: number; offset: number; uses: number }>;
  /** (correlation, ref) already fed: a re-sent event is dropped. */
  seen: Map<string, number>;
  /**
   * The (correlation, ref) keys of `seen` by correlation and minute of event time: events come in any time
   * order (a flood of old lines, a backlog), so what falls behind a correlation's horizon is found by time,
   * not by arrival (pruning from the front alone kept everything behind one recent event), and an event
   * fed to a ten-minute window is not kept for the three days of another rule.
   */
  byMinute: Map<string, Map<number, string[]>>;
  /** The last progress report of each soc.raw partition, and its owner (claimed: by a claim since the last reset). */
  raw: Map<number, { w: Record<string, number>; caught: boolean; owner: string; claimed: boolean }>;
  /** Wall-clock time the last event arrived (progress reports do not count). */
  lastEventAt: number;
  /** Set once event time came close to the wall clock: only live traffic lets the wall clock move time on. */
  live: boolean;
  late: number;
}

export interface CorrelateStageDeps {
  rules: CurrentRules;
  assets: AssetLookup;
  producer: BusProducer;
  sink: IncidentSink;
  topics: Topics;
  /** Partitions of soc.correlate and the bus's partitioner: a flatline is reported by the partition its group maps to. */
  partitions: number;
  /** Partitions of soc.raw: until each has reported its progress, no window closes. */
  rawPartitions: number;
  partitionOf: (key: string, partitions: number) => number;
  allowedLatenessMs: number;
  eventsPerAlert: number;
  /** Raise correlations that can only grow on arrival (default true; detection/correlation/engine.ts). */
  earlyFiring?: boolean;
  metrics: CorrelatorMetrics;
  log: Logger;
}

/**
 * Sigma correlations on event time over the repartitioned stream (ARCHITECTURE.md, "Event time and watermarks").
 *
 * State survives a crash by what is committed: each batch commits the offset of the oldest event a
 * window may still need, so a restarted instance re-reads those events and rebuilds its windows.
 * Alerts that fire again on the way are the same documents (deterministic ids) and incidents
 * recognise them, so nothing is missed and nothing is counted twice.
 *
 * Early firing and the identity of an early alert. Correlations that can only grow fire on arrival
 * (detection/correlation/engine.ts): the engine runs the ordered evaluation ahead over the events
 * arrived, so an early alert is the document the ordered evaluation writes for that window if nothing
 * older arrives: the same id (rule, group, drill, window start, first event), the same window, count
 * and events. Its identity is therefore that of the ordered alert, and the ordered evaluation is the
 * reference that settles it when the watermark passes the window's end:
 * - confirm: the ordered evaluation reached the same window with the same events. The sink folds the
 *   alert into the incident at the time it was first shown (incident id, first_seen, deadlines
 *   unchanged), drops it from the incident's provisional list and writes nothing new: no second
 *   incident, no second count. A replay raises the same early alert again (same id) and the incident
 *   skips it, as it skips any alert counted before.
 * - retract: the ordered evaluation did not reach it (an older event arrived after it and moved the
 *   window). The alert document is marked retracted; the incident is rebuilt from the alerts the ordered
 *   evaluation confirmed plus the early alerts still open (kept in the incident, `provisional`), so it
 *   ends exactly as the ordered run writes it; an incident that only retracted alerts raised is
 *   withdrawn, visibly (soc.incidents, the console, its timeline).
 * - correct: an older event arrived after the early alert and moved the window's end but not its start
 *   nor its first event: the ordered alert has the early one's id and other content. It replaces the
 *   early alert in place, and on the same incident, because an incident is named after its first
 *   alert's id (incidents/grouping.ts), not after its time: the incident is rewritten as the ordered
 *   run has it, with a `correct` line in its timeline, and no second incident is raised. Only a late
 *   event that becomes the window's first changes the alert's id, and then retract applies.
 * Early alerts depend only on the order of this partition's messages, so a restart or a rebalance that
 * re-reads them raises, confirms and retracts the same alerts.
 */
export class CorrelateStage {
  private readonly partitions = new Map<number, PartitionState>();
  /** Partitions with a batch in hand: the timer leaves them alone. */
  private readonly busy = new Set<number>();
  /** The timer's write of a partition's alerts, while it lasts. */
  private readonly writing = new Map<number, Promise<void>>();
  /** Alerts the timer raised but no sink acknowledged yet, per partition, oldest first. */
  private readonly unsent = new Map<number, PendingAlert[]>();

  constructor(private readonly deps: CorrelateStageDeps) {}

  /** After a rebalance every owned partition starts over from its committed offset. */
  reset(owned: TopicPartition[]): void {
    this.partitions.clear();
    this.deps.metrics.windowEvents.reset();
    // Rebuilt from the committed input, which still holds their events: the windows fire again.
    this.unsent.clear();
    for (const tp of owned) if (tp.topic === this.deps.topics.correlate) this.state(tp.partition);
  }

  private state(partition: number): PartitionState {
    let s = this.partitions.get(partition);
    if (!s) {
      s = {
        ruleset: this.deps.rules(),
        engines: new Map(),
        events: new Map(),
        seen: new Map(),
        byMinute: new Map(),
        raw: new Map(),
        lastEventAt: 0,
        live: false,
        late: 0,
      };
      this.partitions.set(partition, s);
    }
    return s;
  }

  private engine(st: PartitionState, drill: string): CorrelationEngine {
    const rules = this.deps.rules();
    if (rules !== st.ruleset) {
      for (const e of st.engines.values()) e.setRuleSet(rules);
      st.ruleset = rules;
    }
    let e = st.engines.get(drill);
    if (!e) {
      // Time moves only by the raw partitions' progress (and the timer), never by the events of this
      // partition alone: a partition read ahead of the others must not make their events late.
      e = new CorrelationEngine(rules, { allowedLatenessMs: Infinity, maxRefs: 1000, early: this.deps.earlyFiring ?? true });
      st.engines.set(drill, e);
    }
    return e;
  }

  /** Whether this partition reports the hit: flatline groups are seeded everywhere, owned by one partition. */
  private owns(hit: CorrelationHit, partition: number, drill: string): boolean {
    const def = this.deps.rules().correlations.get(hit.rule.id);
    if (def?.type !== 'flatline') return true;
    // A drill reports silence only of sources it actually replayed.
    if (drill && hit.refs.length === 0) return false;
    return this.deps.partitionOf(correlatePartitionKey(drill || null, def.groupBy, hit.group), this.deps.partitions) === partition;
  }

  private alertsOf(
    hits: CorrelationHit[],
    st: PartitionState,
    partition: number,
    drill: string,
    stream: string,
    offset: number,
    arrivedAt?: number,
  ): PendingAlert[] {
    const out: PendingAlert[] = [];
    const metrics = this.deps.metrics;
    for (const hit of hits) {
      if (!hit.alert || !this.owns(hit, partition, drill)) continue;
      const refs = hit.refs.map(String);
      const events = refs.map((r) => st.events.get(r)?.event).filter((e): e is NormalizedEvent => !!e);
      const alert = correlationAlert(
        { rule: hit.rule, group: hit.group, refs, start: hit.windowStart, end: hit.windowEnd, count: hit.eventCount, drill: drill || null },
        events,
        stream,
        offset,
        this.deps.assets,
        this.deps.eventsPerAlert,
      );
      if (hit.phase !== 'final') alert.phase = hit.phase;
      if (hit.phase === 'early') {
        metrics.earlyAlerts.inc({ outcome: 'raised' });
        if (arrivedAt !== undefined) metrics.alertDelay.observe({ phase: 'early' }, Math.max(0, Date.now() - arrivedAt) / 1000);
      } else if (hit.phase === 'confirm') metrics.earlyAlerts.inc({ outcome: 'confirmed' });
      else if (hit.phase === 'retract') metrics.earlyAlerts.inc({ outcome: 'retracted' });
      out.push(alert);
    }
    return out;
  }

  /**
   * Event time of one drill ('' for real traffic) that every soc.raw partition has passed: while some
   * partition is behind (still reading), the slowest of those; once all have read everything, the
   * newest they reported. Not the newest event fed here: a raw partition's feeds may overtake a report
   * that other partitions' unread input made stale, and closing windows up to them would drop that
   * input as late (raw.ts, `inHand`).
   */
  private watermark(st: PartitionState, drill: string): { at: number; allCaught: boolean } {
    if (st.raw.size < this.deps.rawPartitions) return { at: -Infinity, allCaught: false };
    let lagging = Infinity;
    let newest = -Infinity;
    let allCaught = true;
    for (const r of st.raw.values()) {
      const w = r.w[drill] ?? -Infinity;
      newest = Math.max(newest, w);
      if (!r.caught) {
        allCaught = false;
        lagging = Math.min(lagging, w);
      }
    }
    return { at: allCaught ? newest : lagging, allCaught };
  }

  private progress(st: PartitionState, p: Progress): [string, CorrelationHit[]][] {
    const known = st.raw.get(p.partition);
    // Claimed by another owner since: a report of the previous owner, late after a rebalance (messages.ts).
    if (known?.claimed && known.owner !== p.owner && !p.claim) {
      this.deps.metrics.staleProgress.inc();
      this.deps.log.debug({ raw: p.partition, owner: p.owner, current: known.owner }, 'progress of a previous owner ignored');
      return [];
    }
    const w = { ...known?.w };
    for (const [d, t] of Object.entries(p.newest)) w[d] = Math.max(w[d] ?? -Infinity, t);
    st.raw.set(p.partition, { w, caught: p.caught, owner: p.owner, claimed: p.claim || (known?.claimed === true && known.owner === p.owner) });
    this.deps.log.trace({ raw: p.partition, w: p.newest, caught: p.caught, owner: p.owner, claim: p.claim }, 'raw progress');
    const out: [string, CorrelationHit[]][] = [];
    for (const drill of new Set([...st.engines.keys(), ...Object.keys(w)])) {
      const { at } = this.watermark(st, drill);
      if (drill === '' && at > Date.now() - 2 * this.deps.allowedLatenessMs) st.live = true;
      if (Number.isFinite(at)) out.push([drill, this.engine(st, drill).advance(at - this.deps.allowedLatenessMs)]);
      this.deps.log.trace({ drill, watermark: at }, 'watermark');
    }
    return out;
  }

  /** Handles a batch; returns the offset to commit: the oldest event a window may still need. */
  async handle(batch: Batch): Promise<number> {
    this.busy.add(batch.partition);
    try {
      // Two writes of one partition's alerts at once could fold into one incident side by side.
      const timerWrite = this.writing.get(batch.partition);
      if (timerWrite) await heartbeatWhile(batch, timerWrite);
      return await this.handleBatch(batch);
    } finally {
      this.busy.delete(batch.partition);
    }
  }

  private async handleBatch(batch: Batch): Promise<number> {
    const st = this.state(batch.partition);
    const stream = `${batch.topic}/${batch.partition}`;
    const alerts: PendingAlert[] = [];
    const dlq: OutgoingMessage[] = [];
    // In order, in time slices (raw.ts): the timer leaves this partition alone while it is busy.
    const slice = new TimeSlice();
    for (const m of batch.messages) {
      if (slice.due()) await slice.next();
      const message = readCorrelateMessage(m.value);
      if (!message) {
        dlq.push(deadLetter(m, 'unreadable soc.correlate message'));
        this.deps.metrics.deadLetters.inc();
        continue;
      }
      if (message.kind === 'progress') {
        for (const [drill, hits] of this.progress(st, message)) alerts.push(...this.alertsOf(hits, st, batch.partition, drill, stream, m.offset));
        continue;
      }
      st.lastEventAt = Date.now();
      for (const item of feedsOf(message)) this.feed(st, item, batch.partition, stream, m.offset, alerts);
    }
    this.prune(st, batch.partition);
    // What the timer could not write goes first, in the order it was raised; this batch's commit waits for it.
    const unsent = this.unsent.get(batch.partition) ?? [];
    this.unsent.delete(batch.partition);
    await this.emit([...unsent, ...alerts], dlq, batch);
    // Events are kept in the order they came, so the first one is the oldest input still needed.
    const oldest = st.events.values().next();
    return oldest.done ? batch.messages[batch.messages.length - 1]!.offset + 1 : oldest.value.offset;
  }

  private feed(st: PartitionState, item: CorrelateEvent, partition: number, stream: string, offset: number, alerts: PendingAlert[]): void {
    const { c, r, t, ref, e } = item;
    const seenKey = `${c}\u0000${ref}`;
    if (st.seen.has(seenKey)) return;
    st.seen.set(seenKey, t);
    let minutes = st.byMinute.get(c);
    if (!minutes) st.byMinute.set(c, (minutes = new Map()));
    const minute = Math.floor(t / MINUTE);
    const keys = minutes.get(minute);
    if (keys) keys.push(seenKey);
    else minutes.set(minute, [seenKey]);
    const event = e as NormalizedEvent;
    const held = st.events.get(ref);
    if (held) held.uses++;
    else st.events.set(ref, { event, t, offset, uses: 1 });
    const drill = event.labels?.drill ?? '';
    const engine = this.engine(st, drill);
    if (t < engine.watermark) this.deps.log.debug({ partition, drill, ref, eventTime: t, watermark: engine.watermark }, 'late event');
    alerts.push(...this.alertsOf(engine.feed(r, event, t, ref, c), st, partition, drill, stream, offset, item.arrived));
  }

  /**
   * Timer, for each owned partition without new events for `idleMs`: live traffic moves its watermark
   * with the wall clock (now minus the allowed lateness), so that a source that went silent is reported
   * although no event arrives to say so; historic input (a backlog, a drill recording) that every raw
   * partition has read to the end closes its last windows. A raw partition reports "caught up" only
   * after the outputs of its input were acknowledged, so every event it sent here came before it.
   */
  async tick(now: number, idleMs: number): Promise<void> {
    for (const [partition, st] of this.partitions) {
      // A batch in hand moves this partition's time itself; its alerts must go out before the timer's.
      if (this.busy.has(partition) || this.writing.has(partition)) continue;
      const alerts = this.unsent.get(partition) ?? [];
      const quiet = Date.now() - st.lastEventAt;
      if (quiet >= idleMs) {
        const stream = `${this.deps.topics.correlate}/${partition}#timer`;
        for (const drill of new Set(['', ...st.engines.keys()])) {
          const { at, allCaught } = this.watermark(st, drill);
          let hits: CorrelationHit[] = [];
          if (drill === '' && st.live) hits = this.engine(st, '').advance(now - this.deps.allowedLatenessMs);
          // Input fully read and quiet: historic traffic, or a drill whose replay paused or ended (its
          // times may be rebased to now). Nothing older is coming, so its last windows close too.
          else if (allCaught && Number.isFinite(at) && (drill !== '' ? quiet >= DRILL_QUIET_MS : at < now - 2 * this.deps.allowedLatenessMs)) {
            hits = this.engine(st, drill).advance(at);
          }
          alerts.push(...this.alertsOf(hits, st, partition, drill, stream, now));
        }
        // Time moved without a batch: what fell behind it goes now, not with the next input.
        this.prune(st, partition);
      }
      if (!alerts.length) continue;
      const written = this.deps.sink.write(alerts).then(
        () => {
          this.unsent.delete(partition);
          this.deps.metrics.alerts.inc({ stage: 'correlate' }, alerts.length);
        },
        (err: unknown) => {
          // The windows are closed and will not fire again: keep their alerts until a sink takes them.
          this.unsent.set(partition, alerts);
          this.deps.log.warn({ partition, alerts: alerts.length, err: (err as Error).message }, 'alerts of closed windows not written; kept for the next try');
        },
      );
      this.writing.set(partition, written);
      await written;
      this.writing.delete(partition);
    }
  }

  /**
   * Whether every owned partition has moved a drill's event time to `through` (its windows up to there
   * closed by the timer once its input went quiet) with nothing in hand or left to write.
   */
  closedThrough(drill: string, through: number): boolean {
    if (this.busy.size || this.writing.size || this.unsent.size || this.partitions.size === 0) return false;
    if (this.deps.rules().correlations.size === 0) return true;
    // `through` is the newest drill event the raw partitions read, so it bounds every feed that came here.
    for (const st of this.partitions.values()) if ((st.engines.get(drill)?.watermark ?? -Infinity) < through) return false;
    return true;
  }

  private async emit(alerts: PendingAlert[], dlq: OutgoingMessage[], batch: Batch): Promise<void> {
    const done = await untilAcknowledged('correlation outputs', batch, this.deps.log, async () => {
      await this.deps.producer.send(this.deps.topics.dlq, dlq);
      await this.deps.sink.write(alerts);
    });
    if (!done) throw new StaleBatchError();
    this.deps.metrics.alerts.inc({ stage: 'correlate' }, alerts.length);
    const st = this.state(batch.partition);
    let late = 0;
    for (const e of st.engines.values()) late += e.stats.late;
    if (late > st.late) this.deps.metrics.lateEvents.inc(late - st.late);
    st.late = late;
  }

  /**
   * Forgets events no window can reach any more: older than every engine's watermark by the timespan of
   * the correlation they were fed to, whatever order they came in; an event goes with its last
   * correlation. A batch costs the minutes it forgets, not what is kept. The events map keeps arrival
   * order, so its first entry is the oldest input still needed (the commit).
   */
  private prune(st: PartitionState, partition: number): void {
    let mark = Infinity;
    for (const e of st.engines.values()) mark = Math.min(mark, e.watermark);
    if (Number.isFinite(mark)) {
      const rules = this.deps.rules();
      const longest = maxTimespanMs(rules);
      for (const [c, minutes] of st.byMinute) {
        const horizon = mark - (rules.correlations.get(c)?.timespanMs ?? longest) - this.deps.allowedLatenessMs;
        this.forgetBefore(st, minutes, horizon);
        if (!minutes.size) st.byMinute.delete(c);
      }
    }
    this.deps.metrics.windowEvents.set({ partition: String(partition) }, st.events.size);
  }

  private forgetBefore(st: PartitionState, minutes: Map<number, string[]>, horizon: number): void {
    for (const [minute, keys] of minutes) {
      // A minute that straddles the horizon waits for the next prune: kept a little longer, never lost.
      if ((minute + 1) * MINUTE > horizon) continue;
      for (const k of keys) {
        st.seen.delete(k);
        const ref = k.slice(k.indexOf('\u0000') + 1);
        const held = st.events.get(ref);
        if (held && --held.uses <= 0) st.events.delete(ref);
      }
      minutes.delete(minute);
    }
  }
}
