import { createHash } from 'node:crypto';
import type { Alert, Incident } from '../incident.ts';

/** Builders of valid alerts and incidents for the tests of the store and of its readers. */
export function incidentFixture(over: Partial<Incident> = {}): Incident {
  const at = over.first_seen ?? '2026-11-20T03:00:00.000Z';
  return {
    id: over.id ?? `inc-${createHash('sha256').update(JSON.stringify(over)).digest('hex').slice(0, 16)}`,
    rule: { id: 'r-ssh-brute', title: 'SSH brute force against a shared server', level: 'high', layer: 2 },
    group: { 'source.ip': '203.0.113.7' },
    group_key: 'source.ip=203.0.113.7',
    status: 'new',
    layer: 2,
    severity: 'high',
    unit: 'so-tttt',
    host: ['web-01'],
    assignee: null,
    first_seen: at,
    last_seen: at,
    alert_count: 1,
    drill: null,
    report_due: null,
    ack_due: null,
    share_national: false,
    runbook: 'Block the source at the perimeter; check the target auth log.',
    timeline: [],
    applied: {},
    version: 0,
    updated_at: at,
    ...over,
  };
}

export function alertFixture(incident: Incident, n: number, over: Partial<Alert> = {}): Alert {
  const at = new Date(Date.parse(incident.first_seen) + n * 1000).toISOString();
  return {
    id: `${incident.id}-a${n}`,
    '@timestamp': at,
    rule: incident.rule,
    group: incident.group,
    group_key: incident.group_key,
    incident_id: incident.id,
    severity: incident.severity,
    host: incident.host,
    unit: incident.unit,
    drill: incident.drill,
    event_count: 1,
    event_ids: [`ev-${n}`],
    events: [
      {
        '@timestamp': at,
        event: { kind: 'event', action: 'deny', original: `kernel: IN=eth0 SRC=203.0.113.7 DST=10.0.0.5 DPT=22 n=${n}` },
        source: { ip: '203.0.113.7', port: 40000 + n },
        destination: { ip: '10.0.0.5', port: 22 },
        host: { name: incident.host[0] },
      },
    ],
    window: { start: at, end: at },
    ...over,
  };
}
