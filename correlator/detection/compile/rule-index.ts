import type { FieldReader } from '../fields/reader.ts';
import type { CompiledDetection, IndexKey } from './rule.ts';

/**
 * Rules indexed by log source token and, inside, by a necessary field condition: a constant value the
 * field must hold (hash lookup), or a substring it must contain (lookup by one trigram of the substring,
 * for contains/startswith/endswith/wildcards/keywords). An event is checked only against the rules that
 * can match it, so the cost follows the rules that can match, not the number of rules loaded.
 */
interface FieldBucket {
  reader: FieldReader;
  byValue: Map<string, CompiledDetection[]>;
}

interface SourceBucket {
  exact: Map<string, FieldBucket>;
  substr: Map<string, FieldBucket>;
  rest: CompiledDetection[];
}

const ANY_SOURCE = '*';
const GRAM = 3;

function keyOf(v: unknown): string | null {
  if (typeof v === 'string') return v.toLowerCase();
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return null;
}

function add(map: Map<string, CompiledDetection[]>, k: string, r: CompiledDetection): void {
  const list = map.get(k);
  if (!list) map.set(k, [r]);
  else if (list[list.length - 1] !== r) list.push(r);
}

export class RuleIndex {
  private readonly sources = new Map<string, SourceBucket>();

  constructor(rules: Iterable<CompiledDetection>) {
    const bySource = new Map<string, CompiledDetection[]>();
    for (const r of rules) {
      const token = r.logsource[0] ?? ANY_SOURCE;
      const list = bySource.get(token) ?? [];
      list.push(r);
      bySource.set(token, list);
    }
    for (const [token, list] of bySource) this.sources.set(token, build(list));
  }

  /** Calls `visit` for each candidate rule (possibly twice; the caller dedupes); `tokens` null means every log source. */
  candidates(event: unknown, tokens: Set<string> | null, visit: (r: CompiledDetection) => void): void {
    if (tokens === null) {
      for (const b of this.sources.values()) visitBucket(b, event, visit);
      return;
    }
    const any = this.sources.get(ANY_SOURCE);
    if (any) visitBucket(any, event, visit);
    for (const t of tokens) {
      const b = this.sources.get(t);
      if (b) visitBucket(b, event, visit);
    }
  }
}

/**
 * Picks each rule's most selective condition: an exact one whose values the fewest other rules share,
 * else a substring one (each substring filed under its least shared trigram), else the rule is always checked.
 */
function build(rules: CompiledDetection[]): SourceBucket {
  const bucket: SourceBucket = { exact: new Map(), substr: new Map(), rest: [] };
  const shared = new Map<string, number>();
  for (const r of rules) for (const c of r.indexKeys) if (c.kind === 'exact') for (const k of c.keys) shared.set(`${c.key}\u0000${k}`, (shared.get(`${c.key}\u0000${k}`) ?? 0) + 1);
  const gramLoad = new Map<string, number>();
  for (const r of rules) {
    let best: IndexKey | null = null;
    let bestCost = Infinity;
    for (const c of r.indexKeys) {
      if (c.kind !== 'exact') continue;
      let cost = 0;
      for (const k of c.keys) cost += shared.get(`${c.key}\u0000${k}`)!;
      if (cost < bestCost) {
        best = c;
        bestCost = cost;
      }
    }
    if (best) {
      const fb = fieldBucket(bucket.exact, best);
      for (const k of best.keys) add(fb.byValue, k, r);
      continue;
    }
    const sub = r.indexKeys.filter((c) => c.kind === 'substr').sort((a, b) => a.keys.size - b.keys.size)[0];
    if (!sub) {
      bucket.rest.push(r);
      continue;
    }
    const fb = fieldBucket(bucket.substr, sub);
    for (const lit of sub.keys) {
      let gram = lit.slice(0, GRAM);
      let load = Infinity;
      for (let i = 0; i + GRAM <= lit.length; i++) {
        const g = lit.slice(i, i + GRAM);
        const l = gramLoad.get(`${sub.key}\u0000${g}`) ?? 0;
        if (l < load) {
          gram = g;
          load = l;
        }
      }
      gramLoad.set(`${sub.key}\u0000${gram}`, load + 1);
      add(fb.byValue, gram, r);
    }
  }
  return bucket;
}

function fieldBucket(map: Map<string, FieldBucket>, c: IndexKey): FieldBucket {
  let fb = map.get(c.key);
  if (!fb) {
    fb = { reader: c.reader, byValue: new Map() };
    map.set(c.key, fb);
  }
  return fb;
}

function visitBucket(b: SourceBucket, event: unknown, visit: (r: CompiledDetection) => void): void {
  for (const r of b.rest) visit(r);
  for (const fb of b.exact.values()) {
    const v = fb.reader(event);
    if (Array.isArray(v)) for (const x of v) visitExact(fb, x, visit);
    else visitExact(fb, v, visit);
  }
  for (const fb of b.substr.values()) {
    const v = fb.reader(event);
    if (Array.isArray(v)) for (const x of v) visitGrams(fb, x, visit);
    else visitGrams(fb, v, visit);
  }
}

function visitExact(fb: FieldBucket, v: unknown, visit: (r: CompiledDetection) => void): void {
  const k = keyOf(v);
  if (k === null) return;
  const list = fb.byValue.get(k);
  if (list) for (const r of list) visit(r);
}

function visitGrams(fb: FieldBucket, v: unknown, visit: (r: CompiledDetection) => void): void {
  const s = keyOf(v);
  if (s === null) return;
  for (let i = 0; i + GRAM <= s.length; i++) {
    const list = fb.byValue.get(s.slice(i, i + GRAM));
    if (list) for (const r of list) visit(r);
  }
}
