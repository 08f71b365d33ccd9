import { describe, expect, it } from 'vitest';
import type { TimelineEntry } from '../../shared/incident.ts';
import { incidentFixture } from '../../shared/store/fixtures.ts';
import { AUDIT_RULES } from './audits/findings.ts';
import { collectReport, durations, reportHtml, reportText } from './report.ts';
import { operationsHarness } from './test-support.ts';

const MIN = 60_000;
const DAY = 24 * 60 * MIN;
const tl = (at: string, actor: string, action: string, to?: unknown): TimelineEntry => ({ at, actor, action, ...(to !== undefined ? { to } : {}) });

describe('operations report', () => {
  it('computes mean, median and p90 by nearest rank', () => {
    expect(durations([])).toEqual({ count: 0, mean_ms: null, median_ms: null, p90_ms: null });
    expect(durations([30, 10, 20, 40, 50, 60, 70, 80, 90, 100])).toEqual({ count: 10, mean_ms: 55, median_ms: 50, p90_ms: 90 });
  });

  it('summarises a day per layer and unit, with escalations, overdue work, national deadlines, audits and drills', async () => {
    const h = await operationsHarness('2026-11-21T07:00:00.000Z');
    const put = (over: Parameters<typeof incidentFixture>[0]) => h.store.upsertIncident(incidentFixture(over));
    await put({
      id: 'a',
      layer: 1,
      severity: 'high',
      unit: 'Sở Tài chính',
      first_seen: '2026-11-20T01:00:00.000Z',
      status: 'resolved',
      timeline: [
        tl('2026-11-20T01:00:05.000Z', 'canhgac', 'created'),
        tl('2026-11-20T01:10:00.000Z', 'lan', 'acknowledge', 'acknowledged'),
        tl('2026-11-20T02:00:00.000Z', 'lan', 'resolve', 'resolved'),
      ],
    });
    await put({
      id: 'b',
      layer: 2,
      severity: 'critical',
      unit: 'VP UBND',
      first_seen: '2026-11-20T03:00:00.000Z',
      status: 'acknowledged',
      share_national: true,
      report_due: '2026-11-21T12:00:00.000Z',
      timeline: [tl('2026-11-20T03:30:00.000Z', 'minh', 'acknowledge', 'acknowledged')],
    });
    await put({
      id: 'c',
      layer: 3,
      severity: 'medium',
      unit: 'VP UBND',
      first_seen: '2026-11-20T05:00:00.000Z',
      ack_due: '2026-11-20T09:00:00.000Z',
      rule: { id: AUDIT_RULES.coverage.id, title: AUDIT_RULES.coverage.title, level: 'medium', layer: 3 },
      group: { 'host.name': 'portal', 'log.type': 'antivirus' },
      group_key: 'host.name=portal,log.type=antivirus',
    });
    await put({ id: 'd', drill: 'drill-2026-11-20', first_seen: '2026-11-20T06:00:00.000Z', layer: 1 });
    await put({
      id: 'e',
      first_seen: '2026-11-18T06:00:00.000Z',
      last_seen: '2026-11-18T06:00:00.000Z',
      share_national: true,
      report_due: '2026-11-20T06:00:00.000Z',
    });
    await put({
      id: 'f',
      layer: 4,
      severity: 'high',
      unit: 'Sở Tài chính',
      first_seen: '2026-11-20T10:00:00.000Z',
      status: 'resolved',
      timeline: [tl('2026-11-20T10:30:00.000Z', 'lan', 'resolve', 'resolved')],
    });
    const audit = (id: string, at: string, actor: string, action: string, after: unknown) =>
      h.store.appendAudit({ id, '@timestamp': at, actor, action, incident_id: 'x', source_ip: null, after });
    await audit('e1', '2026-11-20T04:00:00.000Z', 'canhgac', 'escalate', { layer: 2 });
    await audit('e2', '2026-11-20T08:00:00.000Z', 'lan', 'escalate', { layer: 4 });
    await audit('e3', '2026-11-19T08:00:00.000Z', 'canhgac', 'escalate', { layer: 3 });
    await audit('x1', '2026-11-20T03:05:00.000Z', 'canhgac', 'national_export', {});

    const r = await collectReport(h.store, { from: new Date('2026-11-20T00:00:00.000Z'), to: new Date('2026-11-21T00:00:00.000Z') }, h.clock.now(), 2 * DAY);
    expect(r.total.incidents).toBe(4);
    expect(r.total.by_severity).toMatchObject({ critical: 1, high: 2, medium: 1 });
    expect(r.total.by_status).toEqual({ new: 1, acknowledged: 1, resolved: 2, false_positive: 0 });
    // Acknowledged after 10 and 30 minutes, and one resolved straight away after 30: median 30, mean 23.
    expect(r.total.time_to_acknowledge).toEqual({ count: 3, mean_ms: Math.round((70 * MIN) / 3), median_ms: 30 * MIN, p90_ms: 30 * MIN });
    expect(r.total.time_to_resolve).toEqual({ count: 2, mean_ms: 45 * MIN, median_ms: 30 * MIN, p90_ms: 60 * MIN });
    expect(Object.fromEntries(Object.entries(r.by_layer).map(([l, b]) => [l, b.incidents]))).toEqual({ 1: 1, 2: 1, 3: 1, 4: 1 });
    expect(Object.keys(r.by_unit)).toEqual(['Sở Tài chính', 'VP UBND']);
    expect(r.by_unit['Sở Tài chính']!.time_to_resolve.median_ms).toBe(30 * MIN);
    expect(r.escalations).toEqual({ total: 2, automatic: 1, by_responders: 1, to_layer: { 2: 1, 3: 0, 4: 1 } });
    expect(r.overdue_acknowledgements.map((o) => o.id)).toEqual(['c']);
    expect(r.national.exported).toBe(1);
    expect(r.national.deadlines.overdue.map((d) => d.id)).toEqual(['e']);
    expect(r.national.deadlines.due_soon.map((d) => d.id)).toEqual(['b']);
    expect(r.audits.coverage).toEqual({ opened: 1, open_now: 1, findings: ['host.name=portal,log.type=antivirus (new)'] });
    expect(r.drills).toEqual([{ drill: 'drill-2026-11-20', incidents: 1 }]);

    const text = reportText(r);
    expect(text).toMatch(/^layer 2 +1 +1 /m);
    expect(text).toContain('Escalations: 2 (1 automatic, 1 by responders)');
    expect(text).toMatch(/OVERDUE +e +due 2026-11-20T06:00:00.000Z/);
    const html = reportHtml({ ...r, by_unit: { ...r.by_unit, '<script>alert(1)</script>': r.total } });
    expect(html).toContain('<svg');
    expect(html).not.toMatch(/<script|src=|href=|@import|url\(/);
    expect(html).toContain('&lt;script&gt;');
  });
});
