import { RE2JS } from 're2js';
import { checkDeadline } from '../compile/deadline.ts';
import { anyElement, EMPTY_SIZE, fieldPredicate, type CompiledItem, type DetectionItem, type ItemContext, type ValueTest } from '../compile/item.ts';
import type { ModifierSet } from './registry.ts';

/**
 * `re` with its flags i, m, s, on re2js: linear time whatever the pattern, so no rule can hang the
 * correlator. A pattern re2js cannot compile (backreferences, lookaround) is returned as an error message.
 */
export function compileRegex(pattern: string, flags: { i: boolean; m: boolean; s: boolean }): ((s: string) => boolean) | string {
  let bits = 0;
  if (flags.i) bits |= RE2JS.CASE_INSENSITIVE;
  if (flags.m) bits |= RE2JS.MULTILINE;
  if (flags.s) bits |= RE2JS.DOTALL;
  try {
    const re = RE2JS.compile(pattern, bits);
    return (s) => re.test(s);
  } catch (err) {
    return `regular expression '${pattern}' cannot run on the linear-time engine: ${(err as Error).message}`;
  }
}

/** re: each value a pattern; numbers and booleans are matched as their text. */
export function regexItem(item: DetectionItem, mods: ModifierSet, ctx: ItemContext): CompiledItem | null {
  const tests: ValueTest[] = [];
  for (const v of item.values) {
    if (typeof v !== 'string') {
      ctx.error(`modifier 're' needs a string pattern, got ${JSON.stringify(v)}`);
      return null;
    }
    const re = compileRegex(v, mods.regexFlags);
    if (typeof re === 'string') {
      ctx.error(re);
      return null;
    }
    const one = (y: unknown) => {
      // Hundreds of patterns on a long value can take seconds: the budget may stop the rule between two.
      checkDeadline();
      return typeof y === 'string' ? re(y) : (typeof y === 'number' || typeof y === 'boolean') && re(String(y));
    };
    tests.push((x) => anyElement(x, one));
  }
  return {
    test: fieldPredicate(ctx.reader, tests, mods),
    constants: null,
    literals: null,
    size: { ...EMPTY_SIZE, values: tests.length, regexes: tests.length },
  };
}
