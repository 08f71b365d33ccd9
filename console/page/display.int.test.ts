import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryBus } from '../../shared/bus/memory.ts';
import type { IncidentChange } from '../../shared/incident.ts';
import { alertFixture, incidentFixture } from '../../shared/store/fixtures.ts';
import { uniqueName } from '../../test/support/services.ts';
import { PASSWORD, startConsole } from '../test/harness.ts';
import { findChromium } from '../../test/support/chromium.ts';

/** A right-to-left override makes "\u202Eexe.tsoh" display as "host.exe"; zero-width characters display as nothing. */
const RLO_HOST = '\u202Eexe.tsoh';
const ZW_ASSIGNEE = 'mi\u200Bnh';
const BIDI_FILE = 'ClamAV: /home/lan/invoice\u202Efdp.exe: Win.Trojan.Agent FOUND';

describe('hidden characters on the console page (headless Chromium, real Elasticsearch)', () => {
  const bus = new MemoryBus();
  let c: Awaited<ReturnType<typeof startConsole>>;
  let browser: Browser;
  let page: Page;

  beforeAll(async () => {
    c = await startConsole(bus);
    const url = await c.app.listen({ host: '127.0.0.1', port: 0 });
    browser = await chromium.launch({ executablePath: (await findChromium()).path, args: ['--no-sandbox', '--disable-gpu', '--headless'] });
    page = await (await browser.newContext()).newPage();
    await page.goto(url);
    await page.fill('input[name=username]', 'rosa');
    await page.fill('input[name=password]', PASSWORD);
    await page.click('#login-form button[type=submit]');
    await page.waitForSelector('#link-state[data-state=live]');
  });
  afterAll(async () => {
    await browser?.close();
    await c?.close();
  });

  it('shows bidi and zero-width characters in hosts, users and file names escaped, never applied', async () => {
    const now = new Date().toISOString();
    const inc = incidentFixture({ id: uniqueName('bidi'), first_seen: now, last_seen: now, host: [RLO_HOST], assignee: ZW_ASSIGNEE, version: 1 });
    const alert = alertFixture(inc, 0);
    await c.store.writeAlerts([{ ...alert, '@timestamp': now, events: [{ ...alert.events[0], event: { kind: 'event', original: BIDI_FILE } }] }], {
      refresh: true,
    });
    const { incident } = await c.store.upsertIncident(inc, { refresh: true });
    const producer = await bus.producer();
    await producer.send(c.topic, [{ key: incident.id, value: JSON.stringify({ type: 'created', at: now, incident } satisfies IncidentChange) }]);

    const row = await page.waitForSelector(`#incidents tr[data-id="${incident.id}"]`);
    const hosts = await row.$eval('td.hosts', (td) => ({ text: td.textContent, shown: (td as HTMLElement).innerText }));
    expect(hosts.text).toBe('\\u202Eexe.tsoh');
    expect(hosts.shown).not.toContain('host.exe');
    expect(hosts.text).not.toMatch(/[\u202A-\u202E\u2066-\u2069\u200B-\u200F]/);

    await row.click();
    await page.waitForSelector(`#detail[data-id="${incident.id}"] pre.raw`);
    expect(await page.textContent('#detail-facts dd[data-fact=assignee]')).toBe('mi\\u200Bnh');
    expect(await page.textContent('#detail-facts dd[data-fact=hosts]')).toBe('\\u202Eexe.tsoh');
    const raw = await page.$eval('#detail-events pre.raw', (p) => (p as HTMLElement).innerText);
    expect(raw).toBe('ClamAV: /home/lan/invoice\\u202Efdp.exe: Win.Trojan.Agent FOUND');
    expect(raw).not.toContain('exe.pdf');
  });
});
