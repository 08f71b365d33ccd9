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

/** The exact text a wildcard-free value stands for, folded, for the constant-value index. */
export function constantOf(pieces: readonly Piece[]): string | null {
  if (hasWildcards(pieces)) return null;
  return pieces
    .map((p) => (p as { lit: string }).lit)
    .join('')
    .toLowerCase();
}
