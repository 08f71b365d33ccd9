import type { Bus, BusConsumer, BusProducer } from '../shared/bus/types.ts';
import type { Logger } from '../shared/log.ts';
import type { IncidentStore } from '../shared/store/types.ts';
import type { Topics } from '../shared/topics.ts';
import type { IncidentPolicy } from './incidents/grouping.ts';
import { correlatorMetrics, type CorrelatorMetrics } from './metrics.ts';
import { IncidentSink } from './sinks/incidents.ts';
import { CorrelateStage } from './stages/correlate.ts';
import type { AssetLookup, CurrentRules } from './stages/rules.ts';
import { RawStage } from './stages/raw.ts';
import type { TelemetryLedger } from './operations/telemetry.ts';
import { BeatsStage, type BeatsInputConfig } from './inputs/beats.ts';

export interface CorrelatorOptions {
  bus: Bus;
  store: IncidentStore;
  topics: Topics;
  /** The rule set in force now (hot reload swaps what this returns). */
  rules: CurrentRules;
  assets: AssetLookup;
  groupId: string;
  partitions: { raw: number; correlate: number; incidents: number };
  allowedLatenessMs: number;
  /** Raise correlations that can only grow on arrival, confirmed or retracted later (default true). */
  earlyFiring?: boolean;
  eventsPerAlert: number;
  policy: IncidentPolicy;
  timezone: string;
  log: Logger;
  metrics?: CorrelatorMetrics;
  clock?: () => Date;
  /** How often raw partitions report progress and idle partitions close windows (default 2 s). */
  tickMs?: number;
  /** What each host sent lately, for the layer-3 coverage audits. */
  ledger?: TelemetryLedger;
  /** Topics of Winlogbeat/Filebeat Kafka outputs, mapped to envelopes onto soc.raw. */
  beats?: BeatsInputConfig[];
}

/** Partitions of each topic handled at once: one waits for Kafka or Elasticsearch while another decodes. */
const PARTITIONS_AT_ONCE = 3;

/**
 * One correlator instance: a member of the soc.raw consumer group and of the soc.correlate group.
 * Kafka spreads partitions over however many instances run; no clustering of our own.
 */
export class Correlator {
  readonly metrics: CorrelatorMetrics;
  private producer?: BusProducer;
  private incidentSink?: IncidentSink;
  private consumers: BusConsumer[] = [];
  private timer?: NodeJS.Timeout;
  private stages?: { raw: RawStage; rawConsumer: BusConsumer; correlate: CorrelateStage };

  constructor(private readonly o: CorrelatorOptions) {
    this.metrics = o.metrics ?? correlatorMetrics();
  }

  async start(): Promise<void> {
    const { bus, topics, log } = this.o;
    await bus.ensureTopics([
      { topic: topics.raw, partitions: this.o.partitions.raw },
      { topic: topics.correlate, partitions: this.o.partitions.correlate },
      { topic: topics.incidents, partitions: this.o.partitions.incidents },
      { topic: topics.dlq, partitions: 1 },
      ...(this.o.beats ?? []).map((b) => ({ topic: b.topic, partitions: this.o.partitions.raw })),
    ]);
    await this.o.store.init();
    const producer = await bus.producer();
    this.producer = producer;
    const sink = new IncidentSink(this.o.store, producer, topics.incidents, this.o.policy, log.child({ sink: 'incidents' }), this.o.clock, this.metrics);

    const rawPartitions = await bus.partitionCount(topics.raw);
    const correlatePartitions = await bus.partitionCount(topics.correlate);
    this.incidentSink = sink;
    const stage = new CorrelateStage({
      rules: this.o.rules,
      partitions: correlatePartitions,
      rawPartitions,
      partitionOf: (key, n) => bus.partitionOf(key, n),
      assets: this.o.assets,
      producer,
      sink,
      topics,
      allowedLatenessMs: this.o.allowedLatenessMs,
      eventsPerAlert: this.o.eventsPerAlert,
      earlyFiring: this.o.earlyFiring,
      metrics: this.metrics,
      log: log.child({ stage: 'correlate' }),
    });
    const correlate = await bus.consumer({
      groupId: `${this.o.groupId}.correlate`,
      topics: [topics.correlate],
      fromBeginning: true,
      concurrency: PARTITIONS_AT_ONCE,
      onAssigned: (owned) => stage.reset(owned),
    });
    this.consumers.push(correlate);
    await correlate.run((batch) => stage.handle(batch));

    const rawStage = new RawStage({
      ledger: this.o.ledger,
      correlatePartitions,
      partitionOf: (key, n) => bus.partitionOf(key, n),
      rules: this.o.rules,
      assets: this.o.assets,
      producer,
      sink,
      topics,
      timezone: this.o.timezone,
      metrics: this.metrics,
      log: log.child({ stage: 'raw' }),
    });
    const raw = await bus.consumer({
      groupId: this.o.groupId,
      topics: [topics.raw],
      fromBeginning: true,
      concurrency: PARTITIONS_AT_ONCE,
      onAssigned: (owned) => rawStage.assigned(owned),
    });
    this.consumers.push(raw);
    await raw.run((batch) => rawStage.handle(batch, raw));
    this.stages = { raw: rawStage, rawConsumer: raw, correlate: stage };
    for (const input of this.o.beats ?? []) {
      const beats = new BeatsStage(input, { producer, topics, assets: this.o.assets, log: log.child({ input: input.name }) });
      const consumer = await bus.consumer({
        groupId: `${this.o.groupId}.beats.${input.name}`,
        topics: [input.topic],
        fromBeginning: true,
        concurrency: PARTITIONS_AT_ONCE,
      });
      this.consumers.push(consumer);
      await consumer.run((batch) => beats.handle(batch));
    }
    this.metrics.lagSources.splice(
      0,
      Infinity,
      { topic: topics.raw, committed: (tp) => raw.committed(tp), endOffsets: (t) => raw.endOffsets(t) },
      { topic: topics.correlate, committed: (tp) => correlate.committed(tp), endOffsets: (t) => correlate.endOffsets(t) },
    );
    const clock = this.o.clock ?? (() => new Date());
    const tickMs = this.o.tickMs ?? 2000;
    this.timer = setInterval(() => {
      Promise.all([rawStage.reportProgress(raw), stage.tick(clock().getTime(), tickMs)]).catch((err: unknown) =>
        log.warn({ err: (err as Error).message }, 'flatline check failed; next tick retries'),
      );
    }, tickMs);
    this.timer.unref();
    log.info({ groupId: this.o.groupId, raw: topics.raw, correlate: topics.correlate }, 'correlator started');
  }

  /** Where alerts become incidents; audits of layer 3 raise theirs through it too. Set by start(). */
  get sink(): IncidentSink {
    if (!this.incidentSink) throw new Error('the correlator is not started');
    return this.incidentSink;
  }

  /**
   * Whether this instance has closed every window of a drill: the soc.raw partitions it owns are read to
   * the end, and each soc.correlate partition it owns has moved the drill's event time to its newest
   * event and written the alerts. The drill's incidents are final from then on, until more of it comes.
   * Drill tests wait on this instead of waiting for the incidents to stay unchanged for a while.
   */
  async drillClosed(drillId: string): Promise<boolean> {
    const read = await this.drillRead(drillId);
    return !!read && Number.isFinite(read.newest) && read.closed;
  }

  /**
   * Whether this instance has nothing of a drill left to write: its windows are closed (drillClosed), or
   * none of its events is here at all (an unknown id, a drill from before a restart). `drill purge` and
   * `drill score` wait on it: an alert written after them would bring back a purged incident, or be
   * missing from the score.
   */
  async drillSettled(drillId: string): Promise<boolean> {
    return (await this.drillRead(drillId))?.closed ?? false;
  }

  /**
   * The newest event of a drill the owned soc.raw partitions read (-Infinity: none), and whether every
   * window up to it is closed and written; null while running stages are missing or a partition is not read to the end.
   */
  private async drillRead(drillId: string): Promise<{ newest: number; closed: boolean } | null> {
    if (!this.stages) return null;
    const newest = await this.stages.raw.drillNewest(this.stages.rawConsumer, drillId);
    return newest === null ? null : { newest, closed: this.stages.correlate.closedThrough(drillId, newest) };
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.stages = undefined;
    this.metrics.lagSources.splice(0, Infinity);
    for (const c of this.consumers) await c.stop();
    this.consumers = [];
    await this.producer?.close();
    this.o.log.info('correlator stopped');
  }
}
