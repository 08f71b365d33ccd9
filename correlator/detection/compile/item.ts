import type { Predicate } from '../condition/evaluate.ts';
import type { FieldReader } from '../fields/reader.ts';
import { folded } from '../fields/fold.ts';
import type { ListStore } from '../lists.ts';
import { compareItem } from '../modifiers/compare.ts';
import { existsItem } from '../modifiers/exists.ts';
import { fieldrefItem } from '../modifiers/fieldref.ts';
import { regexItem } from '../modifiers/regex.ts';
import { resolveModifiers, type ModifierSet } from '../modifiers/registry.ts';
import { stringItem } from './string-item.ts';

/** One `field|modifier|...: values` entry of a selection, as the rule wrote it. */
export interface DetectionItem {
  /** null for keywords (a bare list of strings): matched against the event's string values. */
  field: string | null;
  modifiers: string[];
  values: unknown[];
}

export interface ItemContext {
  reader: FieldReader;
  /** Reads another field of the same event (fieldref). */
  readerFor(field: string): FieldReader;
  lists: ListStore;
  error(message: string): void;
  warn(message: string): void;
}

/**
 * What an item holds, for the rule cost estimate: values as written, and what the values compiled to
 * (expand lists count at compile time with the lists then loaded).
 */
export interface ItemSize {
  values: number;
  exact: number;
  prefixes: number;
  suffixes: number;
  substrings: number;
  /** Values with wildcards in the middle (one RE2 alternation for all of them). */
  wildcards: number;
  regexes: number;
  networks: number;
}

export interface CompiledItem {
  test: Predicate;
  /** The folded constants the field must equal, when the item is a plain equality (for the rule index). */
  constants: string[] | null;
  /** Folded substrings one of which the field must contain, when every value has one (for the rule index). */
  literals: string[] | null;
  size: ItemSize;
}

export const EMPTY_SIZE: ItemSize = { values: 0, exact: 0, prefixes: 0, suffixes: 0, substrings: 0, wildcards: 0, regexes: 0, networks: 0 };

/** A test of one field value (an array matches when any element does). */
export type ValueTest = (v: unknown) => boolean;

/** Folds an event value to the string the string modifiers compare; objects never match a string. */
export function scalarText(v: unknown, cased: boolean): string | null {
  if (typeof v === 'string') return cased ? v : folded(v);
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return String(v);
  return null;
}

export function anyElement(v: unknown, test: (x: unknown) => boolean): boolean {
  if (Array.isArray(v)) {
    for (const x of v) if (test(x)) return true;
    return false;
  }
  return test(v);
}

/** The item's predicate: any (or, with `all`, every) value test holds; with `neq`, the field exists and none holds. */
export function fieldPredicate(reader: FieldReader, tests: ValueTest[], mods: Pick<ModifierSet, 'all' | 'neq'>): Predicate {
  let pred: Predicate;
  if (mods.all && tests.length > 1)
    pred = (e) => {
      const v = reader(e);
      for (const t of tests) if (!t(v)) return false;
      return true;
    };
  else if (tests.length === 1) {
    const t = tests[0]!;
    pred = (e) => t(reader(e));
  } else
    pred = (e) => {
      const v = reader(e);
      for (const t of tests) if (t(v)) return true;
      return false;
    };
  if (!mods.neq) return pred;
  const inner = pred;
  return (e) => {
    const v = reader(e);
    return v !== undefined && v !== null && !inner(e);
  };
}

/** Compiles one item: its modifiers are checked against the combination table, then the match kind's module builds the test. */
export function compileItem(item: DetectionItem, ctx: ItemContext): CompiledItem | null {
  const mods = resolveModifiers(item.modifiers, ctx.error);
  if (!mods) return null;
  if (mods.all && item.values.length < 2) ctx.warn("modifier 'all' on a single value changes nothing");
  if (item.values.length === 0) {
    ctx.error('empty list of values');
    return null;
  }
  switch (mods.match) {
    case 'exists':
      return existsItem(item, mods, ctx);
    case 'compare':
      return compareItem(item, mods, ctx);
    case 're':
      return regexItem(item, mods, ctx);
    case 'fieldref':
      return fieldrefItem(item, mods, ctx);
    default:
      return stringItem(item, mods, ctx);
  }
}
