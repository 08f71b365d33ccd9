import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { PASSWORD, usersFile } from '../test/harness.ts';

const FLOOD_MS = 20_000;
const INCIDENTS = 1000;

function rssMiB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : 0;
}

/**
 * The finding: with 1,000 open incidents, a viewer repeating {"type":"resync"} took the console from
 * 195 MB to 3 GB and a heap out of memory. Here two viewers, two sessions each, keep every socket their
 * sessions may open busy asking for snapshots while never reading them, and reconnect whenever dropped.
 */
describe('resync flood against a console in its own process', () => {
  let child: ChildProcess;
  let base: string;

  beforeAll(async () => {
    const users = await usersFile();
    child = spawn(process.execPath, ['--import', 'tsx', join(import.meta.dirname, '../test/flood-target.ts')], {
      env: { ...process.env, FLOOD_USERS: users, FLOOD_DATA: mkdtempSync(join(tmpdir(), 'canhgac-flood-')), FLOOD_INCIDENTS: String(INCIDENTS) },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const first = await new Promise<string>((resolve, reject) => {
      createInterface({ input: child.stdout! }).once('line', resolve);
      child.once('exit', (code) => reject(new Error(`flood target exited with ${code}`)));
    });
    base = JSON.parse(first).address;
  });
  afterAll(async () => {
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    // A console that no longer answers may not close either: it is killed after 5 s.
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  });

  async function login(username: string): Promise<string> {
    const res = await fetch(`${base}/api/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username, password: PASSWORD }),
    });
    expect(res.status).toBe(200);
    return res.headers.getSetCookie()[0]!.split(';')[0]!;
  }

  it('keeps RSS under 400 MB and /livez answering within a second; greedy clients are dropped and counted', async () => {
    const wsUrl = `${base.replace('http', 'ws')}/ws`;
    const sessions = await Promise.all(['vera', 'vera', 'rosa', 'rosa'].map(login));
    const rssStart = rssMiB(child.pid!);
    const stopAt = Date.now() + FLOOD_MS;
    let sent = 0;
    let opened = 0;
    let refused = 0;
    const sockets = new Set<WebSocket>();

    const attacker = async (cookie: string) => {
      while (Date.now() < stopAt) {
        await new Promise<void>((resolve) => {
          const ws = new WebSocket(wsUrl, { headers: { cookie } });
          sockets.add(ws);
          ws.once('unexpected-response', (_req, res) => {
            refused += 1;
            res.resume();
            ws.terminate();
          });
          ws.once('open', () => {
            opened += 1;
            // Never read: whatever the console sends piles up on its side of the connection.
            ws.pause();
            const flood = () => {
              if (ws.readyState !== WebSocket.OPEN || Date.now() > stopAt) return;
              for (let i = 0; i < 20; i++) ws.send('{"type":"resync"}');
              sent += 20;
              setTimeout(flood, 5);
            };
            flood();
          });
          ws.once('close', () => {
            sockets.delete(ws);
            resolve();
          });
          ws.once('error', () => undefined);
        });
        await new Promise((r) => setTimeout(r, 20));
      }
    };

    let rssMax = rssStart;
    const livez: number[] = [];
    const watcher = (async () => {
      while (Date.now() < stopAt) {
        rssMax = Math.max(rssMax, rssMiB(child.pid!));
        const t0 = performance.now();
        const res = await fetch(`${base}/livez`, { signal: AbortSignal.timeout(5000) });
        livez.push(res.status === 200 ? performance.now() - t0 : Infinity);
        await new Promise((r) => setTimeout(r, 250));
      }
    })();
    // Each session keeps as many sockets busy as it may have (8 by default).
    await Promise.all([...sessions.flatMap((cookie) => Array.from({ length: 8 }, () => attacker(cookie))), watcher]);
    for (const ws of sockets) ws.terminate();

    const admin = await login('adam');
    const metrics = await (await fetch(`${base}/metrics`, { headers: { cookie: admin } })).text();
    const greedy = Number(/canhgac_console_ws_dropped_total\{reason="greedy"\} (\d+)/.exec(metrics)?.[1] ?? 0);
    process.stderr.write(
      `[flood] ${INCIDENTS} incidents, ${FLOOD_MS / 1000} s: ${sent} resyncs sent on ${opened} sockets (${refused} upgrades refused), RSS ${rssStart.toFixed(0)} -> max ${rssMax.toFixed(0)} MiB, /livez max ${Math.max(...livez).toFixed(0)} ms over ${livez.length} probes, greedy drops ${greedy}\n`,
    );
    expect(sent).toBeGreaterThan(10_000);
    expect(rssMax).toBeLessThan(400);
    expect(livez.length).toBeGreaterThan(10);
    expect(Math.max(...livez)).toBeLessThan(1000);
    expect(greedy).toBeGreaterThan(0);

    // Another user, who did not take part, still gets the full snapshot.
    const snapshot = await new Promise<{ incidents: unknown[] }>((resolve, reject) => {
      const ws = new WebSocket(wsUrl, { headers: { cookie: admin } });
      ws.once('message', (d) => {
        ws.close();
        resolve(JSON.parse(d.toString()));
      });
      ws.once('unexpected-response', (_r, res) => reject(new Error(`upgrade refused ${res.statusCode}`)));
    });
    expect(snapshot.incidents).toHaveLength(INCIDENTS);
  });
});
