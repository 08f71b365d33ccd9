import { z } from 'zod';
import { BaseConfigSchema } from '../shared/config.ts';
import { RuleLimitsSchema } from './detection/limits.ts';
import { DurationSchema } from './detection/parse/timespan.ts';
import { OperationsSectionSchema } from './operations/config.ts';
import { BeatsInputSchema } from './inputs/beats.ts';

const Duration = DurationSchema;

export const CorrelatorSectionSchema = z
  .object({
    /** Consumer group of soc.raw; the repartitioned stream uses `<groupId>.correlate`. */
    groupId: z.string().min(1).default('canhgac-correlator'),
    /** The rules folder (rules, lists/, assets.yml, fields.yml), watched for hot reload. */
    rules: z.string().min(1).default('rules'),
    partitions: z
      .object({ raw: z.number().int().min(1).default(6), correlate: z.number().int().min(1).default(6), incidents: z.number().int().min(1).default(1) })
      .strict()
      .default({ raw: 6, correlate: 6, incidents: 1 }),
    /** How late (event time) an event may arrive and still count in its correlation window. */
    allowedLateness: Duration.prefault('5m'),
    /** Alerts of the same rule and group key this close together join one incident. */
    suppression: Duration.prefault('1h'),
    /** Deadline to report a qualifying incident to the national centre. */
    reportDue: Duration.prefault('5d'),
    /** Triggering events kept inside an alert document for the console. */
    eventsPerAlert: z.number().int().min(1).max(100).default(10),
    /** What one rule may cost: file size, estimated matching cost, time per event (see rules/README.md). */
    ruleLimits: RuleLimitsSchema.prefault({}),
    /** Optional Prometheus endpoint (`GET /metrics`) on 127.0.0.1 unless host says otherwise. */
    metrics: z
      .object({ port: z.number().int().min(0).max(65535), host: z.string().default('127.0.0.1') })
      .strict()
      .optional(),
    /** Winlogbeat/Filebeat Kafka outputs to read (plain ECS JSON): each document becomes a soc.raw envelope. */
    beats: z
      .array(BeatsInputSchema)
      .default([])
      .superRefine((beats, ctx) => {
        beats.forEach((b, i) => {
          if (beats.findIndex((x) => x.name === b.name) !== i)
            ctx.addIssue({ code: 'custom', path: [i, 'name'], message: `duplicate beats input name '${b.name}'` });
        });
      }),
  })
  .strict();

export const CorrelatorConfigSchema = BaseConfigSchema.extend({
  correlator: CorrelatorSectionSchema.default(CorrelatorSectionSchema.parse({})),
  /** Escalation, layer-3 audits, reports and the national connection (see correlator/operations). */
  operations: OperationsSectionSchema.prefault({}),
});

export type CorrelatorConfig = z.infer<typeof CorrelatorConfigSchema>;
export type CorrelatorSection = z.infer<typeof CorrelatorSectionSchema>;
