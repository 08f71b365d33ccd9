import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { parseEnvelope } from '../../../shared/envelope.ts';
import { getField, type NormalizedEvent } from '../../../shared/event.ts';
import { decodeEnvelope } from '../../decoders/index.ts';
import { loadScenario, triggerOf, type Scenario } from '../scenario.ts';
import { bundledRecordings, DRILLS_DIR, OUTBREAK_MALWARE, toNdjson } from './generate.ts';

interface Decoded {
  event: NormalizedEvent;
  at: number;
  received: number;
  unit: string | undefined;
}

const generated = new Map(bundledRecordings().map((r) => [r.name, r]));

function load(name: string): { scenario: Scenario; events: Decoded[]; text: string } {
  const scenario = loadScenario(join(DRILLS_DIR, name, 'scenario.yml'));
  const text = gunzipSync(readFileSync(scenario.recordingPath)).toString('utf8');
  const events = text
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const p = parseEnvelope(line);
      if (!p.ok) throw new Error(`${name}: ${p.reason}`);
      const event = decodeEnvelope(p.envelope);
      return { event, at: Date.parse(event['@timestamp']), received: Date.parse(p.envelope.received), unit: p.envelope.unit };
    });
  return { scenario, events, text };
}

const f = (e: Decoded, path: string) => getField(e.event, path);
/** Who sent the line: the appliance or the host whose collector shipped it (lower case, as the register names it). */
const sender = (e: Decoded) => String(f(e, 'observer.name') ?? f(e, 'host.name')).toLowerCase();
const denied = (e: Decoded) => ([] as unknown[]).concat(f(e, 'event.type') ?? []).includes('denied');
const MIN = 60_000;

/** What every bundled recording must be: what the generator writes, readable by the decoders, consistent with its scenario. */
function checkCommon(name: string) {
  const { scenario, events, text } = load(name);
  expect(text, 'the committed recording is what generate.ts writes').toBe(toNdjson(generated.get(name)!.envelopes));
  expect(scenario.trigger).toBe(generated.get(name)!.trigger);
  expect(events.filter((e) => e.event.event.kind === 'pipeline_error').map((e) => e.event.event.original)).toEqual([]);
  // Event times come from the lines (second resolution) and sit just before their receive times.
  for (const e of events) expect(e.received - e.at).toBeGreaterThanOrEqual(0), expect(e.received - e.at).toBeLessThan(2000);
  // Many hosts and formats in the background.
  expect(new Set(events.map((e) => f(e, 'host.name'))).size).toBeGreaterThanOrEqual(8);
  expect(new Set(events.map((e) => f(e, 'event.dataset') ?? f(e, 'event.module'))).size).toBeGreaterThanOrEqual(5);
  expect(text.length).toBeLessThan(1_000_000);
  // Each expected incident's group values are carried by events around its trigger (before it, for a
  // source that goes silent; after it, for an attack).
  for (const exp of scenario.expected) {
    const from = triggerOf(scenario, exp);
    const inWindow = events.filter((e) => e.at >= from - exp.within && e.at <= from + exp.within);
    for (const [field, value] of Object.entries(exp.group)) {
      expect(
        inWindow.some((e) => String(f(e, field)) === value),
        `${exp.rule} ${field}=${value}`,
      ).toBe(true);
    }
  }
  return { scenario, events };
}

describe('bundled drill scenarios', () => {
  it('ssh-brute-force: sixty denied SSH attempts from one source, starting at the trigger', () => {
    const { scenario, events } = checkCommon('ssh-brute-force');
    const attack = events.filter((e) => f(e, 'source.ip') === '203.0.113.77');
    expect(attack.every((e) => f(e, 'destination.port') === 22 && f(e, 'destination.ip') === '10.20.1.11' && denied(e))).toBe(true);
    expect(Math.min(...attack.map((e) => e.at))).toBe(scenario.trigger);
    const perimeter = attack.filter((e) => sender(e) === 'fgt-dc');
    expect(perimeter).toHaveLength(60);
    expect(perimeter.filter((e) => e.at < scenario.trigger + 3 * MIN).length).toBeGreaterThanOrEqual(45);
    // Nothing else in the background looks like brute force.
    const others = events.filter((e) => f(e, 'destination.port') === 22 && f(e, 'source.ip') !== '203.0.113.77');
    expect(others).toEqual([]);
  });

  it('port-scan-sweep: 150 ports of one server, then port 445 across 32 hosts', () => {
    const { scenario, events } = checkCommon('port-scan-sweep');
    const scan = events.filter((e) => f(e, 'source.ip') === '198.51.100.23' && f(e, 'destination.ip') === '10.20.2.21' && f(e, 'destination.port') !== 445);
    expect(Math.min(...scan.map((e) => e.at))).toBe(scenario.trigger);
    expect(new Set(scan.filter((e) => e.at <= scenario.trigger + 3 * MIN).map((e) => f(e, 'destination.port'))).size).toBe(150);
    const sweepTrigger = triggerOf(scenario, scenario.expected[1]!);
    expect(sweepTrigger).toBe(generated.get('port-scan-sweep')!.stages.sweep);
    const sweep = events.filter((e) => f(e, 'source.ip') === '198.51.100.23' && f(e, 'destination.port') === 445 && sender(e) === 'fgt-dc');
    expect(Math.min(...sweep.map((e) => e.at))).toBe(sweepTrigger);
    expect(new Set(sweep.filter((e) => e.at <= sweepTrigger + 5 * MIN).map((e) => f(e, 'destination.ip'))).size).toBe(32);
    // No background source touches more than a couple of ports or hosts.
    const perSource = new Map<string, Set<string>>();
    for (const e of events.filter((x) => f(x, 'source.ip') !== '198.51.100.23' && denied(x))) {
      const s = perSource.get(String(f(e, 'source.ip'))) ?? new Set();
      s.add(`${f(e, 'destination.ip')}:${f(e, 'destination.port')}`);
      perSource.set(String(f(e, 'source.ip')), s);
    }
    expect(Math.max(...[...perSource.values()].map((s) => s.size))).toBeLessThanOrEqual(4);
  });

  it('malware-outbreak: protection disabled, then the same malware on hosts of four units', () => {
    const { scenario, events } = checkCommon('malware-outbreak');
    const disabled = events.filter((e) => f(e, 'event.action') === 'realtime-protection-disabled');
    expect(disabled.map((e) => [f(e, 'host.name'), e.at])).toEqual([['ws-ketoan-03', scenario.trigger]]);
    const detectionTrigger = triggerOf(scenario, scenario.expected[2]!);
    const detections = events.filter((e) => f(e, 'threat.software.name') === OUTBREAK_MALWARE);
    expect(Math.min(...detections.map((e) => e.at))).toBe(detectionTrigger);
    expect(detections.find((e) => e.at === detectionTrigger) && f(detections.find((e) => e.at === detectionTrigger)!, 'host.name')).toBe('ws-ketoan-03');
    const withinWindow = detections.filter((e) => e.at <= detectionTrigger + scenario.expected[2]!.within);
    expect(new Set(withinWindow.map((e) => e.unit)).size).toBeGreaterThanOrEqual(4);
    expect(new Set(withinWindow.map((e) => f(e, 'host.name'))).size).toBe(5);
    expect(events.some((e) => f(e, 'host.name') === 'srv-file-01' && f(e, 'event.action') === 'malware-detected')).toBe(true);
  });

  it('silent-source: srv-app-05 sends steadily until the trigger, then nothing while the rest carries on', () => {
    const { scenario, events } = checkCommon('silent-source');
    const app = events.filter((e) => sender(e) === 'srv-app-05');
    expect(Math.max(...app.map((e) => e.at))).toBeLessThan(scenario.trigger);
    expect(app.filter((e) => e.at >= scenario.trigger - 5 * MIN).length).toBeGreaterThanOrEqual(5);
    // Event time keeps moving for 25 minutes after the silence begins, so a flatline is judged on event time.
    const others = events.filter((e) => sender(e) !== 'srv-app-05');
    expect(Math.max(...others.map((e) => e.at))).toBeGreaterThan(scenario.trigger + 24 * MIN);
    const otherServers = new Set(others.filter((e) => e.at > scenario.trigger + 20 * MIN).map(sender));
    expect(otherServers.size).toBeGreaterThanOrEqual(5);
  });
});
