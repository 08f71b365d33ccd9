import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { backends, correlatorFor, drillAssets, until, type Backend } from '../../correlator/test/harness.ts';
import type { Correlator } from '../../correlator/service.ts';
import { createLogger } from '../../shared/log.ts';
import { createTopics, kafkaBrokers, testKafka, uniqueName } from '../../test/support/services.ts';
import { startCollector, type CollectorAgent } from '../agent.ts';
import { CollectorConfigSchema } from '../config.ts';
import { DEFENDER, defenderActionFailed, defenderActionTaken, defenderDetected, FIREWALL } from '../sources/winlog-fixtures.ts';
import { installStandin, StandinLog } from '../sources/winlog-standin.ts';

const RULES = join(import.meta.dirname, '..', '..', 'rules');
const NOT_CLEANED = '7e2a9c14-0b3d-4f6a-8e15-2c9d4b7a5f04';
const OUTBREAK = '7e2a9c14-0b3d-4f6a-8e15-2c9d4b7a5f02';
const log = createLogger('winlog-incident-test', {}, 'silent');

describe('Defender detections on Windows servers become incidents: winlog source -> soc.raw (Kafka) -> correlator -> Elasticsearch', () => {
  const dir = mkdtempSync(join(tmpdir(), 'canhgac-winlog-incident-'));
  let backend: Backend | undefined;
  let correlator: Correlator | undefined;
  const agents: CollectorAgent[] = [];
  afterAll(async () => {
    for (const a of agents) await a.stop();
    await correlator?.stop();
    await backend?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('raises the bundled pack\'s "malware not cleaned" incident with the unit from the asset register, and the outbreak across three units', async () => {
    backend = await backends('winlog-incident')[1]![1]();
    const raw = backend.topics.raw;
    await createTopics(testKafka(), [raw], 3);
    correlator = correlatorFor(backend.bus, backend.store, backend.topics, uniqueName('corr'), { rules: [RULES], extraAssets: drillAssets(), log });
    await correlator.start();

    // One Windows server per collector, each with its own event log: srv-db-01 is in the drills' asset
    // register (so-tc, security level 3), its collector sets no unit; the other three collectors set
    // theirs (the outbreak rule counts units through labels.unit).
    const host = 'srv-db-01';
    const servers: [string, string | undefined][] = [
      [host, undefined],
      ['ws-tc-02', 'so-tc'],
      ['ws-yte-07', 'so-yt'],
      ['ws-gd-11', 'so-gddt'],
    ];
    for (const [i, [name, unit]] of servers.entries()) {
      const eventlog = new StandinLog(join(dir, `eventlog-${i}.json`));
      eventlog.create(FIREWALL);
      eventlog.append(
        i === 0 ? [defenderDetected(name, 1), defenderActionFailed(name, 2)] : [defenderDetected(name, 10 + i), defenderActionTaken(name, 20 + i)],
      );
      // The first stand-in is found on PATH, as powershell; the others by their full path.
      const bin = installStandin(join(dir, `bin-${i}`), eventlog.file);
      if (i === 0) process.env.PATH = `${bin}${delimiter}${process.env.PATH}`;
      agents.push(
        await startCollector(
          CollectorConfigSchema.parse({
            kafka: { brokers: kafkaBrokers(), topicPrefix: raw.slice(0, -'soc.raw'.length) },
            collector: {
              host: name,
              ...(unit ? { unit } : {}),
              dataDir: join(dir, `data-${i}`),
              heartbeatSeconds: 3600,
              sources: [{ type: 'winlog', name: 'winlog', command: i === 0 ? 'powershell' : join(bin, 'powershell'), pollSeconds: 0.2, startAt: 'beginning' }],
            },
          }),
          log,
        ),
      );
    }

    const incident = await until('the not-cleaned incident', 90_000, async () => {
      await backend!.settle();
      return (await backend!.store.searchIncidents({ size: 50 })).incidents.find((i) => i.rule.id === NOT_CLEANED);
    });
    expect(incident.group).toMatchObject({ 'host.name': host });
    expect(incident.layer).toBe(1);
    expect(incident.unit).toBe('so-tc');
    const alerts = await backend.store.alertsOf(incident.id);
    const events = alerts.flatMap((a) => a.events) as unknown as Record<string, any>[];
    expect(events.length).toBeGreaterThan(0);
    const e = events[0]!;
    expect(e.event).toMatchObject({ code: '1118', action: 'malware-action-failed', module: 'windows-defender' });
    expect(e.threat.software.name).toBe('Virus:DOS/EICAR_Test_File');
    expect(JSON.parse(e.event.original)).toMatchObject({ Channel: DEFENDER, RecordId: 2 });

    const outbreak = await until('the outbreak incident', 90_000, async () => {
      await backend!.settle();
      return (await backend!.store.searchIncidents({ size: 50 })).incidents.find((i) => i.rule.id === OUTBREAK);
    });
    expect(outbreak.group).toMatchObject({ 'threat.software.name': 'Virus:DOS/EICAR_Test_File' });
    expect(outbreak.layer).toBe(2);
  }, 180_000);
});
