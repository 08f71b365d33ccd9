import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { MemoryBus } from '../../shared/bus/memory.ts';
import { createLogger } from '../../shared/log.ts';
import { EmbeddedIncidentStore } from '../../shared/store/embedded.ts';
import { topicNames } from '../../shared/topics.ts';
import { loadRuleSet } from '../../correlator/detection/ruleset.ts';
import { correlatorFor } from '../../correlator/test/harness.ts';
import { BUNDLED_RULES } from './config.ts';
import { callControl, startControlSocket } from './control.ts';

/**
 * The control socket of `canhgac start` over the real correlator (in-memory bus, embedded store), with
 * the stand-in rules of the bundled drills. The correlator closes a drill's last windows on its timer
 * about 2 s after the replay went quiet, so a purge or a score asked for right after the replay would,
 * without waiting, run before the drill's last incidents are written.
 */
const RULES = join(import.meta.dirname, '..', '..', 'correlator', 'drills', 'bundled', 'testdata', 'rules');
const RECORDING = join(BUNDLED_RULES, 'drills', 'ssh-brute-force', 'recording.ndjson.gz');
const log = createLogger('control-test');

async function running(settleMs?: number) {
  const { findings } = loadRuleSet([RULES]);
  expect(findings.filter((f) => f.severity === 'error')).toEqual([]);
  const dataDir = mkdtempSync(join(tmpdir(), 'canhgac-control-'));
  const bus = new MemoryBus(3);
  const store = new EmbeddedIncidentStore(join(dataDir, 'store'));
  const topics = topicNames();
  const correlator = correlatorFor(bus, store, topics, 'control-test', { rules: [RULES], eventsPerAlert: 5, tickMs: 200, log });
  await correlator.start();
  const producer = await bus.producer();
  const control = await startControlSocket({
    dataDir,
    store,
    producer,
    rawTopic: topics.raw,
    incidentsTopic: topics.incidents,
    drillSettled: (id) => correlator.drillSettled(id),
    settleMs,
    log,
  });
  const stop = async () => {
    await control.close();
    await correlator.stop();
    await producer.close();
    await store.close();
    rmSync(dataDir, { recursive: true, force: true });
  };
  return { dataDir, store, correlator, stop };
}

let stops: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const stop of stops) await stop();
  stops = [];
});

const replay = (dataDir: string, drillId: string) =>
  callControl(dataDir, '/drills/replay', { recording: RECORDING, speed: 'max', drillId, rebase: 'now', actor: 'test' });

describe('canhgac start: drill commands on the control socket', () => {
  it('a purge right after a replay waits for its last windows: nothing of the drill comes back', { timeout: 60_000 }, async () => {
    const s = await running();
    stops.push(s.stop);
    const drillId = 'drill-purged';
    await replay(s.dataDir, drillId);
    // Still open: the windows close on the correlator's timer once the drill has been quiet for 2 s.
    expect(await s.correlator.drillClosed(drillId)).toBe(false);
    const removed = await callControl<{ alerts: number; incidents: number }>(s.dataDir, '/drills/purge', { drillId, actor: 'test' });
    expect(removed.incidents).toBeGreaterThan(0);
    expect(removed.alerts).toBeGreaterThan(0);
    // Nothing was left to write when it removed the drill.
    await vi.waitFor(async () => expect(await s.correlator.drillClosed(drillId)).toBe(true), { timeout: 30_000, interval: 100 });
    await new Promise((r) => setTimeout(r, 500));
    // Neither an incident nor an alert of the drill is left to remove.
    expect(await s.store.purgeDrill(drillId)).toEqual({ alerts: 0, incidents: 0 });
  });

  it('a score right after a replay waits until every incident of the drill is written', { timeout: 60_000 }, async () => {
    const s = await running();
    stops.push(s.stop);
    const drillId = 'drill-scored';
    await replay(s.dataDir, drillId);
    expect(await callControl(s.dataDir, '/drills/settle', { drillId })).toEqual({ settled: true });
    const seen = (await s.store.searchIncidents({ drill: drillId, size: 500 })).incidents;
    expect(seen.length).toBeGreaterThan(0);
    // What the score read is what the drill ends with.
    await vi.waitFor(async () => expect(await s.correlator.drillClosed(drillId)).toBe(true), { timeout: 30_000, interval: 100 });
    await new Promise((r) => setTimeout(r, 500));
    expect((await s.store.searchIncidents({ drill: drillId, size: 500 })).incidents).toEqual(seen);
  });

  it('refuses to purge a drill this start is still replaying: its next lines would raise its incidents again', { timeout: 30_000 }, async () => {
    const s = await running();
    stops.push(s.stop);
    const drillId = 'drill-replaying';
    // At x1 the recording lasts minutes, its lines seconds apart: the drill closes between two of them.
    const slow = callControl(s.dataDir, '/drills/replay', { recording: RECORDING, speed: '1', drillId, rebase: 'now', actor: 'test' }).catch(
      (err: unknown) => err,
    );
    await vi.waitFor(async () => expect(await s.correlator.drillClosed(drillId)).toBe(true), { timeout: 20_000, interval: 100 });
    await expect(callControl(s.dataDir, '/drills/purge', { drillId, actor: 'test' })).rejects.toThrow(
      `drill ${drillId} is still being replayed into this start; nothing was removed. Stop its replay (Ctrl-C), then purge again`,
    );
    await s.stop();
    stops = stops.filter((stop) => stop !== s.stop);
    await slow;
  });

  it('purges a drill at once when the correlator has nothing of it', { timeout: 30_000 }, async () => {
    const s = await running(1000);
    stops.push(s.stop);
    expect(await callControl(s.dataDir, '/drills/purge', { drillId: 'never-replayed', actor: 'test' })).toEqual({ alerts: 0, incidents: 0 });
  });

  it('refuses to purge a drill whose windows do not close in time, and removes nothing', { timeout: 60_000 }, async () => {
    const s = await running(300);
    stops.push(s.stop);
    const drillId = 'drill-busy';
    await replay(s.dataDir, drillId);
    await expect(callControl(s.dataDir, '/drills/purge', { drillId, actor: 'test' })).rejects.toThrow(
      `drill ${drillId} is still running: its last windows did not close within 0.3 s`,
    );
    await vi.waitFor(async () => expect(await s.correlator.drillClosed(drillId)).toBe(true), { timeout: 30_000, interval: 100 });
    expect((await s.store.searchIncidents({ drill: drillId })).total).toBeGreaterThan(0);
  });
});
