import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { AuditEntry, Incident, TimelineEntry } from '../../shared/incident.ts';
import type { AuditFilter, IncidentFilter, IncidentStore } from '../../shared/store/types.ts';
import { purgeDrill } from './purge.ts';
import { REPLAY_AUDIT_ACTION } from './replay.ts';
import { scoreReportHtml } from './report-html.ts';
import { loadScenario, type Scenario } from './scenario.ts';
import { formatScoreText, scoreDrill } from './score.ts';

/** Just enough of the store for the scorer and purge: incidents and audit entries in memory, filtered like the real one. */
class FakeStore implements Pick<IncidentStore, 'searchIncidents' | 'searchAudit' | 'appendAudit' | 'purgeDrill'> {
  constructor(
    public incidents: Incident[],
    public audit: AuditEntry[] = [],
  ) {}
  async searchIncidents(f: IncidentFilter) {
    const all = this.incidents.filter((i) => f.drill === undefined || i.drill === f.drill);
    const page = Number(f.page ?? 1);
    const size = Number(f.size ?? 50);
    return { total: all.length, page, size, incidents: all.slice((page - 1) * size, page * size) };
  }
  async searchAudit(f: AuditFilter) {
    const entries = this.audit.filter((e) => f.action === undefined || e.action === f.action);
    return { total: entries.length, entries };
  }
  async appendAudit(e: AuditEntry) {
    this.audit.push(e);
    return { created: true };
  }
  async purgeDrill(drill: string) {
    const before = this.incidents.length;
    this.incidents = this.incidents.filter((i) => i.drill !== drill);
    return { alerts: 0, incidents: before - this.incidents.length };
  }
}

const asStore = (s: FakeStore) => s as unknown as IncidentStore;
const TRIGGER = Date.parse('2025-03-04T02:10:00Z');
const SHIFT = 3_600_000;
const iso = (ms: number) => new Date(ms).toISOString();
/** Times in the replayed timeline: trigger + shift + offset. */
const at = (offsetMs: number) => iso(TRIGGER + SHIFT + offsetMs);

function incident(id: string, over: Partial<Incident> & { created?: number; actions?: [string, number, unknown?, unknown?][] }): Incident {
  const created = over.created ?? 0;
  const timeline: TimelineEntry[] = [
    { at: at(created), actor: 'canhgac', action: 'created' },
    ...(over.actions ?? []).map(([action, t, from, to]) => ({ at: at(t), actor: 'lan', action, from, to })),
  ];
  const { created: _c, actions: _a, ...rest } = over;
  return {
    id,
    rule: { id: 'r-ssh', title: 'SSH brute force', level: 'high', layer: 2 },
    group: { 'source.ip': '203.0.113.9' },
    group_key: 'k',
    status: 'new',
    layer: 2,
    severity: 'high',
    unit: null,
    host: ['srv-web-01'],
    assignee: null,
    first_seen: at(60_000),
    last_seen: at(120_000),
    alert_count: 1,
    drill: 'd1',
    report_due: null,
    ack_due: null,
    share_national: false,
    runbook: null,
    timeline,
    applied: {},
    version: 1,
    updated_at: at(0),
    ...rest,
  };
}

function scenario(): Scenario {
  const dir = mkdtempSync(join(tmpdir(), 'score-'));
  writeFileSync(join(dir, 'rec.ndjson'), '');
  const file = join(dir, 'scenario.yml');
  writeFileSync(
    file,
    `name: mixed
title: Mixed drill
recording: rec.ndjson
trigger: ${iso(TRIGGER)}
expected:
  - rule: r-ssh
    title: SSH brute force
    group: { source.ip: 203.0.113.9 }
    layer: 2
    within: 5m
  - rule: r-scan
    group: { source.ip: 198.51.100.7 }
    within: 2m
    trigger: ${iso(TRIGGER + 600_000)}
  - rule: r-av-off
    group: { host.name: srv-db-02 }
    within: 10m
response:
  acknowledge: { high: 15m, critical: 5m }
`,
  );
  return loadScenario(file);
}

describe('drill score', () => {
  const incidents = [
    // Detected 60 s after the trigger; acknowledged after 10 min (in target), escalated by the timer first, resolved after 40 min.
    incident('inc-ssh', {
      status: 'resolved',
      layer: 3,
      actions: [
        ['escalate', 120_000, { layer: 2, status: 'new' }, { layer: 3, status: 'new' }],
        ['acknowledge', 600_000],
        ['resolve', 2_400_000],
      ],
    }),
    // A second incident of the same expectation: matched, not unexpected.
    incident('inc-ssh-2', { first_seen: at(900_000), created: 900_000 }),
    // Detected 5 min after its own trigger (trigger + 10 min), allowed 2 min: late. Critical, acknowledged after 8 min: over target.
    incident('inc-scan', {
      rule: { id: 'r-scan', title: 'Port scan', level: 'critical', layer: 2 },
      severity: 'critical',
      group: { 'source.ip': '198.51.100.7' },
      first_seen: at(900_000),
      created: 900_000,
      actions: [['acknowledge', 900_000 + 480_000]],
    }),
    // The right rule on the wrong host: does not count for the expectation, so unexpected.
    incident('inc-av-other', { rule: { id: 'r-av-off', title: 'Antivirus disabled', level: 'high', layer: 1 }, group: { 'host.name': 'srv-app-09' } }),
    // Another drill's incident never shows.
    incident('inc-elsewhere', {
      drill: 'd2',
      rule: { id: 'r-av-off', title: 'Antivirus disabled', level: 'high', layer: 1 },
      group: { 'host.name': 'srv-db-02' },
    }),
  ];

  it('reports found, late, missed and unexpected with times to detect, acknowledge and resolve', async () => {
    const store = new FakeStore(incidents);
    const r = await scoreDrill(asStore(store), scenario(), 'd1', { shiftMs: SHIFT, now: new Date(TRIGGER + SHIFT + 3_600_000) });
    expect(r.expected.map((e) => [e.rule, e.outcome, e.time_to_detect_ms, e.incidents])).toEqual([
      ['r-ssh', 'detected', 60_000, ['inc-ssh', 'inc-ssh-2']],
      ['r-scan', 'late', 300_000, ['inc-scan']],
      ['r-av-off', 'missed', null, []],
    ]);
    expect(r.unexpected).toEqual(['inc-av-other']);
    const ssh = r.incidents.find((i) => i.id === 'inc-ssh')!;
    expect(ssh).toMatchObject({
      time_to_acknowledge_ms: 600_000,
      time_to_resolve_ms: 2_400_000,
      acknowledge_target_ms: 900_000,
      acknowledged_in_target: true,
      escalations: [{ from_layer: 2, to_layer: 3, actor: 'lan' }],
    });
    const scan = r.incidents.find((i) => i.id === 'inc-scan')!;
    expect(scan).toMatchObject({ time_to_acknowledge_ms: 480_000, acknowledge_target_ms: 300_000, acknowledged_in_target: false });
    // Never acknowledged and 45 min past creation with a 15 min target: missed; no target for its severity: not judged.
    expect(r.incidents.find((i) => i.id === 'inc-ssh-2')!.acknowledged_in_target).toBe(false);
    expect(r.summary).toEqual({
      expected: 3,
      found: 2,
      detected_in_time: 1,
      late: 1,
      missed: 1,
      unexpected: 1,
      incidents: 4,
      acknowledged: 2,
      acknowledged_in_target: 1,
      resolved: 1,
      escalations: 1,
      median_time_to_acknowledge_ms: 540_000,
      median_time_to_resolve_ms: 2_400_000,
    });
    expect(r.passed).toBe(false);
    const text = formatScoreText(r);
    expect(text).toMatch(/OK {3}SSH brute force \[source\.ip=203\.0\.113\.9\]: time to detect 60s \(within 5m 00s\), 2 incidents/);
    expect(text).toMatch(/LATE r-scan|LATE Port scan/);
    expect(text).toMatch(/MISS r-av-off \[host\.name=srv-db-02\]: time to detect -/);
    expect(text).toMatch(/^FAILED/m);
    const html = scoreReportHtml(r);
    expect(html).toContain('<tr class="missed">');
    expect(html).toContain('class="unexpected"');
    expect(html).toContain('FAILED');
  });

  it('passes when every expected incident is detected in time, a negative delay included', async () => {
    const s = scenario();
    s.expected = s.expected.slice(0, 1);
    const early = incident('inc-early', { first_seen: at(-30_000) });
    const r = await scoreDrill(asStore(new FakeStore([early])), s, 'd1', { shiftMs: SHIFT });
    expect(r.expected[0]).toMatchObject({ outcome: 'detected', time_to_detect_ms: -30_000 });
    expect(r.passed).toBe(true);
    expect(formatScoreText(r)).toMatch(/^PASSED/m);
  });

  it('takes the shift from the replay audit entry of the drill, and a wrong shift makes detections late', async () => {
    const s = scenario();
    s.expected = s.expected.slice(0, 1);
    const audit: AuditEntry[] = [
      {
        id: 'a1',
        '@timestamp': iso(TRIGGER),
        actor: 'cli:lan',
        action: REPLAY_AUDIT_ACTION,
        incident_id: null,
        source_ip: null,
        after: { drill: 'd-other', shiftMs: 1 },
      },
      {
        id: 'a2',
        '@timestamp': iso(TRIGGER + 1),
        actor: 'cli:lan',
        action: REPLAY_AUDIT_ACTION,
        incident_id: null,
        source_ip: null,
        after: { drill: 'd1', shiftMs: SHIFT },
      },
    ];
    const store = new FakeStore([incident('inc-ssh', {})], audit);
    const r = await scoreDrill(asStore(store), s, 'd1');
    expect([r.shift_ms, r.shift_source, r.expected[0]!.time_to_detect_ms]).toEqual([SHIFT, 'audit', 60_000]);
    const none = await scoreDrill(asStore(new FakeStore([incident('inc-ssh', {})])), s, 'd1');
    expect([none.shift_source, none.expected[0]!.outcome, none.passed]).toEqual(['none', 'late', false]);
  });

  it('purges one drill and leaves the purge in the audit trail', async () => {
    const store = new FakeStore([...incidents]);
    const removed = await purgeDrill(asStore(store), 'd1', 'cli:lan', new Date(TRIGGER));
    expect(removed.incidents).toBe(4);
    expect(store.incidents.map((i) => i.id)).toEqual(['inc-elsewhere']);
    expect(store.audit).toEqual([expect.objectContaining({ action: 'drill.purge', actor: 'cli:lan', after: { drill: 'd1', alerts: 0, incidents: 4 } })]);
  });
});
