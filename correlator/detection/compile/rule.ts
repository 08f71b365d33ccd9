import type { Finding } from '../../../shared/yaml-source.ts';
import { allOf, anyOf, compileCondition, missingSelections, type Predicate } from '../condition/evaluate.ts';
import { ConditionSyntaxError, parseCondition, selectionsFor, type ConditionNode } from '../condition/grammar.ts';
import type { FieldMapping } from '../fields/mapping.ts';
import { fieldReader, type FieldReader } from '../fields/reader.ts';
import type { ListStore } from '../lists.ts';
import type { RuleInfo } from '../model.ts';
import { parseTimespan } from '../parse/timespan.ts';
import type { ParsedDetection, ParsedRule, Path } from '../parse/documents.ts';
import type { RuleTests } from '../parse/schema.ts';
import { ruleTokens } from './logsource.ts';
import { compileItem, MIN_LITERAL } from './value.ts';

/**
 * A necessary condition the rule index can look up: the rule matches only if the field holds one of
 * `keys` (exact), or contains one of them (substr; folded text).
 */
export interface IndexKey {
  /** How the field is read (ECS name and the rule's own name): rules reading the same way share one lookup. */
  key: string;
  kind: 'exact' | 'substr';
  reader: FieldReader;
  keys: Set<string>;
}

export interface CompiledDetection {
  info: RuleInfo;
  predicate: Predicate;
  logsource: string[];
  /** Each of these holds whenever the rule matches; the index picks the most selective. */
  indexKeys: IndexKey[];
  tests: RuleTests | null;
  parsed: ParsedDetection;
  /** Scratch for RuleSet.match: the match call that last evaluated this rule (dedupe without a Set). */
  seen: number;
}

export interface CompileContext {
  mapping: FieldMapping;
  lists: ListStore;
}

const KEYWORD_FIELDS = ['event.original', 'message'].map((f) => fieldReader(f, f));
const keywordReader: FieldReader = (e) => {
  for (const r of KEYWORD_FIELDS) {
    const v = r(e);
    if (v !== undefined) return v;
  }
  return undefined;
};

export function ruleInfo(parsed: ParsedRule, findings: Finding[]): RuleInfo | null {
  const d = parsed.doc;
  const id = d.id ?? d.name;
  if (!id) {
    findings.push(parsed.at(['title'], 'error', "a rule needs an 'id' (or at least a 'name')"));
    return null;
  }
  const esc = d.response?.escalate_after;
  const pos = parsed.at([], 'warning', '');
  return {
    id,
    name: d.name ?? null,
    title: d.title,
    description: d.description?.trim() || null,
    vi: d.vi ?? null,
    kind: parsed.kind,
    level: d.level ?? 'medium',
    layer: d.layer ?? 1,
    status: d.status ?? null,
    logsource: parsed.kind === 'detection' ? { category: parsed.doc.logsource.category, product: parsed.doc.logsource.product, service: parsed.doc.logsource.service } : {},
    response: {
      runbook: d.response?.runbook ?? null,
      escalateAfterMs: esc ? parseTimespan(esc) : null,
      shareNational: d.response?.share_national ?? false,
    },
    tags: d.tags,
    file: parsed.source.file,
    line: pos.line,
  };
}

/** Necessary conditions by field reading and kind ("exact"/"substr" + reader key). */
type Constraints = Map<string, IndexKey>;

const slot = (c: IndexKey) => `${c.kind}\u0000${c.key}`;

function andConstraints(parts: Constraints[]): Constraints {
  const out: Constraints = new Map();
  for (const p of parts) {
    for (const [k, c] of p) {
      const have = out.get(k);
      if (!have || c.keys.size < have.keys.size) out.set(k, c);
    }
  }
  return out;
}

/** Either part may hold: a field constrained in every part, with the union of the keys (exact values also count as substrings). */
function orConstraints(parts: Constraints[]): Constraints {
  if (parts.length === 0) return new Map();
  const out: Constraints = new Map();
  const readers = new Set([...parts[0]!.values()].map((c) => c.key));
  for (const key of readers) {
    const chosen: IndexKey[] = [];
    for (const p of parts) {
      const c = p.get(`exact\u0000${key}`) ?? p.get(`substr\u0000${key}`);
      if (!c) break;
      chosen.push(c);
    }
    if (chosen.length !== parts.length) continue;
    const exact = chosen.every((c) => c.kind === 'exact');
    const keys = new Set<string>();
    for (const c of chosen) for (const k of c.keys) keys.add(k);
    if (!exact && [...keys].some((k) => k.length < MIN_LITERAL)) continue;
    const merged: IndexKey = { key, kind: exact ? 'exact' : 'substr', reader: chosen[0]!.reader, keys };
    out.set(slot(merged), merged);
  }
  return out;
}

/** Necessary field constraints of a condition: any one of them must hold for the rule to match. */
function conditionConstraints(node: ConditionNode, sel: ReadonlyMap<string, Constraints>): Constraints {
  switch (node.kind) {
    case 'ref':
      return sel.get(node.name) ?? new Map();
    case 'not':
      return new Map();
    case 'and':
      return andConstraints(node.items.map((i) => conditionConstraints(i, sel)));
    case 'or':
      return orConstraints(node.items.map((i) => conditionConstraints(i, sel)));
    case 'of': {
      const parts = selectionsFor(node.pattern, [...sel.keys()]).map((n) => sel.get(n)!);
      return node.quantifier === 'all' ? andConstraints(parts) : orConstraints(parts);
    }
  }
}

/** Compiles a detection rule; returns null (with errors in `findings`) when it cannot run. */
export function compileDetection(parsed: ParsedDetection, ctx: CompileContext, findings: Finding[]): CompiledDetection | null {
  const errorsBefore = findings.filter((f) => f.severity === 'error').length;
  const info = ruleInfo(parsed, findings);
  const selections = new Map<string, Predicate>();
  const selConstraints = new Map<string, Constraints>();
  const readers = new Map<string, FieldReader>();
  const readerFor = (field: string, path: Path): FieldReader => {
    const ecs = ctx.mapping.resolve(field);
    if (!ctx.mapping.isKnown(field)) {
      const hint = ctx.mapping.suggest(field);
      findings.push(parsed.at(path, 'warning', `field '${field}' is not in the event schema or the field mappings${hint ? ` (did you mean '${hint}'?)` : ''}`));
    }
    const key = `${ecs}\u0000${field}`;
    let r = readers.get(key);
    if (!r) {
      r = fieldReader(ecs, field);
      readers.set(key, r);
    }
    return r;
  };

  for (const s of parsed.selections) {
    const alternatives: Predicate[] = [];
    const altConstraints: Constraints[] = [];
    for (const alt of s.alternatives) {
      const items: Predicate[] = [];
      const cons: Constraints = new Map();
      for (const { item, path } of alt) {
        const reader = item.field === null ? keywordReader : readerFor(item.field, path);
        const compiled = compileItem(item, {
          reader,
          readerFor: (f) => readerFor(f, path),
          lists: ctx.lists,
          error: (m) => findings.push(parsed.at(path, 'error', m)),
          warn: (m) => findings.push(parsed.at(path, 'warning', m)),
        });
        if (!compiled) continue;
        items.push(compiled.test);
        const k = item.field === null ? '\u0000keywords' : `${ctx.mapping.resolve(item.field)}\u0000${item.field}`;
        for (const c of [
          compiled.constants && { key: k, kind: 'exact' as const, reader, keys: new Set(compiled.constants) },
          compiled.literals && { key: k, kind: 'substr' as const, reader, keys: new Set(compiled.literals) },
        ]) {
          if (c && !cons.has(slot(c))) cons.set(slot(c), c);
        }
      }
      alternatives.push(allOf(items));
      altConstraints.push(cons);
    }
    selections.set(s.name, anyOf(alternatives));
    selConstraints.set(s.name, orConstraints(altConstraints));
  }

  const names = [...selections.keys()];
  const conditionPreds: Predicate[] = [];
  const conditionCons: Constraints[] = [];
  for (const c of parsed.conditions) {
    let tree: ConditionNode;
    try {
      tree = parseCondition(c.text);
    } catch (err) {
      if (!(err instanceof ConditionSyntaxError)) throw err;
      findings.push(conditionFinding(parsed, c.path, err.offset, `condition: ${err.message}`));
      continue;
    }
    for (const m of missingSelections(tree, names)) {
      findings.push(conditionFinding(parsed, c.path, m.offset, `condition names '${m.name}', which no selection defines`));
    }
    conditionPreds.push(compileCondition(tree, selections));
    conditionCons.push(conditionConstraints(tree, selConstraints));
  }
  if (!info || findings.filter((f) => f.severity === 'error').length > errorsBefore) return null;

  return {
    info,
    predicate: anyOf(conditionPreds),
    logsource: ruleTokens(info.logsource),
    indexKeys: [...orConstraints(conditionCons).values()],
    tests: parsed.doc.tests ?? null,
    parsed,
    seen: -1,
  };
}

/** A finding inside the condition string, at the column of the offending token when the string sits on one line. */
function conditionFinding(parsed: ParsedDetection, path: Path, offset: number, message: string): Finding {
  const base = parsed.at(path, 'error', message);
  const node = parsed.source.doc.getIn(path, true) as { range?: [number, number]; type?: string } | undefined;
  if (node?.range) {
    const quoted = node.type === 'QUOTE_DOUBLE' || node.type === 'QUOTE_SINGLE' ? 1 : 0;
    const plain = node.type === 'PLAIN' || quoted;
    if (plain) {
      const pos = parsed.source.lines.linePos(node.range[0] + quoted + offset);
      return { ...base, line: pos.line, col: pos.col };
    }
  }
  return base;
}

