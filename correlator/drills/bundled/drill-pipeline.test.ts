import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { MemoryBus } from '../../../shared/bus/memory.ts';
import type { Incident } from '../../../shared/incident.ts';
import { createLogger } from '../../../shared/log.ts';
import { EmbeddedIncidentStore } from '../../../shared/store/embedded.ts';
import { topicNames } from '../../../shared/topics.ts';
import { loadRuleSet } from '../../detection/ruleset.ts';
import { DEFAULT_POLICY } from '../../incidents/grouping.ts';
import { Correlator } from '../../service.ts';
import { assetLookup } from '../../stages/rules.ts';
import { replayRecording, type ReplaySpeed } from '../replay.ts';
import { loadScenario } from '../scenario.ts';
import { formatScoreText, scoreDrill } from '../score.ts';
import { DRILLS_DIR } from './generate.ts';

/**
 * The bundled drills through the real correlator (in-memory bus, embedded store), with stand-in rules
 * carrying the ids the scenarios expect: every expected incident is detected in time, and the speed of
 * the replay does not change which incidents appear.
 */
const RULES = join(import.meta.dirname, 'testdata', 'rules');
const log = createLogger('drill-pipeline-test');

async function pipeline() {
  const { ruleset, findings } = loadRuleSet([RULES]);
  expect(findings.filter((f) => f.severity === 'error')).toEqual([]);
  const rules = () => ruleset;
  const bus = new MemoryBus(3);
  const store = new EmbeddedIncidentStore(mkdtempSync(join(tmpdir(), 'drill-pipeline-')));
  const topics = topicNames('d.');
  const correlator = new Correlator({
    bus,
    store,
    topics,
    rules,
    assets: assetLookup(rules),
    groupId: 'drill-pipeline',
    partitions: { raw: 3, correlate: 3, incidents: 1 },
    allowedLatenessMs: 5 * 60_000,
    eventsPerAlert: 5,
    policy: DEFAULT_POLICY,
    timezone: 'Asia/Ho_Chi_Minh',
    log,
    tickMs: 200,
  });
  await correlator.start();
  return { bus, store, topics, correlator };
}

type Pipeline = Awaited<ReturnType<typeof pipeline>>;
let running: Pipeline[] = [];
afterEach(async () => {
  for (const p of running) {
    await p.correlator.stop();
    await p.store.close();
  }
  running = [];
});

/** Incidents of a drill once the correlator has closed its last windows. */
async function settled(p: Pipeline, drill: string): Promise<Incident[]> {
  await vi.waitFor(async () => expect(await p.correlator.drillClosed(drill), `drill ${drill} closed`).toBe(true), { timeout: 40_000, interval: 100 });
  return (await p.store.searchIncidents({ drill, size: 500 })).incidents;
}

async function drill(p: Pipeline, name: string, speed: ReplaySpeed, drillId: string) {
  const scenario = loadScenario(join(DRILLS_DIR, name, 'scenario.yml'));
  const producer = await p.bus.producer();
  const r = await replayRecording({ file: scenario.recordingPath, producer, topic: p.topics.raw, speed, drillId, rebase: 'now' });
  await settled(p, drillId);
  return scoreDrill(p.store, scenario, drillId, { shiftMs: r.shiftMs });
}

const summary = (incidents: Incident[]) => incidents.map((i) => `${i.rule.id} ${JSON.stringify(i.group)} x${i.alert_count}`).sort();

describe('bundled drills through the correlator', () => {
  it.each(['ssh-brute-force', 'port-scan-sweep', 'malware-outbreak', 'silent-source'])('%s: every expected incident is detected in time', async (name) => {
    const p = await pipeline();
    running.push(p);
    const report = await drill(p, name, 'max', `d-${name}`);
    expect(
      report.expected.map((e) => e.outcome),
      formatScoreText(report),
    ).toEqual(report.expected.map(() => 'detected'));
    expect(report.passed).toBe(true);
  });

  // One correlator per run: a replay moves the correlator's event-time watermark to the end of the
  // recording, so a second replay into the same one would arrive "late".
  it('ssh-brute-force gives the same alerts and incidents at x100, x200 and full speed', async () => {
    const runAt = async (speed: ReplaySpeed) => {
      const p = await pipeline();
      running.push(p);
      const producer = await p.bus.producer();
      const scenario = loadScenario(join(DRILLS_DIR, 'ssh-brute-force', 'scenario.yml'));
      const drillId = `d-${speed}`;
      const r = await replayRecording({ file: scenario.recordingPath, producer, topic: p.topics.raw, speed, drillId, rebase: 'now' });
      const incidents = await settled(p, drillId);
      const report = await scoreDrill(p.store, scenario, drillId, { shiftMs: r.shiftMs });
      // Alert windows back in the recording's own timeline, so that runs with different shifts compare.
      const original = (t: string) => new Date(Date.parse(t) - r.shiftMs).toISOString();
      const alerts = (await Promise.all(incidents.map((i) => p.store.alertsOf(i.id))))
        .flat()
        .map((a) => `${a.rule.id} ${JSON.stringify(a.group)} ${original(a.window.start)}..${original(a.window.end)} n=${a.event_count}`)
        .sort();
      return { incidents, report, alerts };
    };
    // Three pipelines of their own, so the runs go side by side; each compares in the recording's timeline.
    const [fast, x200, x100] = await Promise.all([runAt('max'), runAt(200), runAt(100)]);
    expect(fast.alerts.filter((a) => a.startsWith('9a1d4f1e-8c3e-4f3b-9a52-0f5a1f1d2c11 ')).length).toBeGreaterThan(0);
    expect(x200.alerts).toEqual(fast.alerts);
    expect(x100.alerts).toEqual(fast.alerts);
    expect(summary(x100.incidents)).toEqual(summary(x200.incidents));
    expect(summary(fast.incidents)).toEqual(summary(x100.incidents));
    for (const r of [fast, x200]) expect(r.report.expected.map((e) => e.time_to_detect_ms)).toEqual(x100.report.expected.map((e) => e.time_to_detect_ms));
  });
});
