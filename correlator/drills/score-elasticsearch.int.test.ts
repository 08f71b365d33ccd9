import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Incident } from '../../shared/incident.ts';
import { ElasticsearchIncidentStore } from '../../shared/store/elasticsearch.ts';
import { incidentFixture } from '../../shared/store/fixtures.ts';
import { canhgac, canhgacBin } from '../../test/support/cli.ts';
import { elasticsearchUrl, uniqueName } from '../../test/support/services.ts';
import { DRILLS_DIR } from './bundled/generate.ts';
import { replayEnded } from './test/replay-entry.ts';
import type { ScoreReport } from './score.ts';

/** `canhgac drill score` and `purge` against the real store: incidents as the correlator and console leave them. */
describe('canhgac drill score and purge (Elasticsearch)', () => {
  const prefix = uniqueName('drill');
  const store = new ElasticsearchIncidentStore({ url: elasticsearchUrl(), indexPrefix: prefix });
  const dir = mkdtempSync(join(tmpdir(), 'drill-score-'));
  const config = join(dir, 'config.yml');
  const env = { ELASTICSEARCH_URL: '', KAFKA_BROKERS: '' };
  const SHIFT = 60 * 86_400_000;
  const trigger = Date.parse('2025-03-04T02:04:00Z') + SHIFT;
  const at = (offsetMs: number) => new Date(trigger + offsetMs).toISOString();
  const drillIncident = (over: Partial<Incident>): Incident =>
    incidentFixture({
      rule: { id: '9a1d4f1e-8c3e-4f3b-9a52-0f5a1f1d2c11', title: 'SSH brute force against a shared server', level: 'high', layer: 2 },
      group: { 'source.ip': '203.0.113.77' },
      group_key: 'source.ip=203.0.113.77',
      drill: 'd-es',
      first_seen: at(45_000),
      last_seen: at(170_000),
      ...over,
    });

  beforeAll(async () => {
    writeFileSync(config, `elasticsearch:\n  url: ${elasticsearchUrl()}\n  indexPrefix: ${prefix}\n`);
    await store.init();
    await store.upsertIncident(
      drillIncident({
        id: 'd-es-ssh',
        status: 'acknowledged',
        timeline: [
          { at: at(46_000), actor: 'canhgac', action: 'created' },
          { at: at(46_000 + 420_000), actor: 'lan', action: 'acknowledge', from: 'new', to: 'acknowledged' },
        ],
      }),
      { refresh: true },
    );
    // Background noise the rules caught: unexpected, escalated by the deadline job, never acknowledged.
    await store.upsertIncident(
      drillIncident({
        id: 'd-es-deny',
        rule: { id: 'r-admin-port-deny', title: 'Firewall deny to an administrative port', level: 'medium', layer: 1 },
        group: { 'host.name': 'srv-web-02' },
        group_key: 'host.name=srv-web-02',
        severity: 'medium',
        layer: 2,
        timeline: [
          { at: at(10_000), actor: 'canhgac', action: 'created' },
          { at: at(10_000 + 3_600_000), actor: 'canhgac', action: 'escalate', from: { layer: 1, status: 'new' }, to: { layer: 2, status: 'new' } },
        ],
      }),
      { refresh: true },
    );
    // A real incident with the same rule and group: never part of the drill, never purged.
    await store.upsertIncident(drillIncident({ id: 'real-ssh', drill: null }), { refresh: true });
    await store.appendAudit(
      // Ended a minute ago: the drill is quiet, score and purge go at once.
      replayEnded('d-es', new Date(Date.now() - 60_000), { lines: 483, speed: 10, shiftMs: SHIFT }),
      { refresh: true },
    );
  });

  afterAll(async () => {
    await store.client.indices.delete({ index: `${prefix}-*`, ignore_unavailable: true, allow_no_indices: true }).catch(() => undefined);
    await store.close();
  });

  it('scores the drill with the shift from the audit trail: exit 0, report printed and written as HTML and JSON', () => {
    const out = join(dir, 'out');
    const r = canhgac(
      ['drill', 'score', join(DRILLS_DIR, 'ssh-brute-force', 'scenario.yml'), '--drill-id', 'd-es', '--out-dir', out, '--config', config],
      undefined,
      env,
    );
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/OK {3}SSH brute force against a shared server \[source\.ip=203\.0\.113\.77\]: time to detect 45s \(within 5m 00s\)/);
    expect(r.stdout).toMatch(/^PASSED/m);
    const report = JSON.parse(readFileSync(join(out, 'd-es.score.json'), 'utf8')) as ScoreReport;
    expect(report.shift_source).toBe('audit');
    expect(report.unexpected).toEqual(['d-es-deny']);
    expect(report.summary).toMatchObject({
      expected: 1,
      found: 1,
      detected_in_time: 1,
      missed: 0,
      unexpected: 1,
      incidents: 2,
      acknowledged: 1,
      acknowledged_in_target: 1,
      escalations: 1,
      median_time_to_acknowledge_ms: 420_000,
    });
    expect(readFileSync(join(out, 'd-es.score.html'), 'utf8')).toContain('PASSED');
  });

  it('exits 1 when an expected incident is missing', () => {
    const r = canhgac(
      ['drill', 'score', join(DRILLS_DIR, 'port-scan-sweep', 'scenario.yml'), '--drill-id', 'd-es', '--out-dir', join(dir, 'out2'), '--config', config],
      undefined,
      env,
    );
    expect(r.status).toBe(1);
    expect(r.stdout).toMatch(/MISS Port scan/);
    expect(r.stdout).toMatch(/^FAILED/m);
  });

  it('purges the drill only, and the purge is audited', async () => {
    const r = canhgac(['drill', 'purge', 'd-es', '--config', config], undefined, env);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('drill d-es: 2 incidents and 0 alerts removed\n');
    expect(r.status).toBe(0);
    expect(await store.getIncident('real-ssh')).not.toBeNull();
    expect(await store.getIncident('d-es-ssh')).toBeNull();
    const audit = await store.searchAudit({ action: 'drill.purge' });
    expect(audit.entries.map((e) => e.after)).toEqual([{ drill: 'd-es', alerts: 0, incidents: 2 }]);
    const again = canhgac(
      ['drill', 'score', join(DRILLS_DIR, 'ssh-brute-force', 'scenario.yml'), '--drill-id', 'd-es', '--out-dir', join(dir, 'out3'), '--config', config],
      undefined,
      env,
    );
    expect(again.status).toBe(1);
    expect(again.stdout).toMatch(/MISS SSH brute force/);
  });

  it("a purge right after a replay waits until the correlators wrote the drill's last incident, and removes it too", { timeout: 60_000 }, async () => {
    const drill = 'd-es-late';
    await store.appendAudit(replayEnded(drill, new Date()), { refresh: true });
    const child = spawn(process.execPath, [canhgacBin, 'drill', 'purge', drill, '--config', config], { env: { ...process.env, ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    // What a correlator writes when the drill's last window closes, a few seconds after the replay.
    await new Promise((r) => setTimeout(r, 2000));
    await store.upsertIncident(drillIncident({ id: 'd-es-late-ssh', drill, updated_at: new Date().toISOString() }), { refresh: true });
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    expect(stderr).toMatch(
      new RegExp(`^drill ${drill} changed in the last 8 s: waiting \\(up to \\d+ s\\) until the correlators have written its last incidents\n$`),
    );
    expect(stdout).toBe(`drill ${drill}: 1 incidents and 0 alerts removed\n`);
    expect(code).toBe(0);
    expect(await store.getIncident('d-es-late-ssh')).toBeNull();
  });
});
