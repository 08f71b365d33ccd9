import { LineCounter, parseAllDocuments, type YAMLError } from 'yaml';
import { DEFAULT_RULE_LIMITS, MAX_YAML_DEPTH, shapeProblem } from '../limits.ts';
import { positionOf, readTextBounded, toData, zodFindings, type Finding, type YamlSource } from '../../../shared/yaml-source.ts';
import { CorrelationRuleSchema, DetectionRuleSchema, type CorrelationRuleDoc, type DetectionRuleDoc } from './schema.ts';
import type { DetectionItem } from '../compile/item.ts';

export type Path = (string | number)[];

/** Where a finding points: the document's source and a path inside it. */
export interface Located {
  source: YamlSource;
  at(path: Path, severity: Finding['severity'], message: string): Finding;
}

export interface ParsedSelection {
  name: string;
  /** OR of alternatives, each an AND of items (a list of maps), or one alternative for a map. */
  alternatives: { item: DetectionItem; path: Path }[][];
}

export interface ParsedDetection extends Located {
  kind: 'detection';
  doc: DetectionRuleDoc;
  selections: ParsedSelection[];
  /** Several conditions (old Sigma) mean any of them. */
  conditions: { text: string; path: Path }[];
}

export interface ParsedCorrelation extends Located {
  kind: 'correlation';
  doc: CorrelationRuleDoc;
}

export type ParsedRule = ParsedDetection | ParsedCorrelation;

function locate(source: YamlSource): Located {
  return {
    source,
    at(path, severity, message) {
      return { file: source.file, ...positionOf(source, path), severity, message };
    },
  };
}

/**
 * Parses one rule file: one or more YAML documents (Sigma keeps a correlation and its base rules in
 * one file, separated by ---). A broken document is reported and skipped; the others still load.
 */
export function parseRuleText(text: string, file: string): { rules: ParsedRule[]; findings: Finding[] } {
  const lines = new LineCounter();
  const docs = parseAllDocuments(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  const findings: Finding[] = [];
  const rules: ParsedRule[] = [];
  const list = Array.isArray(docs) ? docs : [];
  for (const doc of list) {
    const source: YamlSource = { file, doc, lines };
    const errors = doc.errors.map((e) => ({ file, ...lines.linePos(e.pos[0]), severity: 'error' as const, message: yamlMessage(e) }));
    findings.push(...errors, ...doc.warnings.map((e) => ({ file, ...lines.linePos(e.pos[0]), severity: 'warning' as const, message: yamlMessage(e) })));
    if (errors.length) continue;
    const shape = shapeProblem(doc.contents);
    if (shape) {
      findings.push({ file, ...lines.linePos(shape.node.range?.[0] ?? 0), severity: 'error', message: shape.message });
      continue;
    }
    const data = toData(source);
    if ('finding' in data) {
      findings.push(data.finding);
      continue;
    }
    if (data.data === null || data.data === undefined) continue;
    const loc = locate(source);
    let parsed: ReturnType<typeof parseRuleDocument>;
    try {
      parsed = parseRuleDocument(data.data, loc);
    } catch (err) {
      // Whatever the checks above did not foresee stays this document's error.
      findings.push(loc.at([], 'error', `the rule cannot be read: ${(err as Error).message}`));
      continue;
    }
    findings.push(...parsed.findings);
    if (parsed.rule) rules.push(parsed.rule);
  }
  return { rules, findings };
}

/** The first line of a YAML error; the parser's own stack overflow is named for what it means. */
function yamlMessage(e: YAMLError): string {
  if (e.code === 'RESOURCE_EXHAUSTION' && /call stack/i.test(e.message))
    return `maps and lists nested too deeply to parse (the limit is ${MAX_YAML_DEPTH} levels)`;
  return e.message.split('\n')[0] ?? e.message;
}

/** A rule file larger than `maxBytes` is refused before it is read whole, let alone parsed. */
export function parseRuleFile(file: string, maxBytes = DEFAULT_RULE_LIMITS.maxFileBytes): { rules: ParsedRule[]; findings: Finding[] } {
  const refuse = (message: string) => ({ rules: [], findings: [{ file, line: 1, col: 1, severity: 'error' as const, message }] });
  let text: string;
  try {
    const read = readTextBounded(file, maxBytes);
    if (read === null)
      return refuse(
        `the file is larger than the rule file limit of ${maxBytes} bytes (correlator.ruleLimits.maxFileBytes); use an expand list (rules/lists/) for long value lists`,
      );
    text = read;
  } catch (err) {
    return refuse(`cannot read: ${(err as Error).message}`);
  }
  return parseRuleText(text, file);
}

function parseRuleDocument(data: unknown, loc: Located): { rule?: ParsedRule; findings: Finding[] } {
  if (typeof data !== 'object' || Array.isArray(data) || data === null) {
    return { findings: [loc.at([], 'error', 'a rule is a YAML mapping')] };
  }
  const obj = data as Record<string, unknown>;
  if ('correlation' in obj) {
    const r = CorrelationRuleSchema.safeParse(obj);
    if (!r.success) return { findings: zodFindings(loc.source, r.error) };
    return { rule: { kind: 'correlation', doc: r.data, ...loc }, findings: [] };
  }
  if ('filter' in obj && !('detection' in obj)) {
    return { findings: [loc.at(['filter'], 'warning', 'Sigma filter documents are not supported; this document is skipped')] };
  }
  if (!('detection' in obj)) {
    return { findings: [loc.at([], 'error', "a rule needs 'detection' (a Sigma rule) or 'correlation' (a correlation rule)")] };
  }
  const r = DetectionRuleSchema.safeParse(obj);
  if (!r.success) return { findings: zodFindings(loc.source, r.error) };
  const findings: Finding[] = [];
  const selections: ParsedSelection[] = [];
  for (const [name, value] of Object.entries(r.data.detection)) {
    if (name === 'condition' || name === 'timeframe') continue;
    const sel = parseSelection(name, value, ['detection', name], loc, findings);
    if (sel) selections.push(sel);
  }
  if ('timeframe' in r.data.detection) {
    findings.push(loc.at(['detection', 'timeframe'], 'warning', "'timeframe' is obsolete Sigma; write a correlation rule with a timespan"));
  }
  const cond = r.data.detection.condition;
  const conditions = Array.isArray(cond)
    ? cond.map((text, i) => ({ text, path: ['detection', 'condition', i] as Path }))
    : [{ text: cond, path: ['detection', 'condition'] as Path }];
  return { rule: { kind: 'detection', doc: r.data, selections, conditions, ...loc }, findings };
}

function splitKey(key: string): { field: string | null; modifiers: string[] } {
  const [field, ...modifiers] = key.split('|');
  return { field: field ? field : null, modifiers };
}

function toValues(v: unknown): unknown[] {
  return Array.isArray(v) ? v : [v];
}

/** A plain scalar written with a leading zero (`00000429`) is a string, as its author meant and pySigma reads it. */
function asWritten(v: unknown, path: Path, loc: Located): unknown {
  if (typeof v !== 'number') return v;
  const node = loc.source.doc.getIn(path, true) as { type?: string; source?: string } | undefined;
  return node?.type === 'PLAIN' && typeof node.source === 'string' && /^[-+]?0[0-9]/.test(node.source) ? node.source : v;
}

function parseMap(obj: Record<string, unknown>, path: Path, loc: Located, findings: Finding[]): { item: DetectionItem; path: Path }[] | null {
  const items: { item: DetectionItem; path: Path }[] = [];
  for (const [key, value] of Object.entries(obj)) {
    const p = [...path, key];
    const values = toValues(value);
    if (values.some((v) => typeof v === 'object' && v !== null)) {
      findings.push(loc.at(p, 'error', `field '${key}': values must be strings, numbers, booleans or null, not nested maps or lists`));
      return null;
    }
    if (Array.isArray(value) && value.includes(null)) {
      findings.push(
        loc.at(
          [...p, value.indexOf(null)],
          'error',
          `field '${key}': null inside a list of values; write '${key}: null' as its own item to match a missing field`,
        ),
      );
      return null;
    }
    const written = Array.isArray(value) ? values.map((v, i) => asWritten(v, [...p, i], loc)) : [asWritten(value, p, loc)];
    items.push({ item: { ...splitKey(key), values: written }, path: p });
  }
  return items;
}

function parseSelection(name: string, value: unknown, path: Path, loc: Located, findings: Finding[]): ParsedSelection | null {
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    if (Object.keys(value).length === 0) {
      findings.push(loc.at(path, 'error', `selection '${name}' is an empty map, which would match every event`));
      return null;
    }
    const items = parseMap(value as Record<string, unknown>, path, loc, findings);
    return items ? { name, alternatives: [items] } : null;
  }
  if (Array.isArray(value)) {
    if (value.length === 0) {
      findings.push(loc.at(path, 'error', `selection '${name}' is an empty list`));
      return null;
    }
    if (value.every((v) => v !== null && typeof v === 'object' && !Array.isArray(v))) {
      const alternatives: { item: DetectionItem; path: Path }[][] = [];
      for (let i = 0; i < value.length; i++) {
        if (Object.keys(value[i] as object).length === 0) {
          findings.push(loc.at([...path, i], 'error', `selection '${name}': alternative ${i + 1} is empty ({}), which would match every event`));
          return null;
        }
        const items = parseMap(value[i] as Record<string, unknown>, [...path, i], loc, findings);
        if (!items) return null;
        alternatives.push(items);
      }
      return { name, alternatives };
    }
    if (value.every((v) => v === null || typeof v !== 'object')) {
      if (value.includes(null)) {
        findings.push(loc.at([...path, value.indexOf(null)], 'error', `selection '${name}': null inside a list of keywords`));
        return null;
      }
      return { name, alternatives: [[{ item: { field: null, modifiers: [], values: value.map((v, i) => asWritten(v, [...path, i], loc)) }, path }]] };
    }
    findings.push(loc.at(path, 'error', `selection '${name}' mixes maps and plain values`));
    return null;
  }
  if (typeof value === 'string' || typeof value === 'number') {
    return { name, alternatives: [[{ item: { field: null, modifiers: [], values: [asWritten(value, path, loc)] }, path }]] };
  }
  findings.push(loc.at(path, 'error', `selection '${name}' must be a map, a list or a keyword`));
  return null;
}
