import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { canhgac } from '../test/support/cli.ts';

const dir = mkdtempSync(join(tmpdir(), 'canhgac-collector-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('canhgac collector', () => {
  it('prints its usage with --help', () => {
    const r = canhgac(['collector', '--help']);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('--config FILE');
  });

  it('exits 2 without --config', () => {
    const r = canhgac(['collector']);
    expect(r.status).toBe(2);
    expect(r.stderr.trim()).toBe('canhgac collector: missing --config FILE');
  });

  it('exits 1 naming file, line and field for a bad config', () => {
    const f = join(dir, 'bad.yml');
    writeFileSync(
      f,
      'kafka: { brokers: [k:9092] }\ncollector:\n  dataDir: /tmp/x\n  heartbeatSeconds: -3\n  sources:\n    - { type: file, name: a, paths: [/a] }\n',
    );
    const r = canhgac(['collector', '--config', f], undefined, { KAFKA_BROKERS: '' });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(new RegExp(`^canhgac collector: ${f.replace(/[.]/g, '\\.')}:4:3: error: field collector\\.heartbeatSeconds: `));
  });

  it('exits 1 with a clear message when a TLS certificate cannot be read', () => {
    const f = join(dir, 'tls.yml');
    writeFileSync(
      f,
      `kafka: { brokers: ['127.0.0.1:1'] }\ncollector:\n  dataDir: ${join(dir, 'data')}\n  sources:\n    - type: syslog\n      name: t\n      protocol: tls\n      listen: { host: 127.0.0.1, port: 0 }\n      tls: { cert: ${join(dir, 'missing.crt')}, key: ${join(dir, 'missing.key')} }\n`,
    );
    const r = canhgac(['collector', '--config', f], undefined, { KAFKA_BROKERS: '' });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('source t: cannot read tls.cert');
  });
});
