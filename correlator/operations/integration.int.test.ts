import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KafkaBus } from '../../shared/bus/kafka.ts';
import type { BusProducer } from '../../shared/bus/types.ts';
import { IncidentChangeSchema } from '../../shared/incident.ts';
import { createLogger } from '../../shared/log.ts';
import { ElasticsearchIncidentStore } from '../../shared/store/elasticsearch.ts';
import { incidentFixture } from '../../shared/store/fixtures.ts';
import { topicNames } from '../../shared/topics.ts';
import { kafkaBrokers, testElasticsearch, testKafka, uniqueName } from '../../test/support/services.ts';
import { DEFAULT_POLICY } from '../incidents/grouping.ts';
import { IncidentSink } from '../sinks/incidents.ts';
import { coverageAudit } from './audits/coverage.ts';
import { AUDIT_RULES, applyFindings } from './audits/findings.ts';
import { NationalSchema } from './config.ts';
import { escalateOverdue } from './escalation.ts';
import { NationalExporter } from './national/export.ts';
import { BundleSchema } from './national/stix-schema.ts';
import { collectReport } from './report.ts';
import { MemoryTelemetryLedger } from './telemetry.ts';
import { ManualClock } from './test-support.ts';
import type { Trail } from './trail.ts';

const MIN = 60_000;

/** Everything a topic holds, read from the beginning with a throwaway consumer group. */
async function readTopic(topic: string, expected: number): Promise<{ key: string; value: string }[]> {
  const consumer = testKafka().consumer({ groupId: uniqueName('reader') });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  const got: { key: string; value: string }[] = [];
  await consumer.run({ eachMessage: async ({ message }) => void got.push({ key: message.key!.toString(), value: message.value!.toString() }) });
  try {
    await expect.poll(() => got.length, { timeout: 15_000 }).toBeGreaterThanOrEqual(expected);
    return got;
  } finally {
    await consumer.disconnect();
  }
}

describe('operations on real Elasticsearch and Kafka', () => {
  const prefix = uniqueName('ops');
  const client = testElasticsearch();
  const store = new ElasticsearchIncidentStore({ client, indexPrefix: prefix });
  const topics = topicNames(`${prefix}.`);
  const log = createLogger('ops-integration');
  const bus = new KafkaBus({ brokers: kafkaBrokers(), clientId: 'ops-test', topicPrefix: `${prefix}.`, ssl: false }, log);
  const clock = new ManualClock(Date.parse('2026-11-20T03:00:00.000Z'));
  let producer: BusProducer;
  let trail: Trail;
  const refresh = () => client.indices.refresh({ index: `${prefix}-*` });

  beforeAll(async () => {
    await store.init();
    await bus.ensureTopics([
      { topic: topics.incidents, partitions: 1 },
      { topic: topics.national, partitions: 1 },
    ]);
    producer = await bus.producer();
    trail = { store, producer, incidentsTopic: topics.incidents, now: clock.now, log };
  });
  afterAll(async () => {
    await producer.close();
    await bus.close();
    await client.indices.delete({ index: `${prefix}-*`, ignore_unavailable: true, allow_no_indices: true });
    for (const k of ['alerts', 'incidents', 'audit']) await client.indices.deleteIndexTemplate({ name: `${prefix}-${k}` }).catch(() => undefined);
    for (const k of ['settings', 'alerts-mappings', 'incidents-mappings', 'audit-mappings'])
      await client.cluster.deleteComponentTemplate({ name: `${prefix}-${k}` }).catch(() => undefined);
    await client.close();
  });

  it('escalates, exports (never a drill), opens and resolves audit incidents, and reports them', async () => {
    await store.upsertIncident(
      incidentFixture({ id: `${prefix}-late`, layer: 3, severity: 'high', unit: 'VP UBND', share_national: false, ack_due: '2026-11-20T02:30:00.000Z' }),
      { refresh: true },
    );
    await store.upsertIncident(
      incidentFixture({ id: `${prefix}-drill`, layer: 2, share_national: true, drill: 'd-int', ack_due: '2026-11-20T09:00:00.000Z' }),
      { refresh: true },
    );

    const run = await escalateOverdue(trail, { ackDueMsByLevel: DEFAULT_POLICY.ackDueMsByLevel, reportDueMs: 5 * 24 * 60 * MIN, securityLevelOf: () => 2 });
    expect(run.escalated.map((i) => i.id)).toEqual([`${prefix}-late`]);
    const late = (await store.getIncident(`${prefix}-late`))!;
    expect(late).toMatchObject({ layer: 4, report_due: '2026-11-25T03:00:00.000Z', ack_due: '2026-11-20T03:30:00.000Z' });
    await refresh();
    expect((await store.searchAudit({ incident_id: `${prefix}-late`, action: 'escalate' })).entries[0]).toMatchObject({
      actor: 'canhgac',
      before: { layer: 3 },
      after: { layer: 4 },
    });

    // Layer 4 qualifies for the national centre; the drill does not, though its rule shares.
    const exporter = new NationalExporter({
      trail,
      nationalTopic: topics.national,
      config: NationalSchema.parse({ identity: { name: 'Tỉnh Tích Hợp' } }),
      securityLevelOf: () => 2,
      reportDueMs: 5 * 24 * 60 * MIN,
      push: null,
    });
    await refresh();
    expect(await exporter.exportPending()).toEqual({ exported: 1, failed: 0 });
    const national = await readTopic(topics.national, 1);
    expect(national.map((m) => m.key)).toEqual([`${prefix}-late`]);
    expect(BundleSchema.safeParse(JSON.parse(national[0]!.value)).success).toBe(true);

    const sink = new IncidentSink(store, producer, topics.incidents, DEFAULT_POLICY, log, clock.now);
    const ledger = new MemoryTelemetryLedger(new Date('2026-11-20T02:00:00.000Z'));
    const servers = [{ host: 'dvc.tinh.gov.vn', unit: 'TT PVHCC', securityLevel: 3 }];
    ledger.sawEvent('dvc.tinh.gov.vn', 'firewall', clock.now());
    const opened = await applyFindings(trail, sink, 'coverage', coverageAudit(servers, ledger, clock.now(), 15 * MIN));
    expect(opened.opened).toHaveLength(1);
    await refresh();
    const gap = (await store.searchIncidents({ rule: AUDIT_RULES.coverage.id })).incidents;
    expect(gap.map((i) => [i.layer, i.severity, i.unit, i.host, i.status])).toEqual([[3, 'high', 'TT PVHCC', ['dvc.tinh.gov.vn'], 'new']]);

    clock.advance(MIN);
    ledger.sawEvent('dvc.tinh.gov.vn', 'antivirus', clock.now());
    const back = await applyFindings(trail, sink, 'coverage', coverageAudit(servers, ledger, clock.now(), 15 * MIN));
    expect(back.resolved).toEqual([gap[0]!.id]);

    const changes = (await readTopic(topics.incidents, 4)).map((m) => IncidentChangeSchema.parse(JSON.parse(m.value)));
    expect(changes.map((c) => [c.incident.id === `${prefix}-late` ? 'late' : c.incident.rule.id, c.type, c.incident.layer, c.incident.status])).toEqual([
      ['late', 'updated', 4, 'new'],
      ['late', 'updated', 4, 'new'],
      [AUDIT_RULES.coverage.id, 'created', 3, 'new'],
      [AUDIT_RULES.coverage.id, 'updated', 3, 'resolved'],
    ]);

    clock.advance(MIN);
    await refresh();
    const report = await collectReport(store, { from: new Date('2026-11-20T00:00:00.000Z'), to: clock.now() }, clock.now(), 2 * 24 * 60 * MIN);
    expect(report.escalations).toMatchObject({ total: 1, automatic: 1, to_layer: { 4: 1 } });
    expect(report.national.exported).toBe(1);
    expect(report.audits.coverage).toMatchObject({ opened: 1, open_now: 0 });
    expect(report.drills).toEqual([{ drill: 'd-int', incidents: 1 }]);
  });
});
