import type { Finding } from '../../shared/yaml-source.ts';
import type { RuleLimits } from './limits.ts';
import type { ParsedDetection, Path } from './parse/documents.ts';

/**
 * A detection rule's matching cost, estimated from the rule as written (before compiling), in rough
 * "comparisons per event": each inline value 1 (times the variants a transform makes of it), each
 * wildcard 1 more (contains/startswith/endswith count as the wildcards they imply), each regular
 * expression character 1 more. `expand` placeholders cost nothing here: lists are looked up in an index.
 */
export interface RuleCost {
  total: number;
  values: number;
  wildcards: number;
  regexChars: number;
  /** The item that costs most: where a finding about the cost points. */
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

export function estimateCost(parsed: ParsedDetection): RuleCost {
  const cost: RuleCost = { total: 0, values: 0, wildcards: 0, regexChars: 0, worst: null };
  for (const sel of parsed.selections) {
    for (const alt of sel.alternatives) {
      for (const { item, path } of alt) {
        const mods = item.modifiers;
        if (mods.includes('expand') || mods.includes('exists')) continue;
        const variants = mods.reduce((n, m) => n * (VARIANTS[m] ?? 1), 1);
        const implied = mods.reduce((n, m) => n + (IMPLIED_WILDCARDS[m] ?? 0), 0);
        const regex = mods.includes('re');
        let values = 0;
        let wildcards = 0;
        let regexChars = 0;
        for (const v of item.values) {
          values += variants;
          if (typeof v !== 'string') continue;
          if (regex) regexChars += v.length;
          else wildcards += (wildcardsIn(v) + implied) * variants;
        }
        const itemCost = values + wildcards + regexChars;
        cost.values += values;
        cost.wildcards += wildcards;
        cost.regexChars += regexChars;
        cost.total += itemCost;
        if (!cost.worst || itemCost > cost.worst.cost) cost.worst = { path, cost: itemCost };
      }
    }
  }
  return cost;
}

/**
 * The lint finding about a rule's cost: a warning above `costWarning`, an error (the rule is left
 * out) above `costError`, nothing below.
 */
export function costFinding(parsed: ParsedDetection, limits: Pick<RuleLimits, 'costWarning' | 'costError'>): Finding | null {
  const c = estimateCost(parsed);
  if (c.total <= limits.costWarning) return null;
  const what = `estimated matching cost ${c.total} per event (${c.values} inline values, ${c.wildcards} wildcards, ${c.regexChars} regex characters)`;
  const where = c.worst?.path ?? ['detection'];
  if (c.total > limits.costError) {
    return parsed.at(where, 'error', `${what} is above the limit of ${limits.costError} (correlator.ruleLimits.costError); the rule is left out: put long value lists in an expand list (rules/lists/)`);
  }
  return parsed.at(where, 'warning', `${what} is above ${limits.costWarning} (correlator.ruleLimits.costWarning): put long value lists in an expand list (rules/lists/)`);
}
