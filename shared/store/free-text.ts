/**
 * The console's free-text search `q`, one meaning on every store (README, "Searching incidents"):
 * whitespace separates terms and every term must match (AND); a term matches whole words of the title,
 * runbook and timeline notes, or a whole value of id, rule id, host, unit, assignee and group key;
 * case does not matter; `"two words"` is a phrase, `brute*` a prefix, `-word` excludes. Nothing else is
 * an operator. Elasticsearch runs it as simple_query_string with only those flags; the embedded store
 * parses it here into an FTS5 query.
 */
export interface FreeTextTerm {
  text: string;
  phrase: boolean;
  prefix: boolean;
  exclude: boolean;
}

/** The simple_query_string flags that give the operators above and no others. */
export const SIMPLE_QUERY_FLAGS = 'NOT|PHRASE|PREFIX|WHITESPACE';

export function parseFreeText(q: string): FreeTextTerm[] {
  const terms: FreeTextTerm[] = [];
  const re = /(-?)(?:"([^"]*)"|(\S+))/g;
  for (const m of q.matchAll(re)) {
    const exclude = m[1] === '-';
    if (m[2] !== undefined) {
      if (m[2].trim()) terms.push({ text: m[2], phrase: true, prefix: false, exclude });
      continue;
    }
    const word = m[3]!;
    const prefix = word.endsWith('*');
    const text = word.replace(/\*+$/, '');
    if (text) terms.push({ text, phrase: false, prefix, exclude });
  }
  return terms;
}

/** One term as an FTS5 string: its words as a quoted phrase (so punctuation is never an operator), `*` kept. */
export function ftsPhrase(t: FreeTextTerm): string {
  return `"${t.text.replaceAll('"', '""')}"${t.prefix ? ' *' : ''}`;
}
