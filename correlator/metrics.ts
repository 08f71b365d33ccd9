import { Counter, Gauge, Histogram, Registry } from 'prom-client';

/** Where the consumer lag comes from: a consumer group's committed offsets against the log end. */
export interface LagSource {
  topic: string;
  committed(tp: { topic: string; partition: number }): Promise<number>;
  endOffsets(topic: string): Promise<Map<number, number>>;
}

export function correlatorMetrics(registry = new Registry()) {
  const lagSources: LagSource[] = [];
  return {
    registry,
    /** The consumers whose lag /metrics reports (set once they run). */
    lagSources,
    events: new Counter({
      name: 'canhgac_correlator_events_total',
      help: 'Events decoded, by event.kind (pipeline_error counts undecodable lines)',
      labelNames: ['kind'],
      registers: [registry],
    }),
    decoded: new Counter({
      name: 'canhgac_correlator_decoded_total',
      help: 'Events decoded, by format (event.module: the decoder, or the vendor module it names)',
      labelNames: ['format'],
      registers: [registry],
    }),
    escapedLines: new Counter({
      name: 'canhgac_correlator_escaped_lines_total',
      help: 'Lines decoded with characters replaced (labels.line_escaped), by kind: control (shown as control pictures), invalid_utf8 (U+FFFD)',
      labelNames: ['kind'],
      registers: [registry],
    }),
    ruleMatches: new Counter({
      name: 'canhgac_correlator_rule_matches_total',
      help: 'Events a rule matched, by rule id (base rules of correlations included)',
      labelNames: ['rule'],
      registers: [registry],
    }),
    alerts: new Counter({ name: 'canhgac_correlator_alerts_total', help: 'Alerts produced, by stage', labelNames: ['stage'], registers: [registry] }),
    incidents: new Counter({
      name: 'canhgac_correlator_incidents_total',
      help: 'Incident documents written, by change (created, updated)',
      labelNames: ['change'],
      registers: [registry],
    }),
    deadLetters: new Counter({ name: 'canhgac_correlator_dead_letters_total', help: 'Messages sent to the dead-letter topic', registers: [registry] }),
    missingGroup: new Counter({
      name: 'canhgac_correlator_missing_group_total',
      help: 'Events that matched a correlation base rule without a value for a group-by field',
      registers: [registry],
    }),
    correlateFeeds: new Counter({
      name: 'canhgac_correlator_correlate_feeds_total',
      help: 'Events fed to correlations through soc.correlate; thinned: flatline feeds the flatline could not tell apart, not sent; oversize: events too big to send even without their original line',
      labelNames: ['outcome'],
      registers: [registry],
    }),
    ruleOverruns: new Counter({
      name: 'canhgac_correlator_rule_overruns_total',
      help: 'Evaluations of a rule on one event that took longer than correlator.ruleLimits.evaluationBudget, by rule id',
      labelNames: ['rule'],
      registers: [registry],
    }),
    ruleAbandoned: new Counter({
      name: 'canhgac_correlator_rule_evaluations_abandoned_total',
      help: 'Evaluations of a rule on one event stopped at 4 times correlator.ruleLimits.evaluationBudget and taken as no match, by rule id',
      labelNames: ['rule'],
      registers: [registry],
    }),
    rulesDisabled: new Counter({
      name: 'canhgac_correlator_rules_disabled_total',
      help: 'Rules disabled for overrunning their evaluation budget repeatedly, by rule id (until their file changes)',
      labelNames: ['rule'],
      registers: [registry],
    }),
    earlyAlerts: new Counter({
      name: 'canhgac_correlator_early_alerts_total',
      help: 'Correlation alerts raised on arrival, before the watermark passed them, and what the ordered evaluation made of them later (confirmed, retracted)',
      labelNames: ['outcome'],
      registers: [registry],
    }),
    alertDelay: new Histogram({
      name: 'canhgac_correlator_alert_delay_seconds',
      help: 'Time from the arrival on soc.raw of the event that completed a correlation to its alert (early: raised on arrival)',
      labelNames: ['phase'],
      buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 600],
      registers: [registry],
    }),
    staleProgress: new Counter({
      name: 'canhgac_correlator_stale_progress_total',
      help: 'Progress reports of a soc.raw partition from an owner it no longer has (after a rebalance), ignored',
      registers: [registry],
    }),
    lateEvents: new Counter({ name: 'canhgac_correlator_late_events_total', help: 'Events later than the allowed lateness', registers: [registry] }),
    windowEvents: new Gauge({
      name: 'canhgac_correlator_window_events',
      help: 'Events held in memory for the correlation windows, by partition of soc.correlate',
      labelNames: ['partition'],
      registers: [registry],
    }),
    sinkSeconds: new Histogram({
      name: 'canhgac_correlator_sink_seconds',
      help: 'Time until a sink acknowledged one batch of output (incidents: Elasticsearch and soc.incidents; correlate: the feeds on soc.correlate)',
      labelNames: ['sink'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers: [registry],
    }),
    lag: new Gauge({
      name: 'canhgac_correlator_consumer_lag',
      help: 'Messages not yet handled by the consumer group: log end minus committed offset, by topic and partition',
      labelNames: ['topic', 'partition'],
      registers: [registry],
      async collect() {
        this.reset();
        for (const source of lagSources) {
          const ends = await source.endOffsets(source.topic);
          for (const [partition, end] of ends) {
            const committed = await source.committed({ topic: source.topic, partition });
            this.set({ topic: source.topic, partition: String(partition) }, Math.max(0, end - Math.max(0, committed)));
          }
        }
      },
    }),
  };
}

export type CorrelatorMetrics = ReturnType<typeof correlatorMetrics>;

/** Counts per label within one batch, added to a counter once per label: prom-client hashes labels on every inc. */
export class BatchCounts {
  private readonly counts = new Map<string, number>();

  add(label: string, n = 1): void {
    this.counts.set(label, (this.counts.get(label) ?? 0) + n);
  }

  addTo(counter: Counter<string>, labelName: string): void {
    for (const [label, n] of this.counts) counter.inc({ [labelName]: label }, n);
  }
}
