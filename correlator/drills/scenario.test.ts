import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadScenario, ScenarioError, triggerOf } from './scenario.ts';

function scenarioFile(text: string, recording = true): string {
  const dir = mkdtempSync(join(tmpdir(), 'scenario-'));
  if (recording) writeFileSync(join(dir, 'rec.ndjson'), '');
  const file = join(dir, 'scenario.yml');
  writeFileSync(file, text);
  return file;
}

const GOOD = `name: ssh-test
title: SSH brute force
recording: rec.ndjson
trigger: 2025-03-04T02:10:00Z
expected:
  - rule: r-ssh
    group: { source.ip: 203.0.113.9, port: 22 }
    layer: 2
    within: 5m
  - rule: r-other
    within: 90s
    trigger: "2025-03-04T02:20:00+07:00"
response:
  acknowledge: { high: 15m, critical: 5m }
`;

function errorsOf(text: string, recording = true): string[] {
  try {
    loadScenario(scenarioFile(text, recording));
  } catch (err) {
    expect(err).toBeInstanceOf(ScenarioError);
    return (err as ScenarioError).findings.map((f) => `${f.line}:${f.col}: ${f.message}`);
  }
  throw new Error('expected the scenario to be rejected');
}

describe('drill scenario', () => {
  it('reads durations, times and groups, resolving the recording next to the file', () => {
    const file = scenarioFile(GOOD);
    const s = loadScenario(file);
    expect(s.recordingPath).toBe(join(file, '..', 'rec.ndjson'));
    expect(s.trigger).toBe(Date.parse('2025-03-04T02:10:00Z'));
    expect(s.expected[0]).toMatchObject({ rule: 'r-ssh', group: { 'source.ip': '203.0.113.9', port: '22' }, layer: 2, within: 300_000 });
    expect(triggerOf(s, s.expected[0]!)).toBe(s.trigger);
    expect(triggerOf(s, s.expected[1]!)).toBe(Date.parse('2025-03-03T19:20:00Z'));
    expect(s.response.acknowledge).toEqual({ high: 900_000, critical: 300_000 });
    expect(s.response.resolve).toEqual({});
  });

  it('names the line and field of a bad duration, a bad layer and an unknown key', () => {
    const text = GOOD.replace('within: 5m', 'within: soon').replace('layer: 2', 'layer: 7').replace('critical: 5m', 'critical: 5m, urgent: 1m');
    const errs = errorsOf(text);
    expect(errs).toContainEqual(expect.stringMatching(/^9:5: field expected\.0\.within: 'soon' is not a duration/));
    expect(errs).toContainEqual(expect.stringMatching(/^8:5: field expected\.0\.layer:/));
    expect(errs).toContainEqual(expect.stringMatching(/^14:43: field response\.acknowledge: .*urgent/));
  });

  it('names a missing field and a bad trigger time', () => {
    const errs = errorsOf(GOOD.replace('trigger: 2025-03-04T02:10:00Z', 'trigger: yesterday').replace('  - rule: r-other\n', '  - title: no rule\n'));
    expect(errs).toContainEqual(expect.stringMatching(/^4:1: field trigger:/));
    expect(errs).toContainEqual(expect.stringMatching(/^10:5: field expected\.1\.rule:/));
  });

  it('reports YAML syntax errors and a missing recording with their lines', () => {
    expect(errorsOf(GOOD.replace('within: 90s', 'within: [90s'))[0]).toMatch(/^1[1-4]:\d+: /);
    expect(errorsOf(GOOD, false)).toEqual([expect.stringMatching(/^3:1: field recording: no such file .*rec\.ndjson/)]);
  });
});
