import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../shared/config.ts';
import { CorrelatorConfigSchema } from '../config.ts';
import { MAX_CONDITION_DEPTH } from './condition/grammar.ts';
import { costFinding, estimateCost } from './cost.ts';
import { DEFAULT_RULE_LIMITS, MAX_YAML_DEPTH, RuleLimitsSchema } from './limits.ts';
import { lintPaths } from './lint.ts';
import { parseRuleText, type ParsedDetection } from './parse/documents.ts';
import { context, rulesFrom } from './testdata/build.ts';

const HEAD = 'title: t\nid: t\nlayer: 1\nlogsource: { category: firewall }\n';
const rule = (detection: string) => `${HEAD}detection:\n${detection.replace(/^/gm, '  ')}\n`;

function file(name: string, text: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'limits-'));
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

const parsedDetection = (text: string) => parseRuleText(text, 't.yml').rules[0] as ParsedDetection;

describe('recursion limits', () => {
  it('a 3,000-deep condition is a lint error at its line and column, not a stack overflow', () => {
    const condition = `${'('.repeat(3000)}sel${')'.repeat(3000)}`;
    const path = file('deep.yml', rule(`sel: { destination.port: 22 }\ncondition: ${condition}`));
    const report = lintPaths([path], { context: context() });
    expect(report.rules).toBe(0);
    expect(report.findings).toEqual([
      // The condition value starts at column 14 of line 7; the parenthesis one past the limit is the finding.
      {
        file: path,
        line: 7,
        col: 14 + MAX_CONDITION_DEPTH,
        severity: 'error',
        message: `condition: nested deeper than ${MAX_CONDITION_DEPTH} levels (parentheses and 'not')`,
      },
    ]);
  });
  it("a long chain of 'not' is bounded the same way; nesting up to the limit still works", () => {
    const nots = rulesFrom(rule(`sel: { file.name: 1 }\ncondition: ${'not '.repeat(5000)}sel`));
    expect(nots.findings.map((f) => f.message)).toEqual([`condition: nested deeper than ${MAX_CONDITION_DEPTH} levels (parentheses and 'not')`]);
    const atLimit = rulesFrom(
      rule(`sel: { file.name: 1 }\ncondition: ${'('.repeat(MAX_CONDITION_DEPTH - 2)}not not sel${')'.repeat(MAX_CONDITION_DEPTH - 2)}`),
    );
    expect(atLimit.findings).toEqual([]);
    expect(atLimit.ruleset.match({ file: { name: 1 } }, { ignoreLogsource: true }).map((m) => m.rule.id)).toEqual(['t']);
  });
  it('maps and lists nested past the limit are an error where the nesting goes too deep', () => {
    const depth = MAX_YAML_DEPTH + 5;
    const nested = `${'{a: '.repeat(depth)}1${'}'.repeat(depth)}`;
    const r = parseRuleText(`${HEAD}tests:\n  match: [${nested}]\ndetection:\n  sel: { file.name: 1 }\n  condition: sel\n`, 't.yml');
    expect(r.rules).toEqual([]);
    // Document, tests and match are three levels; the map one past the limit opens at its column.
    expect(r.findings).toEqual([
      { file: 't.yml', line: 6, col: 11 + 4 * (MAX_YAML_DEPTH - 3), severity: 'error', message: `maps and lists nested deeper than ${MAX_YAML_DEPTH} levels` },
    ]);
  });
  it('a map or a list as a key is an error at the key', () => {
    const r = parseRuleText(`${HEAD}detection:\n  ? [a, b]\n  : 1\n  condition: sel\n`, 't.yml');
    expect(r.rules).toEqual([]);
    expect(r.findings).toEqual([{ file: 't.yml', line: 6, col: 5, severity: 'error', message: 'a key must be a plain value, not a map or a list' }]);
  });
  it('nesting too deep for the YAML parser itself is named as such', () => {
    const r = parseRuleText(`${HEAD}detection:\n  sel: ${'['.repeat(20_000)}${']'.repeat(20_000)}\n  condition: sel\n`, 't.yml');
    expect(r.rules).toEqual([]);
    expect(r.findings.map((f) => [f.line, f.severity, f.message])).toEqual([
      [6, 'error', `maps and lists nested too deeply to parse (the limit is ${MAX_YAML_DEPTH} levels)`],
    ]);
  });
});

describe('rule file size', () => {
  it('a file above maxFileBytes is refused before parsing, naming the limit; the others load', () => {
    const big = file('big.yml', `${rule('sel: { file.name: 1 }\ncondition: sel')}# ${'x'.repeat(3000)}\n`);
    const limits = RuleLimitsSchema.parse({ maxFileBytes: 2048 });
    const report = lintPaths([big], { context: context(), limits });
    expect(report.findings).toEqual([
      {
        file: big,
        line: 1,
        col: 1,
        severity: 'error',
        message: expect.stringMatching(/larger than the rule file limit of 2048 bytes \(correlator.ruleLimits.maxFileBytes\)/),
      },
    ]);
    expect(lintPaths([big], { context: context() }).findings).toEqual([]);
  });
  it('the limits parse from config with defaults, and costError may not be below costWarning', () => {
    expect(DEFAULT_RULE_LIMITS).toEqual({
      maxFileBytes: 4 * 1024 * 1024,
      maxListBytes: 64 * 1024 * 1024,
      maxListEntries: 1_000_000,
      maxAssets: 100_000,
      maxFieldEntries: 10_000,
      costWarning: 10_000,
      costError: 1_000_000,
      evaluationBudget: 25,
      overruns: 3,
      overrunWindow: 60_000,
    });
    expect(RuleLimitsSchema.parse({ evaluationBudget: '100ms', overrunWindow: '5m' })).toMatchObject({ evaluationBudget: 100, overrunWindow: 300_000 });
    expect(RuleLimitsSchema.safeParse({ costWarning: 10, costError: 5 }).success).toBe(false);
    expect(RuleLimitsSchema.safeParse({ bogus: 1 }).success).toBe(false);
  });
  it('correlator.example.yml lists the defaults as they are', () => {
    const cfg = loadConfig(join(import.meta.dirname, '..', 'correlator.example.yml'), CorrelatorConfigSchema, {});
    expect(cfg.correlator.ruleLimits).toEqual(DEFAULT_RULE_LIMITS);
  });
});

describe('rule cost', () => {
  const values = (n: number, prefix = 'v') => Array.from({ length: n }, (_, i) => `    - ${prefix}${i}xyz`).join('\n');

  it('counts inline values, wildcards (explicit and implied by contains/startswith/endswith) and regex characters', () => {
    const c = estimateCost(
      parsedDetection(
        rule(`sel:\n  a: [x, 'y*z?', 3]\n  b|contains: [p, q]\n  c|re: 'ab+c'\n  d|expand: '%big%'\n  e|base64offset|contains: r\ncondition: sel`),
      ),
    );
    // values: a 3, b 2, c 1, e 3 (three alignments); wildcards: a 2, b 4, e 6; regex: 4; the list lookup 1.
    expect(c).toMatchObject({ values: 9, wildcards: 12, regexChars: 4, references: 1, total: 26 });
  });
  it('a selection costs that much each time the condition refers to it', () => {
    const sels = 'a: { f: [x, y] }\nb: { g: z }\n';
    expect(estimateCost(parsedDetection(rule(`${sels}condition: a and not b`)))).toMatchObject({ total: 3, references: 2 });
    expect(estimateCost(parsedDetection(rule(`${sels}condition: (a or b) and (a or 1 of b*)`)))).toMatchObject({ total: 6, references: 4 });
    expect(estimateCost(parsedDetection(rule(`${sels}condition: ['a', 'all of them']`)))).toMatchObject({ total: 5, references: 3 });
    // Repetition in the condition is a cost of its own, reported at the condition.
    const repeated = parsedDetection(rule(`${sels}condition: ${Array.from({ length: 12_000 }, () => 'b').join(' or ')}`));
    expect(costFinding(repeated, DEFAULT_RULE_LIMITS)).toMatchObject({
      line: 8,
      col: 3,
      severity: 'warning',
      message: expect.stringMatching(
        /^estimated matching cost 12000 per event \(3 inline values, 0 wildcards, 0 regex characters, 12000 selection references\)/,
      ),
    });
  });
  it('a 100k-value inline contains list is a lint warning at the list, and the rule still loads', () => {
    const path = file('wide.yml', rule(`sel:\n  file.path|contains:\n${values(100_000)}\ncondition: sel`));
    const report = lintPaths([path], { context: context() });
    expect(report.rules).toBe(1);
    expect(report.findings).toEqual([
      {
        file: path,
        line: 7,
        col: 5,
        severity: 'warning',
        message: expect.stringMatching(
          /^estimated matching cost 300000 per event \(100000 inline values, 200000 wildcards, 0 regex characters, 1 selection references\) is above 10000 \(correlator.ruleLimits.costWarning\)/,
        ),
      },
    ]);
  });
  it('above costError the rule is an error and left out; the others keep loading', () => {
    const text = `${rule(`sel:\n  file.name:\n${values(50)}\ncondition: sel`)}---\n${rule('sel: { file.name: v1xyz }\ncondition: sel').replace('id: t', 'id: small')}`;
    expect(rulesFrom(text, context()).findings).toEqual([]);
    const limited = RuleLimitsSchema.parse({ costWarning: 10, costError: 40 });
    const report = lintPaths([file('two.yml', text)], { context: context(), limits: limited });
    expect(report.rules).toBe(1);
    expect(report.findings.map((f) => [f.line, f.severity, f.message.replace(/ \(.*$/, '')])).toEqual([[7, 'error', 'estimated matching cost 50 per event']]);
  });
  it('no bundled rule and no public Sigma test rule comes near the warning threshold', () => {
    for (const dir of ['rules', 'correlator/detection/testdata/sigma']) {
      const report = lintPaths([dir]);
      expect(
        report.findings.filter((f) => /matching cost/.test(f.message)),
        dir,
      ).toEqual([]);
    }
  });
});
