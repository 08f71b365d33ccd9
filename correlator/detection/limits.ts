import { isCollection, isMap, isPair, isSeq, type Node } from 'yaml';
import { z } from 'zod';
import { DurationSchema } from './parse/timespan.ts';

/**
 * What one rule may cost the correlator: file size (checked before parsing), estimated matching cost
 * (checked at compile time) and time per event (checked while running). `correlator.ruleLimits` in the
 * correlator config; the defaults suit the bundled pack and the public Sigma rules with a wide margin.
 */
export const RuleLimitsSchema = z
  .object({
    /** A rule file larger than this is refused unread (a 60 MB file took 2.7 GB to parse). */
    maxFileBytes: z
      .number()
      .int()
      .min(1024)
      .default(4 * 1024 * 1024),
    /**
     * A plain-text list file (rules/lists/NAME.txt) larger than this is refused unread: as large as a
     * national feed may be (operations/national/feeds.ts). YAML lists, fields.yml and assets.yml are
     * parsed like rules and take `maxFileBytes`.
     */
    maxListBytes: z
      .number()
      .int()
      .min(1024)
      .default(64 * 1024 * 1024),
    /** Values one list file may hold: an expand list is held in memory by every rule that uses it. */
    maxListEntries: z.number().int().min(1).default(1_000_000),
    /** Assets in rules/assets.yml. */
    maxAssets: z.number().int().min(1).default(100_000),
    /** Field mappings, known names and log-source values in rules/fields.yml together (lint suggests names from them). */
    maxFieldEntries: z.number().int().min(1).default(10_000),
    /** Estimated cost (see cost.ts) above which lint warns. */
    costWarning: z.number().int().min(1).default(10_000),
    /** Estimated cost above which the rule is an error and left out. */
    costError: z.number().int().min(1).default(1_000_000),
    /** Time one rule may take on one event before it counts as an overrun. */
    evaluationBudget: DurationSchema.prefault('25ms'),
    /** Overruns within `overrunWindow` that disable the rule until its file changes. */
    overruns: z.number().int().min(1).default(3),
    overrunWindow: DurationSchema.prefault('1m'),
  })
  .strict()
  .refine((l) => l.costError >= l.costWarning, { message: 'costError must be at least costWarning', path: ['costError'] });

export type RuleLimits = z.infer<typeof RuleLimitsSchema>;

export const DEFAULT_RULE_LIMITS: RuleLimits = RuleLimitsSchema.parse({});

/**
 * How deep a rule document's maps and lists may nest. Converting and checking the document recurse
 * once per level; Sigma rules need 6 or so, test events a few more.
 */
export const MAX_YAML_DEPTH = 32;

/** The limits of the context files (rules/lists/, fields.yml, assets.yml). */
export type ContextLimits = Pick<RuleLimits, 'maxFileBytes' | 'maxListBytes' | 'maxListEntries' | 'maxAssets' | 'maxFieldEntries'>;

/** How many correlations may count one another in a chain: the engine passes a hit along it recursively. */
export const MAX_CORRELATION_CHAIN = 16;

/**
 * What makes a rule document's shape unusable before it is converted: maps and lists nested deeper
 * than `max` levels, or a map or list used as a key (YAML allows it, rules have no use for it). Walked
 * without recursion; null when the shape is fine.
 */
export function shapeProblem(root: Node | null | undefined, max = MAX_YAML_DEPTH): { node: Node; message: string } | null {
  if (!root) return null;
  const stack: [Node, number][] = [[root, 1]];
  while (stack.length) {
    const [node, depth] = stack.pop()!;
    if (!isMap(node) && !isSeq(node)) continue;
    if (depth > max) return { node, message: `maps and lists nested deeper than ${max} levels` };
    for (const item of node.items as unknown[]) {
      if (isPair(item) && isCollection(item.key)) return { node: item.key, message: 'a key must be a plain value, not a map or a list' };
      const child = isPair(item) ? item.value : item;
      if (child && typeof child === 'object') stack.push([child as Node, depth + 1]);
    }
  }
  return null;
}
