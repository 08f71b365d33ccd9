import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { BaseConfigSchema, ConfigError, loadConfig } from './config.ts';
import { parseEnvelope } from './envelope.ts';
import { getField, NormalizedEventSchema } from './event.ts';
import { topicNames } from './topics.ts';

function configFile(text: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'canhgac-config-'));
  const file = join(dir, 'canhgac.yml');
  writeFileSync(file, text);
  return file;
}

describe('configuration', () => {
  it('loads YAML and lets the environment override brokers and the Elasticsearch address', () => {
    const file = configFile('kafka:\n  brokers: [a:9092]\nelasticsearch:\n  url: http://es:9200\n');
    const cfg = loadConfig(file, BaseConfigSchema, { KAFKA_BROKERS: 'x:1, y:2', ELASTICSEARCH_URL: 'http://other:9200' });
    expect(cfg.kafka?.brokers).toEqual(['x:1', 'y:2']);
    expect(cfg.elasticsearch?.url).toBe('http://other:9200');
    expect(cfg.timezone).toBe('Asia/Ho_Chi_Minh');
  });

  it('names the file, line and field of a bad value', () => {
    const file = configFile('timezone: UTC\nkafka:\n  brokers: [a:9092]\n  clientId: 7\n');
    expect(() => loadConfig(file, BaseConfigSchema, {})).toThrowError(ConfigError);
    try {
      loadConfig(file, BaseConfigSchema, {});
    } catch (err) {
      expect((err as Error).message).toMatch(new RegExp(`^${file}:4:3: error: field kafka.clientId: `));
    }
  });

  it('names an unknown field and a missing one', () => {
    const file = configFile('kafka:\n  brokerz: [a]\n');
    const msg = (() => {
      try {
        loadConfig(file, BaseConfigSchema, {});
        return '';
      } catch (err) {
        return (err as Error).message;
      }
    })();
    expect(msg).toContain(`${file}:2:3: error: field kafka: Unrecognized key: "brokerz"`);
    expect(msg).toContain(`${file}:1:1: error: field kafka.brokers: `);
  });

  it('reports YAML syntax errors with a position and rejects alias bombs', () => {
    expect(() => loadConfig(configFile('kafka: [\n'), BaseConfigSchema, {})).toThrowError(/canhgac\.yml:\d+:\d+: error:/);
    const bomb = ['a: &a [x, x, x, x, x, x, x, x, x]'];
    for (let i = 1; i < 9; i++)
      bomb.push(
        `${String.fromCharCode(97 + i)}: &${String.fromCharCode(97 + i)} [${Array(9)
          .fill(`*${String.fromCharCode(96 + i)}`)
          .join(', ')}]`,
      );
    const schema = z.record(z.string(), z.unknown());
    expect(() => loadConfig(configFile(bomb.join('\n')), schema, {})).toThrowError(/alias/i);
  });
});

describe('envelope', () => {
  const good = { v: 1, id: 'h1/f/1', host: 'srv-01', source: '/var/log/kern.log', format: 'netfilter', received: '2026-11-26T01:02:03.000Z', line: 'x' };

  it('accepts a well-formed envelope and fills defaults', () => {
    const r = parseEnvelope(JSON.stringify({ ...good, format: undefined }));
    expect(r).toMatchObject({ ok: true, envelope: { kind: 'line', format: 'auto', host: 'srv-01' } });
  });

  it('gives the reason for what goes to the dead-letter topic', () => {
    expect(parseEnvelope('{not json')).toMatchObject({ ok: false, reason: expect.stringMatching(/^not JSON/) });
    expect(parseEnvelope(JSON.stringify({ ...good, host: '' }))).toMatchObject({ ok: false, reason: expect.stringMatching(/^envelope field host/) });
    expect(parseEnvelope(JSON.stringify({ ...good, kind: 'heartbeat' }))).toMatchObject({ ok: false, reason: expect.stringMatching(/heartbeat/) });
    expect(parseEnvelope(null)).toMatchObject({ ok: false });
  });
});

describe('normalized event', () => {
  it('validates the ECS subset and requires error.message on pipeline errors', () => {
    const ok = NormalizedEventSchema.safeParse({
      '@timestamp': '2026-11-26T01:02:03Z',
      event: { kind: 'event', category: ['network'], type: ['denied'], original: 'x' },
      source: { ip: '10.0.0.1', port: 22 },
    });
    expect(ok.success).toBe(true);
    expect(NormalizedEventSchema.safeParse({ '@timestamp': '2026-11-26T01:02:03Z', event: { kind: 'pipeline_error', original: 'x' } }).success).toBe(false);
    expect(NormalizedEventSchema.safeParse({ '@timestamp': 'yesterday', event: { kind: 'event', original: 'x' } }).success).toBe(false);
    expect(
      NormalizedEventSchema.safeParse({ '@timestamp': '2026-11-26T01:02:03Z', event: { kind: 'event', original: 'x' }, source: { port: 70000 } }).success,
    ).toBe(false);
  });

  it('reads dotted paths from nested and flat events', () => {
    const ev = { source: { ip: '1.2.3.4' }, file: { hash: { sha256: 'ab' } }, 'user.name': 'u' };
    expect(getField(ev, 'source.ip')).toBe('1.2.3.4');
    expect(getField(ev, 'file.hash.sha256')).toBe('ab');
    expect(getField(ev, 'user.name')).toBe('u');
    expect(getField(ev, 'destination.ip')).toBeUndefined();
  });
});

describe('topics', () => {
  it('prefixes every topic of the data flow', () => {
    expect(topicNames('t1.')).toEqual({
      raw: 't1.soc.raw',
      correlate: 't1.soc.correlate',
      incidents: 't1.soc.incidents',
      national: 't1.soc.national',
      dlq: 't1.soc.dlq',
    });
  });
});
