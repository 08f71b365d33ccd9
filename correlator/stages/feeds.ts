import type { OutgoingMessage } from '../../shared/bus/types.ts';
import { CORRELATE_MESSAGE_VERSION, type CorrelateEvent } from './messages.ts';

/**
 * Of one batch's events for one flatline group, the ones the flatline can tell apart from all of them,
 * in the order they came: the first to come, the oldest, the newest, and enough in between that no two
 * kept events are more than the timespan apart. A flatline only asks when a group was last seen;
 * whatever the watermark, a silence longer than the timespan exists among the kept events exactly when
 * it exists among all, and starts at the same event (a dropped event has kept neighbours within the
 * timespan on both sides). The first to come stays because an engine counts the silence of a host it
 * never heard from since the first event it was fed. So, for events within the allowed lateness, the
 * alerts are the same documents however the input was cut into batches, and most traffic stays in the
 * raw stage: each server's telemetry feeds its flatline with every line it sends.
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
/** Of a feed's event.original, what a correlation alert's evidence keeps when the event is too big to send. */
const ORIGINAL_KEPT = 8 * 1024;

/**
 * An event as JSON no bigger than a bundle: an event too big (a huge original line, a huge JSON
 * document) goes with the start of its original only; null when even that does not fit.
 */
function eventJson(e: Record<string, unknown>): string | null {
  const json = JSON.stringify(e);
  if (json.length <= BUNDLE_BYTES) return json;
  const event = e.event as Record<string, unknown> | undefined;
  if (typeof event?.original !== 'string') return null;
  const labels = { ...(e.labels as Record<string, unknown> | undefined), original_truncated: `feed keeps ${ORIGINAL_KEPT} of ${event.original.length}` };
  const trimmed = JSON.stringify({ ...e, labels, event: { ...event, original: event.original.slice(0, ORIGINAL_KEPT) } });
  return trimmed.length <= BUNDLE_BYTES ? trimmed : null;
}

/**
 * One batch's correlation feeds as few soc.correlate messages as possible: per partition, the feeds
 * in the order they were read, packed into bundles that carry each event once (a denied connection
 * feeds both the port scan and the sweep). Kafka's per-message cost, not the bytes, limits a produce
 * of small messages; a bundle is also handled whole, so its events meet the windows together. A feed
 * whose event cannot be made to fit is returned apart, for the caller to count: a message the broker
 * refuses would stop the partition for good.
 */
export function bundleFeeds(byPartition: Map<number, CorrelateEvent[]>): { messages: OutgoingMessage[]; oversize: CorrelateEvent[] } {
  const messages: OutgoingMessage[] = [];
  const oversize: CorrelateEvent[] = [];
  const json = new Map<Record<string, unknown>, string | null>();
  for (const [partition, items] of byPartition) {
    let events: string[] = [];
    let index = new Map<Record<string, unknown>, number>();
    let feeds: string[] = [];
    let bytes = 0;
    let newest = -Infinity;
    const flush = () => {
      if (feeds.length)
        messages.push({
          key: null,
          partition,
          value: `{"v":${CORRELATE_MESSAGE_VERSION},"kind":"feeds","events":[${events.join(',')}],"feeds":[${feeds.join(',')}]}`,
          timestamp: newest,
        });
      events = [];
      index = new Map();
      feeds = [];
      bytes = 0;
      newest = -Infinity;
    };
    for (const item of items) {
      let e = json.get(item.e);
      if (e === undefined) json.set(item.e, (e = eventJson(item.e)));
      if (e === null) {
        oversize.push(item);
        continue;
      }
      const head = JSON.stringify({ correlation: item.c, rule: item.r, time: item.t, ref: item.ref, arrived: item.arrived }).slice(0, -1);
      if (feeds.length && bytes + head.length + 16 + (index.has(item.e) ? 0 : e.length + 1) > BUNDLE_BYTES) flush();
      let i = index.get(item.e);
      if (i === undefined) {
        i = events.length;
        events.push(e);
        index.set(item.e, i);
        bytes += e.length + 1;
      }
      const feed = `${head},"event":${i}}`;
      feeds.push(feed);
      bytes += feed.length + 1;
      newest = Math.max(newest, item.t);
    }
    flush();
  }
  return { messages, oversize };
}

/** What one batch's feeds became: the bundles to send, and the counts the metrics report. */
export interface BundledFeeds {
  messages: OutgoingMessage[];
  sent: number;
  thinned: number;
  oversize: CorrelateEvent[];
}

/**
 * One raw batch's correlation feeds on their way to soc.correlate: gathered per partition in the order
 * they were read, flatline feeds thinned, then bundled.
 */
export class BatchFeeds {
  private readonly byPartition = new Map<number, CorrelateEvent[]>();
  private readonly flatlines = new Map<string, { spanMs: number; items: CorrelateEvent[] }>();
  /** Partition of each partition key: a server's telemetry repeats its key on every line. */
  private readonly partitions = new Map<string, number>();

  constructor(private readonly partitionOf: (key: string) => number) {}

  /**
   * A feed for the group `key`, sent to the partition of `partitionKey` (rules.ts, correlatePartitionKey);
   * `flatlineSpanMs` when its correlation is a flatline of that timespan.
   */
  add(key: string, partitionKey: string, item: CorrelateEvent, flatlineSpanMs?: number): void {
    let partition = this.partitions.get(partitionKey);
    if (partition === undefined) this.partitions.set(partitionKey, (partition = this.partitionOf(partitionKey)));
    let list = this.byPartition.get(partition);
    if (!list) this.byPartition.set(partition, (list = []));
    list.push(item);
    if (flatlineSpanMs === undefined) return;
    let f = this.flatlines.get(key);
    if (!f) this.flatlines.set(key, (f = { spanMs: flatlineSpanMs, items: [] }));
    f.items.push(item);
  }

  bundle(): BundledFeeds {
    const thinned = new Set<CorrelateEvent>();
    for (const f of this.flatlines.values()) {
      const kept = new Set(thinFlatline(f.items, f.spanMs));
      for (const item of f.items) if (!kept.has(item)) thinned.add(item);
    }
    let sent = 0;
    const byPartition = new Map<number, CorrelateEvent[]>();
    for (const [partition, list] of this.byPartition) {
      const kept = thinned.size ? list.filter((item) => !thinned.has(item)) : list;
      byPartition.set(partition, kept);
      sent += kept.length;
    }
    const { messages, oversize } = bundleFeeds(byPartition);
    return { messages, sent: sent - oversize.length, thinned: thinned.size, oversize };
  }
}
