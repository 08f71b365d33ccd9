import { randomUUID } from 'node:crypto';
import { parseEnvelope } from '../../shared/envelope.ts';
import type { Batch, BusProducer, OutgoingMessage, TopicPartition } from '../../shared/bus/types.ts';
import type { Logger } from '../../shared/log.ts';
import type { Topics } from '../../shared/topics.ts';
import { decodeEnvelope, ESCAPED_LABEL } from '../decoders/index.ts';
import { BatchCounts, type CorrelatorMetrics } from '../metrics.ts';
import type { IncidentSink, PendingAlert } from '../sinks/incidents.ts';
import { untilAcknowledged } from '../sinks/retry.ts';
import { singleEventAlert } from './alerts.ts';
import { heartbeatEvent } from './heartbeat.ts';
import { observeEvent, observeHeartbeat, type TelemetryLedger } from '../operations/telemetry.ts';
import { CORRELATE_MESSAGE_VERSION, deadLetter, StaleBatchError, type Progress } from './messages.ts';
import { correlateKey, correlatePartitionKey, type AssetLookup, type CurrentRules } from './rules.ts';
import { BatchFeeds, type BundledFeeds } from './feeds.ts';
import { TimeSlice } from '../../shared/time-slice.ts';

/** Decoder memory per source (W3C #Fields headers of pfirewall.log), bounded. */
export class DecodeSessions {
  private readonly states = new Map<string, Map<string, unknown>>();

  constructor(private readonly max = 10_000) {}

  for(host: string, source: string): Map<string, unknown> {
    const key = `${host}\u0000${source}`;
    let s = this.states.get(key);
    if (!s) {
      if (this.states.size >= this.max) this.states.delete(this.states.keys().next().value!);
      s = new Map();
      this.states.set(key, s);
    }
    return s;
  }
}

export interface RawStageDeps {
  ledger?: TelemetryLedger;
  rules: CurrentRules;
  assets: AssetLookup;
  producer: BusProducer;
  sink: IncidentSink;
  topics: Topics;
  correlatePartitions: number;
  /** The bus's partitioner: a group's events go to the soc.correlate partition its key maps to. */
  partitionOf: (key: string, partitions: number) => number;
  timezone: string;
  metrics: CorrelatorMetrics;
  log: Logger;
}

interface RawProgress {
  newest: Record<string, number>;
  /** Offset after the last batch handled (-1: none yet). */
  next: number;
}

/** What one raw batch yields, before anything is sent. */
export interface RawOutputs {
  alerts: PendingAlert[];
  feeds: BundledFeeds;
  deadLetters: OutgoingMessage[];
  counts: RawCounts;
  /** The newest event time per drill after this batch. */
  newest: Record<string, number>;
  /** Whether event time moved (and correlations exist): the partition's progress goes out. */
  moved: boolean;
}

export interface RawCounts {
  kinds: BatchCounts;
  formats: BatchCounts;
  matches: BatchCounts;
  /** Lines decoded with bytes replaced, by what was replaced (labels.line_escaped: control, invalid_utf8). */
  escaped: BatchCounts;
  missingGroup: number;
}

export interface ProgressSource {
  committed(tp: TopicPartition): Promise<number>;
  endOffsets(topic: string): Promise<Map<number, number>>;
}

/**
 * soc.raw -> decode -> single-event rules. Alerts go to the incident sink; events that feed a
 * correlation are re-keyed by its group-by values to soc.correlate (the repartition pattern), so that
 * one group's events meet in one partition whatever host they came from.
 */
export class RawStage {
  private readonly sessions = new DecodeSessions();
  private readonly progress = new Map<number, RawProgress>();
  /**
   * Partitions with a batch in hand, from before its first output goes out until its progress is noted:
   * such a partition is never caught up, whatever end offsets a snapshot read. A snapshot may read the
   * end offsets before a batch lands; the batch's feeds go out at once (outside the turns) while its
   * own progress waits for that snapshot's turn, so by offsets alone the partition looked read to the
   * end. A correlate partition that had those feeds then closed its windows up to them, other
   * partitions' input still unread, which came in late and was dropped (an Elasticsearch outage that
   * held a sibling's batch made this likely).
   */
  private readonly inHand = new Map<number, number>();
  private turn: Promise<void> = Promise.resolve();
  /** This member's token for its current assignment of soc.raw partitions. */
  private owner = randomUUID();

  constructor(private readonly deps: RawStageDeps) {}

  /**
   * The partitions this member owns now; their progress is reported from here on, under a new owner
   * token, claimed before anything is read (messages.ts: a previous owner's late report is then ignored).
   */
  async assigned(owned: TopicPartition[]): Promise<void> {
    this.progress.clear();
    this.owner = randomUUID();
    for (const tp of owned) if (tp.topic === this.deps.topics.raw) this.progress.set(tp.partition, { newest: {}, next: -1 });
    if (this.deps.rules().correlations.size === 0 || this.progress.size === 0) return;
    const claims = [...this.progress.keys()].flatMap((partition) => this.progressMessages(partition, {}, false, true));
    await this.inTurn(() => this.deps.producer.send(this.deps.topics.correlate, claims));
  }

  private progressMessages(partition: number, newest: Record<string, number>, caught: boolean, claim = false): OutgoingMessage[] {
    const value = JSON.stringify({ v: CORRELATE_MESSAGE_VERSION, kind: 'progress', partition, newest, caught, owner: this.owner, claim } satisfies Progress);
    return Array.from({ length: this.deps.correlatePartitions }, (_, q) => ({ key: null, value, partition: q }));
  }

  /**
   * The progress of every owned partition, each with whether it has read all there is. Sent as one
   * snapshot, so that a partition racing ahead never goes out while a sibling that has new input
   * still claims to be caught up.
   */
  private async snapshot(consumer: ProgressSource, current?: { partition: number; newest: Record<string, number> }): Promise<OutgoingMessage[]> {
    const ends = await consumer.endOffsets(this.deps.topics.raw);
    const out: OutgoingMessage[] = [];
    for (const [partition, pr] of this.progress) {
      if (partition === current?.partition) continue;
      const next = pr.next >= 0 ? pr.next : await consumer.committed({ topic: this.deps.topics.raw, partition });
      const caught = !this.inHand.get(partition) && Math.max(next, 0) >= (ends.get(partition) ?? 0);
      out.push(...this.progressMessages(partition, pr.newest, caught));
    }
    // The partition that moved goes last: a sibling that has new input must say so before time moves on.
    // More may follow right behind this batch, so it counts as reading until the timer says otherwise.
    if (current) out.push(...this.progressMessages(current.partition, current.newest, false));
    return out;
  }

  /**
   * Progress goes out one snapshot at a time, each taken when its turn comes: partitions are handled
   * concurrently, and a snapshot taken before a sibling's batch finished must not land after the
   * sibling's own, newer one. A sibling still handling a batch is not caught up in any snapshot.
   */
  private inTurn(send: () => Promise<void>): Promise<void> {
    const turn = this.turn.then(send);
    this.turn = turn.catch(() => undefined);
    return turn;
  }

  /** Reports every owned partition's progress (timer). */
  async reportProgress(consumer: ProgressSource): Promise<void> {
    if (this.deps.rules().correlations.size === 0 || this.progress.size === 0) return;
    await this.inTurn(async () => this.deps.producer.send(this.deps.topics.correlate, await this.snapshot(consumer)));
  }

  /**
   * The newest event time of a drill in the owned partitions once each has handled all there is to
   * read (its outputs acknowledged), or null while some partition is still reading.
   */
  async drillNewest(consumer: ProgressSource, drill: string): Promise<number | null> {
    const ends = await consumer.endOffsets(this.deps.topics.raw);
    let newest = -Infinity;
    for (const [partition, pr] of this.progress) {
      const next = pr.next >= 0 ? pr.next : await consumer.committed({ topic: this.deps.topics.raw, partition });
      if (this.inHand.get(partition) || Math.max(next, 0) < (ends.get(partition) ?? 0)) return null;
      newest = Math.max(newest, pr.newest[drill] ?? -Infinity);
    }
    return newest;
  }

  /**
   * The work of one batch without I/O: decode, single-event rules, correlation feeds. It reads the
   * decoder sessions and notes what each host sent in the ledger (both in memory); nothing leaves the
   * process until handle() sends the result. The events are handled in order, in time slices: between
   * two events the event loop gets a turn once a slice is used up, so a slow rule never holds the
   * process (in `canhgac start`, the console) for the whole batch. The rule set is the one in force
   * when the batch began, even if a reload lands in between.
   */
  async process(batch: Batch, newestBefore: Record<string, number>): Promise<RawOutputs> {
    const deps = this.deps;
    const ruleset = deps.rules();
    const alerts: PendingAlert[] = [];
    const feeds = new BatchFeeds((key) => deps.partitionOf(key, deps.correlatePartitions));
    const deadLetters: OutgoingMessage[] = [];
    const counts: RawCounts = { kinds: new BatchCounts(), formats: new BatchCounts(), matches: new BatchCounts(), escaped: new BatchCounts(), missingGroup: 0 };
    const stream = `${batch.topic}/${batch.partition}`;
    const newest = { ...newestBefore };
    const slice = new TimeSlice();
    for (const m of batch.messages) {
      if (slice.due()) await slice.next();
      const parsed = parseEnvelope(m.value);
      if (!parsed.ok) {
        deadLetters.push(deadLetter(m, parsed.reason));
        continue;
      }
      const env = parsed.envelope;
      const event =
        env.kind === 'heartbeat'
          ? heartbeatEvent(env)
          : decodeEnvelope(env, { timezone: deps.timezone, state: this.sessions.for(env.host, env.source), assets: deps.assets });
      if (deps.ledger) {
        if (env.kind === 'heartbeat') observeHeartbeat(deps.ledger, env);
        else observeEvent(deps.ledger, env, event);
      }
      if (env.timeShiftMs) event['@timestamp'] = new Date(Date.parse(event['@timestamp']) + env.timeShiftMs).toISOString();
      counts.kinds.add(event.event.kind);
      if (event.event.kind !== 'pipeline_error') counts.formats.add(String((event.event as { module?: unknown }).module ?? 'unknown'));
      const escaped = event.labels?.[ESCAPED_LABEL];
      if (typeof escaped === 'string') for (const kind of escaped.split(',')) counts.escaped.add(kind);
      const eventTime = Date.parse(event['@timestamp']);
      const drill = event.labels?.drill ?? null;
      if (eventTime > (newest[drill ?? ''] ?? -Infinity)) newest[drill ?? ''] = eventTime;
      const ref = event.event.id ?? `${stream}/${m.offset}`;
      const arrived = m.timestamp;
      for (const match of ruleset.match(event)) {
        counts.matches.add(match.rule.id);
        if (match.alert) alerts.push(singleEventAlert(match.rule, event, stream, m.offset, deps.assets));
        for (const c of match.correlations) {
          const group = ruleset.groupKeyFor(c, match.rule.id, event);
          if (!group) {
            counts.missingGroup++;
            continue;
          }
          const groupBy = ruleset.groupByFor(c);
          const def = ruleset.correlations.get(c);
          feeds.add(
            correlateKey(c, drill, groupBy, group),
            correlatePartitionKey(drill, groupBy, group),
            { c, r: match.rule.id, t: eventTime, ref, e: event as Record<string, unknown>, arrived },
            def?.type === 'flatline' ? def.timespanMs : undefined,
          );
        }
      }
    }
    return {
      alerts,
      feeds: feeds.bundle(),
      deadLetters,
      counts,
      newest,
      moved: ruleset.correlations.size > 0 && JSON.stringify(newest) !== JSON.stringify(newestBefore),
    };
  }

  /** process() and the I/O around it: the outputs sent and acknowledged, then the batch counted done. */
  async handle(batch: Batch, consumer: ProgressSource): Promise<void> {
    // Counted: a batch handed again while the first copy is still retried (a rejoin) is in hand too.
    this.inHand.set(batch.partition, (this.inHand.get(batch.partition) ?? 0) + 1);
    try {
      await this.handleBatch(batch, consumer);
    } finally {
      const left = this.inHand.get(batch.partition)! - 1;
      if (left) this.inHand.set(batch.partition, left);
      else this.inHand.delete(batch.partition);
    }
  }

  private async handleBatch(batch: Batch, consumer: ProgressSource): Promise<void> {
    const deps = this.deps;
    let pr = this.progress.get(batch.partition);
    if (!pr) this.progress.set(batch.partition, (pr = { newest: {}, next: -1 }));
    const { alerts, feeds, deadLetters, counts, newest, moved } = await this.process(batch, pr.newest);
    for (const item of feeds.oversize)
      deps.log.warn({ correlation: item.c, ref: item.ref }, 'event too big to feed its correlation even without its original line; not correlated');
    const done = await untilAcknowledged('raw outputs', batch, deps.log, async () => {
      const acknowledged = deps.metrics.sinkSeconds.startTimer({ sink: 'correlate' });
      await deps.producer.send(deps.topics.correlate, feeds.messages);
      acknowledged();
      await deps.producer.send(deps.topics.dlq, deadLetters);
      await deps.sink.write(alerts);
      // Last, once everything else is acknowledged: were this batch read again (a crash, a rebalance),
      // no window may already have moved past its events.
      if (moved)
        await this.inTurn(async () => deps.producer.send(deps.topics.correlate, await this.snapshot(consumer, { partition: batch.partition, newest })));
    });
    if (!done) throw new StaleBatchError();
    pr.newest = newest;
    pr.next = batch.messages[batch.messages.length - 1]!.offset + 1;
    deps.metrics.deadLetters.inc(deadLetters.length);
    deps.metrics.missingGroup.inc(counts.missingGroup);
    deps.metrics.correlateFeeds.inc({ outcome: 'sent' }, feeds.sent);
    deps.metrics.correlateFeeds.inc({ outcome: 'thinned' }, feeds.thinned);
    deps.metrics.correlateFeeds.inc({ outcome: 'oversize' }, feeds.oversize.length);
    deps.metrics.alerts.inc({ stage: 'raw' }, alerts.length);
    counts.kinds.addTo(deps.metrics.events, 'kind');
    counts.formats.addTo(deps.metrics.decoded, 'format');
    counts.matches.addTo(deps.metrics.ruleMatches, 'rule');
    counts.escaped.addTo(deps.metrics.escapedLines, 'kind');
  }
}
