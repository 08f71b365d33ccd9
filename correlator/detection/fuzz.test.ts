import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { rng, type Rng } from '../../test/support/random.ts';
import { compileCondition, missingSelections } from './condition/evaluate.ts';
import { ConditionSyntaxError, parseCondition } from './condition/grammar.ts';
import { parseRuleText } from './parse/documents.ts';
import { buildRuleSet } from './ruleset.ts';
import { context } from './testdata/build.ts';

/**
 * Fuzzing the rule language: 100k cases in all, random and mutated conditions through the grammar and
 * the walks over its tree, and mutated rule documents (SigmaHQ rules and our test rules) through the
 * whole load: YAML, schema, compile, match. Every case either loads or ends in findings with a
 * position; none throws, none takes longer than its budget.
 */
const SEED = 20;
const CONDITION_CASES = 97_000;
const RULE_CASES = 3_000;
const CONDITION_BUDGET_MS = 100;
const RULE_BUDGET_MS = 1_000;

const repo = join(import.meta.dirname, '..', '..');
const testdata = join(import.meta.dirname, 'testdata');
// The shared corpus lives beside the repository (<repo>/../shared/corpus); from a git worktree,
// CANHGAC_CORPUS names its decoder file, and the Sigma archive sits next to that.
const corpusDir = process.env.CANHGAC_CORPUS ? dirname(process.env.CANHGAC_CORPUS) : join(repo, '..', 'shared', 'corpus');
const sigmaArchive = join(corpusDir, 'sigma', 'sigma-rules.tar.gz');
const sigmaPresent = existsSync(sigmaArchive);
if (!sigmaPresent) process.stderr.write(`[fuzz] ${sigmaArchive} is absent: rule seeds come from the test data only\n`);

function yamlFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && /\.ya?ml$/.test(e.name))
    .map((e) => join(e.parentPath, e.name))
    .sort();
}

const scratch: string[] = [];
afterAll(() => {
  for (const d of scratch) rmSync(d, { recursive: true, force: true });
});

/** Rule texts to mutate: every test rule, and a seeded sample of the SigmaHQ rules when the corpus is here. */
function seedRules(r: Rng): string[] {
  const texts = yamlFiles(testdata).map((f) => readFileSync(f, 'utf8'));
  if (sigmaPresent) {
    const dir = mkdtempSync(join(tmpdir(), 'sigma-fuzz-'));
    scratch.push(dir);
    const tar = spawnSync('tar', ['-xzf', sigmaArchive, '-C', dir]);
    if (tar.status !== 0) throw new Error(`tar -xzf ${sigmaArchive}: ${String(tar.stderr)}`);
    const all = yamlFiles(dir);
    for (let i = 0; i < 400; i++) texts.push(readFileSync(r.pick(all), 'utf8'));
  }
  return texts;
}

const CONDITION_TOKENS = [
  'selection',
  'sel',
  'sel1',
  'sel_*',
  'filter',
  'filter_main_*',
  '_helper',
  'them',
  'all',
  '1',
  '2',
  '0',
  'of',
  'not',
  'and',
  'or',
  'AND',
  'Or',
  'NOT',
  '(',
  ')',
  '|',
  'count()',
  '>',
  '*',
  '?',
  'x-y.z',
];
const CONDITION_NOISE = ['(', ')', ' ', 'not ', ' and ', ' or ', '1 of ', 'all of ', ' of them', '*', '|', '\t', '\n', 'é', '\u0000', '%', '"', '-', '(('];

function randomCondition(r: Rng): string {
  const n = 1 + r.int(30);
  const out: string[] = [];
  for (let i = 0; i < n; i++) out.push(r.pick(CONDITION_TOKENS));
  return out.join(r.next() < 0.9 ? ' ' : '');
}

function mutateCondition(r: Rng, text: string): string {
  let s = text;
  for (let k = 1 + r.int(4); k > 0; k--) {
    const at = r.int(s.length + 1);
    switch (r.int(6)) {
      case 0:
        s = s.slice(0, at) + r.pick(CONDITION_NOISE) + s.slice(at);
        break;
      case 1:
        s = s.slice(0, at) + s.slice(at + 1 + r.int(6));
        break;
      case 2:
        s = s.slice(0, at) + s.slice(r.int(s.length + 1)).slice(0, 20) + s.slice(at);
        break;
      case 3: {
        // Now and then deep enough to overflow the stack of an unbounded recursive parser.
        const depth = r.next() < 0.01 ? 5000 : r.int(200);
        s = `${'('.repeat(depth)}${s}${')'.repeat(r.next() < 0.8 ? depth : r.int(depth + 1))}`;
        break;
      }
      case 4:
        s = `${'not '.repeat(r.int(120))}${s}`;
        break;
      default:
        s = s.slice(0, at);
    }
  }
  return s;
}

const YAML_NOISE = [
  '- ',
  ': ',
  '{',
  '}',
  '[',
  ']',
  '|',
  '*',
  '&a ',
  '*a',
  '!!binary ',
  '? ',
  '%YAML 1.2\n',
  '---\n',
  '"',
  "'",
  '#',
  '\t',
  '\u0000',
  '\ufeff',
  '\n  ',
  '\n    - ',
  ': [',
  ', ',
];
const MODIFIERS = [
  'contains',
  'all',
  're',
  'base64offset',
  'windash',
  'cidr',
  'expand',
  'gt',
  'exists',
  'bogus',
  'fieldref',
  'i',
  'cased',
  'utf16le',
  'base64',
  'startswith',
  'endswith',
  'neq',
  'minute',
];
const VALUES = [
  "''",
  "'*'",
  "'**?*'",
  "'\\*'",
  "'%list%'",
  '999999999999999999999',
  'null',
  '[]',
  '{}',
  "'(a+)+$'",
  "'[z-a]'",
  '-1',
  'true',
  "'10.0.0.0/33'",
  "'::/0'",
  "'é\u202e'",
  '1e309',
  '.inf',
];

function mutateRule(r: Rng, text: string, conditions: readonly string[]): string {
  let lines = text.split('\n');
  for (let k = 1 + r.int(3); k > 0; k--) {
    const i = r.int(lines.length);
    const line = lines[i] ?? '';
    switch (r.int(9)) {
      case 0:
        lines.splice(i, 1);
        break;
      case 1:
        lines.splice(i, 0, line);
        break;
      case 2:
        lines[i] = r.next() < 0.5 ? `  ${line}` : line.replace(/^ {1,2}/, '');
        break;
      case 3: {
        const at = r.int(line.length + 1);
        lines[i] = line.slice(0, at) + r.pick(YAML_NOISE) + line.slice(at);
        break;
      }
      case 4:
        lines = lines.map((l) =>
          l.replace(
            /^(\s*condition:\s*).*$/,
            (_, head: string) => `${head}${JSON.stringify(r.next() < 0.5 ? mutateCondition(r, r.pick(conditions)) : randomCondition(r))}`,
          ),
        );
        break;
      case 5:
        lines[i] = line.replace(/^(\s+[A-Za-z_.|]+)(:)/, (_, key: string, colon: string) => `${key}|${r.pick(MODIFIERS)}${colon}`);
        break;
      case 6:
        lines[i] = line.replace(/:\s+\S.*$/, `: ${r.pick(VALUES)}`).replace(/^(\s+)- .*$/, `$1- ${r.pick(VALUES)}`);
        break;
      case 7: {
        const depth = r.int(100);
        lines[i] = line.replace(/:\s+\S.*$/, `: ${'['.repeat(depth)}x${']'.repeat(depth)}`);
        break;
      }
      default:
        lines = lines.slice(0, 1 + r.int(lines.length));
    }
  }
  return lines.join('\n');
}

/**
 * Runs one case; returns what went wrong (an unexpected throw, or a budget overrun), or null. The
 * budget is on this process's CPU time, so that other work on a loaded machine does not count.
 */
function timed(budgetMs: number, run: () => void): string | null {
  const start = process.cpuUsage();
  try {
    run();
  } catch (err) {
    return `threw ${(err as Error).stack ?? String(err)}`;
  }
  const used = process.cpuUsage(start);
  const ms = (used.user + used.system) / 1000;
  return ms > budgetMs ? `took ${ms.toFixed(0)} ms of CPU (budget ${budgetMs} ms)` : null;
}

describe('rule language fuzz', () => {
  const r = rng(SEED);
  const seeds = seedRules(r);
  const conditions = seeds.flatMap((t) => [...t.matchAll(/^\s*condition:\s*(.+)$/gm)].map((m) => m[1]!.replace(/^['"]|['"]$/g, '')));
  const names = ['selection', 'sel', 'sel1', 'sel_a', 'filter', 'filter_main_x', '_helper'];
  const selections = new Map(names.map((n, i) => [n, (e: unknown) => ((e as { bits: number }).bits & (1 << i)) !== 0]));

  it(`${CONDITION_CASES} random and mutated conditions: a tree or a syntax error with an offset`, () => {
    expect(conditions.length).toBeGreaterThan(10);
    const failures: string[] = [];
    let parsed = 0;
    for (let i = 0; i < CONDITION_CASES && failures.length < 5; i++) {
      const text = i % 3 === 0 ? randomCondition(r) : mutateCondition(r, r.pick(conditions));
      const problem = timed(CONDITION_BUDGET_MS, () => {
        let tree;
        try {
          tree = parseCondition(text);
        } catch (err) {
          if (!(err instanceof ConditionSyntaxError)) throw err;
          if (!(err.offset >= 0 && err.offset <= text.length)) throw new Error(`offset ${err.offset} outside the condition`);
          return;
        }
        parsed++;
        missingSelections(tree, names);
        compileCondition(tree, selections)({ bits: i & 127 });
      });
      if (problem) failures.push(`${JSON.stringify(text.slice(0, 200))}: ${problem}`);
    }
    expect(failures).toEqual([]);
    // The mutations must leave enough valid conditions for the walks to be exercised.
    expect(parsed).toBeGreaterThan(CONDITION_CASES / 10);
  });

  it(`${RULE_CASES} mutated SigmaHQ-style rules: loaded, or findings with file, line and column`, () => {
    const ctx = context({ lists: { list: ['a', 'b'] } });
    const failures: string[] = [];
    let loaded = 0;
    let rejected = 0;
    for (let i = 0; i < RULE_CASES && failures.length < 5; i++) {
      const text = mutateRule(r, r.pick(seeds), conditions);
      const problem = timed(RULE_BUDGET_MS, () => {
        const p = parseRuleText(text, 'fuzz.yml');
        const built = buildRuleSet(p.rules, ctx);
        for (const f of [...p.findings, ...built.findings]) {
          if (f.file !== 'fuzz.yml' || !(f.line >= 1) || !(f.col >= 1) || typeof f.message !== 'string' || !f.message)
            throw new Error(`malformed finding ${JSON.stringify(f)}`);
        }
        built.ruleset.match(
          { process: { command_line: 'powershell -enc AAAA' }, file: { name: 'a.exe' }, CommandLine: 'x', Image: 'C:\\a.exe' },
          { ignoreLogsource: true },
        );
        loaded += built.ruleset.size;
        if (built.findings.some((f) => f.severity === 'error') || p.findings.some((f) => f.severity === 'error')) rejected++;
      });
      if (problem) failures.push(`case ${i}: ${problem}\n${text.slice(0, 400)}`);
    }
    expect(failures).toEqual([]);
    expect(loaded).toBeGreaterThan(RULE_CASES / 4);
    expect(rejected).toBeGreaterThan(RULE_CASES / 10);
  });
});
