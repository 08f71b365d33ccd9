import { afterAll, describe, expect, it } from 'vitest';
import type { BusMessage } from '../shared/bus/types.ts';
import { createLogger } from '../shared/log.ts';
import { uniqueName } from '../test/support/services.ts';
import { loadRuleSet } from './detection/ruleset.ts';
import type { Correlator } from './service.ts';
import { backends, correlatorFor, until, type Backend } from './test/harness.ts';
import { EXPECTED_ALERTS, EXPECTED_INCIDENTS, SCENARIO_RULES, scenarioMessages, sortSummaries } from './test/scenario.ts';

const log = createLogger('correlator-test');

describe.each(backends('pipe'))('correlator pipeline over %s', (_name, make) => {
  let backend: Backend;
  const correlators: Correlator[] = [];
  afterAll(async () => {
    for (const c of correlators) await c.stop();
    await backend?.close();
  });

  it('turns a scripted scenario into exactly the expected alerts and incidents, dead letters and pipeline errors included', async () => {
    backend = await make();
    expect(loadRuleSet([SCENARIO_RULES]).findings.filter((f) => f.severity === 'error')).toEqual([]);
    const correlator = correlatorFor(backend.bus, backend.store, backend.topics, uniqueName('corr'), { log });
    correlators.push(correlator);
    await correlator.start();
    const producer = await backend.bus.producer();
    await producer.send(backend.topics.raw, scenarioMessages());
    await producer.close();

    const page = await until('three incidents with all their alerts', 60_000, async () => {
      await backend.settle();
      const p = await backend.store.searchIncidents({ size: 50 });
      const alerts = p.incidents.reduce((n, i) => n + i.alert_count, 0);
      return p.total >= 3 && alerts >= 4 ? p : undefined;
    });
    // A moment more: anything extra would show up now.
    await new Promise((r) => setTimeout(r, 1500));
    await backend.settle();
    const incidents = (await backend.store.searchIncidents({ size: 50 })).incidents;
    expect(page.total).toBe(3);
    expect(
      sortSummaries(
        incidents.map((i) => ({
          rule: i.rule.id,
          group: i.group,
          alert_count: i.alert_count,
          severity: i.severity,
          layer: i.layer,
          first_seen: i.first_seen,
          last_seen: i.last_seen,
          report_due: i.report_due !== null,
        })),
      ),
    ).toEqual(sortSummaries(EXPECTED_INCIDENTS));
    const alerts = (await Promise.all(incidents.map((i) => backend.store.alertsOf(i.id)))).flat();
    expect(sortSummaries(alerts.map((a) => ({ rule: a.rule.id, group: a.group, event_count: a.event_count, window: a.window })))).toEqual(
      sortSummaries(EXPECTED_ALERTS),
    );
    for (const a of alerts) expect(a.events.length).toBeGreaterThan(0);

    const metrics = await correlator.metrics.registry.getMetricsAsJSON();
    const value = (name: string, label?: Record<string, string>) =>
      metrics.find((m) => m.name === name)?.values.find((v) => !label || Object.entries(label).every(([k, x]) => v.labels[k] === x))?.value ?? 0;
    expect(value('canhgac_correlator_dead_letters_total')).toBe(1);
    expect(value('canhgac_correlator_events_total', { kind: 'pipeline_error' })).toBe(1);
    expect(value('canhgac_correlator_decoded_total', { format: 'netfilter' })).toBe(9);
    expect(value('canhgac_correlator_decoded_total', { format: 'clamav' })).toBe(1);
    const all = (name: string) => metrics.find((m) => m.name === name)?.values.reduce((n, v) => n + v.value, 0) ?? 0;
    // Twelve decodable lines; the garbage line is a pipeline error, not a format.
    expect(all('canhgac_correlator_decoded_total')).toBe(12);
    // Every SSH deny feeds the correlation: three from one source, six from another.
    expect(value('canhgac_correlator_rule_matches_total', { rule: '5b0c3f7e-2d0a-4f57-8d7c-0c1e2f3a4b01' })).toBe(9);
    expect(value('canhgac_correlator_incidents_total', { change: 'created' })).toBe(3);
    const sinkTimes = metrics.find((m) => m.name === 'canhgac_correlator_sink_seconds')!.values;
    expect(
      sinkTimes.find((v) => (v as { metricName?: string }).metricName === 'canhgac_correlator_sink_seconds_count' && v.labels.sink === 'incidents')?.value,
    ).toBeGreaterThan(0);
    expect(value('canhgac_correlator_consumer_lag', { topic: backend.topics.raw, partition: '0' })).toBe(0);
    expect(metrics.find((m) => m.name === 'canhgac_correlator_consumer_lag')?.values).toHaveLength(6);

    const dead: BusMessage[] = [];
    const dlq = await backend.bus.consumer({ groupId: uniqueName('dlq'), topics: [backend.topics.dlq], fromBeginning: true });
    await dlq.run(async (b) => void dead.push(...b.messages));
    await until('the dead letter', 30_000, async () => (dead.length ? true : undefined));
    await dlq.stop();
    expect(JSON.parse(dead[0]!.value!)).toMatchObject({ reason: expect.stringMatching(/^not JSON/), topic: backend.topics.raw });
  });
});
