import type { LogsourceRules } from '../fields/mapping.ts';
import { fieldReader, type FieldReader } from '../fields/reader.ts';
import type { Logsource } from '../model.ts';

/**
 * Log sources as tokens ("category:firewall", "product:fortigate", "service:security"). A rule needs all
 * of its tokens; an event has the tokens its fields give:
 * - category: each `event.category` value and `observer.type`, plus the configured conditions;
 * - product: `observer.product`, `observer.vendor` and `event.module`, plus configured conditions;
 * - service: `event.dataset` (whole, and the part after its last dot), plus configured conditions.
 */
export function ruleTokens(ls: Logsource): string[] {
  const out: string[] = [];
  if (ls.product) out.push(`product:${ls.product.toLowerCase()}`);
  if (ls.service) out.push(`service:${ls.service.toLowerCase()}`);
  if (ls.category) out.push(`category:${ls.category.toLowerCase()}`);
  return out;
}

const read = (path: string) => fieldReader(path, path);
const DEFAULT_SOURCES: { kind: string; reader: FieldReader; lastSegment?: boolean }[] = [
  { kind: 'category', reader: read('event.category') },
  { kind: 'category', reader: read('observer.type') },
  { kind: 'product', reader: read('observer.product') },
  { kind: 'product', reader: read('observer.vendor') },
  { kind: 'product', reader: read('event.module') },
  { kind: 'service', reader: read('event.dataset'), lastSegment: true },
];

export type EventTokens = (event: unknown) => Set<string>;

function addValues(out: Set<string>, kind: string, v: unknown, lastSegment = false): void {
  const list = Array.isArray(v) ? v : [v];
  for (const x of list) {
    if (typeof x !== 'string' || !x) continue;
    const lower = x.toLowerCase();
    out.add(`${kind}:${lower}`);
    if (lastSegment) {
      const dot = lower.lastIndexOf('.');
      if (dot >= 0) out.add(`${kind}:${lower.slice(dot + 1)}`);
    }
  }
}

export function eventTokenizer(rules: LogsourceRules): EventTokens {
  const configured: { token: string; reader: FieldReader; values: Set<string> }[] = [];
  for (const kind of ['category', 'product', 'service'] as const) {
    for (const [name, cond] of Object.entries(rules[kind])) {
      for (const [field, values] of Object.entries(cond)) {
        configured.push({ token: `${kind}:${name.toLowerCase()}`, reader: read(field), values: new Set(values.map((v) => v.toLowerCase())) });
      }
    }
  }
  return (event) => {
    const out = new Set<string>();
    for (const s of DEFAULT_SOURCES) addValues(out, s.kind, s.reader(event), s.lastSegment);
    for (const c of configured) {
      if (out.has(c.token)) continue;
      const v = c.reader(event);
      const list = Array.isArray(v) ? v : [v];
      if (list.some((x) => (typeof x === 'string' || typeof x === 'number') && c.values.has(String(x).toLowerCase()))) out.add(c.token);
    }
    return out;
  };
}
