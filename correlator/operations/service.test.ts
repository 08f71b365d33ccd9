import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MemoryBus } from '../../shared/bus/memory.ts';
import { createLogger } from '../../shared/log.ts';
import { EmbeddedIncidentStore } from '../../shared/store/embedded.ts';
import { incidentFixture } from '../../shared/store/fixtures.ts';
import { topicNames } from '../../shared/topics.ts';
import { AssetRegister } from '../detection/assets.ts';
import { DEFAULT_POLICY } from '../incidents/grouping.ts';
import { IncidentSink } from '../sinks/incidents.ts';
import { OperationsSectionSchema } from './config.ts';
import { canonicalHost, startOperations } from './service.ts';
import { MemoryTelemetryLedger } from './telemetry.ts';

describe('startOperations', () => {
  it('follows soc.incidents for the national export, exports a critical incident on a level-3 server, and stops cleanly', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'canhgac-opsvc-'));
    const store = new EmbeddedIncidentStore(join(dir, 'data'));
    await store.init();
    const bus = new MemoryBus();
    const topics = topicNames('svc.');
    await bus.ensureTopics([{ topic: topics.incidents, partitions: 1 }]);
    const producer = await bus.producer();
    const log = createLogger('opsvc-test');
    const register = new AssetRegister([
      { host: 'portal.tinh.gov.vn', aliases: ['portal', '10.10.1.10'], unit: 'VP UBND', security_level: 3, owner: { name: 'An' } },
    ]);
    const never = '0 0 1 1 *';
    const running = await startOperations({
      config: OperationsSectionSchema.parse({
        escalation: { schedule: never },
        audits: { schedule: never },
        report: { schedule: never, dir: join(dir, 'reports') },
        national: { identity: { name: 'Tỉnh Thử' }, retrySchedule: never },
      }),
      bus,
      store,
      topics,
      sink: new IncidentSink(store, producer, topics.incidents, DEFAULT_POLICY, log),
      ledger: new MemoryTelemetryLedger(
        new Date(),
        canonicalHost(() => register),
      ),
      assets: () => register,
      ruleFindings: () => [],
      listsDir: join(dir, 'lists'),
      groupId: 'svc-national',
      timezone: 'Asia/Ho_Chi_Minh',
      ackDueMsByLevel: DEFAULT_POLICY.ackDueMsByLevel,
      reportDueMs: DEFAULT_POLICY.reportDueMs,
      log,
    });
    try {
      expect(running.schedule.jobs().map((j) => j.name)).toEqual(['escalation', 'audits', 'report', 'national-sweep']);
      const inc = (await store.upsertIncident(incidentFixture({ id: 'crit', severity: 'critical', host: ['portal'] }))).incident;
      await producer.send(topics.incidents, [{ key: inc.id, value: JSON.stringify({ type: 'created', at: inc.updated_at, incident: inc }) }]);
      // 'portal' is the alias of a level-3 server: a critical incident there qualifies without the rule saying so.
      await expect
        .poll(async () => (await store.getIncident('crit'))!.timeline.map((t) => t.action), { timeout: 3000 })
        .toEqual(['report_due', 'national_export']);
      expect((await store.getIncident('crit'))!.report_due).toBe('2026-11-25T03:00:00.000Z');
      expect(bus.committedFor('svc-national', { topic: topics.incidents, partition: 0 })).toBeGreaterThan(0);
    } finally {
      await running.stop();
      await store.close();
    }
  });
});
