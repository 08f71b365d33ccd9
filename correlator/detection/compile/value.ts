import type { ListEntry, ListStore } from '../lists.ts';
import { cidrMatcher } from '../modifiers/cidr.ts';
import { compareNumbers, toNumber, type Comparison } from '../modifiers/compare.ts';
import { asText, base64, base64offset, utf16, type EncodedValue } from '../modifiers/encoding.ts';
import { compileRegex } from '../modifiers/regex.ts';
import { MODIFIERS } from '../modifiers/registry.ts';
import { timePart, type TimePart } from '../modifiers/time.ts';
import { compilePieces, constantOf, literal, parseWildcards, positioned, type Piece, type Position } from '../modifiers/wildcard.ts';
import { windash } from '../modifiers/windash.ts';
import type { FieldReader } from '../fields/reader.ts';
import type { Predicate } from '../condition/evaluate.ts';

/** One `field|modifier|...: values` entry of a selection, as the rule wrote it. */
export interface DetectionItem {
  /** null for keywords (a bare list of strings): matched against the whole original line. */
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

export interface CompiledItem {
  test: Predicate;
  /** The folded constants the field must equal, when the item is a plain equality (for the rule index). */
  constants: string[] | null;
  /** Folded substrings one of which the field must contain, when every value has one (for the rule index). */
  literals: string[] | null;
}

/** Shorter substrings say too little to be worth an index entry. */
export const MIN_LITERAL = 3;

function longestLiteral(pieces: readonly Piece[]): string | null {
  let best = '';
  for (const p of pieces) if (typeof p === 'object' && p.lit.length > best.length) best = p.lit;
  return best.length >= MIN_LITERAL ? best.toLowerCase() : null;
}

const PLACEHOLDER = /%([A-Za-z0-9_.-]+)%/g;

/** Folds an event value to the string the string modifiers compare; objects never match a string. */
function scalarText(v: unknown, cased: boolean): string | null {
  if (typeof v === 'string') return cased ? v : v.toLowerCase();
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return String(v);
  return null;
}

/** Applies a test to a field value, any element of an array matching. */
function anyElement(v: unknown, test: (x: unknown) => boolean): boolean {
  if (Array.isArray(v)) {
    for (const x of v) if (test(x)) return true;
    return false;
  }
  return test(v);
}

export function compileItem(item: DetectionItem, ctx: ItemContext): CompiledItem | null {
  const mods = item.modifiers;
  for (const m of mods) {
    if (!(m in MODIFIERS)) {
      ctx.error(`unknown modifier '${m}'`);
      return null;
    }
  }
  const has = (m: string) => mods.includes(m);
  const matchMods = mods.filter((m) => MODIFIERS[m] === 'match');
  const positions = mods.filter((m) => MODIFIERS[m] === 'position') as Position[];
  const timeMods = mods.filter((m) => MODIFIERS[m] === 'time') as TimePart[];
  const regexFlags = mods.filter((m) => MODIFIERS[m] === 'regex-flag');
  const comparison = matchMods.find((m) => m === 'gt' || m === 'gte' || m === 'lt' || m === 'lte') as Comparison | undefined;
  const matchKind = comparison ? 'compare' : (matchMods.find((m) => m !== 'fieldref') ?? (has('fieldref') ? 'fieldref' : null));

  if (matchMods.filter((m) => m !== 'fieldref').length > 1) {
    ctx.error(`modifiers ${matchMods.join(', ')} cannot be combined`);
    return null;
  }
  if (positions.length > 1) {
    ctx.error(`modifiers ${positions.join(', ')} cannot be combined`);
    return null;
  }
  if (regexFlags.length && !has('re')) {
    ctx.error(`modifier '${regexFlags[0]}' is a flag of 're' and needs it`);
    return null;
  }
  if (timeMods.length > 1) {
    ctx.error(`modifiers ${timeMods.join(', ')} cannot be combined`);
    return null;
  }
  if (positions.length && matchKind && matchKind !== 'fieldref') {
    ctx.error(`modifier '${positions[0]}' cannot be combined with '${matchKind}'`);
    return null;
  }
  if (has('all') && item.values.length < 2) ctx.warn("modifier 'all' on a single value changes nothing");
  if (item.values.length === 0) {
    ctx.error('empty list of values');
    return null;
  }

  const cased = has('cased');
  const neq = has('neq');
  const all = has('all');
  const reader = ctx.reader;
  const combine = (tests: ((v: unknown) => boolean)[]): Predicate => {
    let pred: Predicate;
    if (all) pred = (e) => tests.every((t) => t(reader(e)));
    else if (tests.length === 1) {
      const t = tests[0]!;
      pred = (e) => t(reader(e));
    } else pred = (e) => {
      const v = reader(e);
      for (const t of tests) if (t(v)) return true;
      return false;
    };
    if (!neq) return pred;
    // neq: the field exists and differs from every value.
    return (e) => {
      const v = reader(e);
      return v !== undefined && v !== null && !pred(e);
    };
  };

  if (matchKind === 'exists') {
    const want = item.values[0];
    if (item.values.length !== 1 || typeof want !== 'boolean') {
      ctx.error("modifier 'exists' takes true or false");
      return null;
    }
    return { test: (e) => (reader(e) !== undefined) === want, constants: null, literals: null };
  }

  if (timeMods.length || matchKind === 'compare') {
    const op: Comparison = comparison ?? 'eq';
    const nums: number[] = [];
    for (const v of item.values) {
      const n = toNumber(v);
      if (n === null) {
        ctx.error(`modifier '${comparison ?? timeMods[0]}' needs numbers, got ${JSON.stringify(v)}`);
        return null;
      }
      nums.push(n);
    }
    const part = timeMods[0];
    const extract = part ? (v: unknown) => timePart(v, part) : toNumber;
    return {
      test: combine(nums.map((want) => (v: unknown) => anyElement(v, (x) => {
        const got = extract(x);
        return got !== null && compareNumbers(op, got, want);
      }))),
      constants: null,
      literals: null,
    };
  }

  if (matchKind === 're') {
    const tests: ((v: unknown) => boolean)[] = [];
    for (const v of item.values) {
      if (typeof v !== 'string') {
        ctx.error(`modifier 're' needs a string pattern, got ${JSON.stringify(v)}`);
        return null;
      }
      const re = compileRegex(v, { i: has('i'), m: has('m'), s: has('s') });
      if (typeof re === 'string') {
        ctx.error(re);
        return null;
      }
      tests.push((x) => anyElement(x, (y) => typeof y === 'string' ? re(y) : (typeof y === 'number' || typeof y === 'boolean') && re(String(y))));
    }
    return { test: combine(tests), constants: null, literals: null };
  }

  if (matchKind === 'fieldref') {
    const position = positions[0] ?? 'exact';
    const tests = item.values.map((ref) => {
      const other = ctx.readerFor(String(ref));
      return { other };
    });
    const check = (mine: unknown, theirs: unknown): boolean => {
      const a = scalarText(mine, cased);
      const b = scalarText(theirs, cased);
      if (a === null || b === null) return false;
      switch (position) {
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
    let pred: Predicate = all ? (e) => tests.every((t) => one(e, t.other)) : (e) => tests.some((t) => one(e, t.other));
    if (neq) {
      const inner = pred;
      pred = (e) => reader(e) !== undefined && reader(e) !== null && !inner(e);
    }
    return { test: pred, constants: null, literals: null };
  }

  const transforms = mods.filter((m) => MODIFIERS[m] === 'transform');
  const position: Position = positions[0] ?? (item.field === null ? 'contains' : 'exact');
  const expand = transforms.includes('expand');

  /** Turns one of the rule's values into its final string forms, applying the transforms in order. */
  const finalForms = (raw: unknown): { text: string; literal: boolean }[] | null => {
    if (raw === null) return null;
    if (typeof raw === 'object') {
      ctx.error(`a value must be a string, number, boolean or null, got ${JSON.stringify(raw)}`);
      return null;
    }
    let forms: { v: EncodedValue; literal: boolean }[] = [{ v: String(raw), literal: false }];
    for (const t of transforms) {
      switch (t) {
        case 'windash':
          forms = forms.flatMap((f) => (typeof f.v === 'string' ? windash(f.v).map((v) => ({ v, literal: f.literal })) : [f]));
          break;
        case 'utf16':
        case 'utf16le':
        case 'utf16be':
        case 'wide':
          forms = forms.map((f) => ({ v: utf16(f.v, t), literal: true }));
          break;
        case 'base64':
          forms = forms.map((f) => ({ v: base64(f.v), literal: true }));
          break;
        case 'base64offset':
          forms = forms.flatMap((f) => base64offset(f.v).map((v) => ({ v, literal: true })));
          break;
        default:
          break;
      }
    }
    return forms.map((f) => ({ text: asText(f.v), literal: f.literal }));
  };

  if (transforms.some((t) => t.startsWith('base64')) || transforms.some((t) => t.startsWith('utf16') || t === 'wide')) {
    for (const v of item.values) {
      if (typeof v === 'string' && typeof parseWildcards(v).find((p) => typeof p === 'string') === 'string') {
        ctx.error('wildcards cannot be encoded: base64 and utf16 modifiers need plain values');
        return null;
      }
    }
  }

  /** Builds the test for one rule value's final forms (OR between forms). */
  const formsTest = (forms: { text: string; literal: boolean }[], report: (m: string) => void): ((v: unknown) => boolean) => {
    if (matchKind === 'cidr') {
      const fns: ((ip: string) => boolean)[] = [];
      for (const f of forms) {
        const net = cidrMatcher(f.text);
        if (typeof net === 'string') report(net);
        else fns.push(net);
      }
      return (v) => anyElement(v, (x) => typeof x === 'string' && fns.some((f) => f(x)));
    }
    const exact = new Set<string>();
    const others: ((s: string) => boolean)[] = [];
    for (const f of forms) {
      const pieces = positioned(f.literal ? literal(f.text) : parseWildcards(f.text), position);
      const constant = constantOf(pieces);
      if (constant !== null && !cased) exact.add(constant);
      else others.push(compilePieces(pieces, cased));
    }
    const one = (x: unknown) => {
      const s = scalarText(x, cased);
      if (s === null) return false;
      if (exact.has(s)) return true;
      for (const o of others) if (o(s)) return true;
      return false;
    };
    return (v) => anyElement(v, one);
  };

  if (expand) {
    const tests: ((v: unknown) => boolean)[] = [];
    for (const raw of item.values) {
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
      for (const e of entries) if (!e.defined) ctx.warn(`placeholder %${e.name}% has no list (rules/lists/${e.name}.txt)`);
      tests.push(expandTest(raw, entries, finalForms, formsTest));
    }
    return { test: combine(tests), constants: null, literals: null };
  }

  const tests: ((v: unknown) => boolean)[] = [];
  const constants: string[] = [];
  let plain = matchKind === null && transforms.length === 0 && position === 'exact' && !neq && !all && item.field !== null;
  let literals: string[] | null = matchKind === null && !neq && (!all || item.values.length === 1) ? [] : null;
  for (const raw of item.values) {
    if (raw === null) {
      if (matchKind === 'cidr') {
        ctx.error("modifier 'cidr' needs networks, not null");
        return null;
      }
      tests.push((v) => v === undefined || v === null);
      plain = false;
      literals = null;
      continue;
    }
    let forms: { text: string; literal: boolean }[] | null;
    try {
      forms = finalForms(raw);
    } catch (err) {
      ctx.error((err as Error).message);
      return null;
    }
    if (!forms) return null;
    if (plain && matchKind === null) {
      const c = constantOf(parseWildcards(forms[0]!.text));
      if (c === null) plain = false;
      else constants.push(c);
    }
    if (literals) {
      for (const f of forms) {
        const lit = longestLiteral(positioned(f.literal ? literal(f.text) : parseWildcards(f.text), position));
        if (lit === null) {
          literals = null;
          break;
        }
        literals.push(lit);
      }
    }
    tests.push(formsTest(forms, ctx.error));
  }
  return { test: combine(tests), constants: plain ? constants : null, literals };
}

/**
 * An `expand` value: the placeholders are replaced by every combination of their lists' values, and the
 * test is rebuilt when a list gets a new version (files reloaded, a national feed imported).
 */
function expandTest(
  raw: string,
  entries: ListEntry[],
  finalForms: (raw: unknown) => { text: string; literal: boolean }[] | null,
  formsTest: (forms: { text: string; literal: boolean }[], report: (m: string) => void) => (v: unknown) => boolean,
): (v: unknown) => boolean {
  const seen = entries.map(() => -1);
  let current: (v: unknown) => boolean = () => false;
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
    current = forms.length ? formsTest(forms, () => undefined) : () => false;
  };
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
