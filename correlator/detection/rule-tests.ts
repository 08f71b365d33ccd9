import { getField } from '../../shared/event.ts';
import type { Finding } from '../../shared/yaml-source.ts';
import { CorrelationEngine, type CorrelationHit } from './correlation/engine.ts';
import type { RuleSet } from './ruleset.ts';

/** One line of `rules test` output. */
export type TestOutput = { rule: string; event: number } | { rule: string; events: unknown[]; group: Record<string, string> };

/** Event time: @timestamp (ISO or epoch ms) or `timestamp`; without one, the previous event's time. */
export function eventTime(event: unknown, fallback: number): number {
  for (const f of ['@timestamp', 'timestamp']) {
    const v = getField(event, f);
    if (typeof v === 'number' && Number.isFinite(v)) return v;
    if (typeof v === 'string') {
      const t = Date.parse(v);
      if (!Number.isNaN(t)) return t;
    }
  }
  return fallback;
}

/**
 * Runs a rule set over a sequence of events: single-event matches as they come, correlations on event
 * time. Input order does not matter for correlations: all events are placed in time order before the
 * windows are evaluated (unbounded lateness), then every window is closed at the end.
 */
export class EventRunner {
  private readonly engine: CorrelationEngine;
  private lastTime = 0;

  constructor(
    private readonly ruleset: RuleSet,
    private readonly opts: { ignoreLogsource?: boolean } = {},
  ) {
    this.engine = new CorrelationEngine(ruleset, { allowedLatenessMs: Number.POSITIVE_INFINITY });
  }

  push(event: unknown, ref: number): TestOutput[] {
    const out: TestOutput[] = [];
    this.lastTime = eventTime(event, this.lastTime);
    for (const m of this.ruleset.match(event, this.opts)) {
      out.push({ rule: m.rule.id, event: ref });
      for (const h of this.engine.feed(m.rule.id, event, this.lastTime, ref)) out.push(hitOutput(h));
    }
    return out;
  }

  finish(): TestOutput[] {
    return this.engine.flush().map(hitOutput);
  }
}

function hitOutput(h: CorrelationHit): TestOutput {
  return { rule: h.rule.id, events: h.refs, group: h.group };
}

/**
 * Checks the test cases rules carry (`tests: {match: [...], no_match: [...]}`), on the detection alone
 * (test events need not carry log-source fields). A detection rule must match each `match` event and no
 * `no_match` event; a correlation must fire on the `match` events taken as one sequence, and not on the
 * `no_match` sequence.
 */
export function checkRuleTests(ruleset: RuleSet): { cases: number; rules: number; failures: Finding[] } {
  const failures: Finding[] = [];
  let cases = 0;
  let rules = 0;
  const fail = (at: Finding, message: string) => failures.push({ ...at, message });
  for (const d of ruleset.detections.values()) {
    if (!d.tests) continue;
    rules++;
    const at = (kind: string, i: number) => d.parsed.at(['tests', kind, i], 'error', '');
    d.tests.match.forEach((ev, i) => {
      cases++;
      if (!ruleset.match(ev, { ignoreLogsource: true }).some((m) => m.rule.id === d.info.id)) {
        const p = at('match', i);
        fail(p, `test: rule '${d.info.id}' does not match tests.match[${i}]`);
      }
    });
    d.tests.no_match.forEach((ev, i) => {
      cases++;
      if (ruleset.match(ev, { ignoreLogsource: true }).some((m) => m.rule.id === d.info.id)) {
        const p = at('no_match', i);
        fail(p, `test: rule '${d.info.id}' matches tests.no_match[${i}]`);
      }
    });
  }
  for (const c of ruleset.correlations.values()) {
    const tests = c.parsed.doc.tests;
    if (!tests) continue;
    rules++;
    for (const kind of ['match', 'no_match'] as const) {
      const events = tests[kind];
      if (events.length === 0) continue;
      cases++;
      const runner = new EventRunner(ruleset, { ignoreLogsource: true });
      const outputs = [...events.flatMap((e, i) => runner.push(e, i)), ...runner.finish()];
      const fired = outputs.some((o) => o.rule === c.info.id && 'events' in o);
      if (fired !== (kind === 'match')) {
        const p = c.parsed.at(['tests', kind], 'error', '');
        fail(p, `test: correlation '${c.info.id}' ${fired ? 'fires on' : 'does not fire on'} tests.${kind}`);
      }
    }
  }
  return { cases, rules, failures };
}
