import { Counter, Registry } from 'prom-client';

export function correlatorMetrics(registry = new Registry()) {
  return {
    registry,
    events: new Counter({ name: 'canhgac_correlator_events_total', help: 'Events decoded, by event.kind (pipeline_error counts undecodable lines)', labelNames: ['kind'], registers: [registry] }),
    alerts: new Counter({ name: 'canhgac_correlator_alerts_total', help: 'Alerts produced, by stage', labelNames: ['stage'], registers: [registry] }),
    deadLetters: new Counter({ name: 'canhgac_correlator_dead_letters_total', help: 'Messages sent to the dead-letter topic', registers: [registry] }),
    missingGroup: new Counter({ name: 'canhgac_correlator_missing_group_total', help: 'Events that matched a correlation base rule without a value for a group-by field', registers: [registry] }),
    correlateFeeds: new Counter({ name: 'canhgac_correlator_correlate_feeds_total', help: 'Events fed to correlations through soc.correlate; thinned: flatline feeds the flatline could not tell apart, not sent; oversize: events too big to send even without their original line', labelNames: ['outcome'], registers: [registry] }),
    lateEvents: new Counter({ name: 'canhgac_correlator_late_events_total', help: 'Events later than the allowed lateness', registers: [registry] }),
  };
}

export type CorrelatorMetrics = ReturnType<typeof correlatorMetrics>;
