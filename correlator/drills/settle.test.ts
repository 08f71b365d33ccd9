import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EmbeddedIncidentStore } from '../../shared/store/embedded.ts';
import { incidentFixture } from '../../shared/store/fixtures.ts';
import { purgeDrill } from './purge.ts';
import { replayEnded } from './test/replay-entry.ts';
import { lastDrillChange, untilDrillQuiet } from './settle.ts';

/**
 * A deployment's purge and score cannot ask the correlators whether a drill is closed: they wait until
 * nothing of it changed for a while. Here the store stands in for Elasticsearch and the test writes what
 * a correlator writes when it closes a drill's last windows, a moment after the replay ended.
 */
const dir = mkdtempSync(join(tmpdir(), 'drill-settle-'));
const store = new EmbeddedIncidentStore(dir);
beforeAll(() => store.init());
afterAll(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

const replayed = (drillId: string, at: Date) => store.appendAudit(replayEnded(drillId, at));

/** What the correlator writes for a drill: an incident, changed now. */
const written = (drillId: string, n: number) =>
  store.upsertIncident(incidentFixture({ id: `${drillId}-${n}`, group_key: `source.ip=203.0.113.${n}`, drill: drillId, updated_at: new Date().toISOString() }));

describe('drills of a deployment: purge and score wait until the drill is quiet', () => {
  it('goes at once for a drill that finished long ago, or one the store knows nothing of', async () => {
    const changed = new Date(Date.now() - 50_000);
    await replayed('d-old', new Date(changed.getTime() - 10_000));
    await store.upsertIncident(incidentFixture({ id: 'd-old-1', drill: 'd-old', updated_at: changed.toISOString() }));
    expect(await lastDrillChange(store, 'd-old')).toBe(changed.getTime());
    const waits: number[] = [];
    const began = Date.now();
    expect(await untilDrillQuiet(store, 'd-old', { quietMs: 5000, onWait: (ms) => waits.push(ms) })).toBe(true);
    expect(await untilDrillQuiet(store, 'd-unknown', { quietMs: 5000, onWait: (ms) => waits.push(ms) })).toBe(true);
    expect(Date.now() - began).toBeLessThan(2000);
    expect(waits).toEqual([]);
    expect(await lastDrillChange(store, 'd-unknown')).toBe(-Infinity);
  });

  it('a purge right after a replay waits for the incident the correlator writes a moment later, and removes it', async () => {
    await replayed('d-late', new Date());
    const late = new Promise((r) => setTimeout(r, 300)).then(() => written('d-late', 1));
    const waits: number[] = [];
    expect(await untilDrillQuiet(store, 'd-late', { quietMs: 800, timeoutMs: 10_000, onWait: (ms) => waits.push(ms) })).toBe(true);
    await late;
    expect(waits).toHaveLength(1);
    // Quiet counts from the late write, not from the replay.
    expect(Date.now() - (await lastDrillChange(store, 'd-late'))).toBeGreaterThanOrEqual(800);
    expect(await purgeDrill(store, 'd-late', 'cli:test')).toEqual({ alerts: 0, incidents: 1 });
    expect((await store.searchIncidents({ drill: 'd-late' })).total).toBe(0);
  });

  it('gives up when the drill keeps changing', async () => {
    let n = 0;
    await written('d-busy', n++);
    const writer = setInterval(() => void written('d-busy', n++), 100);
    try {
      expect(await untilDrillQuiet(store, 'd-busy', { quietMs: 500, timeoutMs: 1200 })).toBe(false);
    } finally {
      clearInterval(writer);
    }
  });
});
