import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { MemoryBus } from '../shared/bus/memory.ts';
import { alertFixture, incidentFixture } from '../shared/store/fixtures.ts';
import { readUsers, writeUsers } from './auth/users-file.ts';
import { PASSWORD, startConsole, usersFile } from './test/harness.ts';

type Started = Awaited<ReturnType<typeof startConsole>>;

/** Every route but login and the static page, with the least role it needs and a valid request. */
const ROUTES = [
  { method: 'GET', url: '/api/incidents', role: 'viewer' },
  { method: 'GET', url: '/api/incidents/route-inc-1', role: 'viewer' },
  { method: 'GET', url: '/api/alerts/histogram', role: 'viewer' },
  { method: 'GET', url: '/api/me', role: 'viewer' },
  { method: 'POST', url: '/api/logout', role: 'viewer', payload: {} },
  { method: 'GET', url: '/api/health', role: 'viewer' },
  { method: 'GET', url: '/api/openapi.json', role: 'viewer' },
  { method: 'GET', url: '/ws', role: 'viewer' },
  { method: 'POST', url: '/api/incidents/route-inc-1/actions', role: 'responder', payload: { action: 'comment', note: 'looking' } },
  { method: 'POST', url: '/api/incidents/actions', role: 'responder', payload: { action: 'acknowledge', ids: ['route-inc-1'] } },
  { method: 'GET', url: '/api/users', role: 'responder' },
  { method: 'GET', url: '/api/handover?since=2026-01-01T00:00:00Z', role: 'viewer' },
  { method: 'GET', url: '/api/handover.html?since=2026-01-01T00:00:00Z', role: 'viewer' },
  { method: 'GET', url: '/api/rules', role: 'admin' },
  { method: 'GET', url: '/api/rules/texts', role: 'viewer' },
  { method: 'GET', url: '/metrics', role: 'admin' },
] as const;

const LOWER = { viewer: [], responder: ['vera'], admin: ['vera', 'rosa'] } as const;

describe('console routes (real Elasticsearch, in-memory bus)', () => {
  let c: Started;
  let file: string;
  const cookies: Record<string, string> = {};

  beforeAll(async () => {
    file = await usersFile([{ username: 'gone', role: 'admin' }]);
    c = await startConsole(new MemoryBus(), { usersFile: file, metricsToken: 'prometheus-scrape-token-0123' });
    await c.app.ready();
    const inc = incidentFixture({ id: 'route-inc-1' });
    await c.store.upsertIncident(inc, { refresh: true });
    await c.store.writeAlerts([alertFixture(inc, 0), alertFixture(inc, 1)], { refresh: true });
    for (const u of ['vera', 'rosa', 'adam', 'gone']) cookies[u] = await c.login(u);
  });
  afterAll(async () => c?.close());

  it('lists its routes in the OpenAPI description', async () => {
    const res = await c.app.inject({ url: '/api/openapi.json', headers: { cookie: cookies.vera } });
    const paths = Object.keys(res.json().paths);
    expect(paths).toEqual(
      expect.arrayContaining([
        '/api/login',
        '/api/incidents',
        '/api/incidents/{id}',
        '/api/incidents/{id}/actions',
        '/api/incidents/actions',
        '/api/users',
        '/api/handover',
        '/api/handover.html',
        '/api/rules',
        '/api/rules/texts',
        '/api/health',
        '/metrics',
      ]),
    );
    expect(res.json().paths['/api/incidents/{id}/actions'].post.requestBody).toBeDefined();
  });

  for (const r of ROUTES) {
    it(`${r.method} ${r.url}: 401 without a session, 403 below ${r.role}`, async () => {
      const payload = 'payload' in r ? r.payload : undefined;
      const anon = await c.app.inject({ method: r.method, url: r.url, payload });
      expect(anon.statusCode).toBe(401);
      const forged = await c.app.inject({ method: r.method, url: r.url, payload, headers: { cookie: 'canhgac_session=forged' } });
      expect(forged.statusCode).toBe(401);
      for (const who of LOWER[r.role]) {
        const res = await c.app.inject({ method: r.method, url: r.url, payload, headers: { cookie: cookies[who] } });
        expect(res.statusCode, `${who} on ${r.url}`).toBe(403);
      }
    });
  }

  it('bad bodies and queries are 400 with the field named', async () => {
    const bad = async (method: 'GET' | 'POST', url: string, payload?: unknown, who = 'rosa') =>
      (await c.app.inject({ method, url, payload: payload as object, headers: { cookie: cookies[who] } })).json();
    expect(await bad('POST', '/api/login', { username: 'rosa' })).toMatchObject({ field: 'body.password' });
    expect(await bad('POST', '/api/incidents/route-inc-1/actions', { action: 'dance' })).toMatchObject({ field: 'body.action' });
    expect(await bad('POST', '/api/incidents/route-inc-1/actions', { action: 'assign' })).toMatchObject({ field: 'body.assignee' });
    expect(await bad('POST', '/api/incidents/route-inc-1/actions', { action: 'comment', note: '' })).toMatchObject({ field: 'body.note' });
    expect(await bad('POST', '/api/incidents/route-inc-1/actions', { action: 'acknowledge', extra: 1 })).toMatchObject({ error: 'bad_request' });
    expect(await bad('GET', '/api/incidents?status=bogus')).toMatchObject({ field: 'querystring.status' });
    expect(await bad('GET', '/api/incidents?layer=7')).toMatchObject({ field: 'querystring.layer' });
    expect(await bad('GET', '/api/incidents?from=yesterday')).toMatchObject({ field: 'querystring.from' });
    expect(await bad('GET', '/api/incidents?page=500&size=500')).toMatchObject({ field: 'querystring.page' });
    expect(await bad('GET', '/api/alerts/histogram?minutes=99999')).toMatchObject({ field: 'querystring.minutes' });
    expect(await bad('GET', '/ws?since=nonsense')).toMatchObject({ field: 'querystring.since' });
    const notJson = await c.app.inject({
      method: 'POST',
      url: '/api/incidents/route-inc-1/actions',
      payload: '{"action":',
      headers: { cookie: cookies.rosa, 'content-type': 'application/json' },
    });
    expect(notJson.statusCode).toBe(400);
  });

  it('login: wrong password 401, the cookie HttpOnly and SameSite=Strict, security headers set', async () => {
    const wrong = await c.app.inject({ method: 'POST', url: '/api/login', payload: { username: 'rosa', password: 'nope' } });
    expect(wrong.statusCode).toBe(401);
    const unknown = await c.app.inject({ method: 'POST', url: '/api/login', payload: { username: 'nobody', password: 'nope' } });
    expect(unknown.statusCode).toBe(401);
    const ok = await c.app.inject({ method: 'POST', url: '/api/login', payload: { username: 'rosa', password: PASSWORD } });
    expect(ok.json()).toEqual({ username: 'rosa', role: 'responder' });
    const set = String(ok.headers['set-cookie']);
    expect(set).toMatch(/HttpOnly/);
    expect(set).toMatch(/SameSite=Strict/);
    expect(set).not.toMatch(/Secure/);
    expect(ok.headers['content-security-policy']).toMatch(/default-src 'self'/);
    expect(ok.headers['x-content-type-options']).toBe('nosniff');
    expect(ok.headers['x-frame-options']).toBeDefined();
  });

  it('reads incidents: search with filters, one with its alerts and events, 404 for an unknown id', async () => {
    const list = await c.app.inject({ url: '/api/incidents?status=new&status=acknowledged&drill=none&q=brute', headers: { cookie: cookies.vera } });
    expect(list.json().incidents.map((i: { id: string }) => i.id)).toContain('route-inc-1');
    const one = await c.app.inject({ url: '/api/incidents/route-inc-1', headers: { cookie: cookies.vera } });
    expect(one.json().alerts).toHaveLength(2);
    expect(one.json().events[0].event.event.original).toMatch(/SRC=203.0.113.7/);
    expect((await c.app.inject({ url: '/api/incidents/nope', headers: { cookie: cookies.vera } })).statusCode).toBe(404);
  });

  it('acts on an incident: store, audit (who, what, when, from where, before, after) and the hub see it; impossible actions are 409', async () => {
    const inc = incidentFixture({ id: 'route-act-1' });
    await c.store.upsertIncident(inc);
    const act = (payload: object) => c.app.inject({ method: 'POST', url: '/api/incidents/route-act-1/actions', payload, headers: { cookie: cookies.rosa } });
    const ack = await act({ action: 'acknowledge', note: 'on it' });
    expect(ack.statusCode).toBe(200);
    expect(ack.json().incident).toMatchObject({ status: 'acknowledged', version: 2 });
    expect(ack.json().incident.timeline.at(-1)).toMatchObject({ actor: 'rosa', action: 'acknowledge', note: 'on it', from: 'new', to: 'acknowledged' });
    expect((await act({ action: 'acknowledge' })).statusCode).toBe(409);
    expect((await act({ action: 'assign', assignee: 'adam' })).json().incident.assignee).toBe('adam');
    const escalated = (await act({ action: 'escalate', reason: 'needs the provincial team' })).json().incident;
    expect(escalated).toMatchObject({ layer: 3, status: 'new', assignee: null });
    expect(escalated.timeline.at(-1)).toMatchObject({ action: 'escalate', reason: 'needs the provincial team' });
    expect((await act({ action: 'resolve', reason: 'host reimaged' })).json().incident.status).toBe('resolved');
    expect((await act({ action: 'escalate', reason: 'again' })).statusCode).toBe(409);
    expect((await act({ action: 'comment', note: 'closing note' })).statusCode).toBe(200);
    expect(
      (
        await c.app.inject({
          method: 'POST',
          url: '/api/incidents/nope/actions',
          payload: { action: 'resolve', reason: 'x' },
          headers: { cookie: cookies.rosa },
        })
      ).statusCode,
    ).toBe(404);

    await c.store.client.indices.refresh({ index: `${c.prefix}-audit-*` });
    const audit = await c.store.searchAudit({ incident_id: 'route-act-1' });
    expect(audit.entries.map((e) => e.action).sort()).toEqual(['acknowledge', 'assign', 'comment', 'escalate', 'resolve']);
    expect(audit.entries.find((e) => e.action === 'resolve')!.after).toMatchObject({
      timeline: expect.arrayContaining([expect.objectContaining({ reason: 'host reimaged' })]),
    });
    const ackEntry = audit.entries.find((e) => e.action === 'acknowledge')!;
    expect(ackEntry).toMatchObject({
      actor: 'rosa',
      source_ip: '127.0.0.1',
      before: { status: 'new', version: 1 },
      after: { status: 'acknowledged', version: 2 },
    });
    const logins = await c.store.searchAudit({ action: 'login_failed' });
    expect(logins.total).toBeGreaterThanOrEqual(1);
    await vi.waitFor(() => expect(c.ctx.hub.openIncidents().find((i) => i.id === 'route-act-1')).toBeUndefined(), { timeout: 5000, interval: 10 });
  });

  it('escalate, resolve and false positive need a reason; an assignee must be a user (400 otherwise)', async () => {
    await c.store.upsertIncident(incidentFixture({ id: 'route-reason-1' }));
    const act = (payload: object) => c.app.inject({ method: 'POST', url: '/api/incidents/route-reason-1/actions', payload, headers: { cookie: cookies.rosa } });
    for (const action of ['escalate', 'resolve', 'false_positive']) {
      const res = await act({ action });
      expect(res.statusCode, action).toBe(400);
      expect(res.json()).toMatchObject({ field: 'body.reason' });
      expect((await act({ action, reason: '   ' })).statusCode, `${action} with a blank reason`).toBe(400);
    }
    const unknown = await act({ action: 'assign', assignee: 'nobody-here' });
    expect(unknown.statusCode).toBe(400);
    expect(unknown.json()).toMatchObject({ error: 'unknown_assignee', field: 'body.assignee' });
    expect((await c.store.getIncident('route-reason-1'))!.assignee).toBeNull();
    const users = await c.app.inject({ url: '/api/users', headers: { cookie: cookies.rosa } });
    expect(users.json().users).toEqual(
      expect.arrayContaining([
        { username: 'rosa', role: 'responder' },
        { username: 'vera', role: 'viewer' },
      ]),
    );
    expect(JSON.stringify(users.json())).not.toMatch(/scrypt/);
  });

  it('bulk acknowledge and assign: one result per id, unknown ids and refused ones named', async () => {
    await c.store.upsertIncidents([incidentFixture({ id: 'route-bulk-1' }), incidentFixture({ id: 'route-bulk-2', status: 'acknowledged' })]);
    const bulk = (payload: object) => c.app.inject({ method: 'POST', url: '/api/incidents/actions', payload, headers: { cookie: cookies.rosa } });
    const ack = await bulk({ action: 'acknowledge', ids: ['route-bulk-1', 'route-bulk-2', 'route-bulk-none'] });
    expect(ack.json().results.map((r: { id: string; ok: boolean; error?: string }) => [r.id, r.ok, r.error])).toEqual([
      ['route-bulk-1', true, undefined],
      ['route-bulk-2', false, 'refused'],
      ['route-bulk-none', false, 'not_found'],
    ]);
    expect((await bulk({ action: 'assign', ids: ['route-bulk-1'], assignee: 'ghost' })).statusCode).toBe(400);
    const assigned = await bulk({ action: 'assign', ids: ['route-bulk-1', 'route-bulk-2'], assignee: 'rosa' });
    expect(assigned.json().results.every((r: { ok: boolean }) => r.ok)).toBe(true);
    expect((await c.store.getIncident('route-bulk-2'))!.assignee).toBe('rosa');
    expect((await bulk({ action: 'resolve', ids: ['route-bulk-1'] })).statusCode).toBe(400);
  });

  it('handover: what came in since a time, what is open, what is overdue', async () => {
    const since = new Date(Date.now() - 3600_000).toISOString();
    const past = new Date(Date.now() - 60_000).toISOString();
    await c.store.upsertIncidents(
      [
        incidentFixture({ id: 'route-shift-late', first_seen: past, last_seen: past, ack_due: past, status: 'new' }),
        incidentFixture({
          id: 'route-shift-old',
          first_seen: '2026-01-01T00:00:00.000Z',
          last_seen: '2026-01-01T00:10:00.000Z',
          status: 'acknowledged',
          ack_due: null,
          report_due: null,
        }),
      ],
      { refresh: true },
    );
    const res = await c.app.inject({ url: `/api/handover?since=${encodeURIComponent(since)}`, headers: { cookie: cookies.vera } });
    const ids = (k: string) => res.json()[k].map((i: { id: string }) => i.id);
    expect(ids('came_in')).toContain('route-shift-late');
    expect(ids('came_in')).not.toContain('route-shift-old');
    expect(ids('open')).toEqual(expect.arrayContaining(['route-shift-late', 'route-shift-old']));
    expect(ids('overdue')).toContain('route-shift-late');
    expect(ids('overdue')).not.toContain('route-shift-old');

    // The same summary as a printable page, in the user's language and zone, styled like canhgac report.
    const print = (query: string, headers: Record<string, string> = {}) =>
      c.app.inject({ url: `/api/handover.html?since=${encodeURIComponent(since)}${query}`, headers: { cookie: cookies.vera, ...headers } });
    const en = await print('&tz=Asia/Ho_Chi_Minh');
    expect(en.statusCode).toBe(200);
    expect(en.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(en.headers['content-security-policy']).toMatch(/^default-src 'none'; style-src 'sha256-[A-Za-z0-9+/=]+'/);
    expect(en.body).toMatch(/^<!doctype html>\n<html lang="en">/);
    expect(en.body).toContain('<h1>Shift handover</h1>');
    expect(en.body).not.toMatch(/<script|src=|href=/);
    const section = (html: string, key: string) => html.slice(html.indexOf(`data-section="${key}"`)).split('<h2')[0]!;
    expect(section(en.body, 'overdue')).toContain('data-id="route-shift-late"');
    expect(section(en.body, 'overdue')).not.toContain('route-shift-old');
    expect(section(en.body, 'open')).toContain('data-id="route-shift-old"');
    expect(section(en.body, 'came_in')).not.toContain('route-shift-old');
    expect(en.body).toMatch(/SSH brute force against a shared server/);
    expect(en.body).toMatch(/GMT\+7|ICT/);
    expect(en.body).toContain('by vera');
    // Vietnamese from the browser's language: headings, statuses and the rule's vi: title.
    const vi = await print('&tz=Asia/Ho_Chi_Minh', { 'accept-language': 'vi-VN,vi;q=0.9' });
    expect(vi.body).toMatch(/^<!doctype html>\n<html lang="vi">/);
    expect(vi.body).toContain('<h1>Bàn giao ca</h1>');
    expect(section(vi.body, 'overdue')).toContain('Quá hạn');
    expect(vi.body).toContain('Dò mật khẩu SSH');
    expect(vi.body).not.toContain('SSH brute force against');
    expect((await print('&lang=en', { 'accept-language': 'vi-VN' })).body).toContain('<h1>Shift handover</h1>');
    expect((await print('&tz=Mars/Olympus')).json()).toMatchObject({ field: 'querystring.tz' });
  });

  it('rules for admins from the provider; health; metrics for admins or the scrape token', async () => {
    const rules = await c.app.inject({ url: '/api/rules', headers: { cookie: cookies.adam } });
    expect(rules.json().rules[0]).toMatchObject({ id: 'r-ssh-brute', lint: { state: 'ok' } });
    const texts = await c.app.inject({ url: '/api/rules/texts', headers: { cookie: cookies.vera } });
    expect(texts.json().rules['r-ssh-brute']).toMatchObject({ title: 'SSH brute force', vi: { title: 'Dò mật khẩu SSH' } });
    const health = await c.app.inject({ url: '/api/health', headers: { cookie: cookies.vera } });
    expect(health.json()).toMatchObject({ status: 'ok', store: 'ok', feed: 'joined' });
    const m = await c.app.inject({ url: '/metrics', headers: { authorization: 'Bearer prometheus-scrape-token-0123' } });
    expect(m.statusCode).toBe(200);
    expect(m.body).toMatch(/canhgac_console_actions_total\{action="acknowledge"\} [1-9]/);
    expect((await c.app.inject({ url: '/metrics', headers: { authorization: 'Bearer wrong' } })).statusCode).toBe(401);
  });

  it('a user removed from the users file loses the session at once; logout ends it', async () => {
    const before = await c.app.inject({ url: '/api/me', headers: { cookie: cookies.gone } });
    expect(before.statusCode).toBe(200);
    writeUsers(
      file,
      readUsers(file).filter((u) => u.username !== 'gone'),
    );
    expect((await c.app.inject({ url: '/api/me', headers: { cookie: cookies.gone } })).statusCode).toBe(401);
    const mine = await c.login('vera');
    expect((await c.app.inject({ method: 'POST', url: '/api/logout', payload: {}, headers: { cookie: mine } })).statusCode).toBe(200);
    expect((await c.app.inject({ url: '/api/me', headers: { cookie: mine } })).statusCode).toBe(401);
  });

  it('serves the page without a session', async () => {
    const page = await c.app.inject({ url: '/' });
    expect(page.statusCode).toBe(200);
    expect(page.body).toMatch(/<html/);
  });
});

describe('console login limits and cookies', () => {
  it('rate-limits login attempts; Secure cookies behind TLS', async () => {
    const c = await startConsole(new MemoryBus(), { loginAttemptsPerMinute: 3, behindTlsProxy: true });
    try {
      await c.app.ready();
      const codes = [];
      for (let i = 0; i < 5; i++)
        codes.push((await c.app.inject({ method: 'POST', url: '/api/login', payload: { username: 'rosa', password: i === 0 ? PASSWORD : 'x' } })).statusCode);
      expect(codes).toEqual([200, 401, 401, 429, 429]);
      const ok = await c.app.inject({ method: 'POST', url: '/api/login', payload: { username: 'rosa', password: PASSWORD }, remoteAddress: '10.9.9.9' });
      expect(String(ok.headers['set-cookie'])).toMatch(/Secure/);
    } finally {
      await c.close();
    }
  });
});
