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

/** How many of each key the window holds: its size is the number of distinct keys. */
class Distinct {
  private readonly counts = new Map<string, number>();
  add(k: string) {
    this.counts.set(k, (this.counts.get(k) ?? 0) + 1);
  }
  remove(k: string) {
    const n = (this.counts.get(k) ?? 0) - 1;
    if (n <= 0) this.counts.delete(k);
    else this.counts.set(k, n);
  }
  get size(): number {
    return this.counts.size;
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

/*
 * The aggregates are classes rather than objects of closures: a window is created for every new group
 * and every look ahead (engine.ts), often once per event, and a class instance is one small object.
 */

/** event_count, flatline, and measures computed from the whole window (percentile, median). */
class WholeWindow implements Aggregate {
  constructor(readonly measure: (items: readonly WindowItem[]) => number) {}
  add(): void {}
  remove(): void {}
}

const windowLength = new WholeWindow((items) => items.length);

class DistinctValues implements Aggregate {
  private readonly values = new Distinct();
  add(i: WindowItem): void {
    const k = distinctKey(i.value);
    if (k !== null) this.values.add(k);
  }
  remove(i: WindowItem): void {
    const k = distinctKey(i.value);
    if (k !== null) this.values.remove(k);
  }
  measure(): number {
    return this.values.size;
  }
}

class DistinctRules implements Aggregate {
  private readonly rules = new Distinct();
  add(i: WindowItem): void {
    this.rules.add(i.ruleId);
  }
  remove(i: WindowItem): void {
    this.rules.remove(i.ruleId);
  }
  measure(): number {
    return this.rules.size;
  }
}

class Sum implements Aggregate {
  private sum = 0;
  private n = 0;
  constructor(private readonly average: boolean) {}
  add(i: WindowItem): void {
    const v = toNumber(i.value);
    if (v !== null) {
      this.sum += v;
      this.n++;
    }
  }
  remove(i: WindowItem): void {
    const v = toNumber(i.value);
    if (v !== null) {
      this.sum -= v;
      this.n--;
    }
  }
  measure(): number {
    return this.average ? (this.n ? this.sum / this.n : NaN) : this.sum;
  }
}

export function createAggregate(type: CorrelationType, rules: readonly string[], percentile: number): Aggregate {
  switch (type) {
    case 'event_count':
    case 'flatline':
      // Holds no state of its own: one for all windows.
      return windowLength;
    case 'value_count':
      return new DistinctValues();
    case 'temporal':
      return new DistinctRules();
    case 'temporal_ordered':
      // How many of the rules appeared in their order (a subsequence of the window).
      return new WholeWindow((items) => {
        let next = 0;
        for (const i of items) if (next < rules.length && i.ruleId === rules[next]) next++;
        return next;
      });
    case 'value_sum':
      return new Sum(false);
    case 'value_avg':
      return new Sum(true);
    case 'value_percentile':
      return new WholeWindow((items) => percentileOf(numbersOf(items), percentile));
    case 'value_median':
      return new WholeWindow((items) => medianOf(numbersOf(items)));
  }
}
