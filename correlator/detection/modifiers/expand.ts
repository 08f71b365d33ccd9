import type { ItemContext, ValueTest } from '../compile/item.ts';
import type { Form } from '../compile/string-item.ts';
import type { ListEntry } from '../lists.ts';

const PLACEHOLDER = /%([A-Za-z0-9_.-]+)%/g;

type FormsTest = (forms: Form[], report: (m: string) => void, count: boolean) => ValueTest;

/**
 * expand: each value's `%name%` placeholders take the values of the lists of that name (rules/lists/),
 * compiled like values written in the rule. A placeholder no list resolves refuses the rule (null after
 * `ctx.error`): matching nothing would turn `selection and not filter` into fire-on-everything.
 */
export function expandTests(
  values: readonly unknown[],
  ctx: ItemContext,
  finalForms: (raw: unknown) => Form[] | null,
  formsTest: FormsTest,
): ValueTest[] | null {
  const tests: ValueTest[] = [];
  for (const raw of values) {
    if (typeof raw !== 'string') {
      ctx.error("modifier 'expand' needs a string with a %placeholder%");
      return null;
    }
    const names = [...raw.matchAll(PLACEHOLDER)].map((m) => m[1]!);
    if (names.length === 0) {
      ctx.error(`'${raw}' has no %placeholder% for 'expand'`);
      return null;
    }
    const entries = names.map((n) => ctx.lists.entry(n));
    const missing = entries.find((e) => !e.defined);
    if (missing) {
      ctx.error(`placeholder %${missing.name}% is not resolved: no list rules/lists/${missing.name}.txt (an empty list file resolves it)`);
      return null;
    }
    tests.push(expandTest(raw, entries, finalForms, formsTest));
  }
  return tests;
}

/**
 * An `expand` value: the placeholders are replaced by every combination of their lists' values, and the
 * matcher is rebuilt when a list gets a new version (files reloaded, a national feed imported).
 */
function expandTest(raw: string, entries: ListEntry[], finalForms: (raw: unknown) => Form[] | null, formsTest: FormsTest): ValueTest {
  const seen = entries.map((e) => e.version);
  let current: ValueTest = () => false;
  let built = false;
  const rebuild = () => {
    let texts = [raw];
    for (const e of entries) {
      const token = `%${e.name}%`;
      texts = texts.flatMap((t) => (t.includes(token) ? e.values.map((v) => t.split(token).join(v)) : [t]));
    }
    const forms = texts.flatMap((t) => {
      try {
        return finalForms(t) ?? [];
      } catch {
        return [];
      }
    });
    // A bad entry in a list (a malformed network, say) is skipped: the list is data, not the rule.
    try {
      current = forms.length ? formsTest(forms, () => undefined, !built) : () => false;
    } catch {
      // Values from a list that the engine cannot take (a pattern too large) match nothing rather than stop the rule set.
      current = () => false;
    }
    built = true;
  };
  // Built now, so the item's size counts the lists as loaded; rebuilt when a list changes.
  rebuild();
  return (v) => {
    let stale = false;
    for (let i = 0; i < entries.length; i++) {
      if (seen[i] !== entries[i]!.version) {
        seen[i] = entries[i]!.version;
        stale = true;
      }
    }
    if (stale) rebuild();
    return current(v);
  };
}
