import { RE2JS } from 're2js';
import { AhoCorasick } from './aho-corasick.ts';
import { checkDeadline } from './deadline.ts';
import { hasWildcards, type Piece } from '../modifiers/wildcard.ts';

/** Counts of what one matcher holds, for the rule cost estimate and the index. */
export interface MatcherSize {
  exact: number;
  prefixes: number;
  suffixes: number;
  substrings: number;
  wildcards: number;
}

export interface StringMatcher {
  /** `text` is already folded (lower-cased) unless the matcher is cased. */
  test(text: string): boolean;
  size: MatcherSize;
}

/** Up to this many substrings a loop of includes() beats building an automaton. */
const AUTOMATON_FROM = 4;
/** Up to this many prefixes or suffixes a loop beats the by-length hash lookup. */
const LOOP_UP_TO = 4;
/** Wildcard patterns per RE2 alternation: RE2 refuses an expression past its size limit. */
const PATTERNS_PER_REGEX = 64;

/** Strings by length, so a prefix (suffix) test is one slice and one hash lookup per distinct length. */
function byLength(values: Iterable<string>): [number, Set<string>][] {
  const m = new Map<number, Set<string>>();
  for (const v of values) {
    const set = m.get(v.length) ?? new Set<string>();
    set.add(v);
    m.set(v.length, set);
  }
  return [...m].sort((a, b) => a[0] - b[0]);
}

function prefixTest(values: string[]): ((s: string) => boolean) | null {
  if (values.length === 0) return null;
  if (values.length <= LOOP_UP_TO) return (s) => values.some((v) => s.startsWith(v));
  const lengths = byLength(values);
  return (s) => {
    for (const [n, set] of lengths) {
      if (n > s.length) return false;
      if (set.has(s.slice(0, n))) return true;
    }
    return false;
  };
}

function suffixTest(values: string[]): ((s: string) => boolean) | null {
  if (values.length === 0) return null;
  if (values.length <= LOOP_UP_TO) return (s) => values.some((v) => s.endsWith(v));
  const lengths = byLength(values);
  return (s) => {
    for (const [n, set] of lengths) {
      if (n > s.length) return false;
      if (set.has(s.slice(s.length - n))) return true;
    }
    return false;
  };
}

function substringTest(values: string[]): ((s: string) => boolean) | null {
  if (values.length === 0) return null;
  if (values.length < AUTOMATON_FROM) return (s) => values.some((v) => s.includes(v));
  const ac = new AhoCorasick(values);
  return (s) => ac.test(s);
}

/** Wildcard patterns as a few RE2 alternations, each run in one linear pass; throws when RE2 cannot take one. */
function wildcardTest(regexes: string[]): ((s: string) => boolean) | null {
  if (regexes.length === 0) return null;
  const res: RE2JS[] = [];
  for (let i = 0; i < regexes.length; i += PATTERNS_PER_REGEX) {
    const group = regexes.slice(i, i + PATTERNS_PER_REGEX);
    try {
      res.push(RE2JS.compile(group.map((r) => `(?:${r})`).join('|'), RE2JS.DOTALL));
    } catch (err) {
      throw new Error(`wildcard values cannot run on the linear-time engine: ${(err as Error).message}`);
    }
  }
  // Thousands of alternations can take seconds on a long value: the budget may stop the rule between two.
  return (s) =>
    res.some((re) => {
      checkDeadline();
      return re.testExact(s);
    });
}

/**
 * One matcher for all the values of an item (each a positioned wildcard pattern): equality by a hash
 * set, prefixes and suffixes by hash lookups per length, substrings by one Aho–Corasick pass, and only
 * values with wildcards in the middle by RE2, so a list of thousands of hashes costs one pass, not thousands.
 */
export function stringMatcher(patterns: readonly (readonly Piece[])[], cased: boolean): StringMatcher {
  const fold = (s: string) => (cased ? s : s.toLowerCase());
  const exact = new Set<string>();
  const prefixes = new Set<string>();
  const suffixes = new Set<string>();
  const substrings = new Set<string>();
  const regexes: string[] = [];
  let always = false;
  for (const pieces of patterns) {
    const n = pieces.length;
    const lit = (i: number) => fold((pieces[i] as { lit: string }).lit);
    if (!hasWildcards(pieces)) exact.add(pieces.map((p) => fold((p as { lit: string }).lit)).join(''));
    else if (n === 1 && pieces[0] === '*') always = true;
    else if (n === 2 && pieces[1] === '*' && typeof pieces[0] === 'object') prefixes.add(lit(0));
    else if (n === 2 && pieces[0] === '*' && typeof pieces[1] === 'object') suffixes.add(lit(1));
    else if (n === 3 && pieces[0] === '*' && pieces[2] === '*' && typeof pieces[1] === 'object') substrings.add(lit(1));
    else regexes.push(pieces.map((p) => (p === '*' ? '.*' : p === '?' ? '.' : RE2JS.quote(fold(p.lit)))).join(''));
  }
  const size: MatcherSize = { exact: exact.size, prefixes: prefixes.size, suffixes: suffixes.size, substrings: substrings.size, wildcards: regexes.length };
  if (always) return { test: () => true, size };
  const tests = [prefixTest([...prefixes]), suffixTest([...suffixes]), substringTest([...substrings]), wildcardTest(regexes)].filter(
    (t): t is (s: string) => boolean => t !== null,
  );
  const eq = exact.size ? exact : null;
  if (tests.length === 0) return { test: eq ? (s) => eq.has(s) : () => false, size };
  if (tests.length === 1 && !eq) return { test: tests[0]!, size };
  return {
    test: (s) => {
      if (eq?.has(s)) return true;
      for (const t of tests) if (t(s)) return true;
      return false;
    },
    size,
  };
}
