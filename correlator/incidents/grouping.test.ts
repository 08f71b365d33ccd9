import { describe, expect, it } from 'vitest';
import type { Alert, Incident } from '../../shared/incident.ts';
import { DEFAULT_POLICY, foldAlert, type IncidentPolicy } from './grouping.ts';

const policy: IncidentPolicy = { ...DEFAULT_POLICY, suppressionMs: 10 * 60_000 };
const now = new Date('2026-11-26T02:00:00Z');

function alert(ts: string, over: Partial<Alert> = {}): Alert {
  return {
    id: `a-${ts}`,
    '@timestamp': ts,
    rule: { id: 'r1', title: 'SSH brute force', level: 'high', layer: 2 },
    group: { 'source.ip': '203.0.113.7' },
    group_key: 'source.ip=203.0.113.7',
    incident_id: '',
    severity: 'high',
    host: ['srv-01'],
    unit: 'so-tttt',
    drill: null,
    event_count: 5,
    event_ids: [],
    events: [],
    window: { start: ts, end: ts },
    ...over,
  };
}

function fold(current: Incident | null, a: Alert, offset: number, response = {}) {
  return foldAlert(current, a, response, { stream: 'soc.correlate/0', offset }, policy, now);
}

describe('alerts to incidents', () => {
  it('opens an incident with deadlines from the rule and the policy, counted from when it is raised', () => {
    // Raised at 02:00 (now) for an alert of 01:00: the responders get the rule's 15 minutes from 02:00.
    const r = fold(null, alert('2026-11-26T01:00:00.000Z'), 7, { escalateAfterMs: 15 * 60_000, shareNational: true, runbook: 'Block it.' });
    expect(r.kind).toBe('created');
    if (r.kind !== 'created') return;
    expect(r.incident).toMatchObject({
      status: 'new',
      layer: 2,
      alert_count: 1,
      unit: 'so-tttt',
      ack_due: '2026-11-26T02:15:00.000Z',
      report_due: '2026-12-01T02:00:00.000Z',
      runbook: 'Block it.',
      applied: { 'soc.correlate/0': 7, 'alert:a-2026-11-26T01:00:00.000Z': Date.parse('2026-11-26T01:00:00.000Z') },
    });
  });

  it('joins alerts of the same key inside the suppression window, and only those', () => {
    const first = fold(null, alert('2026-11-26T01:00:00.000Z'), 1);
    if (first.kind !== 'created') throw new Error('expected created');
    const joined = fold(first.incident, alert('2026-11-26T01:10:00.000Z', { severity: 'critical', host: ['srv-02'] }), 2);
    expect(joined.kind).toBe('updated');
    if (joined.kind !== 'updated') return;
    expect(joined.incident).toMatchObject({
      id: first.incident.id,
      alert_count: 2,
      severity: 'critical',
      host: ['srv-01', 'srv-02'],
      last_seen: '2026-11-26T01:10:00.000Z',
      version: 2,
    });
    const later = fold(joined.incident, alert('2026-11-26T01:20:00.001Z'), 3);
    expect(later.kind).toBe('created');
    if (later.kind === 'created') expect(later.incident.id).not.toBe(first.incident.id);
  });

  it('skips an alert it already counted, so a replay never double-counts', () => {
    const first = fold(null, alert('2026-11-26T01:00:00.000Z'), 5);
    if (first.kind !== 'created') throw new Error('expected created');
    expect(fold(first.incident, alert('2026-11-26T01:00:00.000Z'), 5)).toEqual({ kind: 'skipped', reason: 'already-counted' });
    expect(fold(first.incident, alert('2026-11-26T01:01:00.000Z'), 4).kind).toBe('skipped');
  });

  it('counts two different alerts raised by the same input message', () => {
    const first = fold(null, alert('2026-11-26T01:00:00.000Z'), 5);
    if (first.kind !== 'created') throw new Error('expected created');
    const second = fold(first.incident, alert('2026-11-26T01:00:05.000Z'), 5);
    expect(second.kind === 'updated' && second.incident.alert_count).toBe(2);
  });

  it('recognises an alert it counted even when it comes again from another position (a timer after a restart)', () => {
    const first = fold(null, alert('2026-11-26T01:00:00.000Z'), 5);
    if (first.kind !== 'created') throw new Error('expected created');
    const again = foldAlert(first.incident, alert('2026-11-26T01:00:00.000Z'), {}, { stream: 'soc.correlate/0#timer', offset: Date.now() }, policy, now);
    expect(again.kind).toBe('skipped');
  });

  it('starts a new incident after the old one was resolved', () => {
    const first = fold(null, alert('2026-11-26T01:00:00.000Z'), 1);
    if (first.kind !== 'created') throw new Error('expected created');
    const resolved: Incident = { ...first.incident, status: 'resolved' };
    expect(fold(resolved, alert('2026-11-26T01:01:00.000Z'), 2).kind).toBe('created');
  });

  it('never sets a report deadline on drills', () => {
    const r = fold(null, alert('2026-11-26T01:00:00.000Z', { drill: 'd-1' }), 1, { shareNational: true });
    expect(r.kind === 'created' && r.incident.report_due).toBeNull();
  });

  it('gives the same incident id to the same alert', () => {
    const a = fold(null, alert('2026-11-26T01:00:00.000Z'), 1);
    const b = fold(null, alert('2026-11-26T01:00:00.000Z'), 1);
    expect(a.kind === 'created' && b.kind === 'created' && a.incident.id === b.incident.id).toBe(true);
  });
});
