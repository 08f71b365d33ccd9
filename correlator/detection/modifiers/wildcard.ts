import { RE2JS } from 're2js';

/**
 * Sigma string values: `*` any run, `?` one character, `\*` `\?` `\\` the characters themselves; a
 * backslash before anything else is a plain backslash (so Windows paths need no doubling).
 */
export type Piece = { lit: string } | '*' | '?';

export function parseWildcards(value: string): Piece[] {
  const out: Piece[] = [];
  let lit = '';
  for (let i = 0; i < value.length; i++) {
    const c = value[i]!;
    if (c === '\\' && (value[i + 1] === '*' || value[i + 1] === '?' || value[i + 1] === '\\')) {
      lit += value[++i];
    } else if (c === '*' || c === '?') {
      if (lit) out.push({ lit });
      lit = '';
      // Consecutive stars mean one star.
      if (!(c === '*' && out[out.length - 1] === '*')) out.push(c);
    } else {
      lit += c;
    }
  }
  if (lit) out.push({ lit });
  return out;
}

export function literal(text: string): Piece[] {
  return text ? [{ lit: text }] : [];
}

export function hasWildcards(pieces: readonly Piece[]): boolean {
  return pieces.some((p) => typeof p === 'string');
}

export type Position = 'exact' | 'contains' | 'startswith' | 'endswith';

export function positioned(pieces: Piece[], position: Position): Piece[] {
  const out = [...pieces];
  if ((position === 'contains' || position === 'endswith') && out[0] !== '*') out.unshift('*');
  if ((position === 'contains' || position === 'startswith') && out[out.length - 1] !== '*') out.push('*');
  return out;
}

export type StringTest = (s: string) => boolean;

/**
 * Compiles pieces to the cheapest test: equality, startsWith, endsWith, includes, or a linear-time
 * regex for wildcards in the middle. Without `cased` both sides are lower-cased (the caller folds the event value).
 */
export function compilePieces(pieces: readonly Piece[], cased: boolean): StringTest {
  const fold = (s: string) => (cased ? s : s.toLowerCase());
  const lits = pieces.map((p) => (typeof p === 'string' ? p : fold(p.lit)));
  const n = pieces.length;
  if (n === 0) return (s) => s === '';
  if (!hasWildcards(pieces)) {
    const want = lits.join('');
    return (s) => s === want;
  }
  if (n === 1 && pieces[0] === '*') return () => true;
  if (n === 2 && pieces[0] === '*' && typeof pieces[1] === 'object') {
    const want = lits[1] as string;
    return (s) => s.endsWith(want);
  }
  if (n === 2 && pieces[1] === '*' && typeof pieces[0] === 'object') {
    const want = lits[0] as string;
    return (s) => s.startsWith(want);
  }
  if (n === 3 && pieces[0] === '*' && pieces[2] === '*' && typeof pieces[1] === 'object') {
    const want = lits[1] as string;
    return (s) => s.includes(want);
  }
  const source = pieces.map((p) => (p === '*' ? '.*' : p === '?' ? '.' : RE2JS.quote(cased ? p.lit : p.lit.toLowerCase()))).join('');
  const re = RE2JS.compile(source, RE2JS.DOTALL);
  return (s) => re.testExact(s);
}

/** The exact text a wildcard-free value stands for, folded, for the constant-value index. */
export function constantOf(pieces: readonly Piece[]): string | null {
  if (hasWildcards(pieces)) return null;
  return pieces.map((p) => (p as { lit: string }).lit).join('').toLowerCase();
}
