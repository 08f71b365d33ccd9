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
import { keywordReader } from '../fields/keywords.ts';
import { compileItem, type ItemSize } from './item.ts';

/**
 * A field condition the rule index can look up: the field holds one of `keys` (exact), or contains one of
 * them (substr; folded text).
 */
export interface IndexAtom {
  /** How the field is read (ECS name and the rule's own name): rules reading the same way share one lookup. */
  key: string;
  kind: 'exact' | 'substr';
  reader: FieldReader;
  keys: Set<string>;
}

/** A necessary condition of a rule: whenever the rule matches, one of the atoms holds (they may name different fields). */
export type IndexKey = IndexAtom[];

export interface CompiledDetection {
  info: RuleInfo;
  predicate: Predicate;
  logsource: string[];
  /** Each of these holds whenever the rule matches; the index picks the most selective. */
  indexKeys: IndexKey[];
  /** What each item of the rule holds (values, literals, wildcards, regexes), for the cost estimate. */
  sizes: ItemSize[];
  tests: RuleTests | null;
  parsed: ParsedDetection;
  /** Scratch for RuleSet.match: the match call that last evaluated this rule (dedupe without a Set). */
  seen: number;
}

export interface CompileContext {
  mapping: FieldMapping;
  lists: ListStore;
}

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
    // Trimmed like the English description: a YAML block scalar ends with a newline.
    vi: d.vi ? Object.fromEntries(Object.entries(d.vi).map(([k, v]) => [k, typeof v === 'string' ? v.trim() : v])) : null,
    kind: parsed.kind,
    level: d.level ?? 'medium',
    layer: d.layer ?? 1,
    status: d.status ?? null,
    logsource:
      parsed.kind === 'detection'
        ? { category: parsed.doc.logsource.category, product: parsed.doc.logsource.product, service: parsed.doc.logsource.service }
        : {},
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

/** Necessary conditions of a part of the rule: each holds whenever the part matches. */
type Needs = IndexKey[];

/** A rule keeps this many candidate conditions; the index chooses among them by rarity. */
const MAX_NEEDS = 6;

/** A guess before the other rules are known: more values, shorter substrings and keyword scans cost more. */
function staticCost(need: IndexKey): number {
  let cost = 0;
  for (const a of need) {
    for (const k of a.keys) cost += a.kind === 'exact' ? 1 : k.length >= 8 ? 2 : 6;
    if (a.key === KEYWORDS_KEY) cost *= 2;
  }
  return cost;
}

const byCost = (needs: Needs): Needs =>
  needs
    .map((n) => ({ n, c: staticCost(n) }))
    .sort((a, b) => a.c - b.c)
    .map((x) => x.n);

/** All parts must hold: any part's condition is the whole's. */
function andNeeds(parts: Needs[]): Needs {
  return byCost(parts.flat()).slice(0, MAX_NEEDS);
}

/** One of the parts holds: the union of the best condition of each part (atoms on the same field and kind merge). */
function orNeeds(parts: Needs[]): Needs {
  if (parts.length === 0 || parts.some((p) => p.length === 0)) return [];
  const merged = new Map<string, IndexAtom>();
  for (const p of parts) {
    for (const a of byCost(p)[0]!) {
      const slot = `${a.kind}\u0000${a.key}`;
      const have = merged.get(slot);
      if (have) merged.set(slot, { ...have, keys: new Set([...have.keys, ...a.keys]) });
      else merged.set(slot, a);
    }
  }
  return [[...merged.values()]];
}

/** Necessary field conditions of a condition tree. */
function conditionNeeds(node: ConditionNode, sel: ReadonlyMap<string, Needs>): Needs {
  switch (node.kind) {
    case 'ref':
      return sel.get(node.name) ?? [];
    case 'not':
      return [];
    case 'and':
      return andNeeds(node.items.map((i) => conditionNeeds(i, sel)));
    case 'or':
      return orNeeds(node.items.map((i) => conditionNeeds(i, sel)));
    case 'of': {
      const parts = selectionsFor(node.pattern, [...sel.keys()]).map((n) => sel.get(n)!);
      if (node.quantifier === 'all') return andNeeds(parts);
      // At least n of them: any one holds, so the union still must.
      return orNeeds(parts);
    }
  }
}

const KEYWORDS_KEY = '\u0000keywords';

/** Compiles a detection rule; returns null (with errors in `findings`) when it cannot run. */
export function compileDetection(parsed: ParsedDetection, ctx: CompileContext, findings: Finding[]): CompiledDetection | null {
  const errorsBefore = findings.filter((f) => f.severity === 'error').length;
  const info = ruleInfo(parsed, findings);
  const selections = new Map<string, Predicate>();
  const selNeeds = new Map<string, Needs>();
  const sizes: ItemSize[] = [];
  const keywords = keywordReader(ctx.mapping.keywords);
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
    const altNeeds: Needs[] = [];
    for (const alt of s.alternatives) {
      const items: Predicate[] = [];
      const needs: Needs = [];
      for (const { item, path } of alt) {
        const reader = item.field === null ? keywords : readerFor(item.field, path);
        const compiled = compileItem(item, {
          reader,
          readerFor: (f) => readerFor(f, path),
          lists: ctx.lists,
          error: (m) => findings.push(parsed.at(path, 'error', m)),
          warn: (m) => findings.push(parsed.at(path, 'warning', m)),
        });
        if (!compiled) continue;
        items.push(compiled.test);
        sizes.push(compiled.size);
        const key = item.field === null ? KEYWORDS_KEY : `${ctx.mapping.resolve(item.field)}\u0000${item.field}`;
        if (compiled.constants) needs.push([{ key, kind: 'exact', reader, keys: new Set(compiled.constants) }]);
        else if (compiled.literals) needs.push([{ key, kind: 'substr', reader, keys: new Set(compiled.literals) }]);
      }
      alternatives.push(allOf(items));
      altNeeds.push(andNeeds([needs]));
    }
    selections.set(s.name, anyOf(alternatives));
    selNeeds.set(s.name, orNeeds(altNeeds));
  }

  const names = [...selections.keys()];
  const conditionPreds: Predicate[] = [];
  const conditionNeedList: Needs[] = [];
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
    conditionNeedList.push(conditionNeeds(tree, selNeeds));
  }
  if (!info || findings.filter((f) => f.severity === 'error').length > errorsBefore) return null;

  return {
    info,
    predicate: anyOf(conditionPreds),
    logsource: ruleTokens(info.logsource),
    indexKeys: conditionNeedList.length === 1 ? conditionNeedList[0]! : orNeeds(conditionNeedList),
    sizes,
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
