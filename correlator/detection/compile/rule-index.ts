import { folded } from '../fields/fold.ts';
import type { FieldReader } from '../fields/reader.ts';
import { AhoCorasick } from './aho-corasick.ts';
import type { CompiledDetection, IndexAtom, IndexKey } from './rule.ts';

/**
 * Rules indexed by a necessary condition of each rule: a set of field conditions one of which holds
 * whenever the rule matches, each a constant value the field must hold (hash lookup) or a substring it
 * must contain (all of one field's substrings in one Aho–Corasick automaton). All log sources share the
 * index, so each field value is looked up or scanned once per event whatever the number of rules or
 * sources; the caller checks a candidate's log source. An event is checked only against the rules that
 * can match it, so the cost follows the rules that can match, not the number loaded.
 */
interface ExactField {
  reader: FieldReader;
  byValue: Map<string, CompiledDetection[]>;
}

interface SubstrField {
  reader: FieldReader;
  literals: Map<string, CompiledDetection[]>;
  /** Built when the bucket is complete; pattern i is the i-th literal. */
  automaton: AhoCorasick | null;
  rulesOf: CompiledDetection[][];
}

interface Bucket {
  exact: Map<string, ExactField>;
  substr: Map<string, SubstrField>;
  rest: CompiledDetection[];
}

function keyOf(v: unknown): string | null {
  if (typeof v === 'string') return folded(v);
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return null;
}

function add(map: Map<string, CompiledDetection[]>, k: string, r: CompiledDetection): void {
  const list = map.get(k);
  if (!list) map.set(k, [r]);
  else if (list[list.length - 1] !== r) list.push(r);
}

/** Pattern indices an automaton found in one value, reused from value to value. */
const found: number[] = [];

export class RuleIndex {
  private readonly bucket: Bucket;

  constructor(rules: Iterable<CompiledDetection>) {
    this.bucket = build([...rules]);
  }

  /** Calls `visit` for each candidate rule (possibly twice; the caller dedupes and checks the log source). */
  candidates(event: unknown, visit: (r: CompiledDetection) => void): void {
    const b = this.bucket;
    for (const r of b.rest) visit(r);
    for (const f of b.exact.values()) {
      const v = f.reader(event);
      if (Array.isArray(v)) for (const x of v) visitExact(f, x, visit);
      else if (v !== undefined) visitExact(f, v, visit);
    }
    for (const f of b.substr.values()) {
      const v = f.reader(event);
      if (Array.isArray(v)) for (const x of v) visitSubstr(f, x, visit);
      else if (v !== undefined) visitSubstr(f, v, visit);
    }
  }
}

const atomSlot = (a: IndexAtom, k: string) => `${a.kind}\u0000${a.key}\u0000${k}`;

/** Substrings under 8 characters turn up in many values (".exe", "\\temp\\"): they weigh more than whole values. */
function weight(a: IndexAtom, k: string): number {
  return a.kind === 'exact' ? 1 : k.length >= 8 ? 2 : 6;
}

/**
 * Picks each rule's rarest necessary condition: the one whose values the fewest other loaded rules
 * share (a value many rules need, such as an event id, says little about which rule an event is for).
 */
function build(rules: CompiledDetection[]): Bucket {
  const bucket: Bucket = { exact: new Map(), substr: new Map(), rest: [] };
  const shared = new Map<string, number>();
  for (const r of rules)
    for (const need of r.indexKeys) for (const a of need) for (const k of a.keys) shared.set(atomSlot(a, k), (shared.get(atomSlot(a, k)) ?? 0) + 1);
  const cost = (need: IndexKey) => {
    let c = 0;
    for (const a of need) for (const k of a.keys) c += shared.get(atomSlot(a, k))! * weight(a, k);
    return c;
  };
  for (const r of rules) {
    let best: IndexKey | null = null;
    let bestCost = Infinity;
    for (const need of r.indexKeys) {
      const c = cost(need);
      if (c < bestCost) {
        best = need;
        bestCost = c;
      }
    }
    if (!best) {
      bucket.rest.push(r);
      continue;
    }
    for (const a of best) {
      if (a.kind === 'exact') {
        let f = bucket.exact.get(a.key);
        if (!f) bucket.exact.set(a.key, (f = { reader: a.reader, byValue: new Map() }));
        for (const k of a.keys) add(f.byValue, k, r);
      } else {
        let f = bucket.substr.get(a.key);
        if (!f) bucket.substr.set(a.key, (f = { reader: a.reader, literals: new Map(), automaton: null, rulesOf: [] }));
        for (const k of a.keys) add(f.literals, k, r);
      }
    }
  }
  for (const f of bucket.substr.values()) {
    f.automaton = new AhoCorasick([...f.literals.keys()]);
    f.rulesOf = [...f.literals.values()];
  }
  return bucket;
}

function visitExact(f: ExactField, v: unknown, visit: (r: CompiledDetection) => void): void {
  const k = keyOf(v);
  if (k === null) return;
  const list = f.byValue.get(k);
  if (list) for (const r of list) visit(r);
}

function visitSubstr(f: SubstrField, v: unknown, visit: (r: CompiledDetection) => void): void {
  found.length = 0;
  if (typeof v === 'string') {
    // Most values are ASCII: scanned lower-cased on the fly, with no folded copy to allocate.
    if (!f.automaton!.collectAsciiFolded(v, found)) f.automaton!.collect(folded(v), found);
  } else if (typeof v === 'number' || typeof v === 'boolean') f.automaton!.collect(String(v), found);
  for (const p of found) for (const r of f.rulesOf[p]!) visit(r);
}
