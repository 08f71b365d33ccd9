import { toNumber } from '../modifiers/compare.ts';
import type { CorrelationType } from '../parse/schema.ts';

/** One event (or one hit of a chained correlation) inside a correlation window. */
export interface WindowItem {
  t: number;
  seq: number;
  ruleId: string;
  refs: unknown[];
  /** The `field` value for value_count and the value_* aggregates (undefined when absent). */
  value: unknown;
}

/** The measure a correlation's condition is compared with, kept up to date as items enter and leave. */
export interface Aggregate {
  add(item: WindowItem): void;
  remove(item: WindowItem): void;
  /** `items`: the window, oldest first (some measures need the whole window). */
  measure(items: readonly WindowItem[]): number;
}

class Counter {
  readonly counts = new Map<string, number>();
  add(k: string) {
    this.counts.set(k, (this.counts.get(k) ?? 0) + 1);
  }
  remove(k: string) {
    const n = (this.counts.get(k) ?? 0) - 1;
    if (n <= 0) this.counts.delete(k);
    else this.counts.set(k, n);
  }
}

function distinctKey(v: unknown): string | null {
  if (v === undefined || v === null) return null;
  return typeof v === 'object' ? JSON.stringify(v) : String(v);
}

function numbersOf(items: readonly WindowItem[]): number[] {
  const out: number[] = [];
  for (const i of items) {
    const n = toNumber(i.value);
    if (n !== null) out.push(n);
  }
  return out.sort((a, b) => a - b);
}

/** Nearest-rank percentile of sorted numbers. */
function percentileOf(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[Math.min(sorted.length, rank) - 1]!;
}

function medianOf(sorted: number[]): number {
  if (sorted.length === 0) return NaN;
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

export function createAggregate(type: CorrelationType, rules: readonly string[], percentile: number): Aggregate {
  switch (type) {
    case 'event_count':
    case 'flatline':
      return { add() {}, remove() {}, measure: (items) => items.length };
    case 'value_count': {
      const c = new Counter();
      return {
        add: (i) => {
          const k = distinctKey(i.value);
          if (k !== null) c.add(k);
        },
        remove: (i) => {
          const k = distinctKey(i.value);
          if (k !== null) c.remove(k);
        },
        measure: () => c.counts.size,
      };
    }
    case 'temporal': {
      const c = new Counter();
      return { add: (i) => c.add(i.ruleId), remove: (i) => c.remove(i.ruleId), measure: () => c.counts.size };
    }
    case 'temporal_ordered':
      // How many of the rules appeared in their order (a subsequence of the window).
      return {
        add() {},
        remove() {},
        measure: (items) => {
          let next = 0;
          for (const i of items) if (next < rules.length && i.ruleId === rules[next]) next++;
          return next;
        },
      };
    case 'value_sum':
    case 'value_avg': {
      let sum = 0;
      let n = 0;
      return {
        add: (i) => {
          const v = toNumber(i.value);
          if (v !== null) {
            sum += v;
            n++;
          }
        },
        remove: (i) => {
          const v = toNumber(i.value);
          if (v !== null) {
            sum -= v;
            n--;
          }
        },
        measure: () => (type === 'value_sum' ? sum : n ? sum / n : NaN),
      };
    }
    case 'value_percentile':
      return { add() {}, remove() {}, measure: (items) => percentileOf(numbersOf(items), percentile) };
    case 'value_median':
      return { add() {}, remove() {}, measure: (items) => medianOf(numbersOf(items)) };
  }
}
