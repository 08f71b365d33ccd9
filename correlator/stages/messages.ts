import { z } from 'zod';
import type { OutgoingMessage } from '../../shared/bus/types.ts';

/** One event that matched a base rule of one correlation, as the stages hand it on. */
export interface CorrelateEvent {
  /** The correlation it feeds. */
  c: string;
  /** The base rule the event matched (its aliases decide the group-by values). */
  r: string;
  /** Event time, ms. */
  t: number;
  ref: string;
  e: Record<string, unknown>;
  /** When its line reached soc.raw (the bus's timestamp), for the alert delay metric. */
  arrived?: number;
}

/**
 * soc.correlate carries two kinds of messages, each with a version (`v`). Version 2 names its fields;
 * version 1 (one-letter keys, no version) is still read, so that messages in flight survive an upgrade.
 * Size was not what the short keys saved: a feed's keys are about 40 bytes next to an event of about a
 * kilobyte that the bundle carries once, so the names cost little and compression is not needed.
 */
export const CORRELATE_MESSAGE_VERSION = 2;

/** A feed on the wire: the event is the bundle's event number `event` (one event can feed several correlations). */
const FeedSchema = z.object({
  correlation: z.string().min(1),
  rule: z.string().min(1),
  time: z.number(),
  ref: z.string().min(1),
  event: z.number().int().nonnegative(),
  arrived: z.number().optional(),
});

/** Checked as an object only: the raw stage built it from a normalized event, and a field-by-field copy costs per event. */
const FedEvent = z.custom<Record<string, unknown>>((v) => typeof v === 'object' && v !== null && !Array.isArray(v), 'an event must be a JSON object');

/** Feeds of one raw batch bound for one soc.correlate partition, in the order they were read; each event once. */
const BundleSchema = z
  .object({ v: z.literal(2), kind: z.literal('feeds'), events: z.array(FedEvent).min(1), feeds: z.array(FeedSchema).min(1) })
  .refine((m) => m.feeds.every((f) => f.event < m.events.length), { message: 'a feed names an event the bundle does not carry', path: ['feeds'] });

/**
 * Progress of one soc.raw partition, sent to every partition of soc.correlate: the newest event time
 * handled there per drill ('' for real traffic) and whether it has read all there is. A correlation
 * window closes only when every raw partition that may still hold its events has moved past it.
 *
 * `owner` names one assignment of the raw partition to one correlator (a fresh token per rebalance);
 * the new owner's first message is a `claim`, sent before it reads anything. From a claim on, progress
 * of any other owner of that partition is stale and ignored: a report of the previous owner, still in
 * flight after the rebalance, cannot say "caught up" for input the new owner has not read yet.
 */
const ProgressSchema = z.object({
  v: z.literal(2),
  kind: z.literal('progress'),
  partition: z.number().int().nonnegative(),
  newest: z.record(z.string(), z.number()),
  caught: z.boolean(),
  owner: z.string().min(1),
  claim: z.boolean(),
});

const V1Feed = z.object({ c: z.string().min(1), r: z.string().min(1), t: z.number(), ref: z.string().min(1), i: z.number().int().nonnegative() });
const V1Bundle = z
  .object({ e: z.array(FedEvent).min(1), b: z.array(V1Feed).min(1) })
  .refine((m) => m.b.every((f) => f.i < m.e.length), { message: 'a feed names an event the bundle does not carry', path: ['b'] })
  .transform(
    (m): Bundle => ({ v: 2, kind: 'feeds', events: m.e, feeds: m.b.map((f) => ({ correlation: f.c, rule: f.r, time: f.t, ref: f.ref, event: f.i })) }),
  );
/** Version 1 progress had no owner: it counts as the report of an unknown owner, never as a claim. */
const V1Progress = z
  .object({ p: z.number().int().nonnegative(), w: z.record(z.string(), z.number()), caught: z.boolean() })
  .transform((m): Progress => ({ v: 2, kind: 'progress', partition: m.p, newest: m.w, caught: m.caught, owner: 'v1', claim: false }));

/** A message on soc.correlate: a bundle of feeds, or a raw partition's progress (either version). */
export const CorrelateMessageSchema = z.union([BundleSchema, ProgressSchema, V1Bundle, V1Progress]);
export type Bundle = z.infer<typeof BundleSchema>;
export type Progress = z.infer<typeof ProgressSchema>;
export type CorrelateMessage = z.infer<typeof CorrelateMessageSchema>;

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isName = (v: unknown): v is string => typeof v === 'string' && v.length > 0;
const isIndex = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0;

/**
 * Whether `m` is a version 2 bundle or progress exactly as the raw stage writes them: every check of
 * BundleSchema and ProgressSchema, without the copy of every feed zod makes. Keys the schemas do not
 * name are left in place (zod strips them); nothing reads them.
 */
function isCurrent(m: Record<string, unknown>): boolean {
  if (m.v !== CORRELATE_MESSAGE_VERSION) return false;
  if (m.kind === 'feeds') {
    const { events, feeds } = m;
    if (!Array.isArray(events) || !events.length || !Array.isArray(feeds) || !feeds.length) return false;
    for (const e of events) if (!isObject(e)) return false;
    for (const f of feeds) {
      if (!isObject(f) || !isName(f.correlation) || !isName(f.rule) || typeof f.time !== 'number' || !isName(f.ref)) return false;
      if (!isIndex(f.event) || f.event >= events.length || (f.arrived !== undefined && typeof f.arrived !== 'number')) return false;
    }
    return true;
  }
  if (m.kind === 'progress') {
    if (!isIndex(m.partition) || !isObject(m.newest) || typeof m.caught !== 'boolean' || !isName(m.owner) || typeof m.claim !== 'boolean') return false;
    for (const t of Object.values(m.newest)) if (typeof t !== 'number') return false;
    return true;
  }
  return false;
}

/**
 * Reads a soc.correlate message. The correlator's own current messages pass a direct check; anything
 * else (version 1, or a message that is not what the raw stage writes) goes through the schemas, which
 * give the verdict, so the outcome is the schemas' either way. Null when unreadable: a dead letter.
 */
export function readCorrelateMessage(value: string | null): CorrelateMessage | null {
  let json: unknown;
  try {
    json = JSON.parse(value ?? '');
  } catch {
    return null;
  }
  if (isObject(json) && isCurrent(json)) return json as CorrelateMessage;
  const parsed = CorrelateMessageSchema.safeParse(json);
  return parsed.success ? parsed.data : null;
}

/** The feeds a bundle carries, each with its event. */
export function feedsOf(bundle: Bundle): CorrelateEvent[] {
  return bundle.feeds.map((f) => ({
    c: f.correlation,
    r: f.rule,
    t: f.time,
    ref: f.ref,
    e: bundle.events[f.event]!,
    ...(f.arrived !== undefined ? { arrived: f.arrived } : {}),
  }));
}

/** Thrown when a batch became obsolete before its output was acknowledged: its input is read again. */
export class StaleBatchError extends Error {
  override name = 'StaleBatchError';
}

/**
 * How much of the message a dead letter keeps, as JSON: the dead-letter topic has the broker's size
 * limit too, and a letter that cannot be produced would stop its partition for good.
 */
const DEAD_LETTER_KEEPS = 256 * 1024;

/** The longest start of `value` whose JSON fits (escapes can make JSON six times the text). */
function keptStart(value: string): string {
  let kept = value.slice(0, DEAD_LETTER_KEEPS);
  while (JSON.stringify(kept).length > DEAD_LETTER_KEEPS) kept = kept.slice(0, Math.floor(kept.length / 2));
  return kept;
}

export function deadLetter(m: { topic: string; partition: number; offset: number; key: string | null; value: string | null }, reason: string): OutgoingMessage {
  const kept = m.value === null ? null : keptStart(m.value);
  return {
    key: m.key === null ? null : m.key.slice(0, 1024),
    value: JSON.stringify({
      reason,
      topic: m.topic,
      partition: m.partition,
      offset: m.offset,
      at: new Date().toISOString(),
      value: kept,
      ...(kept !== m.value ? { value_length: m.value!.length } : {}),
    }),
  };
}
