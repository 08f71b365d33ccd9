import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { Incident } from '../../shared/incident.ts';
import { EmbeddedIncidentStore } from '../../shared/store/embedded.ts';
import { incidentFixture } from '../../shared/store/fixtures.ts';
import { LOCK_FILE } from '../../shared/store/folder-lock.ts';
import { canhgacBin } from '../../test/support/cli.ts';
import { login, PASSWORD, start, stop, type Started } from '../../test/support/start.ts';

describe('canhgac start: one data folder, one owner, nothing acknowledged lost', () => {
  const dirs: string[] = [];
  const running: Started[] = [];
  const tempDir = () => {
    const d = mkdtempSync(join(tmpdir(), 'canhgac-embedded-start-'));
    dirs.push(d);
    return d;
  };
  afterAll(async () => {
    for (const s of running) if (s.child.exitCode === null && s.child.signalCode === null) await stop(s);
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it('refuses a second start on the same data folder with exit 1, naming the lock', { timeout: 60_000 }, async () => {
    const data = tempDir();
    const first = await start(data, ['--no-demo']);
    running.push(first);
    const env: NodeJS.ProcessEnv = { ...process.env, CANHGAC_ADMIN_PASSWORD: PASSWORD };
    delete env.KAFKA_BROKERS;
    delete env.ELASTICSEARCH_URL;
    const second = spawnSync(process.execPath, [canhgacBin, 'start', '--port', '0', '--no-demo', '--data', data], { env, encoding: 'utf8', timeout: 30_000 });
    expect(second.status).toBe(1);
    expect(second.stderr).toContain(`its lock ${join(data, LOCK_FILE)} is held`);
    expect(second.stderr).toContain(`pid ${first.child.pid}`);
    // The first is untouched and still answers.
    expect((await fetch(`${first.base}/api/health`)).status).toBeLessThan(500);
    expect(await stop(first)).toBe(0);
  });

  it('kill -9 at three random moments while responders acknowledge: every acknowledged incident is there after each restart', {
    timeout: 180_000,
  }, async () => {
    const data = tempDir();
    const seed = new EmbeddedIncidentStore(join(data, 'store'));
    await seed.init();
    const ids = Array.from({ length: 600 }, (_, n) => `kill-${n}`);
    await seed.upsertIncidents(
      ids.map((id, n) =>
        incidentFixture({
          id,
          group_key: `source.ip=198.51.100.${n % 250}`,
          last_seen: new Date(Date.parse('2026-11-20T03:00:00.000Z') + n * 1000).toISOString(),
        }),
      ),
    );
    await seed.close();

    const acknowledged = new Set<string>();
    let next = 0;
    for (let round = 0; round < 3; round++) {
      const s = await start(data, ['--no-demo']);
      running.push(s);
      const cookie = await login(s.base);
      // Everything acknowledged before the previous kill is still acknowledged.
      for (const id of acknowledged) {
        const res = (await (await fetch(`${s.base}/api/incidents/${id}`, { headers: { cookie } })).json()) as { incident: Incident };
        expect(res.incident.status, id).toBe('acknowledged');
      }
      // Four responders acknowledge as fast as the console answers; the kill lands at a random moment.
      let killed = false;
      const responder = async () => {
        while (!killed && next < ids.length) {
          const id = ids[next++]!;
          try {
            const res = await fetch(`${s.base}/api/incidents/${id}/actions`, {
              method: 'POST',
              headers: { 'content-type': 'application/json', cookie },
              body: JSON.stringify({ action: 'acknowledge' }),
            });
            if (res.status === 200) acknowledged.add(id);
          } catch {
            // The process died under this request: it was never acknowledged.
          }
        }
      };
      const responders = Promise.all([responder(), responder(), responder(), responder()]);
      await new Promise((r) => setTimeout(r, 300 + Math.random() * 1500));
      const exited = new Promise((r) => s.child.once('exit', r));
      s.child.kill('SIGKILL');
      killed = true;
      await exited;
      await responders;
    }
    expect(acknowledged.size).toBeGreaterThan(0);
    const check = new EmbeddedIncidentStore(join(data, 'store'));
    await check.init();
    const lost: string[] = [];
    for (const id of acknowledged) if ((await check.getIncident(id))?.status !== 'acknowledged') lost.push(id);
    await check.close();
    expect(lost).toEqual([]);
  });
});

describe('canhgac drill on the embedded default', () => {
  const data = mkdtempSync(join(tmpdir(), 'canhgac-embedded-drill-'));
  const out = mkdtempSync(join(tmpdir(), 'canhgac-embedded-drill-out-'));
  let s: Started | null = null;
  afterAll(async () => {
    if (s && s.child.exitCode === null && s.child.signalCode === null) await stop(s);
    rmSync(data, { recursive: true, force: true });
    rmSync(out, { recursive: true, force: true });
  });

  it('replays a bundled drill into a running start, which streams it on the console; score reports it; purge removes it from the store and the open page', {
    timeout: 120_000,
  }, async () => {
    s = await start(data, ['--no-demo']);
    const cookie = await login(s.base);
    const ws = new WebSocket(`${s.base.replace('http', 'ws')}/ws`, { headers: { cookie } });
    const messages: { type: string; change?: { type: string; incident: Incident } }[] = [];
    ws.on('message', (m) => messages.push(JSON.parse(m.toString()) as (typeof messages)[number]));
    await new Promise((resolve, reject) => (ws.once('open', resolve), ws.once('error', reject)));
    const drillId = 'drill-embedded-e2e';
    const env: NodeJS.ProcessEnv = { ...process.env };
    delete env.KAFKA_BROKERS;
    delete env.ELASTICSEARCH_URL;
    const drill = (...args: string[]) => spawnSync(process.execPath, [canhgacBin, 'drill', ...args], { env, encoding: 'utf8', timeout: 60_000 });

    const replay = drill('replay', 'ssh-brute-force', '--speed', 'max', '--drill-id', drillId, '--data', data);
    expect(replay.stderr).toBe(
      `replaying ${join(import.meta.dirname, '..', '..', 'rules', 'drills', 'ssh-brute-force', 'recording.ndjson.gz')} in the canhgac start of ${data}...\n`,
    );
    expect(replay.status).toBe(0);
    expect(replay.stdout).toMatch(new RegExp(`^drill ${drillId}: \\d+ lines sent`));

    const created = () =>
      messages.find(
        (m) => m.type === 'change' && m.change!.incident.drill === drillId && m.change!.incident.rule.id === '9a1d4f1e-8c3e-4f3b-9a52-0f5a1f1d2c11',
      );
    for (const deadline = Date.now() + 30_000; !created() && Date.now() < deadline; ) await new Promise((r) => setTimeout(r, 100));
    const incident = created()!.change!.incident;
    expect(incident.group).toMatchObject({ 'source.ip': '203.0.113.77' });
    // Rebased to the present: nothing lies in the future.
    expect(Date.parse(incident.last_seen)).toBeLessThanOrEqual(Date.now());

    const score = drill('score', 'ssh-brute-force', '--drill-id', drillId, '--data', data, '--out-dir', out);
    expect(score.stderr).toBe('');
    const report = JSON.parse(readFileSync(join(out, `${drillId}.score.json`), 'utf8')) as {
      shift_source: string;
      summary: { found: number; expected: number };
    };
    expect(report.summary).toMatchObject({ expected: 1, found: 1 });
    expect(report.shift_source).toBe('audit');
    expect(score.status).toBe(0);

    const purge = drill('purge', drillId, '--data', data);
    expect(purge.status).toBe(0);
    expect(purge.stdout).toMatch(new RegExp(`^drill ${drillId}: [1-9]\\d* incidents and [1-9]\\d* alerts removed`));
    for (
      const deadline = Date.now() + 10_000;
      !messages.some((m) => m.change?.type === 'purged' && m.change.incident.id === incident.id) && Date.now() < deadline;
    )
      await new Promise((r) => setTimeout(r, 100));
    expect(messages.some((m) => m.change?.type === 'purged' && m.change.incident.id === incident.id)).toBe(true);
    ws.close();
    const gone = await fetch(`${s.base}/api/incidents?drill=${drillId}`, { headers: { cookie } });
    expect(((await gone.json()) as { total: number }).total).toBe(0);

    // The same folder, read by report while the start runs: nothing created there.
    const before = readdirSync(data).sort();
    const rep = spawnSync(process.execPath, [canhgacBin, 'report', '--data', data, '--format', 'json'], { env, encoding: 'utf8', timeout: 60_000 });
    expect(rep.status, rep.stderr).toBe(0);
    expect(JSON.parse(rep.stdout)).toHaveProperty('drills');
    expect(readdirSync(data).sort()).toEqual(before);
    expect(await stop(s)).toBe(0);
  });

  it('says no start runs on a folder without one', () => {
    const empty = mkdtempSync(join(tmpdir(), 'canhgac-embedded-nostart-'));
    const env: NodeJS.ProcessEnv = { ...process.env };
    delete env.KAFKA_BROKERS;
    delete env.ELASTICSEARCH_URL;
    const r = spawnSync(process.execPath, [canhgacBin, 'drill', 'purge', 'x-1', '--data', empty], { env, encoding: 'utf8', timeout: 30_000 });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(`no canhgac start is running on ${empty}`);
    rmSync(empty, { recursive: true, force: true });
  });
});
