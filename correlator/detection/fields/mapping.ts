import { existsSync } from 'node:fs';
import { z } from 'zod';
import { positionOf, readYamlFileBounded, toData, zodFindings, type Finding } from '../../../shared/yaml-source.ts';
import { DEFAULT_RULE_LIMITS, type ContextLimits } from '../limits.ts';
import { didYouMean } from './did-you-mean.ts';
import type { KeywordScope } from './keywords.ts';
import { ECS_FIELDS, SIGMA_TO_ECS } from './taxonomy.ts';

/** Field → values; an event has the log source when any of the fields holds any of the values. */
const LogsourceCondition = z.record(z.string(), z.union([z.string(), z.array(z.string()).min(1)]));
const LogsourceMap = z.record(z.string().min(1), LogsourceCondition);

/** rules/fields.yml: the administrator's additions to the built-in Sigma -> ECS mapping. */
export const FieldsFileSchema = z
  .object({
    fields: z.record(z.string().min(1), z.string().min(1)).default({}),
    known: z.array(z.string().min(1)).default([]),
    /** Where keywords (bare values) search: every string value of the event, or only the original line. */
    keywords: z.enum(['all', 'message']).default('all'),
    logsources: z
      .object({ category: LogsourceMap.default({}), product: LogsourceMap.default({}), service: LogsourceMap.default({}) })
      .strict()
      .default({ category: {}, product: {}, service: {} }),
  })
  .strict();

export type LogsourceKey = 'category' | 'product' | 'service';
export type LogsourceRules = Record<LogsourceKey, Record<string, Record<string, string[]>>>;

/** Which event fields say that an event comes from a log source, beyond the defaults in compile/logsource.ts. */
const DEFAULT_LOGSOURCES: LogsourceRules = {
  category: {
    firewall: { 'event.category': ['network'], 'observer.type': ['firewall'] },
    antivirus: { 'event.category': ['malware'], 'observer.type': ['antivirus'] },
  },
  product: {},
  service: {},
};

export class FieldMapping {
  private readonly known: Set<string>;

  constructor(
    private readonly map: Readonly<Record<string, string>> = SIGMA_TO_ECS,
    extraKnown: readonly string[] = [],
    readonly logsources: LogsourceRules = DEFAULT_LOGSOURCES,
    readonly keywords: KeywordScope = 'all',
  ) {
    this.known = new Set([...ECS_FIELDS, ...extraKnown, ...Object.values(map)]);
  }

  /** The ECS name a rule's field reads; the rule's own name when nothing maps it. */
  resolve(field: string): string {
    return this.map[field] ?? field;
  }

  /** Known: an ECS field of the schema, a mapped name, or a declared extra. */
  isKnown(field: string): boolean {
    return this.known.has(field) || field in this.map;
  }

  suggest(field: string): string | undefined {
    return didYouMean(field, [...this.known, ...Object.keys(this.map)]);
  }

  static defaults(): FieldMapping {
    return new FieldMapping();
  }

  /**
   * Reads rules/fields.yml; a missing file means the defaults, a broken one (or one past `maxFileBytes`
   * or `maxFieldEntries`) is reported and ignored.
   */
  static load(
    file: string,
    limits: Pick<ContextLimits, 'maxFileBytes' | 'maxFieldEntries'> = DEFAULT_RULE_LIMITS,
  ): { mapping: FieldMapping; findings: Finding[] } {
    if (!existsSync(file)) return { mapping: FieldMapping.defaults(), findings: [] };
    const { source, findings } = readYamlFileBounded(file, limits.maxFileBytes, 'correlator.ruleLimits.maxFileBytes');
    if (!source || findings.some((f) => f.severity === 'error')) return { mapping: FieldMapping.defaults(), findings };
    const data = toData(source);
    if ('finding' in data) return { mapping: FieldMapping.defaults(), findings: [...findings, data.finding] };
    const parsed = FieldsFileSchema.safeParse(data.data ?? {});
    if (!parsed.success) return { mapping: FieldMapping.defaults(), findings: [...findings, ...zodFindings(source, parsed.error)] };
    const { fields, known, logsources: sources } = parsed.data;
    const entries =
      Object.keys(fields).length +
      known.length +
      Object.values(sources)
        .flatMap((m) => Object.values(m).flatMap((cond) => Object.values(cond)))
        .reduce((n, v) => n + (Array.isArray(v) ? v.length : 1), 0);
    if (entries > limits.maxFieldEntries) {
      const message = `${entries} field mappings, known names and log-source values, more than the limit of ${limits.maxFieldEntries} (correlator.ruleLimits.maxFieldEntries)`;
      return { mapping: FieldMapping.defaults(), findings: [...findings, { file, ...positionOf(source, []), severity: 'error', message }] };
    }
    const logsources: LogsourceRules = { category: {}, product: {}, service: {} };
    for (const key of ['category', 'product', 'service'] as const) {
      logsources[key] = { ...DEFAULT_LOGSOURCES[key] };
      for (const [name, cond] of Object.entries(parsed.data.logsources[key])) {
        logsources[key][name] = Object.fromEntries(Object.entries(cond).map(([f, v]) => [f, Array.isArray(v) ? v : [v]]));
      }
    }
    return { mapping: new FieldMapping({ ...SIGMA_TO_ECS, ...parsed.data.fields }, parsed.data.known, logsources, parsed.data.keywords), findings };
  }
}
