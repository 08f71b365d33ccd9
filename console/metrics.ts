import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** The console's Prometheus metrics, in a registry of its own so that two instances in one process never mix. */
export function createConsoleMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'canhgac_console_' });
  return {
    registry,
    httpRequests: new Counter({
      name: 'canhgac_console_http_requests_total',
      help: 'HTTP requests by route and status',
      labelNames: ['route', 'status'],
      registers: [registry],
    }),
    logins: new Counter({ name: 'canhgac_console_logins_total', help: 'Login attempts by outcome', labelNames: ['outcome'], registers: [registry] }),
    actions: new Counter({ name: 'canhgac_console_actions_total', help: 'Incident actions taken, by action', labelNames: ['action'], registers: [registry] }),
    wsClients: new Gauge({ name: 'canhgac_console_ws_clients', help: 'Connected WebSocket clients', registers: [registry] }),
    changes: new Counter({
      name: 'canhgac_console_changes_total',
      help: 'Incident changes received from the feed, by outcome',
      labelNames: ['outcome'],
      registers: [registry],
    }),
    changeDelay: new Histogram({
      name: 'canhgac_console_change_delay_seconds',
      help: 'From a change being made (change.at) to its push to the clients of this instance',
      buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    }),
    wsRefused: new Counter({
      name: 'canhgac_console_ws_refused_total',
      help: 'WebSocket connections refused by a stream limit, by limit',
      labelNames: ['reason'],
      registers: [registry],
    }),
    wsDropped: new Counter({
      name: 'canhgac_console_ws_dropped_total',
      help: 'WebSocket clients closed by the console: slow (could not keep up), greedy (too many resyncs), revoked (session ended)',
      labelNames: ['reason'],
      registers: [registry],
    }),
    snapshots: new Counter({
      name: 'canhgac_console_snapshots_total',
      help: 'Snapshots sent to clients, by reason',
      labelNames: ['reason'],
      registers: [registry],
    }),
  };
}

export type ConsoleMetrics = ReturnType<typeof createConsoleMetrics>;
