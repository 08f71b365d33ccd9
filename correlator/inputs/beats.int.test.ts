import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { TopicReader } from '../../collector/integration/helpers.ts';
import { createLogger } from '../../shared/log.ts';
import { createTopics, kafkaBrokers, testKafka, uniqueName } from '../../test/support/services.ts';
import { decodeEnvelope } from '../decoders/index.ts';
import type { Correlator } from '../service.ts';
import { backends, correlatorFor, drillAssets, until, type Backend } from '../test/harness.ts';
import { winlogbeatDocument } from './beats-fixtures.ts';

const RULES = join(import.meta.dirname, '..', '..', 'rules');
const DOCS = 10_000;
const log = createLogger('beats-input-test', {}, 'silent');
/** Hosts of the drills' asset register with their units, and two the register does not know. */
const HOSTS: [string, string | undefined][] = [
  ['srv-web-01', 'so-tttt'],
  ['srv-db-01', 'so-tc'],
  ['ws-unregistered-07.tinh.gov.vn', undefined],
  ['ws-unregistered-08.tinh.gov.vn', undefined],
];

describe("beats input on Kafka: 10,000 Winlogbeat documents on a topic of the site's choosing", () => {
  let backend: Backend | undefined;
  let correlator: Correlator | undefined;
  const stops: (() => Promise<void>)[] = [];
  afterAll(async () => {
    for (const stop of stops) await stop();
    await correlator?.stop();
    await backend?.close();
  });

  it('become soc.raw envelopes that decode with the right host, unit and ECS fields; malformed ones go to the dead-letter topic with a reason', async () => {
    backend = await backends('beats-input')[1]![1]();
    const topic = uniqueName('winlogbeat');
    const kafka = testKafka();
    await createTopics(kafka, [topic], 2);
    const producer = kafka.producer();
    await producer.connect();
    const bad = [
      '{"host": {"name": "portal.tinh.gov.vn"',
      JSON.stringify({ agent: { type: 'winlogbeat' }, winlog: { event_id: '1116' } }),
      JSON.stringify({ host: { name: 'portal.tinh.gov.vn' }, winlog: { channel: 'Security' } }),
    ];
    for (let from = 0; from < DOCS; from += 1000) {
      const messages = Array.from({ length: 1000 }, (_, k) => ({ value: JSON.stringify(winlogbeatDocument(HOSTS[(from + k) % HOSTS.length]![0], from + k)) }));
      if (from === 5000) messages.push(...bad.map((value) => ({ value })));
      await producer.send({ topic, messages });
    }
    await producer.disconnect();

    const units = new Map(HOSTS);
    correlator = correlatorFor(backend.bus, backend.store, backend.topics, uniqueName('corr'), {
      rules: [RULES],
      extraAssets: drillAssets(),
      log,
      beats: [{ name: 'winlogbeat', topic }],
    });
    await correlator.start();
    const raw = new TopicReader(kafkaBrokers(), backend.topics.raw);
    stops.push(() => raw.stop());
    await raw.start();
    const dlq: { reason: string; topic: string; offset: number }[] = [];
    const dlqConsumer = kafka.consumer({ groupId: uniqueName('dlq-reader') });
    await dlqConsumer.connect();
    await dlqConsumer.subscribe({ topic: backend.topics.dlq, fromBeginning: true });
    await dlqConsumer.run({ eachMessage: async ({ message }) => void dlq.push(JSON.parse(message.value!.toString())) });
    stops.push(() => dlqConsumer.disconnect());

    await until(`${DOCS} envelopes and 3 dead letters`, 120_000, async () => (raw.lines().length >= DOCS && dlq.length >= 3 ? true : undefined));
    const envelopes = raw.lines();
    expect(new Set(envelopes.map((e) => e.id)).size).toBe(DOCS);
    let defender = 0;
    let wfp = 0;
    let firewall = 0;
    for (const env of envelopes) {
      expect(env.format).toBe('windows-event');
      expect(env.unit).toBe(units.get(env.host));
      const e = decodeEnvelope(env) as unknown as Record<string, any>;
      expect(e.host.name).toBe(env.host);
      expect(e.event.kind).not.toBe('pipeline_error');
      if (e.event.module === 'windows-defender') {
        defender++;
        expect(e.threat.software.name).toBe('Virus:DOS/EICAR_Test_File');
        expect(e.file.path).toMatch(/^C:\\Users\\nguyen\.van\.a\\Downloads\\hoadon-\d+\.exe$/);
      } else if (e.event.module === 'windows-wfp') {
        wfp++;
        expect(e.event.type).toContain('denied');
        expect(e.source.ip).toMatch(/^203\.0\.113\./);
        expect(e.destination.ip).toBe('10.20.1.15');
      } else {
        firewall++;
        expect(e.event).toMatchObject({ module: 'windows-firewall-policy', action: 'rule-added' });
      }
    }
    expect([defender, wfp, firewall]).toEqual([5000, 3334, 1666]);
    const reasons = dlq.map((d) => d.reason).sort();
    expect(reasons).toHaveLength(3);
    expect(reasons[0]).toBe('beats input winlogbeat: no host.name, agent.hostname or agent.name');
    expect(reasons[1]).toMatch(/^beats input winlogbeat: not JSON/);
    expect(reasons[2]).toBe('beats input winlogbeat: winlog document without winlog.event_id');
    expect(dlq.every((d) => d.topic === topic)).toBe(true);
    process.stderr.write(
      `[beats input] ${DOCS} documents -> ${envelopes.length} envelopes (${defender} Defender, ${wfp} WFP, ${firewall} firewall policy), ${dlq.length} dead letters\n`,
    );
  }, 240_000);
});
