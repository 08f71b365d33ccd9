import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../shared/config.ts';
import { loadCollectorConfig } from './config.ts';

const here = dirname(fileURLToPath(import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'canhgac-collector-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function write(name: string, text: string): string {
  const f = join(dir, name);
  writeFileSync(f, text);
  return f;
}

function findings(file: string): string[] {
  try {
    loadCollectorConfig(file, {});
  } catch (err) {
    if (err instanceof ConfigError) return err.message.split('\n');
    throw err;
  }
  throw new Error('expected a config error');
}

describe('collector config', () => {
  it('accepts the documented example, with sizes in units and defaults filled in', () => {
    const c = loadCollectorConfig(join(here, 'collector.example.yml'), {});
    expect(c.collector.host).toBe('srv-web-01');
    expect(c.collector.lineLimit).toBe(65536);
    expect(c.collector.spool.maxBytes).toBe(1024 ** 3);
    expect(c.collector.spool.segmentBytes).toBe(16 * 1024 ** 2);
    expect(c.collector.sources.map((s) => s.name)).toEqual(['kern', 'clamav', 'fw-udp', 'fw-tcp', 'fw-tls']);
    expect(c.collector.sources[0]).toMatchObject({ type: 'file', startAt: 'end', format: 'netfilter' });
    expect(c.collector.metrics?.listen).toEqual({ host: '127.0.0.1', port: 9464 });
  });

  it('accepts the documented Windows example: a winlog source with Defender, the firewall and WFP', () => {
    const c = loadCollectorConfig(join(here, 'collector.windows.example.yml'), {});
    const s = c.collector.sources[0]!;
    if (s.type !== 'winlog') throw new Error('expected a winlog source');
    expect(s.channels.map((ch) => [ch.name, ch.ids?.length ?? 'all'])).toEqual([
      ['Microsoft-Windows-Windows Defender/Operational', 26],
      ['Microsoft-Windows-Windows Firewall With Advanced Security/Firewall', 'all'],
      ['Security', 8],
    ]);
    expect(c.collector.dataDir).toBe('C:\\ProgramData\\canhgac\\data');
  });

  it('takes the brokers from KAFKA_BROKERS and the host name by default', () => {
    const f = write('min.yml', 'collector:\n  dataDir: /tmp/x\n  sources:\n    - { type: file, name: a, paths: [/tmp/*.log] }\n');
    const c = loadCollectorConfig(f, { KAFKA_BROKERS: 'k1:9092,k2:9092' });
    expect(c.kafka.brokers).toEqual(['k1:9092', 'k2:9092']);
    expect(c.collector.host.length).toBeGreaterThan(0);
    expect(c.collector.shipping.batchRecords).toBe(500);
  });

  it('names file, line and field for a bad value deep in a source', () => {
    const f = write(
      'bad-port.yml',
      `kafka:
  brokers: [k:9092]
collector:
  dataDir: /tmp/x
  sources:
    - type: syslog
      name: fw
      protocol: udp
      listen: { host: 0.0.0.0, port: 70000 }
`,
    );
    const [first] = findings(f);
    expect(first).toMatch(new RegExp(`^${f.replace(/[.]/g, '\\.')}:9:\\d+: error: field collector\\.sources\\.0\\.listen\\.port: `));
  });

  it('rejects TLS without a certificate, unknown keys and bad sizes, each at its line', () => {
    const f = write(
      'many.yml',
      `kafka:
  brokers: [k:9092]
collector:
  dataDir: /tmp/x
  lineLimit: 12 parsecs
  sources:
    - type: syslog
      name: fw
      protocol: tls
      listen: { port: 6514 }
    - type: file
      name: fw
      paths: [/var/log/*.log]
      strtAt: end
`,
    );
    const out = findings(f).join('\n');
    expect(out).toMatch(/many\.yml:5:\d+: error: field collector\.lineLimit: '12 parsecs' is not a size/);
    expect(out).toMatch(/many\.yml:\d+:\d+: error: field collector\.sources\.0\.tls: protocol tls needs tls\.cert and tls\.key/);
    expect(out).toMatch(/many\.yml:14:\d+: error: field collector\.sources\.1: .*strtAt/);
  });

  it('rejects duplicate source names at the second one', () => {
    const f = write(
      'dup.yml',
      `kafka: { brokers: [k:9092] }
collector:
  dataDir: /tmp/x
  sources:
    - { type: file, name: a, paths: [/a] }
    - { type: file, name: a, paths: [/b] }
`,
    );
    expect(findings(f).join('\n')).toMatch(/dup\.yml:6:\d+: error: field collector\.sources\.1\.name: duplicate source name 'a' \(also sources\.0\)/);
  });

  it('requires Kafka brokers when the environment gives none', () => {
    const f = write('nokafka.yml', 'collector:\n  dataDir: /tmp/x\n  sources:\n    - { type: file, name: a, paths: [/a] }\n');
    expect(findings(f).join('\n')).toMatch(/nokafka\.yml:1:1: error: field kafka: /);
  });
});
