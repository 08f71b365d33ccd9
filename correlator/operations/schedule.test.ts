import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../shared/log.ts';
import { readYamlFile, toData } from '../../shared/yaml-source.ts';
import { incidentFixture } from '../../shared/store/fixtures.ts';
import { DEFAULT_POLICY } from '../incidents/grouping.ts';
import { IncidentSink } from '../sinks/incidents.ts';
import { AUDIT_RULES } from './audits/findings.ts';
import { OperationsSectionSchema } from './config.ts';
import { OperationsSchedule, ScheduleError, type OperationsDeps } from './schedule.ts';
import { MemoryTelemetryLedger } from './telemetry.ts';
import { operationsHarness } from './test-support.ts';

async function scheduleHarness(config: Record<string, unknown> = {}) {
  const h = await operationsHarness('2026-11-20T02:00:00.000Z');
  const dir = mkdtempSync(join(tmpdir(), 'canhgac-sched-'));
  const cfg = OperationsSectionSchema.parse({ report: { dir: join(dir, 'reports') }, ...config });
  const deps: OperationsDeps = {
    trail: h.trail,
    sink: new IncidentSink(h.store, h.producer, h.trail.incidentsTopic, DEFAULT_POLICY, createLogger('sink-test'), h.clock.now),
    ledger: new MemoryTelemetryLedger(new Date('2026-11-20T00:00:00.000Z')),
    servers: () => [{ host: 'portal.tinh.gov.vn', unit: 'VP UBND', securityLevel: 3 }],
    ruleFindings: () => [{ file: 'rules/layer1/broken.yml', line: 3, col: 5, severity: 'error', message: 'bad' }],
    slowRules: () => [
      { id: 'wide-1', title: 'Wide list', file: 'rules/layer1/wide.yml', line: 1, overruns: 3, slowestMs: 180, disabledAt: '2026-11-20T01:59:00.000Z' },
    ],
    securityLevelOf: () => 3,
    listsDir: join(dir, 'lists'),
    timezone: 'Asia/Ho_Chi_Minh',
    config: cfg,
    ackDueMsByLevel: DEFAULT_POLICY.ackDueMsByLevel,
    reportDueMs: DEFAULT_POLICY.reportDueMs,
  };
  return { ...h, dir, deps, schedule: new OperationsSchedule(deps) };
}

describe('operations schedule', () => {
  it('runs the audits into layer-3 incidents, escalation with the per-layer deadline, the report into files', async () => {
    const s = await scheduleHarness({ escalation: { ackAfterByLayer: { 2: '45m' } } });
    const outcomes = await s.schedule.runAudits();
    expect(outcomes.map((o) => [o.audit, o.opened.length])).toEqual([
      ['coverage', 1],
      ['silent-source', 0],
      ['signature-age', 0],
      ['rule-health', 1],
      ['rule-speed', 1],
    ]);
    // Both coverage gaps of the run are one incident.
    expect(outcomes[0]!.findings).toHaveLength(2);
    expect((await s.store.searchIncidents({ layer: 3, rule: AUDIT_RULES['rule-health'].id })).total).toBe(1);
    const slow = await s.store.searchIncidents({ layer: 3, rule: AUDIT_RULES['rule-speed'].id });
    expect(slow.incidents.map((i) => [i.rule.title, i.group['rule.id']])).toEqual([['Detection rule too slow', 'wide-1']]);

    await s.store.upsertIncident(incidentFixture({ id: 'late', layer: 1, ack_due: '2026-11-20T01:00:00.000Z' }));
    expect((await s.schedule.runEscalation()).escalated.map((i) => i.id)).toEqual(['late']);
    expect(await s.store.getIncident('late')).toMatchObject({ layer: 2, ack_due: '2026-11-20T02:45:00.000Z' });

    s.clock.advance(60_000);
    const { files, report } = await s.schedule.runReport();
    expect(files.map((f) => f.slice(-4))).toEqual(['json', '.txt', 'html']);
    expect(JSON.parse(readFileSync(files[0]!, 'utf8'))).toEqual(report);
    expect(report.audits.coverage.open_now).toBe(1);
    expect(report.escalations.automatic).toBe(1);
  });

  it('refuses a bad cron expression in the config, and at start when built by hand, naming the job', async () => {
    const bad = OperationsSectionSchema.safeParse({ feeds: [{ name: 'ncsc', source: '/x', schedule: '61 * * * * *' }] });
    expect(bad.success).toBe(false);
    expect(bad.error!.issues[0]).toMatchObject({ path: ['feeds', 0, 'schedule'], message: expect.stringContaining("'61 * * * * *' is not a cron expression") });
    const s = await scheduleHarness({ feeds: [{ name: 'ncsc', source: '/nonexistent' }] });
    expect(s.schedule.jobs().map((j) => j.name)).toEqual(['escalation', 'audits', 'report', 'feed:ncsc']);
    s.deps.config.feeds[0]!.schedule = '61 * * * * *';
    expect(() => s.schedule.start()).toThrow(ScheduleError);
    expect(() => s.schedule.start()).toThrow(/'feed:ncsc': '61 \* \* \* \* \*'/);
    await s.schedule.stop();
  });

  it('skips a tick while the previous run goes on, and survives a failing run', async () => {
    const s = await scheduleHarness();
    let release!: () => void;
    const slow = { name: 'slow', cron: '* * * * * *', run: () => new Promise<void>((r) => (release = r)) };
    const first = s.schedule.tick(slow);
    expect(await s.schedule.tick(slow)).toBe(false);
    release();
    expect(await first).toBe(true);
    expect(await s.schedule.tick({ name: 'boom', cron: '* * * * * *', run: async () => Promise.reject(new Error('store down')) })).toBe(true);
  });

  it('fires the jobs on their cron schedule', async () => {
    const s = await scheduleHarness({ escalation: { schedule: '* * * * * *' }, audits: { schedule: '0 0 1 1 *' }, report: { schedule: '0 0 1 1 *' } });
    await s.store.upsertIncident(incidentFixture({ id: 'cron-late', layer: 2, ack_due: '2026-11-20T01:00:00.000Z' }));
    s.schedule.start();
    try {
      await expect.poll(async () => (await s.store.getIncident('cron-late'))!.layer, { timeout: 3000, interval: 100 }).toBe(3);
    } finally {
      await s.schedule.stop();
    }
    expect(existsSync(join(s.dir, 'reports'))).toBe(false);
  });
});

describe('operations.example.yml', () => {
  it('is a valid operations section', () => {
    const { source } = readYamlFile(join(import.meta.dirname, 'operations.example.yml'));
    const data = toData(source) as { data: { operations: unknown } };
    const parsed = OperationsSectionSchema.safeParse(data.data.operations);
    expect(parsed.success, JSON.stringify(parsed.error?.issues)).toBe(true);
    expect(parsed.data!.escalation.ackAfterByLayer[3]).toBe(4 * 3600_000);
    expect(parsed.data!.national!.push!.signing!.header).toBe('X-Canhgac-Signature');
  });
});
