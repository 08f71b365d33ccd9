import type { OutgoingMessage } from '../../shared/bus/types.ts';
import type { CorrelateEvent } from './messages.ts';

/**
 * Of one batch's events for one flatline group, the ones the flatline can tell apart from all of them,
 * in the order they came: the first to come, the oldest, the newest, and enough in between that no two
 * kept events are more than the timespan apart. A flatline only asks when a group was last seen;
 * whatever the watermark, a silence longer than the timespan exists among the kept events exactly when
 * it exists among all, and starts at the same event (a dropped event has kept neighbours within the
 * timespan on both sides). The first to come stays because an engine counts the silence of a host it
 * never heard from since the first event it was fed. So the alerts are the same documents however the
 * input was cut into batches, and most traffic stays in the raw stage: each server's telemetry feeds
 * its flatline with every line it sends.
 */
export function thinFlatline(items: CorrelateEvent[], timespanMs: number): CorrelateEvent[] {
  if (items.length <= 3) return items;
  const order = items.map((_, i) => i).sort((a, b) => items[a]!.t - items[b]!.t || a - b);
  const keep = new Set([0, order[0]!, order[order.length - 1]!]);
  let last = items[order[0]!]!.t;
  for (let k = 1; k < order.length - 1; k++) {
    // Keep an event only when the next one is already too far from the last one kept.
    if (items[order[k + 1]!]!.t - last > timespanMs) {
      keep.add(order[k]!);
      last = items[order[k]!]!.t;
    }
  }
  return items.filter((_, i) => keep.has(i));
}

/** Bytes of one soc.correlate bundle: far below the broker's message.max.bytes (1 MB by default). */
const BUNDLE_BYTES = 256 * 1024;

/**
 * One batch's correlation feeds as few soc.correlate messages as possible: per partition, the events
 * in the order they were read, packed into bundles. Kafka's per-message cost, not the bytes, limits a
 * produce of small messages; a bundle is also handled whole, so its events meet the windows together.
 */
export function bundleFeeds(byPartition: Map<number, CorrelateEvent[]>): OutgoingMessage[] {
  const out: OutgoingMessage[] = [];
  for (const [partition, items] of byPartition) {
    let parts: string[] = [];
    let bytes = 0;
    let newest = -Infinity;
    const flush = () => {
      if (parts.length) out.push({ key: null, partition, value: `{"b":[${parts.join(',')}]}`, timestamp: Number.isFinite(newest) ? newest : undefined });
      parts = [];
      bytes = 0;
      newest = -Infinity;
    };
    for (const item of items) {
      const json = JSON.stringify(item);
      if (bytes + json.length > BUNDLE_BYTES) flush();
      parts.push(json);
      bytes += json.length + 1;
      newest = Math.max(newest, item.t);
    }
    flush();
  }
  return out;
}
