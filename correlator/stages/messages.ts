import { z } from 'zod';
import type { OutgoingMessage } from '../../shared/bus/types.ts';

/** One event that matched a base rule of one correlation, as the stages hand it on. */
export interface CorrelateEvent {
  c: string;
  /** The base rule the event matched (its aliases decide the group-by values). */
  r: string;
  t: number;
  ref: string;
  e: Record<string, unknown>;
}

/** A feed on the wire: the event is the bundle's event number `i` (one event can feed several correlations). */
const FeedSchema = z.object({
  c: z.string().min(1),
  r: z.string().min(1),
  t: z.number(),
  ref: z.string().min(1),
  i: z.number().int().nonnegative(),
});

/**
 * Progress of one soc.raw partition, sent to every partition of soc.correlate: the newest event time
 * handled there per drill ('' for real traffic) and whether it has read all there is. A correlation
 * window closes only when every raw partition that may still hold its events has moved past it.
 */
const ProgressSchema = z.object({
  p: z.number().int().nonnegative(),
  w: z.record(z.string(), z.number()),
  caught: z.boolean(),
});

/** Feeds of one raw batch bound for one soc.correlate partition, in the order they were read; each event once. */
/** Checked as an object only: the raw stage built it from a normalized event, and a field-by-field copy costs per event. */
const FedEvent = z.custom<Record<string, unknown>>((v) => typeof v === 'object' && v !== null && !Array.isArray(v), 'an event must be a JSON object');

const BundleSchema = z
  .object({ e: z.array(FedEvent).min(1), b: z.array(FeedSchema).min(1) })
  .refine((m) => m.b.every((f) => f.i < m.e.length), { message: 'a feed names an event the bundle does not carry', path: ['b'] });

/** A message on soc.correlate: a bundle of feeds, or a raw partition's progress. */
export const CorrelateMessageSchema = z.union([BundleSchema, ProgressSchema]);
export type Progress = z.infer<typeof ProgressSchema>;

/** The feeds a bundle carries, each with its event. */
export function feedsOf(bundle: z.infer<typeof BundleSchema>): CorrelateEvent[] {
  return bundle.b.map(({ i, ...f }) => ({ ...f, e: bundle.e[i]! }));
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
