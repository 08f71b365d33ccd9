import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { MemoryBus } from '../shared/bus/memory.ts';
import { hashPassword } from './auth/password.ts';
import { readUsers, writeUsers } from './auth/users-file.ts';
import { UNKNOWN_ACTOR } from './routes/login.ts';
import { PASSWORD, startConsole, usersFile, waitFor } from './test/harness.ts';

type Started = Awaited<ReturnType<typeof startConsole>>;

/** Opens one WebSocket; resolves with the socket once open, or with the HTTP status of a refused upgrade. */
function openSocket(url: string, cookie: string): Promise<{ ws: WebSocket } | { status: number }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers: { cookie } });
    ws.once('open', () => resolve({ ws }));
    ws.once('unexpected-response', (_req, res) => {
      resolve({ status: res.statusCode ?? 0 });
      res.resume();
      ws.terminate();
    });
    ws.once('error', reject);
  });
}

const counter = async (c: Started, name: 'wsRefused' | 'wsDropped', reason: string) =>
  (await c.ctx.metrics[name].get()).values.find((v) => v.labels.reason === reason)?.value ?? 0;

describe('console hardening (real Elasticsearch, in-memory bus)', () => {
  let c: Started;
  let file: string;
  let url: string;

  beforeAll(async () => {
    file = await usersFile([{ username: 'lan', role: 'viewer' }]);
    c = await startConsole(new MemoryBus(), { usersFile: file, trustedProxies: ['10.0.0.1'], loginAttemptsPerMinute: 1000 });
    url = (await c.app.listen({ host: '127.0.0.1', port: 0 })).replace('http', 'ws');
  });
  afterAll(async () => c?.close());

  it('3,000 sockets from one session: 8 are served, the rest refused with 429 and counted', async () => {
    const cookie = await c.login('vera');
    const open: WebSocket[] = [];
    const refused: number[] = [];
    for (let batch = 0; batch < 15; batch++) {
      const results = await Promise.all(Array.from({ length: 200 }, () => openSocket(`${url}/ws`, cookie)));
      for (const r of results) {
        if ('ws' in r) open.push(r.ws);
        else refused.push(r.status);
      }
    }
    // Upgrades accepted in the same instant may pass the pre-upgrade check; the extra ones are closed at once.
    await waitFor(
      () => c.ctx.hub.clientCount <= 8 && open.filter((w) => w.readyState === WebSocket.OPEN).length === c.ctx.hub.clientCount,
      5000,
      'sockets capped',
    );
    expect(c.ctx.hub.clientCount).toBe(8);
    expect(refused.length).toBeGreaterThan(2900);
    expect(new Set(refused)).toEqual(new Set([429]));
    expect(await counter(c, 'wsRefused', 'session_sockets')).toBeGreaterThan(2900);
    // Another session of another user is unaffected.
    const other = await openSocket(`${url}/ws`, await c.login('lan'));
    expect(other).toHaveProperty('ws');
    for (const w of [...open, (other as { ws: WebSocket }).ws]) w.close();
    await waitFor(() => c.ctx.hub.clientCount === 0, 5000, 'sockets closed');
  });

  it('a session asking for resyncs in a loop is dropped (1008), counted, and can resume from its cursor', async () => {
    const cookie = await c.login('rosa');
    const r = await openSocket(`${url}/ws`, cookie);
    if (!('ws' in r)) throw new Error(`upgrade refused: ${r.status}`);
    const first = new Promise<{ cursor: string }>((resolve) => r.ws.once('message', (d) => resolve(JSON.parse(d.toString()))));
    const closed = new Promise<number>((resolve) => r.ws.once('close', (code) => resolve(code)));
    for (let i = 0; i < 100; i++) r.ws.send(JSON.stringify({ type: 'resync' }));
    const { cursor } = await first;
    expect(await closed).toBe(1008);
    expect(await counter(c, 'wsDropped', 'greedy')).toBe(1);
    // The snapshot budget refills (12 a minute by default): a fresh connection waits...
    expect(await openSocket(`${url}/ws`, cookie)).toEqual({ status: 429 });
    // ...but resuming from the cursor needs no snapshot.
    const resumed = await openSocket(`${url}/ws?since=${cursor}`, cookie);
    expect(resumed).toHaveProperty('ws');
    (resumed as { ws: WebSocket }).ws.close();
  });

  it('a socket sending more messages than a page ever does is dropped, pings included', async () => {
    const r = await openSocket(`${url}/ws`, await c.login('adam'));
    if (!('ws' in r)) throw new Error(`upgrade refused: ${r.status}`);
    const pongs: unknown[] = [];
    r.ws.on('message', (d) => JSON.parse(d.toString()).type === 'pong' && pongs.push(d));
    const closed = new Promise<Buffer>((resolve) => r.ws.once('close', (_code, reason) => resolve(reason)));
    for (let i = 0; i < 1000; i++) r.ws.send(JSON.stringify({ type: 'ping', id: String(i) }));
    expect(String(await closed)).toBe('too many messages; reconnect later');
    expect(pongs).toHaveLength(100);
  });

  it('X-Forwarded-For counts only from a listed proxy', async () => {
    const login = (remoteAddress: string, forwarded: string) =>
      c.app.inject({
        method: 'POST',
        url: '/api/login',
        remoteAddress,
        headers: { 'x-forwarded-for': forwarded },
        payload: { username: 'nobody-xff', password: 'wrong password' },
      });
    await login('127.0.0.9', '198.51.100.7');
    await login('10.0.0.1', '198.51.100.8');
    await c.store.client.indices.refresh({ index: `${c.prefix}-audit-*` });
    const ips = (await c.store.searchAudit({ action: 'login_failed', size: 100 })).entries.map((e) => e.source_ip);
    expect(ips).toContain('127.0.0.9');
    expect(ips).toContain('198.51.100.8');
    expect(ips).not.toContain('198.51.100.7');

    // Rotating X-Forwarded-For from an unlisted address does not get around the per-address login limit.
    const limited = await startConsole(new MemoryBus(), { usersFile: file, trustedProxies: ['10.0.0.1'], loginAttemptsPerMinute: 3 });
    try {
      const codes = [];
      for (let i = 0; i < 6; i++) {
        const res = await limited.app.inject({
          method: 'POST',
          url: '/api/login',
          remoteAddress: '127.0.0.9',
          headers: { 'x-forwarded-for': `198.51.100.${i}` },
          payload: { username: 'nobody-xff', password: 'x' },
        });
        codes.push(res.statusCode);
      }
      expect(codes).toEqual([401, 401, 401, 429, 429, 429]);
    } finally {
      await limited.close();
    }
  });

  it('400 wrong admin passwords from rotating addresses: locked (429), the right password too while locked', async () => {
    const codes = new Map<number, number>();
    for (let i = 0; i < 400; i++) {
      const res = await c.app.inject({
        method: 'POST',
        url: '/api/login',
        remoteAddress: `127.0.${i >> 8}.${i & 255}`,
        payload: { username: 'adam', password: `guess-${i}` },
      });
      codes.set(res.statusCode, (codes.get(res.statusCode) ?? 0) + 1);
    }
    expect(codes.get(401)).toBe(5);
    expect(codes.get(429)).toBe(395);
    const right = await c.app.inject({ method: 'POST', url: '/api/login', remoteAddress: '127.9.9.9', payload: { username: 'adam', password: PASSWORD } });
    expect(right.statusCode).toBe(429);
    expect(Number(right.headers['retry-after'])).toBeGreaterThan(0);
    expect(right.json().error).toBe('locked');
    // Attempts sent all at once do not slip under the limit while their hashes are computed.
    const burst = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        c.app.inject({ method: 'POST', url: '/api/login', remoteAddress: `127.1.0.${i}`, payload: { username: 'nobody-burst', password: `burst-${i}` } }),
      ),
    );
    expect(burst.filter((r) => r.statusCode === 401)).toHaveLength(5);
    // Another account is not locked by adam's.
    expect((await c.app.inject({ method: 'POST', url: '/api/login', payload: { username: 'lan', password: PASSWORD } })).statusCode).toBe(200);
  });

  it('the audit never keeps an unknown user name as typed', async () => {
    const typed = 'Hunter2-is-my-password!';
    const res = await c.app.inject({ method: 'POST', url: '/api/login', payload: { username: typed, password: 'x' } });
    expect(res.statusCode).toBe(401);
    await c.store.client.indices.refresh({ index: `${c.prefix}-audit-*` });
    const all = await c.store.searchAudit({ size: 500 });
    expect(JSON.stringify(all.entries)).not.toContain(typed);
    expect(all.entries.some((e) => e.actor === UNKNOWN_ACTOR && e.action === 'login_failed')).toBe(true);
    expect(all.entries.some((e) => e.actor === 'lan' && e.action === 'login')).toBe(true);
  });

  it('a password change, or removal and re-adding under the same name, ends the sessions and their sockets', async () => {
    writeUsers(file, [...readUsers(file), { username: 'tam', role: 'viewer', hash: await hashPassword(PASSWORD), created_at: new Date().toISOString() }]);
    const before = await c.login('tam');
    const socket = await openSocket(`${url}/ws`, before);
    if (!('ws' in socket)) throw new Error('upgrade refused');
    const closed = new Promise<number>((resolve) => socket.ws.once('close', (code) => resolve(code)));
    const me = (cookie: string) => c.app.inject({ url: '/api/me', headers: { cookie } });
    expect((await me(before)).statusCode).toBe(200);
    const newHash = await hashPassword('a brand new password');
    writeUsers(
      file,
      readUsers(file).map((u) => (u.username === 'tam' ? { ...u, hash: newHash } : u)),
    );
    expect((await me(before)).statusCode).toBe(401);
    expect(await closed).toBe(1008);
    expect(await counter(c, 'wsDropped', 'revoked')).toBe(1);

    const again = await c.app.inject({ method: 'POST', url: '/api/login', payload: { username: 'tam', password: 'a brand new password' } });
    const cookie = `canhgac_session=${again.cookies.find((k) => k.name === 'canhgac_session')!.value}`;
    expect((await me(cookie)).statusCode).toBe(200);
    // Removed, then added again as an admin with the same password: the old viewer session must not become an admin one.
    writeUsers(
      file,
      readUsers(file).filter((u) => u.username !== 'tam'),
    );
    writeUsers(file, [...readUsers(file), { username: 'tam', role: 'admin', hash: newHash, created_at: new Date(Date.now() + 1000).toISOString() }]);
    expect((await me(cookie)).statusCode).toBe(401);
    expect((await c.app.inject({ url: '/api/rules', headers: { cookie } })).statusCode).toBe(401);
  });

  it('logout and actions refuse form posts and foreign origins (CSRF); the session survives them', async () => {
    const cookie = await c.login('rosa');
    const form = await c.app.inject({
      method: 'POST',
      url: '/api/logout',
      headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' },
      payload: '',
    });
    expect(form.statusCode).toBe(415);
    const plain = await c.app.inject({
      method: 'POST',
      url: '/api/incidents/x/actions',
      headers: { cookie, 'content-type': 'text/plain' },
      payload: '{"action":"acknowledge"}',
    });
    expect(plain.statusCode).toBe(415);
    const bare = await c.app.inject({ method: 'POST', url: '/api/logout', headers: { cookie } });
    expect(bare.statusCode).toBe(415);
    const foreign = await c.app.inject({
      method: 'POST',
      url: '/api/logout',
      headers: { cookie, origin: 'https://intranet.example.gov.vn', host: 'soc.example.gov.vn' },
      payload: {},
    });
    expect(foreign.statusCode).toBe(403);
    expect((await c.app.inject({ url: '/api/me', headers: { cookie } })).statusCode).toBe(200);
    const own = await c.app.inject({
      method: 'POST',
      url: '/api/logout',
      headers: { cookie, origin: 'http://soc.example.gov.vn', host: 'soc.example.gov.vn' },
      payload: {},
    });
    expect(own.statusCode).toBe(200);
    expect((await c.app.inject({ url: '/api/me', headers: { cookie } })).statusCode).toBe(401);
  });

  it('/livez answers without a session and says nothing; /api/health needs one; the API is no-store', async () => {
    const live = await c.app.inject({ url: '/livez' });
    expect(live.statusCode).toBe(200);
    expect(live.body).toBe('ok\n');
    expect((await c.app.inject({ url: '/api/health' })).statusCode).toBe(401);
    const cookie = await c.login('vera');
    for (const path of ['/api/me', '/api/health', '/api/incidents', '/livez']) {
      expect((await c.app.inject({ url: path, headers: { cookie } })).headers['cache-control'], path).toBe('no-store');
    }
    expect((await c.app.inject({ method: 'POST', url: '/api/login', payload: { username: 'vera', password: 'x' } })).headers['cache-control']).toBe('no-store');
  });

  it('serves only the page assets: its tests and sources are 404 without a session', async () => {
    for (const path of ['/', '/app.js', '/style.css', '/i18n/vi.json']) expect((await c.app.inject({ url: path })).statusCode, path).toBe(200);
    for (const path of ['/page.test.ts', '/display.int.test.ts', '/../app.ts', '/%2e%2e/app.ts', '/i18n/../page.test.ts']) {
      expect((await c.app.inject({ url: path })).statusCode, path).toBe(404);
    }
  });
});
