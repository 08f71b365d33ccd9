import { anyElement, EMPTY_SIZE, fieldPredicate, type CompiledItem, type DetectionItem, type ItemContext } from '../compile/item.ts';
import type { ModifierSet } from './registry.ts';
import { timePart } from './time.ts';

/** gt, gte, lt, lte (and neq on numbers): numeric comparisons; a field that is not a number never matches. */
export type Comparison = 'gt' | 'gte' | 'lt' | 'lte' | 'eq' | 'neq';

export function toNumber(v: unknown): number | null {
  if (typeof v === 'number') return Number.isFinite(v) ? v : null;
  if (typeof v === 'string' && v.trim() !== '') {
    const n = Number(v);
    return Number.isFinite(n) ? n : null;
  }
  return null;
}

export function compareNumbers(op: Comparison, got: number, want: number): boolean {
  switch (op) {
    case 'gt':
      return got > want;
    case 'gte':
      return got >= want;
    case 'lt':
      return got < want;
    case 'lte':
      return got <= want;
    case 'eq':
      return got === want;
    case 'neq':
      return got !== want;
  }
}

/** gt/gte/lt/lte, and the time parts (a number from a date, compared with each value). */
export function compareItem(item: DetectionItem, mods: ModifierSet, ctx: ItemContext): CompiledItem | null {
  const nums: number[] = [];
  for (const v of item.values) {
    const n = toNumber(v);
    if (n === null) {
      ctx.error(`modifier '${mods.comparison === 'eq' ? mods.time : mods.comparison}' needs numbers, got ${JSON.stringify(v)}`);
      return null;
    }
    nums.push(n);
  }
  const part = mods.time;
  const extract = part ? (v: unknown) => timePart(v, part) : toNumber;
  const op = mods.comparison;
  const tests = nums.map((want) => {
    const one = (x: unknown) => {
      const got = extract(x);
      return got !== null && compareNumbers(op, got, want);
    };
    return (v: unknown) => anyElement(v, one);
  });
  return { test: fieldPredicate(ctx.reader, tests, mods), constants: null, literals: null, size: { ...EMPTY_SIZE, values: nums.length } };
}
