import { EMPTY_SIZE, type CompiledItem, type DetectionItem, type ItemContext } from '../compile/item.ts';
import type { ModifierSet } from './registry.ts';

/** exists: true when the field is present, false when absent. */
export function existsItem(item: DetectionItem, _mods: ModifierSet, ctx: ItemContext): CompiledItem | null {
  const want = item.values[0];
  if (item.values.length !== 1 || typeof want !== 'boolean') {
    ctx.error("modifier 'exists' takes true or false");
    return null;
  }
  const reader = ctx.reader;
  return { test: (e) => (reader(e) !== undefined) === want, constants: null, literals: null, size: { ...EMPTY_SIZE, values: 1 } };
}
