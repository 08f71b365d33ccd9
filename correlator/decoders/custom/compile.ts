import { RE2JS } from 're2js';
import { addCategory, addType, int, ip, port, present, transport } from '../ecs.ts';
import { splitCsv, scanKv } from '../scan/kv.ts';
import { isValidTimezone, iso, parseEpoch } from '../time.ts';
import { DecodeError, type Decoder, type DecodeInput, type Draft } from '../types.ts';
import { parseJsonPayload } from '../formats/json-payload.ts';
import type { Condition, DecoderFile, Mapping } from './schema.ts';
import { compileTimestamp, type TimestampParser } from './timestamp.ts';

/** What a file's content compiles to; problems are reported against a path inside the file. */
export type Report = (path: (string | number)[], message: string) => void;

/** A parsed line: flat names (kv, csv, regex) or a JSON object read by dotted paths. */
type ParsedLine = Record<string, unknown>;

function lookup(rec: ParsedLine, name: string, nested: boolean): unknown {
  if (!nested || name in rec) return rec[name];
  let v: unknown = rec;
  for (const part of name.split('.')) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as ParsedLine)[part];
  }
  return v;
}

function text(v: unknown): string | undefined {
  if (typeof v === 'string') return present(v);
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return undefined;
}

type Test = (rec: ParsedLine) => boolean;

function compileRe2(pattern: string, path: (string | number)[], report: Report): RE2JS | undefined {
  try {
    return RE2JS.compile(pattern);
  } catch (err) {
    report(path, `regular expression cannot run on the linear-time engine (RE2): ${(err as Error).message}`);
    return undefined;
  }
}

/**
 * The expression's answers kept by value: a condition reads the same few values (event names, actions) line
 * after line, and the linear-time engine costs microseconds a call. Short values only, a bounded number.
 */
function rememberedTest(re: RE2JS): (v: string) => boolean {
  const answers = new Map<string, boolean>();
  return (v) => {
    if (v.length > 64) return re.test(v);
    let answer = answers.get(v);
    if (answer === undefined) {
      answer = re.test(v);
      if (answers.size >= 1024) answers.clear();
      answers.set(v, answer);
    }
    return answer;
  };
}

/** A condition: every named field passes its test (values compared as text, case-insensitive). */
function compileCondition(cond: Condition, nested: boolean, path: (string | number)[], report: Report): Test {
  const tests: Test[] = [];
  for (const [name, want] of Object.entries(cond)) {
    if (typeof want === 'object' && !Array.isArray(want) && 'matches' in want) {
      const re = compileRe2(want.matches, [...path, name, 'matches'], report);
      const matches = re === undefined ? undefined : rememberedTest(re);
      tests.push((rec) => {
        const v = text(lookup(rec, name, nested));
        return matches !== undefined && v !== undefined && matches(v);
      });
    } else if (typeof want === 'object' && !Array.isArray(want) && 'present' in want) {
      tests.push((rec) => (text(lookup(rec, name, nested)) !== undefined) === want.present);
    } else {
      const values = new Set((Array.isArray(want) ? want : [want]).map((w) => String(w).toLowerCase()));
      tests.push((rec) => {
        const v = text(lookup(rec, name, nested));
        return v !== undefined && values.has(v.toLowerCase());
      });
    }
  }
  return (rec) => tests.every((t) => t(rec));
}

type Convert = (raw: unknown, input: DecodeInput) => unknown;

/** The conversion a destination implies when the file names none. */
function impliedType(target: string): string {
  if (target === '@timestamp' || target.endsWith('.start') || target.endsWith('.end')) return 'timestamp';
  if (target.endsWith('.ip')) return 'ip';
  if (target.endsWith('.port')) return 'port';
  if (target.endsWith('.bytes') || target.endsWith('.packets') || target === 'event.severity' || target.endsWith('.pid')) return 'int';
  return 'string';
}

function compileConvert(target: string, m: Exclude<Mapping, string | string[]>, path: (string | number)[], report: Report): Convert | undefined {
  const type = m.type ?? impliedType(target);
  // The event schema holds these to one type: a text in source.ip would make every event of the decoder invalid.
  const required = impliedType(target);
  if (required !== 'string' && required !== 'int' && type !== required) report([...path, 'type'], `${target} takes type ${required}, not ${type}`);
  if ((m.format !== undefined || m.zone !== undefined) && type !== 'timestamp')
    report([...path, m.format !== undefined ? 'format' : 'zone'], `format and zone apply to type timestamp, not ${type}`);
  switch (type) {
    case 'ip':
      return (raw) => ip(text(raw));
    case 'port':
      return (raw) => port(typeof raw === 'number' ? raw : text(raw));
    case 'int':
      return (raw) => (typeof raw === 'number' && Number.isInteger(raw) ? raw : int(text(raw)));
    case 'lowercase':
      return (raw) => text(raw)?.toLowerCase();
    case 'timestamp': {
      if (m.zone !== undefined && !isValidTimezone(m.zone)) report([...path, 'zone'], `unknown time zone '${m.zone}' (an IANA name such as Asia/Ho_Chi_Minh)`);
      const parser: TimestampParser | string = compileTimestamp(m.format ?? 'auto');
      if (typeof parser === 'string') {
        report([...path, 'format'], `timestamp format '${m.format}': ${parser}`);
        return undefined;
      }
      const zone = m.zone;
      return (raw, input) => {
        // A JSON number is epoch time: seconds for epoch, milliseconds for epoch_ms, told apart by magnitude otherwise.
        if (typeof raw === 'number') return iso(m.format === 'epoch' ? raw * 1000 : m.format === 'epoch_ms' ? raw : parseEpoch(String(raw)));
        const v = text(raw);
        return v === undefined ? undefined : iso(parser(v, input.time, zone));
      };
    }
    default:
      return target === 'network.transport' ? (raw) => transport(text(raw)) : (raw) => text(raw);
  }
}

function setPath(draft: Draft, target: string, parts: readonly string[], value: unknown): void {
  if (target === '@timestamp') {
    draft['@timestamp'] = value as string;
    return;
  }
  if (target === 'event.category' || target === 'event.type') {
    for (const v of String(value).split(',')) (target === 'event.category' ? addCategory : addType)(draft, v.trim());
    return;
  }
  let node = draft as ParsedLine;
  for (let i = 0; i < parts.length - 1; i++) {
    const next = node[parts[i]!];
    node = next !== null && typeof next === 'object' && !Array.isArray(next) ? (next as ParsedLine) : (node[parts[i]!] = {});
  }
  node[parts[parts.length - 1]!] = value;
}

type Reader = (input: DecodeInput) => ParsedLine | undefined;

function compileReader(file: DecoderFile, report: Report): Reader | undefined {
  const p = file.parse;
  if ('kv' in p) {
    const delimiter = p.kv?.delimiter ?? 'space';
    return (input) => scanKv(input.payload, 0, delimiter === 'tab', delimiter === 'comma');
  }
  if ('csv' in p) {
    const names = p.csv.fields;
    const sep = p.csv.separator.charCodeAt(0);
    return (input) => {
      const values = splitCsv(input.payload, 0, names.length + 1, sep);
      const rec: ParsedLine = Object.create(null) as ParsedLine;
      names.forEach((n, i) => {
        if (n !== '' && n !== '-' && values[i] !== undefined) rec[n] = values[i];
      });
      return rec;
    };
  }
  if ('json' in p) {
    return (input) => {
      if (input.payload.charCodeAt(0) !== 123) return undefined;
      const v = parseJsonPayload(input);
      return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as ParsedLine) : undefined;
    };
  }
  const re = compileRe2(p.regex, ['parse', 'regex'], report);
  if (!re) return undefined;
  const groups = Object.keys(re.namedGroups());
  if (groups.length === 0) {
    report(['parse', 'regex'], 'the regular expression names no group: write (?P<name>...) for each field to keep');
    return undefined;
  }
  return (input) => {
    const m = re.exec(input.payload);
    return m ? ({ ...(m as unknown as { groups: ParsedLine }).groups } as ParsedLine) : undefined;
  };
}

/** The field names a parser can produce, when they are known in advance (csv, regex). */
function knownNames(file: DecoderFile): Set<string> | undefined {
  const p = file.parse;
  if ('csv' in p) return new Set(p.csv.fields.filter((n) => n !== '' && n !== '-'));
  if ('regex' in p) {
    try {
      return new Set(Object.keys(RE2JS.compile(p.regex).namedGroups()));
    } catch {
      return undefined;
    }
  }
  return undefined;
}

const asList = (v: string | string[] | undefined): string[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);

/**
 * Compiles a checked decoder file to a Decoder: the sniff tests the cheap things first (program, prefix), then
 * the RE2 pattern, then the parsed fields; the line is parsed once for both sniff and decode.
 */
export function compileDecoder(file: DecoderFile, report: Report): Decoder | undefined {
  let ok = true;
  const fail: Report = (path, message) => {
    ok = false;
    report(path, message);
  };
  const nested = 'json' in file.parse;
  const read = compileReader(file, fail);
  const known = knownNames(file);
  const programs = new Set(asList(file.match.program));
  const prefixes = asList(file.match.prefix);
  const pattern = file.match.pattern !== undefined ? compileRe2(file.match.pattern, ['match', 'pattern'], fail) : undefined;
  const matchFields = file.match.fields ? compileCondition(file.match.fields, nested, ['match', 'fields'], fail) : undefined;

  const mappings: { target: string; parts: string[]; from: string[]; constant?: unknown; convert: Convert }[] = [];
  for (const [target, m] of Object.entries(file.fields)) {
    const spec = typeof m === 'string' || Array.isArray(m) ? { from: m } : m;
    const convert = compileConvert(target, spec, ['fields', target], fail);
    const from = spec.from === undefined ? [] : Array.isArray(spec.from) ? spec.from : [spec.from];
    if (known)
      for (const [i, f] of from.entries())
        if (!known.has(f))
          fail(
            ['fields', target, ...(typeof m === 'string' ? [] : Array.isArray(m) ? [i] : Array.isArray(spec.from) ? ['from', i] : ['from'])],
            `'${f}' is not a field the parser produces (${[...known].join(', ')})`,
          );
    if (convert) mappings.push({ target, parts: target.split('.'), from, constant: spec.value, convert });
  }
  const rules = file.rules.map((r, i) => ({
    when: r.when ? compileCondition(r.when, nested, ['rules', i, 'when'], fail) : () => true,
    set: r.set,
    categories: asList(r.set['event.category']),
    types: asList(r.set['event.type']),
  }));
  if (!ok || !read) return undefined;

  // One parse per line for sniff and decode alike: JSON is parsed once per line for every decoder anyway
  // (input.json); the other parsers keep their record aside, for the lines whose cheap tests passed.
  const parsed = new WeakMap<DecodeInput, ParsedLine | null>();
  const recordOf = (input: DecodeInput): ParsedLine | undefined => {
    if (nested) {
      try {
        return read(input);
      } catch {
        return undefined;
      }
    }
    let rec = parsed.get(input);
    if (rec === undefined) {
      try {
        rec = read(input) ?? null;
      } catch {
        rec = null;
      }
      parsed.set(input, rec);
    }
    return rec ?? undefined;
  };
  const observer = { vendor: file.observer.vendor, product: file.observer.product, type: file.observer.type };

  return {
    name: file.name,
    description: file.description ?? `custom decoder for ${file.observer.vendor} ${file.observer.product}`,
    sniff(input) {
      if (programs.size > 0 && !programs.has(input.header?.appName ?? '')) return false;
      if (prefixes.length > 0 && !prefixes.some((p) => input.payload.startsWith(p))) return false;
      if (pattern !== undefined && !pattern.test(input.payload)) return false;
      if (matchFields !== undefined) {
        if (nested && input.payload.charCodeAt(0) !== 123) return false;
        const rec = recordOf(input);
        if (!rec || !matchFields(rec)) return false;
      }
      return true;
    },
    decode(input, draft) {
      const rec = recordOf(input);
      if (!rec) throw new DecodeError(`the line does not fit the decoder's ${Object.keys(file.parse)[0]} parser`, 0);
      draft.observer = { ...observer };
      for (const m of mappings) {
        let value: unknown;
        if (m.constant !== undefined) value = m.convert(m.constant, input);
        else
          for (const f of m.from) {
            value = m.convert(lookup(rec, f, nested), input);
            if (value !== undefined) break;
          }
        if (value !== undefined) setPath(draft, m.target, m.parts, value);
      }
      for (const r of rules) {
        if (!r.when(rec)) continue;
        const s = r.set;
        for (const c of r.categories) addCategory(draft, c);
        for (const t of r.types) addType(draft, t);
        if (s['event.outcome']) draft.event.outcome = s['event.outcome'];
        if (s['event.action']) draft.event.action = s['event.action'];
        if (s['event.kind']) draft.event.kind = s['event.kind'];
        if (s['event.severity'] !== undefined) draft.event.severity = s['event.severity'];
      }
      if (!draft.event.type) addType(draft, 'info');
      draft.message ??= input.payload;
    },
  };
}
