/** What the queue orders: event time, then arrival sequence. */
export interface Queued {
  t: number;
  seq: number;
}

function before(a: Queued, b: Queued): boolean {
  return a.t < b.t || (a.t === b.t && a.seq < b.seq);
}

/**
 * Events waiting for the watermark, released oldest first: a binary heap. Raw partitions' batches
 * interleave, so events arrive far out of order within the lateness; a sorted array paid a move of every
 * later entry per insert and per release (a fifth of the correlator's time at 20,000 events/s).
 */
export class EventQueue<T extends Queued> {
  private heap: T[] = [];

  get size(): number {
    return this.heap.length;
  }

  push(item: T): void {
    const h = this.heap;
    let i = h.length;
    h.push(item);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(item, h[parent]!)) break;
      h[i] = h[parent]!;
      i = parent;
    }
    h[i] = item;
  }

  /** Removes and returns, in order, every item with t <= `upTo`. */
  popUpTo(upTo: number): T[] {
    const out: T[] = [];
    while (this.heap.length && this.heap[0]!.t <= upTo) out.push(this.pop());
    return out;
  }

  /** Keeps the items `keep` accepts (a rule reload). */
  retain(keep: (item: T) => boolean): void {
    const items = this.heap.filter(keep);
    this.heap = [];
    for (const item of items) this.push(item);
  }

  private pop(): T {
    const h = this.heap;
    const top = h[0]!;
    const last = h.pop()!;
    if (h.length) {
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= h.length) break;
        const r = l + 1;
        const c = r < h.length && before(h[r]!, h[l]!) ? r : l;
        if (!before(h[c]!, last)) break;
        h[i] = h[c]!;
        i = c;
      }
      h[i] = last;
    }
    return top;
  }
}
