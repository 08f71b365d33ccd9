import { createReadStream, existsSync } from 'node:fs';
import { relative, isAbsolute } from 'node:path';
import { createInterface } from 'node:readline';
import { CommandError, parseFlags, UsageError, type Command } from '../command.ts';
import { formatFinding, type Finding } from '../../shared/yaml-source.ts';
import { formatReport, lintPaths } from '../../correlator/detection/lint.ts';
import { loadRuleSet } from '../../correlator/detection/ruleset.ts';
import { checkRuleTests, EventRunner } from '../../correlator/detection/rule-tests.ts';

const USAGE = `Usage: canhgac rules lint [PATH...]
       canhgac rules test RULE_OR_DIR [--events FILE] [--format NAME] [--ignore-logsource]

  lint   check rule files and folders (recursively; default: rules/). One line per finding,
         PATH:LINE:COL: error|warning: MESSAGE, then a summary. Exit 1 when there is an error,
         0 with warnings only.
  test   with --events FILE: run the rules over NDJSON events (normalized events, or flat JSON
         objects whose field names are matched as they are), or raw log lines decoded with
         --format NAME, and print one JSON line per match:
           {"rule": "<id>", "event": <0-based line index>}
         and for correlations (on event time, @timestamp):
           {"rule": "<id>", "events": [line indices], "group": {...}}
         --ignore-logsource evaluates the detection alone (events of another product).
         Without --events: check the test cases the rules carry (tests.match / tests.no_match);
         exit 1 when one fails.`;

function display(file: string): string {
  if (!isAbsolute(file)) return file;
  const rel = relative(process.cwd(), file);
  return rel.startsWith('..') ? file : rel;
}

interface Decoders {
  decodeLine(line: string, opts: { format?: string }): unknown;
  isKnownFormat(name: string): boolean;
}

/** The decoders live in the correlator; loaded only when --format asks for them. */
async function loadDecoders(): Promise<Decoders> {
  return (await import('../../correlator/decoders/index.ts')) as Decoders;
}

async function lint(paths: string[]): Promise<number> {
  const targets = paths.length ? paths : ['rules'];
  const report = lintPaths(targets);
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
    'ignore-logsource': { type: 'boolean' },
  });
  if (positionals.length !== 1) throw new UsageError('give exactly one RULE_OR_DIR');
  if (values.format && !values.events) throw new UsageError('--format applies to --events FILE');
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
    decoders = await loadDecoders();
    if (!decoders.isKnownFormat(values.format)) throw new UsageError(`unknown format '${values.format}'`);
  }
  const runner = new EventRunner(ruleset, { ignoreLogsource: values['ignore-logsource'] ?? false });
  const lines = createInterface({ input: createReadStream(values.events, 'utf8'), crlfDelay: Infinity });
  let index = -1;
  let bad = 0;
  const print = (o: unknown) => process.stdout.write(`${JSON.stringify(o)}\n`);
  for await (const line of lines) {
    index++;
    if (!line.trim()) continue;
    let event: unknown;
    if (decoders) {
      event = decoders.decodeLine(line, { format: values.format });
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
        parseFlags(rest, {});
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
