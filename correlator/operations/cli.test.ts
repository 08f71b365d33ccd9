import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EmbeddedIncidentStore } from '../../shared/store/embedded.ts';
import { incidentFixture } from '../../shared/store/fixtures.ts';

const root = join(import.meta.dirname, '..', '..');

function canhgac(...args: string[]) {
  const env = { ...process.env };
  delete env.ELASTICSEARCH_URL;
  delete env.KAFKA_BROKERS;
  const r = spawnSync(process.execPath, ['test/support/canhgac-sources.mjs', 'operations', ...args], { cwd: root, encoding: 'utf8', timeout: 30_000, env });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('canhgac operations', () => {
  it('import-feed writes the lists, and rejects a malformed feed with exit 1 keeping them', () => {
    const dir = mkdtempSync(join(tmpdir(), 'canhgac-ops-cli-'));
    writeFileSync(join(dir, 'feed.txt'), '203.0.113.50\nc2.example.org\n');
    const ok = canhgac('import-feed', '--source', join(dir, 'feed.txt'), '--name', 'ncsc', '--lists', join(dir, 'lists'));
    expect(ok.code).toBe(0);
    expect(ok.stdout).toBe('ncsc: 1 ips, 0 cidrs, 1 domains, 0 sha256, 0 sha1, 0 md5; 0 skipped\n');
    writeFileSync(join(dir, 'feed.txt'), '203.0.113.50\n<html>error page</html>\n');
    const bad = canhgac('import-feed', '--source', join(dir, 'feed.txt'), '--name', 'ncsc', '--lists', join(dir, 'lists'));
    expect(bad.code).toBe(1);
    // The message is the CLI's own line; a pino warning about the same feed may be flushed before or after it.
    expect(bad.stderr.split('\n')).toContainEqual(expect.stringMatching(/^ncsc: rejected, previous lists kept: .*line 2: '<html>error page<\/html>' is not/));
    expect(readFileSync(join(dir, 'lists', 'ncsc_domains.txt'), 'utf8')).toContain('c2.example.org');
    expect(canhgac('import-feed', '--source', join(dir, 'feed.txt')).code).toBe(2);
  });

  it('report reads the store and prints the period in text, JSON or HTML', async () => {
    const data = mkdtempSync(join(tmpdir(), 'canhgac-ops-cli-data-'));
    const store = new EmbeddedIncidentStore(join(data, 'store'));
    await store.init();
    await store.upsertIncident(incidentFixture({ id: 'r1', layer: 2, severity: 'high', first_seen: '2026-11-20T03:00:00.000Z' }));
    await store.upsertIncident(incidentFixture({ id: 'r2', layer: 1, severity: 'low', first_seen: '2026-11-20T04:00:00.000Z' }));
    await store.close();
    const period = ['--from', '2026-11-20T00:00:00Z', '--to', '2026-11-21T00:00:00Z', '--data', data];
    const text = canhgac('report', ...period);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/^all incidents +2 /m);
    const json = JSON.parse(canhgac('report', ...period, '--format', 'json').stdout);
    expect(json.by_layer['2'].by_severity.high).toBe(1);
    expect(canhgac('report', ...period, '--format', 'html').stdout).toMatch(/^<!doctype html>/);
    expect(canhgac('report', ...period, '--format', 'pdf')).toMatchObject({ code: 2, stderr: expect.stringContaining("'pdf' is not text, json or html") });
    expect(canhgac('report', '--from', 'yesterday')).toMatchObject({ code: 2 });
    expect(canhgac('report')).toMatchObject({ code: 1, stderr: expect.stringContaining('no store') });
  });
});
