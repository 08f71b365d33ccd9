import { describe, expect, it } from 'vitest';
import { ruleSpeedAudit } from '../operations/audits/rule-speed.ts';
import { EvaluationBudget, type SlowRule } from './budget.ts';
import { RuleLimitsSchema } from './limits.ts';
import { parseRuleText } from './parse/documents.ts';
import { buildRuleSet } from './ruleset.ts';
import { context } from './testdata/build.ts';

const doc = (id: string, field: string) => `title: ${id}\nid: ${id}\nlayer: 1\ndetection:\n  s: { ${field}: x }\n  condition: s\n`;
const parse = (text: string) => parseRuleText(text, `${text.slice(7, 11)}.yml`).rules;

/**
 * A driven clock: reading `file.name` costs 100 ms, `file.path` nothing, so the rule reading the first
 * is slow and the other fast, without depending on the machine's speed.
 */
function harness(limits: Record<string, unknown> = {}) {
  let clock = 0;
  const disabled: SlowRule[] = [];
  const overruns: string[] = [];
  const budget = new EvaluationBudget(RuleLimitsSchema.parse(limits), {
    now: () => clock,
    onOverrun: (r) => overruns.push(r.info.id),
    onDisable: (r) => disabled.push(r),
  });
  const event = () => ({
    get file() {
      return {
        get name() {
          clock += 100;
          return 'x';
        },
        path: 'x',
      };
    },
  });
  const slow = parse(doc('slow', 'file.name'));
  const fast = parse(doc('fast', 'file.path'));
  const build = (rules = [...slow, ...fast]) => buildRuleSet(rules, context(), { budget }).ruleset;
  const ids = (rs: ReturnType<typeof build>) =>
    rs
      .match(event(), { ignoreLogsource: true })
      .map((m) => m.rule.id)
      .sort();
  return { budget, build, ids, disabled, overruns, slow, fast, advance: (ms: number) => (clock += ms) };
}

describe('evaluation budget', () => {
  it('a rule over budget on 3 events within the window is disabled and reported once; the others keep matching', () => {
    const h = harness();
    const rs = h.build();
    expect(h.ids(rs)).toEqual(['fast', 'slow']);
    expect(h.ids(rs)).toEqual(['fast', 'slow']);
    expect(h.disabled).toEqual([]);
    expect(h.ids(rs)).toEqual(['fast', 'slow']);
    expect(h.overruns).toEqual(['slow', 'slow', 'slow']);
    expect(h.disabled).toEqual([{ id: 'slow', title: 'slow', file: 'slow.yml', line: 1, overruns: 3, slowestMs: 100, disabledAt: expect.any(String) }]);
    expect(h.ids(rs)).toEqual(['fast']);
    expect(h.ids(rs)).toEqual(['fast']);
    // Not evaluated any more, so no further overruns either.
    expect(h.overruns).toHaveLength(3);
    expect(h.budget.slowRules().map((r) => r.id)).toEqual(['slow']);
    expect(h.disabled).toHaveLength(1);
  });
  it('overruns further apart than the window do not add up; a larger budget allows the same rule', () => {
    const h = harness();
    const rs = h.build();
    for (let i = 0; i < 5; i++) {
      expect(h.ids(rs)).toEqual(['fast', 'slow']);
      h.advance(61_000);
    }
    expect(h.overruns).toHaveLength(5);
    expect(h.disabled).toEqual([]);
    const roomy = harness({ evaluationBudget: '200ms' });
    const rs2 = roomy.build();
    for (let i = 0; i < 5; i++) roomy.ids(rs2);
    expect(roomy.overruns).toEqual([]);
  });
  it('stays disabled across an unrelated reload; a re-read file or a removed rule clears it', () => {
    const h = harness({ overruns: 1 });
    h.ids(h.build());
    expect(h.budget.slowRules().map((r) => r.id)).toEqual(['slow']);
    // The same parsed rule (its file unchanged) in a new rule set: still out.
    expect(h.ids(h.build())).toEqual(['fast']);
    expect(h.budget.slowRules()).toHaveLength(1);
    // The file re-read (a new parsed rule): in again, and no longer reported.
    const reread = h.build([...parse(doc('slow', 'file.name')), ...h.fast]);
    expect(h.budget.slowRules()).toEqual([]);
    expect(h.ids(reread)).toEqual(['fast', 'slow']);
    expect(h.budget.slowRules()).toHaveLength(1);
    h.build(h.fast);
    expect(h.budget.slowRules()).toEqual([]);
  });
  it('the rule-speed audit names each disabled rule, its file and how slow it was', () => {
    const h = harness({ overruns: 1 });
    h.ids(h.build());
    expect(ruleSpeedAudit(h.budget.slowRules())).toEqual([
      {
        audit: 'rule-speed',
        group: { 'rule.id': 'slow' },
        host: null,
        unit: null,
        message: expect.stringMatching(/^rule 'slow' \(slow, slow.yml:1\) disabled at .+: 1 evaluations over budget, the slowest 100 ms$/),
      },
    ]);
  });
  it('an evaluation past four budgets is abandoned between two patterns: no match, an overrun, the remaining patterns not run', () => {
    // A clock that moves 10 ms at each reading: the deadline check before each pattern reads it.
    let clock = 0;
    const overruns: [string, boolean][] = [];
    const budget = new EvaluationBudget(RuleLimitsSchema.parse({}), {
      now: () => (clock += 10),
      onOverrun: (r, _ms, abandoned) => overruns.push([r.info.id, abandoned]),
    });
    const ruleWith = (id: string, item: string, values: string[]) =>
      parseRuleText(
        `title: ${id}\nid: ${id}\nlayer: 1\ndetection:\n  s:\n    ${item}:\n${values.map((v) => `      - '${v}'`).join('\n')}\n  condition: s\n`,
        `${id}.yml`,
      ).rules;
    // 50 patterns, only the last matching; 1,280 wildcard values (20 RE2 alternations), only the last matching.
    const regexes = ruleWith('re', 'file.name|re', [...Array.from({ length: 49 }, (_, i) => `^nope${i}$`), '^x$']);
    const wildcards = ruleWith('wild', 'file.path', [...Array.from({ length: 1279 }, (_, i) => `/n${i}/*/x`), '/a/*/x']);
    const event = { file: { name: 'x', path: '/a/b/x' } };
    for (const [rule, id] of [
      [regexes, 're'],
      [wildcards, 'wild'],
    ] as const) {
      clock = 0;
      overruns.length = 0;
      expect(buildRuleSet(rule, context(), { budget }).ruleset.match(event, { ignoreLogsource: true })).toEqual([]);
      expect(overruns).toEqual([[id, true]]);
      // Abandoned at the first check past 100 ms (about ten steps), where running them all reads the clock 20 to 50 times.
      expect(clock).toBeLessThan(150);
      // Without a budget (lint, rules test) every pattern runs and the rule matches.
      expect(
        buildRuleSet(rule, context())
          .ruleset.match(event, { ignoreLogsource: true })
          .map((m) => m.rule.id),
      ).toEqual([id]);
    }
  });
});
