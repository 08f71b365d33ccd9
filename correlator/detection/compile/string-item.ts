import { cidrMatcher } from '../modifiers/cidr.ts';
import { asText, base64, base64offset, utf16, type EncodedValue } from '../modifiers/encoding.ts';
import { expandTests } from '../modifiers/expand.ts';
import type { ModifierSet } from '../modifiers/registry.ts';
import { undash, windash } from '../modifiers/windash.ts';
import { constantOf, literal, parseWildcards, positioned, type Piece, type Position } from '../modifiers/wildcard.ts';
import {
  anyElement,
  EMPTY_SIZE,
  fieldPredicate,
  scalarText,
  type CompiledItem,
  type DetectionItem,
  type ItemContext,
  type ItemSize,
  type ValueTest,
} from './item.ts';
import { stringMatcher } from './string-matcher.ts';

/** Shorter substrings say too little to be worth an index entry. */
const MIN_LITERAL = 3;

const ENCODINGS = new Set(['base64', 'base64offset', 'utf16', 'utf16le', 'utf16be', 'wide']);

/** One final form of a rule value: its text, and whether it is a literal (encoded, so no wildcards). */
export interface Form {
  text: string;
  literal: boolean;
}

function longestLiteral(pieces: readonly Piece[], dashMapped: boolean): string | null {
  let best = '';
  for (const p of pieces) {
    if (typeof p !== 'object') continue;
    // Under windash the event text differs from the index's plain text at the dashes: only dash-free runs can be looked up.
    for (const run of dashMapped ? p.lit.split('-') : [p.lit]) if (run.length > best.length) best = run;
  }
  return best.length >= MIN_LITERAL ? best.toLowerCase() : null;
}

/**
 * String values (and cidr): the transforms rewrite each value left to right, then all values of the item
 * become one matcher (hash set, prefix/suffix lookups, one Aho–Corasick pass, one RE2 alternation), or
 * one per value under `all`. `expand` values are rebuilt from their lists when a list changes.
 */
export function stringItem(item: DetectionItem, mods: ModifierSet, ctx: ItemContext): CompiledItem | null {
  const { transforms, cased } = mods;
  const position: Position = mods.position ?? (item.field === null ? 'contains' : 'exact');
  const cidr = mods.match === 'cidr';
  const expand = transforms.includes('expand');
  const dashAt = transforms.indexOf('windash');
  // windash compares with every dash mapped to '-' on both sides, unless an encoding follows it and needs the permutations.
  const dashMapped = dashAt >= 0 && !transforms.slice(dashAt + 1).some((t) => ENCODINGS.has(t));
  const textOf = dashMapped
    ? (x: unknown) => {
        const s = scalarText(x, cased);
        return s === null ? null : undash(s);
      }
    : (x: unknown) => scalarText(x, cased);

  const finalForms = (raw: unknown): Form[] | null => {
    if (raw === null) return null;
    if (typeof raw === 'object') {
      ctx.error(`a value must be a string, number, boolean or null, got ${JSON.stringify(raw)}`);
      return null;
    }
    let forms: { v: EncodedValue; literal: boolean }[] = [{ v: String(raw), literal: false }];
    for (const t of transforms) {
      if (t === 'windash') {
        forms = forms.flatMap((f) =>
          typeof f.v !== 'string' ? [f] : dashMapped ? [{ v: undash(f.v), literal: f.literal }] : windash(f.v).map((v) => ({ v, literal: f.literal })),
        );
      } else if (t === 'base64') forms = forms.map((f) => ({ v: base64(f.v), literal: true }));
      else if (t === 'base64offset') forms = forms.flatMap((f) => base64offset(f.v).map((v) => ({ v, literal: true })));
      else if (ENCODINGS.has(t)) forms = forms.map((f) => ({ v: utf16(f.v, t as 'utf16' | 'utf16le' | 'utf16be' | 'wide'), literal: true }));
    }
    return forms.map((f) => ({ text: asText(f.v), literal: f.literal }));
  };

  if (transforms.some((t) => ENCODINGS.has(t))) {
    for (const v of item.values) {
      if (typeof v === 'string' && parseWildcards(v).some((p) => typeof p === 'string')) {
        ctx.error('wildcards cannot be encoded: base64 and utf16 modifiers need plain values');
        return null;
      }
    }
  }

  const size: ItemSize = { ...EMPTY_SIZE, values: item.values.length };
  const piecesOf = (f: Form) => positioned(f.literal ? literal(f.text) : parseWildcards(f.text), position);
  /** The test for some final forms (any of them matching); `count` adds what it holds to the item's size. */
  const formsTest = (forms: Form[], report: (m: string) => void, count = true): ValueTest => {
    if (cidr) {
      const nets: ((ip: string) => boolean)[] = [];
      for (const f of forms) {
        const net = cidrMatcher(f.text);
        if (typeof net === 'string') report(net);
        else nets.push(net);
      }
      if (count) size.networks += nets.length;
      const one = (x: unknown) => typeof x === 'string' && nets.some((n) => n(x));
      return (v) => anyElement(v, one);
    }
    const m = stringMatcher(forms.map(piecesOf), cased);
    if (count) for (const k of ['exact', 'prefixes', 'suffixes', 'substrings', 'wildcards'] as const) size[k] += m.size[k];
    const one = (x: unknown) => {
      const s = textOf(x);
      return s !== null && m.test(s);
    };
    return (v) => anyElement(v, one);
  };

  if (expand) {
    const tests = expandTests(item.values, ctx, finalForms, formsTest);
    return tests && { test: fieldPredicate(ctx.reader, tests, mods), constants: null, literals: null, size };
  }

  const perValue: Form[][] = [];
  let hasNull = false;
  for (const raw of item.values) {
    if (raw === null) {
      if (cidr) {
        ctx.error("modifier 'cidr' needs networks, not null");
        return null;
      }
      hasNull = true;
      continue;
    }
    let forms: Form[] | null;
    try {
      forms = finalForms(raw);
    } catch (err) {
      ctx.error((err as Error).message);
      return null;
    }
    if (!forms) return null;
    perValue.push(forms);
  }
  const nullTest: ValueTest = (v) => v === undefined || v === null;
  const tests: ValueTest[] = [];
  try {
    if (mods.all) for (const forms of perValue) tests.push(formsTest(forms, ctx.error));
    else if (perValue.length) tests.push(formsTest(perValue.flat(), ctx.error));
  } catch (err) {
    ctx.error((err as Error).message);
    return null;
  }
  if (hasNull) tests.push(nullTest);

  const indexable = !cidr && !mods.neq && !hasNull;
  const plain = indexable && transforms.length === 0 && position === 'exact' && !mods.all && item.field !== null;
  let constants: string[] | null = plain ? [] : null;
  if (constants) {
    for (const f of perValue.flat()) {
      const c = constantOf(parseWildcards(f.text));
      if (c === null) {
        constants = null;
        break;
      }
      constants.push(c);
    }
  }
  /** One of these substrings is in the field whenever the forms match, or null when a form has none. */
  const literalsOf = (forms: Form[]): string[] | null => {
    const out: string[] = [];
    for (const f of forms) {
      const lit = longestLiteral(piecesOf(f), dashMapped);
      if (lit === null) return null;
      out.push(lit);
    }
    return out;
  };
  let literals: string[] | null = null;
  if (indexable && !mods.all) literals = literalsOf(perValue.flat());
  else if (indexable) {
    // Under `all` every value must be there: the one with the longest shortest substring is the most telling.
    const shortest = (l: string[]) => Math.min(...l.map((x) => x.length));
    for (const forms of perValue) {
      const l = literalsOf(forms);
      if (l && (!literals || shortest(l) > shortest(literals))) literals = l;
    }
  }
  return { test: fieldPredicate(ctx.reader, tests, mods), constants, literals, size };
}
