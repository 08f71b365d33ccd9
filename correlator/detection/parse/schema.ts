import { z } from 'zod';
import { Layer, Level } from '../../../shared/incident.ts';

/**
 * The rule documents: Sigma detection rules and Sigma correlation rules (v2.1) plus canhgac's fields
 * (layer, response, tests). Unknown top-level attributes are allowed, as Sigma allows custom ones.
 */
const Logsource = z
  .object({
    category: z.string().min(1).optional(),
    product: z.string().min(1).optional(),
    service: z.string().min(1).optional(),
    definition: z.string().optional(),
  })
  .loose();

const Timespan = z.string().regex(/^\d+(ms|s|m|h|d|w)$/, 'a duration such as 30s, 15m, 1h, 2d');

const Response = z
  .object({
    runbook: z.string().min(1).optional(),
    escalate_after: Timespan.optional(),
    share_national: z.boolean().default(false),
  })
  .strict();

const TestEvent = z.record(z.string(), z.unknown());
/** Example events a rule must and must not match; `canhgac rules test` checks them. */
const Tests = z.object({ match: z.array(TestEvent).default([]), no_match: z.array(TestEvent).default([]) }).strict();

/** Vietnamese wording of what a responder reads; the console shows it to users who chose Vietnamese. */
const Vietnamese = z
  .object({
    title: z.string().min(1).max(256).optional(),
    description: z.string().min(1).optional(),
    runbook: z.string().min(1).optional(),
  })
  .strict();

const Common = {
  title: z.string().min(1).max(256),
  description: z.string().optional(),
  vi: Vietnamese.optional(),
  id: z.string().min(1).optional(),
  name: z.string().min(1).optional(),
  status: z.enum(['stable', 'test', 'experimental', 'deprecated', 'unsupported']).optional(),
  level: Level.optional(),
  layer: Layer.optional(),
  tags: z.array(z.string()).default([]),
  response: Response.optional(),
  tests: Tests.optional(),
};

export const DetectionRuleSchema = z
  .object({
    ...Common,
    logsource: Logsource.default({}),
    detection: z.object({ condition: z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]) }).catchall(z.unknown()),
  })
  .loose();

const CorrelationCondition = z
  .object({
    gt: z.number().optional(),
    gte: z.number().optional(),
    lt: z.number().optional(),
    lte: z.number().optional(),
    eq: z.number().optional(),
    neq: z.number().optional(),
    field: z.string().min(1).optional(),
  })
  .strict();

export const CORRELATION_TYPES = [
  'event_count',
  'value_count',
  'temporal',
  'temporal_ordered',
  'value_sum',
  'value_avg',
  'value_percentile',
  'value_median',
  'flatline',
] as const;
export type CorrelationType = (typeof CORRELATION_TYPES)[number];

export const CorrelationRuleSchema = z
  .object({
    ...Common,
    generate: z.boolean().optional(),
    correlation: z
      .object({
        type: z.enum(CORRELATION_TYPES),
        rules: z.union([
          z
            .string()
            .min(1)
            .transform((r) => [r]),
          z.array(z.string().min(1)).min(1),
        ]),
        'group-by': z
          .union([
            z
              .string()
              .min(1)
              .transform((g) => [g]),
            z.array(z.string().min(1)),
          ])
          .default([]),
        timespan: Timespan,
        condition: CorrelationCondition.optional(),
        field: z.string().min(1).optional(),
        /** value_percentile: which percentile (0-100) of `field` the condition compares. */
        percentile: z.number().min(0).max(100).optional(),
        aliases: z.record(z.string().min(1), z.record(z.string().min(1), z.string().min(1))).default({}),
        generate: z.boolean().optional(),
      })
      .strict(),
  })
  .loose();

export type DetectionRuleDoc = z.infer<typeof DetectionRuleSchema>;
export type CorrelationRuleDoc = z.infer<typeof CorrelationRuleSchema>;
export type RuleTests = z.infer<typeof Tests>;
