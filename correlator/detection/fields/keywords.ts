import type { FieldReader } from './reader.ts';
import { fieldReader } from './reader.ts';

/**
 * Where keywords (a selection of bare values) look: `all` (the default, as the Sigma specification says)
 * every string value of the event at any depth; `message` only the original line (event.original, else message).
 */
export type KeywordScope = 'all' | 'message';

const MESSAGE_FIELDS = ['event.original', 'message'].map((f) => fieldReader(f, f));

const messageReader: FieldReader = (e) => {
  for (const r of MESSAGE_FIELDS) {
    const v = r(e);
    if (v !== undefined) return v;
  }
  return undefined;
};

/** Events are JSON trees; the bound only guards against a pathological one. */
const MAX_DEPTH = 32;

function collect(v: unknown, out: string[], depth: number): void {
  if (typeof v === 'string') out.push(v);
  else if (v !== null && typeof v === 'object' && depth < MAX_DEPTH) {
    if (Array.isArray(v)) for (const x of v) collect(x, out, depth + 1);
    else for (const k in v) collect((v as Record<string, unknown>)[k], out, depth + 1);
  }
}

/**
 * The strings of the event being matched, gathered once however many keyword items read them; the rule
 * set forgets them before each event, so a caller that changes an event and matches it again is not misled.
 */
let gatheredFor: object | null = null;
let gathered: string[] = [];

export function forgetKeywordStrings(): void {
  gatheredFor = null;
  gathered = [];
}

const allStringsReader: FieldReader = (e) => {
  if (e === null || typeof e !== 'object') return typeof e === 'string' ? e : undefined;
  if (gatheredFor !== e) {
    gathered = [];
    collect(e, gathered, 0);
    gatheredFor = e;
  }
  return gathered;
};

export function keywordReader(scope: KeywordScope): FieldReader {
  return scope === 'all' ? allStringsReader : messageReader;
}
