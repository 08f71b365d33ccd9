import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditEntry } from '../incident.ts';
import { alertFixture, incidentFixture } from './fixtures.ts';
import { IncidentNotFoundError, type IncidentStore } from './types.ts';

/**
 * The IncidentStore contract: one suite that every backend runs (elasticsearch.int.test.ts,
 * embedded.test.ts), so that the console, the correlator and the drills see the same behaviour whichever
 * store sits behind them. `open` gives a fresh, empty store; `close` removes what it created.
 */
export function incidentStoreContract(backend: string, open: () => Promise<{ store: IncidentStore; close: () => Promise<void> }>): void {
  describe(`IncidentStore contract on ${backend}`, () => {
    let store: IncidentStore;
    let close: () => Promise<void> = async () => undefined;

    beforeAll(async () => {
      ({ store, close } = await open());
      await store.init();
    });
    afterAll(async () => {
      await close();
    });

    it('init is repeatable and the store answers a ping', async () => {
      await store.init();
      expect(await store.ping()).toBe(true);
    });

    it('writes alerts by deterministic id: twice the same input, the same documents', async () => {
      const inc = incidentFixture({ id: 'dedup-1', first_seen: '2026-10-31T23:59:59.000Z', last_seen: '2026-10-31T23:59:59.000Z' });
      const alerts = [alertFixture(inc, 0), alertFixture(inc, 1), alertFixture(inc, 2)];
      expect(await store.writeAlerts(alerts, { refresh: true })).toEqual({ written: 3 });
      await store.writeAlerts(alerts, { refresh: true });
      const got = await store.alertsOf('dedup-1');
      expect(got.map((a) => a.id)).toEqual(alerts.map((a) => a.id));
      expect(got[1]).toEqual(alerts[1]);
      expect(await store.alertsOf('dedup-1', { size: 2 })).toHaveLength(2);
      expect(await store.writeAlerts([])).toEqual({ written: 0 });
    });

    it('keeps an alert whose event carries a malformed ip instead of rejecting it', async () => {
      const inc = incidentFixture({ id: 'malformed-1' });
      const bad = alertFixture(inc, 1, { events: [{ event: { original: 'x' }, source: { ip: 'not-an-ip', port: 'x' } }] });
      await store.writeAlerts([bad], { refresh: true });
      expect((await store.alertsOf('malformed-1'))[0]!.events[0]).toMatchObject({ source: { ip: 'not-an-ip' } });
    });

    it('upsert creates at version 1, merges the correlator view and keeps what responders own', async () => {
      const inc = incidentFixture({ id: 'merge-1' });
      const created = await store.upsertIncident(inc);
      expect(created).toMatchObject({ created: true, changed: true });
      expect(created.incident.version).toBe(1);
      await store.updateIncident('merge-1', (c) => ({ ...c, status: 'acknowledged', assignee: 'lan', layer: 3 }));
      const again = await store.upsertIncident(inc);
      expect(again.changed).toBe(false);
      const later = await store.upsertIncident({
        ...inc,
        applied: { 'soc.raw/0': 17 },
        alert_count: 5,
        last_seen: '2026-11-20T04:00:00.000Z',
        host: ['web-02'],
        severity: 'critical',
      });
      expect(later.incident).toMatchObject({ status: 'acknowledged', assignee: 'lan', layer: 3, alert_count: 5, severity: 'critical', version: 3 });
      expect(later.incident.host).toEqual(['web-01', 'web-02']);
      expect(later.incident.last_seen).toBe('2026-11-20T04:00:00.000Z');
      const older = await store.upsertIncident({ ...inc, applied: { 'soc.raw/0': 9, 'soc.raw/1': 4 } });
      expect(older.incident.applied).toEqual({ 'soc.raw/0': 17, 'soc.raw/1': 4 });
    });

    it('upserts many incidents in one call: creates, merges and leaves alone, results in input order', async () => {
      await store.upsertIncident(incidentFixture({ id: 'many-old', alert_count: 2 }));
      await store.upsertIncident(incidentFixture({ id: 'many-same' }));
      const results = await store.upsertIncidents([
        incidentFixture({ id: 'many-new' }),
        incidentFixture({ id: 'many-old', alert_count: 7 }),
        incidentFixture({ id: 'many-same' }),
      ]);
      expect(results.map((r) => [r.incident.id, r.created, r.changed, r.incident.version, r.incident.alert_count])).toEqual([
        ['many-new', true, true, 1, 1],
        ['many-old', false, true, 2, 7],
        ['many-same', false, false, 1, 1],
      ]);
      expect((await store.getIncident('many-old'))!.alert_count).toBe(7);
      await expect(store.upsertIncidents([incidentFixture({ id: 'twice' }), incidentFixture({ id: 'twice' })])).rejects.toThrow(/twice/);
    });

    it('concurrent correlator bumps and responder actions never clobber each other', async () => {
      const inc = incidentFixture({ id: 'race-1' });
      await store.upsertIncident(inc);
      const bumps = Array.from({ length: 12 }, (_, i) =>
        store.upsertIncident({ ...inc, alert_count: i + 2, last_seen: new Date(Date.parse(inc.last_seen) + (i + 1) * 60_000).toISOString() }),
      );
      const comments = Array.from({ length: 12 }, (_, i) =>
        store.updateIncident('race-1', (c) => ({
          ...c,
          timeline: [...c.timeline, { at: new Date().toISOString(), actor: `u${i}`, action: 'comment', note: `n${i}` }],
        })),
      );
      const ack = store.updateIncident('race-1', (c) => ({ ...c, status: 'acknowledged' }));
      await Promise.all([...bumps, ...comments, ack]);
      const final = (await store.getIncident('race-1'))!;
      expect(final.alert_count).toBe(13);
      expect(final.status).toBe('acknowledged');
      expect(final.timeline.map((t) => t.note).sort()).toEqual(Array.from({ length: 12 }, (_, i) => `n${i}`).sort());
      // created at 1, then one version per change that changed something: 12 bumps + 12 comments + 1 ack at most.
      expect(final.version).toBeGreaterThanOrEqual(1 + 12 + 1);
      expect(final.version).toBeLessThanOrEqual(1 + 12 + 12 + 1);
    });

    it('updateIncident bumps the version, leaves the incident when mutate returns null, names a missing id', async () => {
      const inc = incidentFixture({ id: 'upd-1' });
      await store.upsertIncident(inc);
      const r = await store.updateIncident('upd-1', (c) => ({ ...c, assignee: 'minh' }), { now: () => new Date('2026-11-21T00:00:00Z') });
      expect(r.before.version).toBe(1);
      expect(r.after).toMatchObject({ version: 2, assignee: 'minh', updated_at: '2026-11-21T00:00:00.000Z' });
      const none = await store.updateIncident('upd-1', () => null);
      expect(none).toMatchObject({ changed: false, after: { version: 2 } });
      await expect(store.updateIncident('nope', (c) => c)).rejects.toBeInstanceOf(IncidentNotFoundError);
      expect(await store.getIncident('nope')).toBeNull();
    });

    it('searches by every filter with paging', async () => {
      const base = { first_seen: '2026-09-10T00:00:00.000Z', last_seen: '2026-09-10T01:00:00.000Z' };
      const incs = [
        incidentFixture({ ...base, id: 's-1', unit: 'so-yte', host: ['db-01'], layer: 1, severity: 'low', status: 'new' }),
        incidentFixture({ ...base, id: 's-2', unit: 'so-yte', host: ['db-02'], layer: 2, severity: 'high', status: 'acknowledged', drill: 'drill-42' }),
        incidentFixture({
          ...base,
          id: 's-3',
          unit: 'so-gtvt',
          host: ['web-09'],
          layer: 2,
          severity: 'critical',
          status: 'resolved',
          rule: { id: 'r-av', title: 'Malware outbreak across units', level: 'critical', layer: 2 },
          first_seen: '2026-09-12T00:00:00.000Z',
          last_seen: '2026-09-12T02:00:00.000Z',
        }),
      ];
      for (const i of incs) await store.upsertIncident(i, { refresh: true });
      const ids = async (f: Parameters<typeof store.searchIncidents>[0]) =>
        (await store.searchIncidents({ from: '2026-09-01T00:00:00Z', to: '2026-09-30T00:00:00Z', ...f })).incidents.map((i) => i.id).sort();
      expect(await ids({})).toEqual(['s-1', 's-2', 's-3']);
      expect(await ids({ status: ['new', 'acknowledged'] })).toEqual(['s-1', 's-2']);
      expect(await ids({ layer: '1' as never })).toEqual(['s-1']);
      expect(await ids({ severity: 'critical' })).toEqual(['s-3']);
      expect(await ids({ unit: 'so-yte' })).toEqual(['s-1', 's-2']);
      expect(await ids({ host: 'db-02' })).toEqual(['s-2']);
      expect(await ids({ rule: 'r-av' })).toEqual(['s-3']);
      expect(await ids({ rule: 'r-ssh-brute', group_key: 'source.ip=203.0.113.7', drill: 'none' })).toEqual(['s-1']);
      expect(await ids({ drill: 'drill-42' })).toEqual(['s-2']);
      expect(await ids({ drill: 'none' })).toEqual(['s-1', 's-3']);
      expect(await ids({ drill: 'any' })).toEqual(['s-2']);
      expect(await ids({ q: 'outbreak' })).toEqual(['s-3']);
      expect(await ids({ from: '2026-09-11T00:00:00Z' })).toEqual(['s-3']);
      expect(await ids({ to: '2026-09-11T00:00:00Z' })).toEqual(['s-1', 's-2']);
      const p1 = await store.searchIncidents({ from: '2026-09-01T00:00:00Z', to: '2026-09-30T00:00:00Z', size: 2, page: 1 });
      const p2 = await store.searchIncidents({ from: '2026-09-01T00:00:00Z', to: '2026-09-30T00:00:00Z', size: 2, page: 2 });
      expect(p1.total).toBe(3);
      expect(p1.incidents[0]!.id).toBe('s-3');
      expect([...p1.incidents, ...p2.incidents].map((i) => i.id).sort()).toEqual(['s-1', 's-2', 's-3']);
      await expect(store.searchIncidents({ page: 1000, size: 500 })).rejects.toThrow(/page/);
    });

    it('finds the latest incident of a rule, group key and drill without waiting for a refresh', async () => {
      const base = { rule: { id: 'r-latest', title: 'Latest', level: 'low' as const, layer: 1 }, group_key: 'host=db-09' };
      await store.upsertIncident(incidentFixture({ ...base, id: 'lt-old', first_seen: '2026-07-01T00:00:00.000Z', last_seen: '2026-07-01T00:10:00.000Z' }));
      await store.upsertIncident(incidentFixture({ ...base, id: 'lt-new', first_seen: '2026-07-02T00:00:00.000Z', last_seen: '2026-07-02T00:10:00.000Z' }));
      await store.upsertIncident(
        incidentFixture({ ...base, id: 'lt-drill', drill: 'd-9', first_seen: '2026-07-03T00:00:00.000Z', last_seen: '2026-07-03T00:10:00.000Z' }),
      );
      const latest = await store.latestIncidents([
        { ruleId: 'r-latest', groupKey: 'host=db-09', drill: null },
        { ruleId: 'r-latest', groupKey: 'host=db-09', drill: 'd-9' },
        { ruleId: 'r-latest', groupKey: 'host=other', drill: null },
      ]);
      expect(latest.map((i) => i?.id ?? null)).toEqual(['lt-new', 'lt-drill', null]);
      expect(await store.latestIncidents([])).toEqual([]);
    });

    it('appends audit entries once per id and finds them', async () => {
      const entry: AuditEntry = {
        id: 'audit-1',
        '@timestamp': '2026-11-20T05:00:00.000Z',
        actor: 'lan',
        action: 'acknowledge',
        incident_id: 'merge-1',
        source_ip: '::ffff:127.0.0.1',
        before: { status: 'new' },
        after: { status: 'acknowledged' },
      };
      expect(await store.appendAudit(entry, { refresh: true })).toEqual({ created: true });
      expect(await store.appendAudit({ ...entry, actor: 'mallory' }, { refresh: true })).toEqual({ created: false });
      const page = await store.searchAudit({ incident_id: 'merge-1' });
      expect(page.total).toBe(1);
      expect(page.entries[0]).toMatchObject({ actor: 'lan', before: { status: 'new' } });
    });

    it('counts alerts per minute with empty buckets', async () => {
      const inc = incidentFixture({ id: 'histo-1', first_seen: '2026-08-01T10:00:00.000Z', last_seen: '2026-08-01T10:00:00.000Z' });
      await store.writeAlerts([alertFixture(inc, 0), alertFixture(inc, 10), alertFixture(inc, 130)], { refresh: true });
      const buckets = await store.alertHistogram({ from: '2026-08-01T10:00:00.000Z', to: '2026-08-01T10:04:00.000Z', intervalMinutes: 1 });
      expect(buckets).toEqual([
        { at: '2026-08-01T10:00:00.000Z', count: 2 },
        { at: '2026-08-01T10:01:00.000Z', count: 0 },
        { at: '2026-08-01T10:02:00.000Z', count: 1 },
        { at: '2026-08-01T10:03:00.000Z', count: 0 },
      ]);
    });

    it('purges one drill and nothing else', async () => {
      const drill = incidentFixture({ id: 'purge-d', drill: 'drill-purge' });
      const real = incidentFixture({ id: 'purge-r' });
      await store.upsertIncident(drill);
      await store.upsertIncident(real);
      await store.writeAlerts([alertFixture(drill, 0), alertFixture(drill, 1), alertFixture(real, 0)], { refresh: true });
      expect(await store.purgeDrill('drill-purge')).toEqual({ alerts: 2, incidents: 1 });
      expect(await store.getIncident('purge-d')).toBeNull();
      expect(await store.getIncident('purge-r')).not.toBeNull();
      expect(await store.alertsOf('purge-r')).toHaveLength(1);
      expect(await store.alertsOf('purge-d')).toHaveLength(0);
      expect((await store.searchIncidents({ drill: 'drill-purge' })).total).toBe(0);
      await expect(store.purgeDrill('none')).rejects.toThrow(/not a drill/);
    });

    it('free text: every term must match, whole words or whole values, any case; phrases, prefixes and exclusions', async () => {
      const base = { first_seen: '2026-06-10T00:00:00.000Z', last_seen: '2026-06-10T01:00:00.000Z' };
      await store.upsertIncident(
        incidentFixture({
          ...base,
          id: 'q-1',
          host: ['mail-gw'],
          rule: { id: 'r-q-ssh', title: 'SSH brute force against a shared server', level: 'high', layer: 2 },
        }),
        { refresh: true },
      );
      await store.upsertIncident(
        incidentFixture({
          ...base,
          id: 'q-2',
          host: ['web-77'],
          rule: { id: 'r-q-av', title: 'Malware found on a workstation', level: 'high', layer: 2 },
          runbook: 'Isolate the workstation and collect the sample.',
        }),
        { refresh: true },
      );
      await store.updateIncident(
        'q-2',
        (c) => ({
          ...c,
          assignee: 'thanh',
          timeline: [...c.timeline, { at: '2026-06-10T02:00:00.000Z', actor: 'thanh', action: 'comment', note: 'Quarantined by ESET' }],
        }),
        { refresh: true },
      );
      const ids = async (q: string) =>
        (await store.searchIncidents({ from: '2026-06-01T00:00:00Z', to: '2026-06-30T00:00:00Z', q })).incidents.map((i) => i.id).sort();
      expect(await ids('brute')).toEqual(['q-1']);
      expect(await ids('BRUTE Force')).toEqual(['q-1']);
      expect(await ids('brute malware')).toEqual([]);
      expect(await ids('brut*')).toEqual(['q-1']);
      expect(await ids('bru')).toEqual([]);
      expect(await ids('"force against"')).toEqual(['q-1']);
      expect(await ids('"against force"')).toEqual([]);
      expect(await ids('web-77')).toEqual(['q-2']);
      expect(await ids('q-1')).toEqual(['q-1']);
      expect(await ids('r-q-av')).toEqual(['q-2']);
      expect(await ids('thanh')).toEqual(['q-2']);
      expect(await ids('quarantined')).toEqual(['q-2']);
      expect(await ids('isolate sample')).toEqual(['q-2']);
      expect(await ids('so-tttt -malware')).toEqual(['q-1']);
      expect(await ids('(brute) OR | + ~ malware')).toEqual([]);
    });

    it('finds audit entries by actor, action, incident and time, newest first, with paging', async () => {
      const at = (m: number) => new Date(Date.parse('2026-05-01T00:00:00.000Z') + m * 60_000).toISOString();
      for (let m = 0; m < 5; m++) {
        await store.appendAudit(
          {
            id: `af-${m}`,
            '@timestamp': at(m),
            actor: m % 2 ? 'hoa' : 'binh',
            action: m < 3 ? 'assign' : 'resolve',
            incident_id: `af-inc-${m % 2}`,
            source_ip: '10.0.0.1',
          },
          // One refresh after the last makes all five searchable; one per entry only costs time.
          { refresh: m === 4 },
        );
      }
      const ids = async (f: Parameters<IncidentStore['searchAudit']>[0]) =>
        (await store.searchAudit({ from: at(0), to: at(4), ...f })).entries.map((e) => e.id);
      expect(await ids({})).toEqual(['af-4', 'af-3', 'af-2', 'af-1', 'af-0']);
      expect(await ids({ actor: 'hoa' })).toEqual(['af-3', 'af-1']);
      expect(await ids({ action: 'resolve' })).toEqual(['af-4', 'af-3']);
      expect(await ids({ incident_id: 'af-inc-0' })).toEqual(['af-4', 'af-2', 'af-0']);
      expect(await ids({ from: at(3) })).toEqual(['af-4', 'af-3']);
      const page2 = await store.searchAudit({ from: at(0), to: at(4), size: 2, page: 2 });
      expect(page2.total).toBe(5);
      expect(page2.entries.map((e) => e.id)).toEqual(['af-2', 'af-1']);
    });
  });
}
