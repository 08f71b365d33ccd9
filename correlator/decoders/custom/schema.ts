import { z } from 'zod';

/**
 * A custom decoder file (rules/decoders/*.yml): which lines it takes (match), how it reads them (parse), which
 * parsed fields become which ECS fields (fields), and the event.category/type/outcome its conditions set (rules).
 * Unknown keys are errors, so that a typo is reported at its line instead of silently doing nothing.
 */
const Scalar = z.union([z.string(), z.number(), z.boolean()]);
const OneOrMany = z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]);

/** A parsed field's name: for JSON a dotted path into the object ("data.src_ip"). */
const FieldName = z.string().min(1).max(256);

/** One test on a parsed field: equal to a value (or any of a list), matching an RE2 expression, or present. */
export const TestSchema = z.union([Scalar, z.array(Scalar).min(1), z.strictObject({ matches: z.string().min(1) }), z.strictObject({ present: z.boolean() })], {
  error: 'a value, a list of values, { matches: RE2 expression } or { present: true|false }',
});
export const ConditionSchema = z.record(FieldName, TestSchema);

export const CONVERSIONS = ['string', 'lowercase', 'ip', 'port', 'int', 'timestamp'] as const;

const MappingObject = z
  .strictObject({
    from: z.union([FieldName, z.array(FieldName).min(1)]).optional(),
    value: Scalar.optional(),
    type: z.enum(CONVERSIONS).optional(),
    format: z.string().min(1).optional(),
    zone: z.string().min(1).optional(),
  })
  .refine((m) => (m.from === undefined) !== (m.value === undefined), { message: 'give exactly one of from (parsed field names) or value (a constant)' });
/** A bare name (or list of names, the first present wins) is the parsed field to copy. */
export const MappingSchema = z.union([FieldName, z.array(FieldName).min(1), MappingObject], {
  error: 'a parsed field name, a list of them, or { from | value, type, format, zone }',
});

/** Why a destination name is refused, or undefined: dotted lower-case ECS names, not the decoder's own bookkeeping. */
function badDestination(n: string): string | undefined {
  if (!/^(@timestamp|message|[a-z][a-z0-9_]*(\.[a-z0-9_]+)+)$/.test(n))
    return 'an ECS field: dotted lower-case words (source.ip, not source), message or @timestamp';
  if (n === 'event.original' || n === 'event.module' || n === 'event.dataset' || n === 'event.kind' || n.startsWith('error.'))
    return 'set by canhgac itself, not by a decoder';
  return undefined;
}

const OUTCOMES = ['success', 'failure', 'unknown'] as const;

export const SetSchema = z.strictObject({
  'event.category': OneOrMany.optional(),
  'event.type': OneOrMany.optional(),
  'event.outcome': z.enum(OUTCOMES).optional(),
  'event.action': z.string().min(1).optional(),
  'event.kind': z.enum(['event', 'alert']).optional(),
  'event.severity': z.number().int().min(0).max(1000).optional(),
});

export const ParseSchema = z.union(
  [
    z.strictObject({
      kv: z
        .strictObject({ delimiter: z.enum(['space', 'comma', 'tab']).default('space') })
        .nullable()
        .default(null),
    }),
    z.strictObject({
      csv: z.strictObject({
        fields: z.array(z.string()).min(1).max(512),
        separator: z.string().length(1).default(','),
      }),
    }),
    z.strictObject({ json: z.null().default(null) }),
    z.strictObject({ regex: z.string().min(1).max(4096) }),
  ],
  { error: 'one parser: kv, csv (with fields), json, or regex (RE2 with named groups)' },
);

export const DecoderFileSchema = z.strictObject({
  name: z.string().regex(/^[a-z0-9][a-z0-9_-]{1,62}$/, 'lower-case letters, digits, - and _ (2 to 63 characters)'),
  description: z.string().min(1).optional(),
  match: z
    .strictObject({
      program: OneOrMany.optional(),
      prefix: OneOrMany.optional(),
      pattern: z.string().min(1).max(4096).optional(),
      fields: ConditionSchema.optional(),
    })
    .refine((m) => m.program !== undefined || m.prefix !== undefined || m.pattern !== undefined || m.fields !== undefined, {
      message: 'say which lines the decoder takes: program, prefix, pattern or fields',
    }),
  parse: ParseSchema,
  observer: z.strictObject({ vendor: z.string().min(1), product: z.string().min(1), type: z.string().min(1).default('firewall') }),
  fields: z
    .record(z.string(), MappingSchema)
    .superRefine((fields, ctx) => {
      for (const name of Object.keys(fields)) {
        const why = badDestination(name);
        if (why) ctx.addIssue({ code: 'custom', path: [name], message: why });
      }
    })
    .default({}),
  rules: z.array(z.strictObject({ when: ConditionSchema.optional(), set: SetSchema })).default([]),
  tests: z
    .array(
      z.strictObject({
        line: z.string().min(1),
        expect: z.record(z.string().min(1), z.union([Scalar, z.array(Scalar), z.null()])),
      }),
    )
    .default([]),
});

export type DecoderFile = z.infer<typeof DecoderFileSchema>;
export type Mapping = z.infer<typeof MappingSchema>;
export type Condition = z.infer<typeof ConditionSchema>;
