import { z } from 'zod';
import type { OutgoingMessage } from '../../shared/bus/types.ts';

/** One event that matched a base rule of one correlation, sent to the partition its group maps to. */
const CorrelateEventSchema = z.object({
  c: z.string().min(1),
  /** The base rule the event matched (its aliases decide the group-by values). */
  r: z.string().min(1),
  t: z.number(),
  ref: z.string().min(1),
  e: z.record(z.string(), z.unknown()),
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

/** Events of one raw batch bound for one soc.correlate partition, in the order they were read. */
const BundleSchema = z.object({ b: z.array(CorrelateEventSchema).min(1) });

/** A message on soc.correlate: a bundle of events, or a raw partition's progress. */
export const CorrelateMessageSchema = z.union([BundleSchema, ProgressSchema]);
export type CorrelateEvent = z.infer<typeof CorrelateEventSchema>;
export type Progress = z.infer<typeof ProgressSchema>;

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
