import type { Finding } from '../../../shared/yaml-source.ts';
import type { FieldMapping } from '../fields/mapping.ts';
import { fieldReader, type FieldReader } from '../fields/reader.ts';
import type { RuleInfo } from '../model.ts';
import type { ParsedCorrelation } from '../parse/documents.ts';
import type { CorrelationType } from '../parse/schema.ts';
import { parseTimespan } from '../parse/timespan.ts';
import { parseThreshold, type Threshold } from './threshold.ts';

/** A correlation rule ready for the engine: references resolved to rule ids, fields to readers. */
export interface CorrelationDef {
  info: RuleInfo;
  type: CorrelationType;
  /** Ids of the rules (detections or correlations) it counts, in the rule's order (temporal_ordered). */
  rules: string[];
  groupBy: string[];
  /** For each source rule id: how to read each group-by value from that rule's events (aliases applied). */
  groupReaders: Map<string, FieldReader[]>;
  /** For each source rule id: the `field` of value_count and the value_* aggregates. */
  fieldReaders: Map<string, FieldReader>;
  timespanMs: number;
  threshold: Threshold;
  percentile: number;
  generate: boolean;
  /** Canonical text of the definition, to tell on reload whether its state can be kept. */
  fingerprint: string;
  parsed: ParsedCorrelation;
}

export interface RuleRef {
  id: string;
  name: string | null;
  kind: 'detection' | 'correlation';
}

const NEEDS_FIELD = new Set<CorrelationType>(['value_count', 'value_sum', 'value_avg', 'value_percentile', 'value_median']);
const CONDITION_OPTIONAL = new Set<CorrelationType>(['temporal', 'temporal_ordered', 'flatline']);

/** Chained correlations pass their group as the event: its keys are the inner rule's group-by names. */
const groupKeyReader =
  (name: string): FieldReader =>
  (e) =>
    e !== null && typeof e === 'object' ? (e as Record<string, unknown>)[name] : undefined;

export function compileCorrelation(
  parsed: ParsedCorrelation,
  info: RuleInfo,
  lookup: (ref: string) => RuleRef | undefined,
  mapping: FieldMapping,
  findings: Finding[],
): CorrelationDef | null {
  const c = parsed.doc.correlation;
  const errorsBefore = findings.length;
  const err = (path: (string | number)[], m: string) => findings.push(parsed.at(['correlation', ...path], 'error', m));
  const refs: RuleRef[] = [];
  c.rules.forEach((r, i) => {
    const ref = lookup(r);
    if (!ref) err(['rules', i], `rule '${r}' is not defined (give its id or name)`);
    else if (ref.id === info.id) err(['rules', i], 'a correlation cannot count itself');
    else refs.push(ref);
  });
  const timespanMs = parseTimespan(c.timespan);
  if (timespanMs === null) err(['timespan'], `bad timespan '${c.timespan}'`);
  const field = c.field ?? c.condition?.field;
  if (NEEDS_FIELD.has(c.type) && !field) err(['condition'], `a ${c.type} correlation needs 'field' (the field whose values it aggregates)`);
  if (!c.condition && !CONDITION_OPTIONAL.has(c.type)) err([], `a ${c.type} correlation needs a 'condition' (gt, gte, lt, lte, eq, neq)`);
  if (c.type === 'temporal_ordered' && c.rules.length < 2) err(['rules'], 'temporal_ordered needs at least two rules');
  if (c.type === 'flatline' && c['group-by'].length > 1) err(['group-by'], 'flatline groups by at most one field (the host the asset register lists)');
  let threshold: Threshold | null = null;
  if (c.condition) {
    const t = parseThreshold(c.condition);
    if (typeof t === 'string') err(['condition'], t);
    else threshold = t;
  } else if (c.type === 'temporal' || c.type === 'temporal_ordered') {
    threshold = { gte: refs.length };
  } else {
    threshold = {};
  }
  for (const alias of Object.keys(c.aliases)) {
    if (!c['group-by'].includes(alias)) findings.push(parsed.at(['correlation', 'aliases', alias], 'warning', `alias '${alias}' is not used in group-by`));
    for (const ruleName of Object.keys(c.aliases[alias]!)) {
      if (!c.rules.includes(ruleName) && !refs.some((r) => r.name === ruleName || r.id === ruleName)) {
        err(['aliases', alias, ruleName], `alias '${alias}' names rule '${ruleName}', which the correlation does not count`);
      }
    }
  }
  if (findings.length > errorsBefore && findings.slice(errorsBefore).some((f) => f.severity === 'error')) return null;

  const readerFor = (ref: RuleRef, name: string): FieldReader => (ref.kind === 'correlation' ? groupKeyReader(name) : fieldReader(mapping.resolve(name), name));
  const groupReaders = new Map<string, FieldReader[]>();
  const fieldReaders = new Map<string, FieldReader>();
  for (const ref of refs) {
    groupReaders.set(
      ref.id,
      c['group-by'].map((g) => {
        const alias = c.aliases[g];
        const viaAlias = alias ? (alias[ref.name ?? ''] ?? alias[ref.id]) : undefined;
        return readerFor(ref, viaAlias ?? g);
      }),
    );
    if (field) fieldReaders.set(ref.id, readerFor(ref, field));
  }
  return {
    info,
    type: c.type,
    rules: refs.map((r) => r.id),
    groupBy: c['group-by'],
    groupReaders,
    fieldReaders,
    timespanMs: timespanMs!,
    threshold: threshold!,
    percentile: c.percentile ?? 50,
    generate: c.generate ?? parsed.doc.generate ?? false,
    fingerprint: JSON.stringify({ ...c, rules: refs.map((r) => r.id) }),
    parsed,
  };
}
