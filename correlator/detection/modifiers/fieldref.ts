import { anyElement, EMPTY_SIZE, scalarText, type CompiledItem, type DetectionItem, type ItemContext } from '../compile/item.ts';
import type { Predicate } from '../condition/evaluate.ts';
import type { FieldReader } from '../fields/reader.ts';
import type { ModifierSet } from './registry.ts';

/** fieldref: the field equals (or, with a position, contains / starts / ends with) another field of the same event. */
export function fieldrefItem(item: DetectionItem, mods: ModifierSet, ctx: ItemContext): CompiledItem | null {
  const reader = ctx.reader;
  const others = item.values.map((ref) => ctx.readerFor(String(ref)));
  const check = (mine: unknown, theirs: unknown): boolean => {
    const a = scalarText(mine, mods.cased);
    const b = scalarText(theirs, mods.cased);
    if (a === null || b === null) return false;
    switch (mods.position) {
      case 'contains':
        return a.includes(b);
      case 'startswith':
        return a.startsWith(b);
      case 'endswith':
        return a.endsWith(b);
      default:
        return a === b;
    }
  };
  const one = (e: unknown, other: FieldReader) => {
    const theirs = other(e);
    return anyElement(reader(e), (x) => anyElement(theirs, (y) => check(x, y)));
  };
  let pred: Predicate = mods.all ? (e) => others.every((o) => one(e, o)) : (e) => others.some((o) => one(e, o));
  if (mods.neq) {
    const inner = pred;
    pred = (e) => reader(e) !== undefined && reader(e) !== null && !inner(e);
  }
  return { test: pred, constants: null, literals: null, size: { ...EMPTY_SIZE, values: others.length } };
}
