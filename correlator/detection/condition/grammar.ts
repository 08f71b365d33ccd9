/**
 * The Sigma condition grammar: `and`, `or`, `not`, parentheses, `1 of sel*`, `all of them`, `N of x`.
 * Precedence, loosest first: or, and, not, then `x of` and identifiers.
 */
export type ConditionNode =
  | { kind: 'ref'; name: string; offset: number }
  | { kind: 'and'; items: ConditionNode[] }
  | { kind: 'or'; items: ConditionNode[] }
  | { kind: 'not'; item: ConditionNode }
  | { kind: 'of'; quantifier: 'all' | number; pattern: string; offset: number };

export class ConditionSyntaxError extends Error {
  constructor(
    message: string,
    readonly offset: number,
  ) {
    super(message);
    this.name = 'ConditionSyntaxError';
  }
}

interface Token {
  text: string;
  offset: number;
}

const WORD = /[A-Za-z0-9_.*?-]/;

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r') {
      i++;
    } else if (c === '(' || c === ')') {
      tokens.push({ text: c, offset: i++ });
    } else if (c === '|') {
      throw new ConditionSyntaxError('aggregation expressions ("| count() ...") are obsolete: write a correlation rule', i);
    } else if (WORD.test(c)) {
      const start = i;
      while (i < text.length && WORD.test(text[i]!)) i++;
      tokens.push({ text: text.slice(start, i), offset: start });
    } else {
      throw new ConditionSyntaxError(`unexpected character '${c}'`, i);
    }
  }
  return tokens;
}

const KEYWORDS = new Set(['and', 'or', 'not', 'of', '(', ')']);

/**
 * How deep parentheses and `not` may nest. The parser and every walk over the tree recurse once per
 * level, so a bound here keeps a hostile condition from exhausting the stack; real Sigma rules stay
 * under 10.
 */
export const MAX_CONDITION_DEPTH = 64;

export function parseCondition(text: string): ConditionNode {
  const tokens = tokenize(text);
  let pos = 0;
  let depth = 0;
  const deeper = (t: Token) => {
    if (++depth > MAX_CONDITION_DEPTH) throw new ConditionSyntaxError(`nested deeper than ${MAX_CONDITION_DEPTH} levels (parentheses and 'not')`, t.offset);
  };
  const peek = () => tokens[pos];
  const lower = (t: Token | undefined) => t?.text.toLowerCase();
  const endOffset = text.length;

  function orExpr(): ConditionNode {
    const items = [andExpr()];
    while (lower(peek()) === 'or') {
      pos++;
      items.push(andExpr());
    }
    return items.length === 1 ? items[0]! : { kind: 'or', items };
  }
  function andExpr(): ConditionNode {
    const items = [notExpr()];
    while (lower(peek()) === 'and') {
      pos++;
      items.push(notExpr());
    }
    return items.length === 1 ? items[0]! : { kind: 'and', items };
  }
  function notExpr(): ConditionNode {
    const t = peek();
    if (t && lower(t) === 'not') {
      deeper(t);
      pos++;
      const item = notExpr();
      depth--;
      return { kind: 'not', item };
    }
    return primary();
  }
  function primary(): ConditionNode {
    const t = peek();
    if (!t) throw new ConditionSyntaxError('the condition ends where a selection name was expected', endOffset);
    if (t.text === '(') {
      deeper(t);
      pos++;
      const inner = orExpr();
      const close = peek();
      if (close?.text !== ')') throw new ConditionSyntaxError("missing ')'", close?.offset ?? endOffset);
      pos++;
      depth--;
      return inner;
    }
    const next = tokens[pos + 1];
    if (lower(next) === 'of') {
      const q = t.text.toLowerCase();
      let quantifier: 'all' | number;
      if (q === 'all') quantifier = 'all';
      else if (/^[1-9][0-9]*$/.test(q)) quantifier = Number(q);
      else throw new ConditionSyntaxError(`'${t.text} of': the quantifier must be a number or 'all'`, t.offset);
      const target = tokens[pos + 2];
      if (!target || KEYWORDS.has(target.text.toLowerCase())) {
        throw new ConditionSyntaxError(`'${t.text} of' needs 'them' or a selection name pattern`, target?.offset ?? endOffset);
      }
      pos += 3;
      return { kind: 'of', quantifier, pattern: target.text, offset: t.offset };
    }
    if (KEYWORDS.has(t.text.toLowerCase())) throw new ConditionSyntaxError(`unexpected '${t.text}'`, t.offset);
    pos++;
    return { kind: 'ref', name: t.text, offset: t.offset };
  }

  if (tokens.length === 0) throw new ConditionSyntaxError('empty condition', 0);
  const tree = orExpr();
  const rest = peek();
  if (rest) throw new ConditionSyntaxError(`unexpected '${rest.text}'`, rest.offset);
  return tree;
}

/** The selection names an `x of` pattern stands for; `them` leaves out names starting with "_" (Sigma). */
export function selectionsFor(pattern: string, names: readonly string[]): string[] {
  if (pattern.toLowerCase() === 'them') return names.filter((n) => !n.startsWith('_'));
  if (!pattern.includes('*')) return names.filter((n) => n === pattern);
  const parts = pattern.split('*');
  return names.filter((n) => {
    if (!n.startsWith(parts[0]!) || !n.endsWith(parts[parts.length - 1]!)) return false;
    let at = parts[0]!.length;
    for (let i = 1; i < parts.length - 1; i++) {
      const found = n.indexOf(parts[i]!, at);
      if (found < 0) return false;
      at = found + parts[i]!.length;
    }
    return at <= n.length - parts[parts.length - 1]!.length;
  });
}
