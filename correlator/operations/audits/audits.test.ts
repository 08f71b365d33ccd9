import { describe, expect, it } from 'vitest';
import type { Envelope } from '../../../shared/envelope.ts';
import type { NormalizedEvent } from '../../../shared/event.ts';
import { createLogger } from '../../../shared/log.ts';
import { DEFAULT_POLICY } from '../../incidents/grouping.ts';
import { IncidentSink } from '../../sinks/incidents.ts';
import { MemoryTelemetryLedger, observeEvent, observeHeartbeat } from '../telemetry.ts';
import { operationsHarness } from '../test-support.ts';
import { coverageAudit, type RegisteredServer } from './coverage.ts';
import { AUDIT_RULES, applyFindings, summariseFindings, type AuditFinding } from './findings.ts';
import { ruleHealthAudit } from './rule-health.ts';
import { signatureAgeAudit } from './signature-age.ts';
import { silentSourcesAudit } from './silent-sources.ts';

const MIN = 60_000;
const T0 = Date.parse('2026-11-20T00:00:00.000Z');
const at = (minutes: number) => new Date(T0 + minutes * MIN);
const servers: RegisteredServer[] = [
  { host: 'portal.tinh.gov.vn', unit: 'VP UBND', securityLevel: 3 },
  { host: 'ketoan.stc.tinh.gov.vn', unit: 'Sở Tài chính', securityLevel: 2 },
];
const aliases: Record<string, string> = { portal: 'portal.tinh.gov.vn', '10.10.1.10': 'portal.tinh.gov.vn' };

function env(over: Partial<Envelope>): Envelope {
  return {
    v: 1,
    kind: 'line',
    id: 'x',
    host: 'portal',
    source: '/var/log/kern.log',
    format: 'auto',
    received: at(0).toISOString(),
    line: '',
    ...over,
  } as Envelope;
}
function event(over: Record<string, unknown>): NormalizedEvent {
  return { '@timestamp': at(0).toISOString(), event: { kind: 'event', original: 'x' }, ...over } as NormalizedEvent;
}

describe('telemetry ledger', () => {
  it('records events by log type under the register name, learns which source carries which type, and counts its heartbeats', () => {
    const ledger = new MemoryTelemetryLedger(at(0), (h) => aliases[h] ?? h);
    observeEvent(ledger, env({ received: at(1).toISOString() }), event({ observer: { type: 'firewall' }, host: { name: 'portal' } }));
    observeEvent(
      ledger,
      env({ source: '/var/log/clamav/clamd.log', received: at(2).toISOString() }),
      event({ event: { kind: 'alert', category: ['malware'], original: 'x' }, host: { name: 'portal' } }),
    );
    observeEvent(ledger, env({ received: at(3).toISOString(), drill: 'd1' }), event({ observer: { type: 'firewall' } }));
    observeEvent(ledger, env({ received: at(3).toISOString() }), event({ event: { kind: 'pipeline_error', original: 'x' } }));
    expect(ledger.lastSeen('portal.tinh.gov.vn', 'firewall')).toEqual(at(1));
    expect(ledger.lastSeen('10.10.1.10', 'antivirus')).toEqual(at(2));
    // A quiet antivirus log: its heartbeat keeps the host covered.
    observeHeartbeat(
      ledger,
      env({
        kind: 'heartbeat',
        source: '/var/log/clamav/clamd.log',
        received: at(30).toISOString(),
        heartbeat: { lines: 0, dropped: 0, lastLineAt: at(2).toISOString() },
      }),
    );
    expect(ledger.lastSeen('portal.tinh.gov.vn', 'antivirus')).toEqual(at(30));
    expect(ledger.lastSeen('portal.tinh.gov.vn', 'firewall')).toEqual(at(1));
    expect(ledger.sources()).toEqual([
      expect.objectContaining({ host: 'portal', source: '/var/log/clamav/clamd.log', logType: 'antivirus', lastLineAt: at(2).toISOString() }),
    ]);
  });

  it('takes a successful signature update at its event time, never a failed one', () => {
    const ledger = new MemoryTelemetryLedger(at(0));
    const av = (action: string, outcome: string, ts: number) =>
      event({
        '@timestamp': at(ts).toISOString(),
        observer: { type: 'antivirus' },
        event: { kind: 'event', action, outcome, original: 'x' },
        host: { name: 'h1' },
      });
    observeEvent(ledger, env({ host: 'h1' }), av('signature-updated', 'success', 5));
    observeEvent(ledger, env({ host: 'h1' }), av('signature-update-failed', 'failure', 9));
    expect(ledger.lastSignatureUpdate('h1')).toEqual(at(5));
  });
});

describe('layer-3 audits', () => {
  it('coverage: a Windows server is covered for both log types from its winlog heartbeat, before any event', () => {
    const ledger = new MemoryTelemetryLedger(at(0), (h) => (h === 'KETOAN-01' ? 'ketoan.stc.tinh.gov.vn' : h));
    // Drill heartbeats and heartbeats of other sources prove nothing about Windows coverage.
    observeHeartbeat(
      ledger,
      env({
        kind: 'heartbeat',
        host: 'KETOAN-01',
        source: 'winlog',
        drill: 'd1',
        received: at(10).toISOString(),
        heartbeat: { lines: 0, dropped: 0, lastLineAt: null, logTypes: ['antivirus', 'firewall'] },
      }),
    );
    observeHeartbeat(
      ledger,
      env({ kind: 'heartbeat', host: 'KETOAN-01', source: 'app-log', received: at(10).toISOString(), heartbeat: { lines: 0, dropped: 0, lastLineAt: null } }),
    );
    expect(
      coverageAudit(servers, ledger, at(70), 60 * MIN)
        .filter((f) => f.host === 'ketoan.stc.tinh.gov.vn')
        .map((f) => f.group['log.type']),
    ).toEqual(['firewall', 'antivirus']);
    observeHeartbeat(
      ledger,
      env({
        kind: 'heartbeat',
        host: 'KETOAN-01',
        source: 'winlog',
        received: at(65).toISOString(),
        heartbeat: { lines: 0, dropped: 0, lastLineAt: null, logTypes: ['antivirus', 'firewall'] },
      }),
    );
    expect(coverageAudit(servers, ledger, at(70), 60 * MIN).filter((f) => f.host === 'ketoan.stc.tinh.gov.vn')).toEqual([]);
    expect([ledger.lastSeen('ketoan.stc.tinh.gov.vn', 'antivirus'), ledger.lastSeen('ketoan.stc.tinh.gov.vn', 'firewall')]).toEqual([at(65), at(65)]);
    // Once the heartbeats stop, the server is a coverage gap again.
    expect(coverageAudit(servers, ledger, at(130), 60 * MIN).filter((f) => f.host === 'ketoan.stc.tinh.gov.vn').length).toBe(2);
  });

  it('coverage: a server missing either kind of telemetry past the window, not before', () => {
    const ledger = new MemoryTelemetryLedger(at(0));
    ledger.sawEvent('portal.tinh.gov.vn', 'firewall', at(10));
    ledger.sawEvent('portal.tinh.gov.vn', 'antivirus', at(10));
    ledger.sawEvent('ketoan.stc.tinh.gov.vn', 'firewall', at(12));
    expect(coverageAudit(servers, ledger, at(15), 15 * MIN)).toEqual([]);
    const gaps = coverageAudit(servers, ledger, at(16), 15 * MIN);
    expect(gaps.map((g) => g.group)).toEqual([{ 'host.name': 'ketoan.stc.tinh.gov.vn', 'log.type': 'antivirus' }]);
    expect(gaps[0]!.message).toMatch(/since observation began/);
    expect(coverageAudit(servers, ledger, at(26), 15 * MIN).map((g) => `${g.host}/${g.group['log.type']}`)).toEqual([
      'portal.tinh.gov.vn/firewall',
      'portal.tinh.gov.vn/antivirus',
      'ketoan.stc.tinh.gov.vn/antivirus',
    ]);
  });

  it('silent sources: lost heartbeat, no lines, dropped lines', () => {
    const ledger = new MemoryTelemetryLedger(at(0));
    const beat = (source: string, m: number, lastLine: number | null, dropped = 0) =>
      ledger.sawHeartbeat({
        host: 'portal.tinh.gov.vn',
        source,
        at: at(m),
        lines: 0,
        dropped,
        lastLineAt: lastLine === null ? null : at(lastLine).toISOString(),
      });
    beat('/var/log/ufw.log', 0, 0);
    beat('/var/log/ufw.log', 60, 59);
    beat('/var/log/clamav.log', 0, null);
    beat('/var/log/clamav.log', 61, null);
    beat('syslog-udp', 0, 0);
    beat('syslog-udp', 59, 59, 40);
    const limits = { heartbeatLostMs: 5 * MIN, silentAfterMs: 60 * MIN, dropWindowMs: 15 * MIN };
    const found = silentSourcesAudit(ledger, servers, at(62), limits);
    expect(found.map((f) => `${f.group['log.source']}:${f.group.problem}`)).toEqual(['/var/log/clamav.log:no-lines', 'syslog-udp:dropping']);
    expect(found[0]).toMatchObject({ unit: 'VP UBND', securityLevel: 3 });
    expect(silentSourcesAudit(ledger, servers, at(70), limits).map((f) => `${f.group['log.source']}:${f.group.problem}`)).toEqual([
      '/var/log/clamav.log:heartbeat-lost',
      '/var/log/ufw.log:heartbeat-lost',
      'syslog-udp:heartbeat-lost',
    ]);
  });

  it('summarises a run of silent sources as one finding listing its hosts; signature and rule findings stay one each', () => {
    const f = (host: string | null, unit: string | null, securityLevel?: number): AuditFinding => ({
      audit: 'silent-source',
      group: { 'host.name': host ?? '-', problem: 'no-lines' },
      host,
      unit,
      ...(securityLevel === undefined ? {} : { securityLevel }),
      message: `${host}: silent`,
    });
    const [one, ...rest] = summariseFindings('silent-source', [
      f('web-02', 'VP UBND', 2),
      f('web-01', 'Sở Tài chính', 4),
      f('web-01', 'Sở Tài chính', 4),
      f(null, null),
    ]);
    expect(rest).toEqual([]);
    expect(one).toMatchObject({ group: { 'canhgac.audit': 'silent-source' }, host: null, hosts: ['web-01', 'web-02'], unit: null, securityLevel: 4 });
    expect(one!.message.split('\n')).toHaveLength(4);
    expect(summariseFindings('silent-source', [])).toEqual([]);
    const sig = [
      { ...f('web-01', 'VP UBND'), audit: 'signature-age' as const },
      { ...f('web-02', 'VP UBND'), audit: 'signature-age' as const },
    ];
    expect(summariseFindings('signature-age', sig)).toEqual(sig);
  });

  it('signature age: old or never-updated signatures on servers whose antivirus speaks', () => {
    const ledger = new MemoryTelemetryLedger(at(0));
    const DAY = 24 * 60;
    ledger.sawEvent('portal.tinh.gov.vn', 'antivirus', at(4 * DAY));
    ledger.sawSignatureUpdate('portal.tinh.gov.vn', at(DAY));
    ledger.sawEvent('ketoan.stc.tinh.gov.vn', 'firewall', at(4 * DAY));
    expect(signatureAgeAudit(servers, ledger, at(4 * DAY), 3 * DAY * MIN)).toEqual([]);
    expect(signatureAgeAudit(servers, ledger, at(4 * DAY + 1), 3 * DAY * MIN).map((f) => f.host)).toEqual(['portal.tinh.gov.vn']);
    ledger.sawSignatureUpdate('portal.tinh.gov.vn', at(4 * DAY));
    expect(signatureAgeAudit(servers, ledger, at(4 * DAY + 1), 3 * DAY * MIN)).toEqual([]);
  });

  it('rule health: one finding per broken rule file, warnings left alone', () => {
    const found = ruleHealthAudit([
      { file: 'rules/layer1/a.yml', line: 4, col: 3, severity: 'error', message: "unknown modifier 'contians'" },
      { file: 'rules/layer1/a.yml', line: 9, col: 1, severity: 'error', message: 'condition names no selection' },
      { file: 'rules/layer2/b.yml', line: 2, col: 1, severity: 'warning', message: 'no tests' },
    ]);
    expect(found).toHaveLength(1);
    expect(found[0]).toMatchObject({
      group: { 'rule.file': 'rules/layer1/a.yml' },
      message: expect.stringContaining("2 error(s); first at line 4, column 3: unknown modifier 'contians'"),
    });
  });
});

describe('findings become layer-3 incidents', () => {
  it('opens one incident per audit run listing its hosts, records it, adds hosts found later, resolves it when every gap is closed', async () => {
    const h = await operationsHarness('2026-11-20T00:20:00.000Z');
    const sink = new IncidentSink(h.store, h.producer, h.trail.incidentsTopic, DEFAULT_POLICY, createLogger('sink-test'), h.clock.now);
    const ledger = new MemoryTelemetryLedger(at(0));
    ledger.sawEvent('portal.tinh.gov.vn', 'firewall', at(1));
    ledger.sawEvent('portal.tinh.gov.vn', 'antivirus', at(1));
    ledger.sawEvent('ketoan.stc.tinh.gov.vn', 'firewall', at(19));
    ledger.sawEvent('ketoan.stc.tinh.gov.vn', 'antivirus', at(19));
    const run = () => applyFindings(h.trail, sink, 'coverage', coverageAudit(servers, ledger, h.clock.now(), 15 * MIN));

    // Two gaps (firewall and antivirus of the portal): one incident, not two rows.
    const first = await run();
    expect(first.findings).toHaveLength(2);
    expect(first.opened).toHaveLength(1);
    const open = await h.store.searchIncidents({ rule: AUDIT_RULES.coverage.id });
    expect(open.incidents.map((i) => [i.layer, i.severity, i.unit, i.host])).toEqual([[3, 'high', 'VP UBND', ['portal.tinh.gov.vn']]]);
    expect((await h.store.searchAudit({ action: 'audit.coverage' })).total).toBe(1);
    expect(h.producer.changes(h.trail.incidentsTopic).map((c) => c.type)).toEqual(['created']);

    h.clock.advance(MIN);
    expect(await run()).toMatchObject({ opened: [], resolved: [] });
    expect((await h.store.searchIncidents({ rule: AUDIT_RULES.coverage.id })).total).toBe(1);

    // The accounting server falls silent later: the same incident now lists it too (an open incident's
    // hosts only grow, like any incident's; the unit stays the one it opened with).
    ledger.sawEvent('portal.tinh.gov.vn', 'firewall', h.clock.now());
    ledger.sawEvent('portal.tinh.gov.vn', 'antivirus', h.clock.now());
    h.clock.advance(16 * MIN);
    ledger.sawEvent('portal.tinh.gov.vn', 'firewall', h.clock.now());
    ledger.sawEvent('portal.tinh.gov.vn', 'antivirus', h.clock.now());
    const later = await run();
    expect(later).toMatchObject({ opened: [], resolved: [] });
    const grown = (await h.store.searchIncidents({ rule: AUDIT_RULES.coverage.id })).incidents;
    expect(grown.map((i) => [i.status, i.host, i.unit])).toEqual([['new', ['ketoan.stc.tinh.gov.vn', 'portal.tinh.gov.vn'], 'VP UBND']]);

    ledger.sawEvent('ketoan.stc.tinh.gov.vn', 'firewall', h.clock.now());
    ledger.sawEvent('ketoan.stc.tinh.gov.vn', 'antivirus', h.clock.now());
    h.clock.advance(MIN);
    const closed = await run();
    expect(closed.resolved).toEqual([grown[0]!.id]);
    const done = (await h.store.getIncident(grown[0]!.id))!;
    expect(done.timeline.at(-1)).toMatchObject({ actor: 'canhgac', action: 'resolve', note: 'coverage audit: no longer found' });
    expect((await h.store.searchAudit({ incident_id: done.id, action: 'resolve' })).total).toBe(1);
  });

  it('leaves hosts another instance owns alone', async () => {
    const h = await operationsHarness('2026-11-20T01:00:00.000Z');
    const sink = new IncidentSink(h.store, h.producer, h.trail.incidentsTopic, DEFAULT_POLICY, createLogger('sink-test'), h.clock.now);
    const ledger = new MemoryTelemetryLedger(at(0));
    const out = await applyFindings(
      h.trail,
      sink,
      'coverage',
      coverageAudit(servers, ledger, h.clock.now(), 15 * MIN),
      (host) => host === 'ketoan.stc.tinh.gov.vn',
    );
    expect(out.findings.map((f) => f.host)).toEqual(['ketoan.stc.tinh.gov.vn', 'ketoan.stc.tinh.gov.vn']);
    expect((await h.store.searchIncidents({ rule: AUDIT_RULES.coverage.id })).incidents.map((i) => i.host)).toEqual([['ketoan.stc.tinh.gov.vn']]);
  });
});
