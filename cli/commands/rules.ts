import { createReadStream, existsSync } from 'node:fs';
import { relative, isAbsolute, join } from 'node:path';
import { createInterface } from 'node:readline';
import { CommandError, parseFlags, UsageError, type Command } from '../command.ts';
import { formatFinding, type Finding } from '../../shared/yaml-source.ts';
import { formatReport, lintPaths } from '../../correlator/detection/lint.ts';
import { findContextDir, loadRuleSet } from '../../correlator/detection/ruleset.ts';
import { RuleLimitsSchema, type RuleLimits } from '../../correlator/detection/limits.ts';
import { loadConfig } from '../../shared/config.ts';
import { z } from 'zod';
import { checkRuleTests, EventRunner } from '../../correlator/detection/rule-tests.ts';

const USAGE = `Usage: canhgac rules lint [--config FILE] [PATH...]
       canhgac rules test RULE_OR_DIR [--events FILE] [--format NAME] [--decoders DIR] [--ignore-logsource]

  lint   check rule files and folders (recursively; default: rules/). One line per finding,
         PATH:LINE:COL: error|warning: MESSAGE, then a summary. Exit 1 when there is an error,
         0 with warnings only. --config FILE checks against the correlator.ruleLimits of that
         correlator (or start) config instead of the defaults.
  test   with --events FILE: run the rules over NDJSON events (normalized events, or flat JSON
         objects whose field names are matched as they are), or raw log lines decoded with
         --format NAME, and print one JSON line per match:
           {"rule": "<id>", "event": <0-based line index>}
         and for correlations (on event time, @timestamp):
           {"rule": "<id>", "events": [line indices], "group": {...}}
         Raw lines are decoded with the custom decoders of the rules folder (its decoders/) or
         of --decoders DIR, before the built-in ones.
         --ignore-logsource evaluates the detection alone (events of another product).
         Without --events: check the test cases the rules carry (tests.match / tests.no_match);
         exit 1 when one fails.`;

function display(file: string): string {
  if (!isAbsolute(file)) return file;
  const rel = relative(process.cwd(), file);
  return rel.startsWith('..') ? file : rel;
}

interface Decoders {
  decodeLine(
    line: string,
    opts: { format?: string; placement?: { assets?: (name: string) => { host?: string; unit?: string; securityLevel?: number } | undefined } },
  ): unknown;
  isKnownFormat(name: string): boolean;
}

/**
 * The decoders live in the correlator; loaded only when --format asks for them, with the custom decoders of
 * `dir` (when there is one) installed first. A broken custom decoder stops the test with its positions.
 */
async function loadDecoders(dir: string | undefined): Promise<Decoders> {
  const decoders = (await import('../../correlator/decoders/index.ts')) as Decoders;
  if (dir !== undefined) {
    const { installDecoders } = (await import('./decode.ts')) as { installDecoders(dir: string): void };
    installDecoders(dir);
  }
  return decoders;
}

/** --decoders DIR, or the decoders/ folder of the rules' context folder when it has one. */
function decodersDir(explicit: string | undefined, rules: string): string | undefined {
  if (explicit !== undefined) {
    if (!existsSync(explicit)) throw new CommandError(`${explicit}: no such folder`);
    return explicit;
  }
  const context = findContextDir(rules);
  const dir = context === null ? undefined : join(context, 'decoders');
  return dir !== undefined && existsSync(dir) ? dir : undefined;
}

/** The rule limits of a correlator or `canhgac start` config: only that section is read here. */
const LimitsOnly = z
  .object({
    correlator: z
      .object({ ruleLimits: RuleLimitsSchema.prefault({}) })
      .loose()
      .prefault({}),
  })
  .loose();

async function lint(argv: string[]): Promise<number> {
  const { values, positionals } = parseFlags(argv, { config: { type: 'string' } });
  let limits: RuleLimits | undefined;
  try {
    limits = values.config ? loadConfig(values.config, LimitsOnly).correlator.ruleLimits : undefined;
  } catch (err) {
    throw new CommandError((err as Error).message);
  }
  const targets = positionals.length ? positionals : ['rules'];
  const report = lintPaths(targets, { limits });
  for (const line of formatReport(report, display)) process.stdout.write(`${line}\n`);
  return report.errors ? 1 : 0;
}

function printFindings(findings: Finding[]): void {
  for (const f of findings) process.stderr.write(`${formatFinding({ ...f, file: display(f.file) })}\n`);
}

async function test(argv: string[]): Promise<number> {
  const { values, positionals } = parseFlags(argv, {
    events: { type: 'string' },
    format: { type: 'string' },
    decoders: { type: 'string' },
    'ignore-logsource': { type: 'boolean' },
  });
  if (positionals.length !== 1) throw new UsageError('give exactly one RULE_OR_DIR');
  if (values.format && !values.events) throw new UsageError('--format applies to --events FILE');
  if (values.decoders && !values.format) throw new UsageError('--decoders applies to raw lines read with --format NAME|auto');
  const { ruleset, findings } = loadRuleSet(positionals);
  const errors = findings.filter((f) => f.severity === 'error');
  printFindings(errors);
  if (ruleset.size === 0) throw new CommandError(`${positionals[0]}: no rule could be loaded`);

  if (!values.events) {
    const r = checkRuleTests(ruleset);
    printFindings(r.failures);
    process.stdout.write(`${r.rules} rules with tests, ${r.cases} test cases, ${r.failures.length} failed\n`);
    return r.failures.length || errors.length ? 1 : 0;
  }
  if (!existsSync(values.events)) throw new CommandError(`${values.events}: no such file`);
  let decoders: Decoders | null = null;
  if (values.format) {
    decoders = await loadDecoders(decodersDir(values.decoders, positionals[0]!));
    if (!decoders.isKnownFormat(values.format)) throw new UsageError(`unknown format '${values.format}'`);
  }
  const runner = new EventRunner(ruleset, { ignoreLogsource: values['ignore-logsource'] ?? false });
  const assets = (name: string) => {
    const a = ruleset.context.assets.lookup(name);
    return a ? { host: a.host, unit: a.unit, securityLevel: a.security_level } : undefined;
  };
  const lines = createInterface({ input: createReadStream(values.events, 'utf8'), crlfDelay: Infinity });
  let index = -1;
  let bad = 0;
  const print = (o: unknown) => process.stdout.write(`${JSON.stringify(o)}\n`);
  for await (const line of lines) {
    index++;
    if (!line.trim()) continue;
    let event: unknown;
    if (decoders) {
      // Placed on the servers of the rules' asset register, as the correlator does.
      event = decoders.decodeLine(line, { format: values.format, placement: { assets } });
    } else {
      try {
        event = JSON.parse(line);
      } catch (err) {
        bad++;
        process.stderr.write(`${values.events}:${index + 1}:1: error: not JSON: ${(err as Error).message}\n`);
        continue;
      }
      if (event === null || typeof event !== 'object' || Array.isArray(event)) {
        bad++;
        process.stderr.write(`${values.events}:${index + 1}:1: error: an event is a JSON object\n`);
        continue;
      }
    }
    for (const o of runner.push(event, index)) print(o);
  }
  for (const o of runner.finish()) print(o);
  return bad ? 1 : 0;
}

export const command: Command = {
  name: 'rules',
  summary: 'lint detection rules and test them against sample events',
  usage: USAGE,
  async run(argv) {
    const [sub, ...rest] = argv;
    switch (sub) {
      case 'lint':
        return lint(rest);
      case 'test':
        return test(rest);
      case undefined:
        throw new UsageError('missing subcommand: lint or test');
      default:
        throw new UsageError(`unknown subcommand '${sub}': lint or test`);
    }
  },
};
