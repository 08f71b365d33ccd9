import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KafkaBus } from '../../shared/bus/kafka.ts';
import type { BusProducer } from '../../shared/bus/types.ts';
import { KafkaConfigSchema } from '../../shared/config.ts';
import type { Incident } from '../../shared/incident.ts';
import { createLogger } from '../../shared/log.ts';
import { alertFixture, incidentFixture } from '../../shared/store/fixtures.ts';
import { kafkaBrokers, uniqueName } from '../../test/support/services.ts';
import { findChromium } from '../../test/support/chromium.ts';
import { PASSWORD, startConsole, usersFile, waitFor } from '../test/harness.ts';

const ARTIFACTS = join(process.cwd(), 'test-artifacts');
const HOSTILE = `sshd[812]: Failed password for <script>window.__pwned=1</script> from 203.0.113.7 <img src=x onerror="window.__pwned=2">`;

describe('console page in headless Chromium (real Kafka and Elasticsearch)', () => {
  const bus = new KafkaBus(KafkaConfigSchema.parse({ brokers: kafkaBrokers() }), createLogger('page-test'));
  let c: Awaited<ReturnType<typeof startConsole>>;
  let producer: BusProducer;
  let browser: Browser;
  let url: string;
  const pages: Page[] = [];
  const figures: string[] = [];

  /** What the correlator does: the store first, then the change on soc.incidents. */
  async function correlatorWrites(over: Partial<Incident>, lines: string[]): Promise<{ incident: Incident; at: number; published: number }> {
    const now = new Date().toISOString();
    const inc = incidentFixture({ id: uniqueName('page'), first_seen: now, last_seen: now, ...over });
    const alerts = lines.map((line, n) => {
      const a = alertFixture(inc, n);
      return { ...a, '@timestamp': now, events: [{ ...a.events[0], event: { kind: 'event', action: 'deny', original: line } }] };
    });
    const at = Date.now();
    await c.store.writeAlerts(alerts);
    const { incident } = await c.store.upsertIncident(inc);
    const published = Date.now();
    await producer.send(c.topic, [{ key: incident.id, value: JSON.stringify({ type: 'created', at: new Date().toISOString(), incident }) }]);
    return { incident, at, published };
  }

  /** When the row first appeared on the page (the page stamps it), or the time a condition became true. */
  const shownAt = (page: Page, id: string) =>
    page.waitForSelector(`#incidents tr[data-id="${id}"]`, { timeout: 5000 }).then(async (row) => Number(await row.getAttribute('data-shown-at')));
  const whenAcknowledged = (page: Page, id: string) =>
    page
      .waitForFunction(
        (id) => (document.querySelector<HTMLElement>(`#incidents tr[data-id="${id}"]`)?.dataset.status === 'acknowledged' ? Date.now() : false),
        id,
        { timeout: 5000, polling: 'raf' },
      )
      .then((h) => h.jsonValue() as Promise<number>);

  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    c = await startConsole(bus, { usersFile: await usersFile([{ username: 'rita', role: 'responder' }]) });
    url = await c.app.listen({ host: '127.0.0.1', port: 0 });
    producer = await bus.producer();
    browser = await chromium.launch({
      executablePath: (await findChromium()).path,
      args: ['--no-sandbox', '--disable-background-networking', '--disable-gpu', '--headless'],
    });
    for (const user of ['rosa', 'rita']) {
      const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
      const page = await context.newPage();
      page.on('pageerror', (err) => process.stderr.write(`[page ${user}] ${err.message}\n`));
      await page.goto(url);
      await page.fill('input[name=username]', user);
      await page.fill('input[name=password]', PASSWORD);
      await page.click('#login-form button[type=submit]');
      await page.waitForSelector('#link-state[data-state=live]');
      pages.push(page);
    }
  });

  afterAll(async () => {
    if (figures.length) process.stderr.write(`[page] ${figures.join('; ')}\n`);
    await browser?.close();
    await producer?.close();
    await c?.close();
  });

  it('two responders see a new incident within a second; one acknowledges, the other sees it within a second', async () => {
    const [p1, p2] = pages as [Page, Page];
    // The first incident of a fresh index prefix meets cold caches; the second shows the steady state.
    const warm = await correlatorWrites({}, ['first line']);
    const [w1, w2] = await Promise.all([shownAt(p1, warm.incident.id), shownAt(p2, warm.incident.id)]);
    figures.push(
      `first incident (fresh indices): store write start to display ${w1 - warm.at} / ${w2 - warm.at} ms, publish to display ${w1 - warm.published} / ${w2 - warm.published} ms`,
    );
    expect(Math.max(w1, w2) - warm.at).toBeLessThan(1000);
    const { incident, at, published } = await correlatorWrites(
      { rule: { id: 'r-ssh', title: 'SSH brute force <b>bold?</b>', level: 'high', layer: 2 }, drill: null },
      [HOSTILE, 'second line'],
    );
    const [s1, s2] = await Promise.all([shownAt(p1, incident.id), shownAt(p2, incident.id)]);
    figures.push(`second incident: store write start to display ${s1 - at} / ${s2 - at} ms, publish to display ${s1 - published} / ${s2 - published} ms`);
    expect(Math.max(s1, s2) - at).toBeLessThan(1000);
    expect(await p1.textContent(`#incidents tr[data-id="${incident.id}"]`)).toContain('<b>bold?</b>');

    await p1.click(`#incidents tr[data-id="${incident.id}"]`);
    await p1.waitForSelector(`#detail[data-id="${incident.id}"] pre.raw`);
    const clicked = Date.now();
    await p1.click('#action-buttons button[data-action=acknowledge]');
    const seen = await whenAcknowledged(p2, incident.id);
    figures.push(`acknowledge on one page to display on the other ${seen - clicked} ms`);
    expect(seen - clicked).toBeLessThan(1000);
    await p1.waitForSelector(`#detail[data-status=acknowledged]`);
    await p1.screenshot({ path: join(ARTIFACTS, 'console-detail.png'), fullPage: true });
  });

  it('renders log lines as text: <script> and <img onerror> show, nothing runs', async () => {
    const p1 = pages[0]!;
    const raw = await p1.$$eval('#detail-events pre.raw', (nodes) => nodes.map((n) => n.textContent));
    expect(raw).toContain(HOSTILE);
    expect(await p1.$$eval('#detail script, #detail img, #incidents img, #incidents b', (n) => n.length)).toBe(0);
    expect(await p1.evaluate(() => (window as unknown as { __pwned?: number }).__pwned)).toBeUndefined();
  });

  it('after the WebSocket is killed the page reconnects and shows an incident created while it was down', async () => {
    const snapshotsBefore = (await c.ctx.metrics.snapshots.get()).values.find((v) => v.labels.reason === 'unknown_cursor')?.value ?? 0;
    for (const s of c.app.websocketServer.clients) s.terminate();
    await waitFor(() => c.ctx.hub.clientCount === 0, 5000, 'sockets closed');
    const { incident, at } = await correlatorWrites({ drill: 'drill-7', unit: 'so-yte' }, ['written while the stream was down']);
    expect(c.ctx.hub.clientCount).toBe(0);
    const shown = await Promise.all(pages.map((p) => shownAt(p, incident.id)));
    figures.push(`incident written while disconnected shown ${Math.max(...shown) - at} ms after the write (reconnect backoff included)`);
    for (const p of pages) {
      await p.waitForSelector('#link-state[data-state=live]');
      expect(await p.textContent(`#incidents tr[data-id="${incident.id}"] .badge.drill`)).toContain('drill-7');
    }
    // New alerts redraw the alerts-per-minute chart (at most every 5 s); its title carries the hour's total.
    await pages[1]!.waitForFunction(() => Number(document.querySelector('#chart')?.getAttribute('title') ?? 0) >= 4, undefined, { timeout: 10_000 });
    await pages[1]!.screenshot({ path: join(ARTIFACTS, 'console-list.png'), fullPage: true });
    // Resumed from the cursor: no client needed a full snapshot.
    const snapshotsAfter = (await c.ctx.metrics.snapshots.get()).values.find((v) => v.labels.reason === 'unknown_cursor')?.value ?? 0;
    expect(snapshotsAfter).toBe(snapshotsBefore);
  });

  it('shows closed incidents from before the page opened when the status filter asks for them', async () => {
    const p2 = pages[1]!;
    const old = incidentFixture({
      id: uniqueName('closed'),
      status: 'resolved',
      first_seen: '2026-01-05T00:00:00.000Z',
      last_seen: '2026-01-05T01:00:00.000Z',
    });
    await c.store.upsertIncident(old, { refresh: true });
    expect(await p2.$(`#incidents tr[data-id="${old.id}"]`)).toBeNull();
    await p2.selectOption('#filters select[name=status]', 'resolved');
    await p2.waitForSelector(`#incidents tr[data-id="${old.id}"][data-status=resolved]`, { timeout: 5000 });
    await p2.selectOption('#filters select[name=status]', 'open');
    await p2.waitForSelector(`#incidents tr[data-id="${old.id}"]`, { state: 'detached', timeout: 5000 });
  });

  it('a viewer sees the incidents but no action buttons', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(url);
    await page.fill('input[name=username]', 'vera');
    await page.fill('input[name=password]', PASSWORD);
    await page.click('#login-form button[type=submit]');
    const row = await page.waitForSelector('#incidents tbody tr');
    await row.click();
    await page.waitForSelector('#detail:not([hidden])');
    expect(await page.isHidden('#actions')).toBe(true);
    await context.close();
  });

  it('switches to Vietnamese with every label from the message file', async () => {
    const p2 = pages[1]!;
    await p2.click('#lang');
    await p2.waitForFunction(() => document.documentElement.lang === 'vi');
    expect(await p2.textContent('#filters')).toContain('Trạng thái');
    expect(await p2.textContent('#link-state')).toBe('trực tuyến');
    await p2.click('#lang');
  });
});
