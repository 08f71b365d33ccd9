import { createSocket } from 'node:dgram';
import { get as httpsGet } from 'node:https';
import { appendFileSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { Incident } from '../../shared/incident.ts';
import { readRecordingLines } from '../../correlator/drills/recording.ts';
import { parseEnvelope } from '../../shared/envelope.ts';
import { EmbeddedIncidentStore } from '../../shared/store/embedded.ts';
import { DEMO_RECORDING } from './config.ts';
import { login, start, stop, type Started } from '../../test/support/start.ts';
import { makeTestCa } from '../../test/support/test-ca.ts';

const SSH_BRUTE_FORCE = '9a1d4f1e-8c3e-4f3b-9a52-0f5a1f1d2c11';

// Concurrent: each test starts its own process on its own folder, and mostly waits on it.
describe.concurrent('canhgac start: the embedded default', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'canhgac-start-'));
  const running: Started[] = [];
  afterAll(async () => {
    for (const s of running) if (s.child.exitCode === null) await stop(s);
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('streams demo incidents, keeps an acknowledgement and its audit entry across a restart', { timeout: 120_000 }, async () => {
    const first = await start(dataDir);
    running.push(first);
    expect(first.stdout()).toMatch(/login\s+admin \/ the password in CANHGAC_ADMIN_PASSWORD/);
    const drill = /as (demo-\d{8}-\d{6})/.exec(first.stdout())?.[1];
    expect(drill).toBeDefined();
    const cookie = await login(first.base);

    const ws = new WebSocket(`${first.base.replace('http', 'ws')}/ws`, { headers: { cookie } });
    const live = await new Promise<Incident>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no demo incident on /ws within 60 s\n${first.stderr()}`)), 60_000);
      ws.on('message', (data) => {
        const m = JSON.parse(data.toString()) as { type: string; incidents?: Incident[]; change?: { incident: Incident } };
        const seen = m.type === 'change' ? [m.change!.incident] : m.type === 'snapshot' ? m.incidents! : [];
        const demo = seen.find((i) => i.drill === drill && i.status === 'new' && i.rule.id === SSH_BRUTE_FORCE);
        if (demo) {
          clearTimeout(timer);
          resolve(demo);
        }
      });
      ws.on('error', reject);
    });
    ws.close();
    // The demo's own register (rules/drills/assets.yml) places the attack on srv-web-01, a level-3 server:
    // the rule's high is raised to critical. The shipped register is empty and would leave it high.
    expect(live.host).toContain('srv-web-01');
    expect([live.unit, live.severity]).toEqual(['so-tttt', 'critical']);

    const acted = await fetch(`${first.base}/api/incidents/${live.id}/actions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', cookie },
      body: JSON.stringify({ action: 'acknowledge' }),
    });
    expect(acted.status).toBe(200);
    expect(((await acted.json()) as { incident: Incident }).incident.status).toBe('acknowledged');
    expect(await stop(first)).toBe(0);
    expect(first.stderr()).toContain('stopped');

    const second = await start(dataDir, ['--no-demo']);
    running.push(second);
    expect(second.stdout()).not.toContain('demo');
    const again = await fetch(`${second.base}/api/incidents/${live.id}`, { headers: { cookie: await login(second.base) } });
    expect(again.status).toBe(200);
    const body = (await again.json()) as { incident: Incident };
    expect(body.incident.status).toBe('acknowledged');
    expect(body.incident.drill).toBe(drill);
    expect(body.incident.timeline.some((t) => t.action === 'acknowledge' && t.actor === 'admin')).toBe(true);
    expect(await stop(second)).toBe(0);

    const store = new EmbeddedIncidentStore(join(dataDir, 'store'));
    await store.init();
    const audit = await store.searchAudit({ incident_id: live.id });
    await store.close();
    expect(audit.entries.map((e) => [e.actor, e.action])).toContainEqual(['admin', 'acknowledge']);
  });

  it('with --no-demo, turns lines of the file and syslog sources of --config into incidents in the same process', { timeout: 60_000 }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'canhgac-start-sources-'));
    try {
      const kern = join(dir, 'kern.log');
      writeFileSync(kern, '');
      const config = join(dir, 'start.yml');
      writeFileSync(
        config,
        [
          'collector:',
          '  host: srv-web-01',
          '  pollMs: 50',
          '  sources:',
          `    - { type: file, name: kern, paths: ['${kern}'], startAt: beginning }`,
          '    - { type: syslog, name: fw, protocol: udp, listen: { host: 127.0.0.1, port: 0 } }',
          // Audits every second with a one-second window: a registered server that sent nothing is a finding at once.
          "operations: { audits: { schedule: '* * * * * *', coverageWindow: 1s } }",
          '',
        ].join('\n'),
      );
      const s = await start(join(dir, 'data'), ['--no-demo', '--config', config]);
      running.push(s);
      const syslog = /syslog\s+fw on 127\.0\.0\.1:(\d+)/.exec(s.stdout());
      expect(syslog).not.toBeNull();
      // The demo's own lines, this time from the sources: srv-web-01's kernel log, the perimeter FortiGate over syslog.
      const kernLines: string[] = [];
      const fortigate: string[] = [];
      for await (const { text } of readRecordingLines(DEMO_RECORDING)) {
        const p = parseEnvelope(text);
        if (!p.ok || p.envelope.kind !== 'line') continue;
        if (p.envelope.host === 'srv-web-01' && p.envelope.source === '/var/log/kern.log') kernLines.push(p.envelope.line);
        if (p.envelope.host === 'fgt-dc') fortigate.push(p.envelope.line);
      }
      appendFileSync(kern, kernLines.map((l) => `${l}\n`).join(''));
      const udp = createSocket('udp4');
      for (const line of fortigate) await new Promise<void>((resolve) => udp.send(line, Number(syslog![1]), '127.0.0.1', () => resolve()));
      udp.close();

      const cookie = await login(s.base);
      const deadline = Date.now() + 30_000;
      let datasets = new Set<string>();
      let rules = new Set<string>();
      while (Date.now() < deadline) {
        const page = (await (await fetch(`${s.base}/api/incidents?drill=none`, { headers: { cookie } })).json()) as { incidents: Incident[] };
        rules = new Set(page.incidents.map((i) => i.rule.id));
        datasets = new Set();
        for (const i of page.incidents) {
          const detail = (await (await fetch(`${s.base}/api/incidents/${i.id}`, { headers: { cookie } })).json()) as {
            events: { event: { event: { dataset?: string } } }[];
          };
          for (const e of detail.events) if (e.event.event.dataset) datasets.add(e.event.event.dataset.split('.')[0]!);
        }
        if (rules.has(SSH_BRUTE_FORCE) && datasets.has('fortigate')) break;
        await new Promise((r) => setTimeout(r, 500));
      }
      expect(rules).toContain(SSH_BRUTE_FORCE);
      expect(datasets).toContain('fortigate');
      // No sample register shipped as live data: the coverage audit (every second above) knows no server,
      // and no server of the drills' data centre that sent nothing here is watched, placed or reported.
      // Three audit runs at least (each second, plus the write of what one finds).
      await new Promise((r) => setTimeout(r, 3000));
      const all = (await (await fetch(`${s.base}/api/incidents?size=500`, { headers: { cookie } })).json()) as { incidents: Incident[] };
      expect(all.incidents.filter((i) => i.rule.id === 'canhgac-audit-coverage')).toEqual([]);
      const named = JSON.stringify(all.incidents.map((i) => [i.host, i.group]));
      for (const unheard of ['srv-web-02', 'srv-mail-01', 'srv-db-01', 'srv-app-05', 'srv-file-01', 'fw-core']) expect(named).not.toContain(unheard);
      expect(await stop(s)).toBe(0);
      // The file's checkpoint moved to its end only because the correlator had handled every line.
      const checkpoints = JSON.parse(readFileSync(join(dir, 'data', 'collector', 'checkpoints', 'kern.json'), 'utf8')) as {
        files: Record<string, { offset: number }>;
      };
      expect(Object.values(checkpoints.files).map((f) => f.offset)).toEqual([statSync(kern).size]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('serves the console over TLS with the console section of --config, and /metrics to its scrape token', { timeout: 60_000 }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'canhgac-start-console-'));
    try {
      const pki = makeTestCa(join(dir, 'pki'));
      const config = join(dir, 'start.yml');
      writeFileSync(config, `console:\n  tls: { cert: ${pki.serverCert}, key: ${pki.serverKey} }\n  metricsToken: start-scrape-token-0123\n`);
      const s = await start(join(dir, 'data'), ['--no-demo', '--config', config]);
      running.push(s);
      expect(s.base).toMatch(/^https:\/\/localhost:\d+$/);
      const get = (token: string) =>
        new Promise<{ status: number; body: string }>((resolve, reject) => {
          httpsGet(`${s.base}/metrics`, { ca: readFileSync(pki.ca), headers: { authorization: `Bearer ${token}` } }, (res) => {
            let body = '';
            res.on('data', (d: Buffer) => (body += d.toString()));
            res.on('end', () => resolve({ status: res.statusCode!, body }));
          }).once('error', reject);
        });
      const scraped = await get('start-scrape-token-0123');
      expect(scraped.status).toBe(200);
      expect(scraped.body).toContain('canhgac_console_');
      expect((await get('start-scrape-token-0124')).status).toBe(401);
      expect(await stop(s)).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses a console setting that start does not take, naming the file, line and field, and a TLS file it cannot read', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'canhgac-start-console-'));
    try {
      const config = join(dir, 'start.yml');
      writeFileSync(config, 'log: { level: warn }\nconsole:\n  port: 9443\n');
      await expect(start(join(dir, 'data'), ['--no-demo', '--config', config])).rejects.toThrow(
        `${config}:3:3: error: field console: Unrecognized key: "port"`,
      );
      writeFileSync(config, `console:\n  tls: { cert: ${join(dir, 'nope.pem')}, key: ${join(dir, 'nope-key.pem')} }\n`);
      await expect(start(join(dir, 'data'), ['--no-demo', '--config', config])).rejects.toThrow(/console\.tls\.cert: cannot read \S+nope\.pem \(ENOENT\)/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
