import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { z } from 'zod';
import { Layer, Level } from '../../shared/incident.ts';
import { formatFinding, positionOf, readYamlFile, toData, zodFindings, type Finding } from '../../shared/yaml-source.ts';
import { parseTimespan } from '../detection/parse/timespan.ts';

/**
 * A drill scenario: which recording to replay and what the team should see and do.
 *
 * Time to detect, precisely: every time in a scenario is EVENT time in the recording's own timeline (the
 * time written in the log lines, as the decoders read it). A replay moves every event by the same shift
 * (0, or with `--rebase now` the distance from the recording's first `received` to the replay's start),
 * so the scorer compares in that shifted timeline:
 *
 *   detection delay = incident.first_seen - (trigger + shift)
 *
 * where `trigger` is the expected incident's own `trigger`, or else the scenario's, and `first_seen` is the
 * event time of the incident's first alert. Both sides are event times, so the delay is the same whether
 * the recording was replayed at x1 or x1000: it measures how much of the attack the rules needed to see,
 * not how fast the replay ran. An expected incident is detected in time when some drill incident matches
 * it and its delay is at most `within`; a delay below zero (the rule fired on the run-up to the trigger)
 * counts as in time.
 *
 * Response times are wall-clock, from the incident's `created` timeline entry to the first `acknowledge`
 * (and to the first `resolve` or `false_positive`), compared with the target for the incident's severity.
 */
const Duration = z.string().transform((text, ctx) => {
  const ms = parseTimespan(text);
  if (ms === null) {
    ctx.addIssue({ code: 'custom', message: `'${text}' is not a duration like 90s, 5m, 1h, 2d` });
    return z.NEVER;
  }
  return ms;
});

/** YAML turns an unquoted ISO time into a Date; either spelling is accepted. */
const EventTime = z.union([z.date(), z.iso.datetime({ offset: true })]).transform((v) => (v instanceof Date ? v.getTime() : Date.parse(v)));

const PerSeverity = z.object(Object.fromEntries(Level.options.map((l) => [l, Duration.optional()])) as Record<Level, z.ZodOptional<typeof Duration>>).strict();

export const ExpectedIncidentSchema = z
  .object({
    /** The rule id the incident carries (incident.rule.id). */
    rule: z.string().min(1),
    /** For people reading the report; the rule's title from the store is shown when absent. */
    title: z.string().min(1).optional(),
    /** Group-by values the incident must carry (a subset of incident.group, compared as strings). */
    group: z.record(z.string(), z.union([z.string(), z.number()]).transform(String)).default({}),
    /** The layer the rule assigns (incident.rule.layer); escalations are reported, not held against this. */
    layer: Layer.optional(),
    /** Latest acceptable detection delay after the trigger. */
    within: Duration,
    /** When this incident's attack begins (event time), if not at the scenario's trigger. */
    trigger: EventTime.optional(),
  })
  .strict();

export const ScenarioSchema = z
  .object({
    name: z.string().regex(/^[a-z0-9][a-z0-9-]*$/, 'lower-case letters, digits and -'),
    title: z.string().min(1),
    description: z.string().optional(),
    /** The recording to replay, relative to the scenario file. */
    recording: z.string().min(1),
    /** Event time (recording timeline) at which the attack begins. */
    trigger: EventTime,
    expected: z.array(ExpectedIncidentSchema).min(1),
    response: z
      .object({
        /** Time to acknowledge per severity, from the incident's creation. */
        acknowledge: PerSeverity.default({}),
        /** Time to resolve per severity, from the incident's creation (reported, not scored). */
        resolve: PerSeverity.default({}),
      })
      .strict()
      .default({ acknowledge: {}, resolve: {} }),
  })
  .strict();

export type ExpectedIncident = z.infer<typeof ExpectedIncidentSchema>;
export type Scenario = z.infer<typeof ScenarioSchema> & {
  /** The scenario file, and the recording resolved against its folder. */
  file: string;
  recordingPath: string;
};

export class ScenarioError extends Error {
  override name = 'ScenarioError';
  constructor(readonly findings: Finding[]) {
    super(findings.map(formatFinding).join('\n'));
  }
}

/** Reads and validates a scenario file; every problem is reported as FILE:LINE:COL, and the recording must exist. */
export function loadScenario(file: string): Scenario {
  let loaded;
  try {
    loaded = readYamlFile(file);
  } catch (err) {
    throw new ScenarioError([{ file, line: 1, col: 1, severity: 'error', message: (err as Error).message }]);
  }
  const { source, findings } = loaded;
  const errors = findings.filter((f) => f.severity === 'error');
  if (errors.length) throw new ScenarioError(errors);
  const data = toData(source);
  if ('finding' in data) throw new ScenarioError([data.finding]);
  const parsed = ScenarioSchema.safeParse(data.data ?? {});
  if (!parsed.success) throw new ScenarioError(zodFindings(source, parsed.error));
  const recordingPath = resolve(dirname(file), parsed.data.recording);
  if (!existsSync(recordingPath)) {
    const { line, col } = positionOf(source, ['recording']);
    throw new ScenarioError([{ file, line, col, severity: 'error', message: `field recording: no such file ${recordingPath}` }]);
  }
  return { ...parsed.data, file, recordingPath };
}

/** The trigger of one expected incident in the recording's timeline (ms since the epoch). */
export function triggerOf(scenario: Pick<Scenario, 'trigger'>, expected: ExpectedIncident): number {
  return expected.trigger ?? scenario.trigger;
}
