import type { FieldReader } from '../fields/reader.ts';
import type { CompiledDetection } from './rule.ts';

/**
 * Rules indexed by log source token and, inside, by a constant value a field must hold, so an event is
 * checked only against the rules that can match it: the cost follows the rules that can match, not
 * the number of rules loaded.
 */
interface FieldBucket {
  reader: FieldReader;
  byValue: Map<string, CompiledDetection[]>;
}

interface SourceBucket {
  fields: Map<string, FieldBucket>;
  rest: CompiledDetection[];
}

const ANY_SOURCE = '*';

function keyOf(v: unknown): string | null {
  if (typeof v === 'string') return v.toLowerCase();
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return null;
}

export class RuleIndex {
  private readonly sources = new Map<string, SourceBucket>();

  constructor(rules: Iterable<CompiledDetection>) {
    for (const r of rules) {
      const token = r.logsource[0] ?? ANY_SOURCE;
      let bucket = this.sources.get(token);
      if (!bucket) {
        bucket = { fields: new Map(), rest: [] };
        this.sources.set(token, bucket);
      }
      if (!r.indexKey) {
        bucket.rest.push(r);
        continue;
      }
      const fieldKey = r.indexKey.key;
      let fb = bucket.fields.get(fieldKey);
      if (!fb) {
        fb = { reader: r.indexKey.reader, byValue: new Map() };
        bucket.fields.set(fieldKey, fb);
      }
      for (const k of r.indexKey.keys) {
        const list = fb.byValue.get(k);
        if (list) list.push(r);
        else fb.byValue.set(k, [r]);
      }
    }
  }

  /** Calls `visit` once per candidate rule; `tokens` null means every log source (ignore-logsource). */
  candidates(event: unknown, tokens: Set<string> | null, visit: (r: CompiledDetection) => void): void {
    if (tokens === null) {
      for (const b of this.sources.values()) this.visitBucket(b, event, visit);
      return;
    }
    const any = this.sources.get(ANY_SOURCE);
    if (any) this.visitBucket(any, event, visit);
    for (const t of tokens) {
      const b = this.sources.get(t);
      if (b) this.visitBucket(b, event, visit);
    }
  }

  private visitBucket(b: SourceBucket, event: unknown, visit: (r: CompiledDetection) => void): void {
    for (const r of b.rest) visit(r);
    for (const fb of b.fields.values()) {
      const v = fb.reader(event);
      if (Array.isArray(v)) {
        for (const x of v) this.visitValue(fb, x, visit);
      } else this.visitValue(fb, v, visit);
    }
  }

  private visitValue(fb: FieldBucket, v: unknown, visit: (r: CompiledDetection) => void): void {
    const k = keyOf(v);
    if (k === null) return;
    const list = fb.byValue.get(k);
    if (list) for (const r of list) visit(r);
  }
}
