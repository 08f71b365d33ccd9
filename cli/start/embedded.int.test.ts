import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
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

  it('kill -9 at three random moments while responders acknowledge: every acknowledged incident is there after each restart', { timeout: 180_000 }, async () => {
    const data = tempDir();
    const seed = new EmbeddedIncidentStore(join(data, 'store'));
    await seed.init();
    const ids = Array.from({ length: 600 }, (_, n) => `kill-${n}`);
    await seed.upsertIncidents(ids.map((id, n) => incidentFixture({ id, group_key: `source.ip=198.51.100.${n % 250}`, last_seen: new Date(Date.parse('2026-11-20T03:00:00.000Z') + n * 1000).toISOString() })));
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
            const res = await fetch(`${s.base}/api/incidents/${id}/actions`, { method: 'POST', headers: { 'content-type': 'application/json', cookie }, body: JSON.stringify({ action: 'acknowledge' }) });
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
