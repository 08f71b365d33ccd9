import { z } from 'zod';
import { parseEnvelope } from '../../shared/envelope.ts';
import type { Batch, BusProducer, OutgoingMessage } from '../../shared/bus/types.ts';
import type { Logger } from '../../shared/log.ts';
import type { Topics } from '../../shared/topics.ts';
import { decodeEnvelope } from '../decoders/index.ts';
import type { IncidentSink, PendingAlert } from '../sinks/incidents.ts';
import { untilAcknowledged } from '../sinks/retry.ts';
import { singleEventAlert } from './alerts.ts';
import { heartbeatEvent } from './heartbeat.ts';
import { correlateKey, type AssetLookup, type CurrentRules } from './rules.ts';
import type { CorrelatorMetrics } from '../metrics.ts';

/** A message on soc.correlate: one event that matched a base rule of one correlation, keyed by its group. */
export const CorrelateMessageSchema = z.object({
  c: z.string().min(1),
  /** The base rule the event matched (its aliases decide the group-by values). */
  r: z.string().min(1),
  t: z.number(),
  ref: z.string().min(1),
  e: z.record(z.string(), z.unknown()),
});
export type CorrelateMessage = z.infer<typeof CorrelateMessageSchema>;

/** Thrown when a batch became obsolete before its output was acknowledged: its input is read again. */
export class StaleBatchError extends Error {
  override name = 'StaleBatchError';
}

export function deadLetter(m: { topic: string; partition: number; offset: number; key: string | null; value: string | null }, reason: string): OutgoingMessage {
  return {
    key: m.key,
    value: JSON.stringify({ reason, topic: m.topic, partition: m.partition, offset: m.offset, at: new Date().toISOString(), value: m.value }),
  };
}

/** Decoder memory per source (W3C #Fields headers of pfirewall.log), bounded. */
export class DecodeSessions {
  private readonly states = new Map<string, Map<string, unknown>>();

  constructor(private readonly max = 10_000) {}

  for(host: string, source: string): Map<string, unknown> {
    const key = `${host}\u0000${source}`;
    let s = this.states.get(key);
    if (!s) {
      if (this.states.size >= this.max) this.states.delete(this.states.keys().next().value!);
      s = new Map();
      this.states.set(key, s);
    }
    return s;
  }
}

export interface RawStageDeps {
  sessions: DecodeSessions;
  rules: CurrentRules;
  assets: AssetLookup;
  producer: BusProducer;
  sink: IncidentSink;
  topics: Topics;
  timezone: string;
  metrics: CorrelatorMetrics;
  log: Logger;
}

/**
 * soc.raw -> decode -> single-event rules. Alerts go to the incident sink; events that feed a
 * correlation are re-keyed by its group-by values to soc.correlate (the repartition pattern), so that
 * one group's events meet in one partition whatever host they came from.
 */
export async function handleRawBatch(batch: Batch, deps: RawStageDeps): Promise<void> {
  const ruleset = deps.rules();
  const alerts: PendingAlert[] = [];
  const correlate: OutgoingMessage[] = [];
  const dlq: OutgoingMessage[] = [];
  const stream = `${batch.topic}/${batch.partition}`;
  for (const m of batch.messages) {
    const parsed = parseEnvelope(m.value);
    if (!parsed.ok) {
      dlq.push(deadLetter(m, parsed.reason));
      deps.metrics.deadLetters.inc();
      continue;
    }
    const env = parsed.envelope;
    const event = env.kind === 'heartbeat' ? heartbeatEvent(env) : decodeEnvelope(env, { timezone: deps.timezone, state: deps.sessions.for(env.host, env.source) });
    if (parsed.envelope.timeShiftMs) event['@timestamp'] = new Date(Date.parse(event['@timestamp']) + parsed.envelope.timeShiftMs).toISOString();
    deps.metrics.events.inc({ kind: event.event.kind });
    const eventTime = Date.parse(event['@timestamp']);
    const ref = event.event.id ?? `${stream}/${m.offset}`;
    for (const match of ruleset.match(event)) {
      if (match.alert) alerts.push(singleEventAlert(match.rule, event, stream, m.offset, deps.assets));
      for (const c of match.correlations) {
        const group = ruleset.groupKeyFor(c, match.rule.id, event);
        if (!group) {
          deps.metrics.missingGroup.inc();
          continue;
        }
        const key = correlateKey(c, event.labels?.drill ?? null, ruleset.groupByFor(c), group);
        const msg: CorrelateMessage = { c, r: match.rule.id, t: eventTime, ref, e: event as Record<string, unknown> };
        correlate.push({ key, value: JSON.stringify(msg), timestamp: eventTime });
      }
    }
  }
  const done = await untilAcknowledged('raw outputs', batch, deps.log, async () => {
    await deps.producer.send(deps.topics.correlate, correlate);
    await deps.producer.send(deps.topics.dlq, dlq);
    await deps.sink.write(alerts);
  });
  if (!done) throw new StaleBatchError();
  deps.metrics.alerts.inc({ stage: 'raw' }, alerts.length);
}
