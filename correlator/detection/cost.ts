import type { Finding } from '../../shared/yaml-source.ts';
import { parseCondition, selectionsFor, type ConditionNode } from './condition/grammar.ts';
import type { RuleLimits } from './limits.ts';
import type { ParsedDetection, Path } from './parse/documents.ts';

/**
 * A detection rule's matching cost, estimated from the rule as written (before compiling), in rough
 * "comparisons per event": each inline value 1 (times the variants a transform makes of it), each
 * wildcard 1 more (contains/startswith/endswith count as the wildcards they imply), each regular
 * expression character 1 more; an `expand` placeholder 1 (lists are looked up in an index). A
 * selection costs that much each time the condition refers to it (`x of` patterns included).
 */
export interface RuleCost {
  total: number;
  values: number;
  wildcards: number;
  regexChars: number;
  /** How often the conditions refer to a selection. */
  references: number;
  /** What costs most (an item, or the condition when repetition dominates): where a finding points. */
  worst: { path: Path; cost: number } | null;
}

/** How many values a transform turns one value into (base64offset: three alignments; windash: the dash variants). */
const VARIANTS: Readonly<Record<string, number>> = { base64offset: 3, windash: 5 };
const IMPLIED_WILDCARDS: Readonly<Record<string, number>> = { contains: 2, startswith: 1, endswith: 1 };

/** Unescaped `*` and `?` in a Sigma string value. */
function wildcardsIn(value: string): number {
  let n = 0;
  for (let i = 0; i < value.length; i++) {
    const c = value[i];
    if (c === '\\') i++;
    else if (c === '*' || c === '?') n++;
  }
  return n;
}

/** How often each selection is referred to; a condition that does not parse counts every selection once (compiling reports it). */
function referenceCounts(parsed: ParsedDetection): Map<string, number> {
  const names = parsed.selections.map((s) => s.name);
  const counts = new Map<string, number>();
  const add = (name: string) => counts.set(name, (counts.get(name) ?? 0) + 1);
  for (const c of parsed.conditions) {
    let tree: ConditionNode;
    try {
      tree = parseCondition(c.text);
    } catch {
      names.forEach(add);
      continue;
    }
    // The tree is at most MAX_CONDITION_DEPTH deep, but wide: walked with a stack.
    const stack: ConditionNode[] = [tree];
    while (stack.length) {
      const node = stack.pop()!;
      if (node.kind === 'ref') add(node.name);
      else if (node.kind === 'of') selectionsFor(node.pattern, names).forEach(add);
      else if (node.kind === 'not') stack.push(node.item);
      else for (const item of node.items) stack.push(item);
    }
  }
  return counts;
}

export function estimateCost(parsed: ParsedDetection): RuleCost {
  const cost: RuleCost = { total: 0, values: 0, wildcards: 0, regexChars: 0, references: 0, worst: null };
  const refs = referenceCounts(parsed);
  for (const n of refs.values()) cost.references += n;
  for (const sel of parsed.selections) {
    const times = refs.get(sel.name) ?? 0;
    for (const alt of sel.alternatives) {
      for (const { item, path } of alt) {
        const mods = item.modifiers;
        if (mods.includes('exists')) continue;
        const variants = mods.reduce((n, m) => n * (VARIANTS[m] ?? 1), 1);
        const implied = mods.reduce((n, m) => n + (IMPLIED_WILDCARDS[m] ?? 0), 0);
        const regex = mods.includes('re');
        const expand = mods.includes('expand');
        let values = 0;
        let wildcards = 0;
        let regexChars = 0;
        for (const v of expand ? [] : item.values) {
          values += variants;
          if (typeof v !== 'string') continue;
          if (regex) regexChars += v.length;
          else wildcards += (wildcardsIn(v) + implied) * variants;
        }
        const itemCost = Math.max(1, values + wildcards + regexChars) * times;
        cost.values += values;
        cost.wildcards += wildcards;
        cost.regexChars += regexChars;
        cost.total += itemCost;
        if (!cost.worst || itemCost > cost.worst.cost) cost.worst = { path, cost: itemCost };
      }
    }
  }
  // A condition repeating cheap selections costs more than any one of them: point at the condition.
  const condition = parsed.conditions[0];
  if (condition && cost.worst && cost.references >= cost.worst.cost) cost.worst = { path: condition.path, cost: cost.references };
  return cost;
}

/**
 * The lint finding about a rule's cost: a warning above `costWarning`, an error (the rule is left
 * out) above `costError`, nothing below.
 */
export function costFinding(parsed: ParsedDetection, limits: Pick<RuleLimits, 'costWarning' | 'costError'>): Finding | null {
  const c = estimateCost(parsed);
  if (c.total <= limits.costWarning) return null;
  const what = `estimated matching cost ${c.total} per event (${c.values} inline values, ${c.wildcards} wildcards, ${c.regexChars} regex characters, ${c.references} selection references)`;
  const where = c.worst?.path ?? ['detection'];
  if (c.total > limits.costError) {
    return parsed.at(
      where,
      'error',
      `${what} is above the limit of ${limits.costError} (correlator.ruleLimits.costError); the rule is left out: put long value lists in an expand list (rules/lists/)`,
    );
  }
  return parsed.at(
    where,
    'warning',
    `${what} is above ${limits.costWarning} (correlator.ruleLimits.costWarning): put long value lists in an expand list (rules/lists/)`,
  );
}
