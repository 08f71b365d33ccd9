import { z } from 'zod';
import type { Batch, BusMessage, BusProducer, OutgoingMessage } from '../../shared/bus/types.ts';
import { EnvelopeSchema, type Envelope } from '../../shared/envelope.ts';
import type { Logger } from '../../shared/log.ts';
import type { Topics } from '../../shared/topics.ts';
import { untilAcknowledged } from '../sinks/retry.ts';
import { deadLetter, StaleBatchError } from '../stages/messages.ts';
import type { AssetLookup } from '../stages/rules.ts';

/** A topic that Winlogbeat or Filebeat write to with their Kafka output (plain ECS JSON, no canhgac envelope). */
export const BeatsInputSchema = z
  .object({
    /** Names the input in logs, metrics and envelope ids. */
    name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/, 'letters, digits, and _ . - (at most 64)'),
    topic: z.string().min(1).max(249),
  })
  .strict();

export type BeatsInputConfig = z.infer<typeof BeatsInputSchema>;

const str = (v: unknown): string | undefined => (typeof v === 'string' && v.trim() !== '' ? v.trim() : undefined);
const obj = (v: unknown): Record<string, unknown> | undefined =>
  v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;

export type BeatsMapping = { ok: true; key: string; envelope: Envelope } | { ok: false; reason: string };

/**
 * One Beats document -> one soc.raw envelope. The host is host.name (else agent.hostname, else
 * agent.name); the unit is the asset register's for that host. A Winlogbeat event (winlog.*) ships whole
 * as format windows-event, which reads winlog.event_id/channel/event_data; a Filebeat document ships its
 * `message` (the vendor's line) for the decoders to recognise, under its log.file.path.
 */
export function beatsEnvelope(input: BeatsInputConfig, m: BusMessage, assets: AssetLookup): BeatsMapping {
  if (m.value === null) return { ok: false, reason: `beats input ${input.name}: empty message (tombstone)` };
  let doc: unknown;
  try {
    doc = JSON.parse(m.value);
  } catch (err) {
    return { ok: false, reason: `beats input ${input.name}: not JSON (${(err as Error).message})` };
  }
  const d = obj(doc);
  if (!d) return { ok: false, reason: `beats input ${input.name}: the document is not a JSON object` };
  const agent = obj(d.agent);
  const host = str(obj(d.host)?.name) ?? str(agent?.hostname) ?? str(agent?.name);
  if (!host) return { ok: false, reason: `beats input ${input.name}: no host.name, agent.hostname or agent.name` };
  if (host.length > 255) return { ok: false, reason: `beats input ${input.name}: host.name longer than 255 characters` };
  const winlog = obj(d.winlog);
  const message = str(d.message);
  let line: string;
  let format: string;
  let source: string;
  if (winlog) {
    if (str(winlog.event_id) === undefined && typeof winlog.event_id !== 'number')
      return { ok: false, reason: `beats input ${input.name}: winlog document without winlog.event_id` };
    line = m.value;
    format = 'windows-event';
    source = str(winlog.channel) ?? `beats:${input.name}`;
  } else if (message) {
    line = message;
    format = 'auto';
    source = str(obj(obj(d.log)?.file)?.path) ?? str(obj(d.input)?.type) ?? `beats:${input.name}`;
  } else {
    return { ok: false, reason: `beats input ${input.name}: neither a winlog event nor a document with a message` };
  }
  const unit = assets(host)?.unit;
  const parsed = EnvelopeSchema.safeParse({
    v: 1,
    kind: 'line',
    // The Kafka position: a re-read after a restart keeps the id, so the correlator's dedup holds.
    id: `beats:${input.name}:${m.partition}:${m.offset}`,
    host,
    source: source.slice(0, 4096),
    format,
    received: new Date(m.timestamp).toISOString(),
    ...(unit ? { unit } : {}),
    line,
  });
  if (!parsed.success)
    return { ok: false, reason: `beats input ${input.name}: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}` };
  return { ok: true, key: host, envelope: parsed.data };
}

export interface BeatsStageDeps {
  producer: BusProducer;
  topics: Topics;
  assets: AssetLookup;
  log: Logger;
}

/**
 * A Beats topic -> soc.raw (keyed by host, so one host's events stay in order) and the dead-letter topic.
 * A batch's offsets are committed by the consumer only after both sends are acknowledged.
 */
export class BeatsStage {
  constructor(
    private readonly input: BeatsInputConfig,
    private readonly deps: BeatsStageDeps,
  ) {}

  async handle(batch: Batch): Promise<void> {
    const raw: OutgoingMessage[] = [];
    const dead: OutgoingMessage[] = [];
    for (const m of batch.messages) {
      const r = beatsEnvelope(this.input, m, this.deps.assets);
      if (r.ok) raw.push({ key: r.key, value: JSON.stringify(r.envelope) });
      else dead.push(deadLetter(m, r.reason));
    }
    const send = async (topic: string, messages: OutgoingMessage[]) => {
      // A batch made obsolete by a rebalance is left to the partition's new owner, uncommitted.
      if (
        messages.length &&
        !(await untilAcknowledged(`beats ${this.input.name} -> ${topic}`, batch, this.deps.log, () => this.deps.producer.send(topic, messages)))
      )
        throw new StaleBatchError();
    };
    await send(this.deps.topics.raw, raw);
    await send(this.deps.topics.dlq, dead);
    if (dead.length)
      this.deps.log.warn(
        { input: this.input.name, topic: batch.topic, partition: batch.partition, dead: dead.length },
        'beats documents sent to the dead-letter topic',
      );
  }
}
