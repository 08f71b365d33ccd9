import { AssetRegister, type Asset } from '../assets.ts';
import { FieldMapping } from '../fields/mapping.ts';
import { ListStore } from '../lists.ts';
import { parseRuleText } from '../parse/documents.ts';
import { buildRuleSet, type RuleContext } from '../ruleset.ts';

/** Test support: a rule set from YAML text (one or more documents), with an in-memory context. */
export function context(opts: { lists?: Record<string, string[]>; assets?: Asset[]; mapping?: FieldMapping } = {}): RuleContext {
  const lists = new ListStore();
  for (const [k, v] of Object.entries(opts.lists ?? {})) lists.set(k, v);
  return { mapping: opts.mapping ?? FieldMapping.defaults(), lists, assets: new AssetRegister(opts.assets ?? []) };
}

export function rulesFrom(yaml: string, ctx: RuleContext = context()) {
  const parsed = parseRuleText(yaml, 'test.yml');
  const built = buildRuleSet(parsed.rules, ctx);
  return { ruleset: built.ruleset, findings: [...parsed.findings, ...built.findings] };
}

/** A single detection rule around a `detection:` body (indented YAML), matched without log source. */
export function detection(body: string, ctx: RuleContext = context()) {
  const yaml = `title: t\nid: t\nlayer: 1\nlogsource: { category: firewall }\ndetection:\n${body.replace(/^/gm, '  ')}\n`;
  const { ruleset, findings } = rulesFrom(yaml, ctx);
  return {
    findings,
    errors: findings.filter((f) => f.severity === 'error').map((f) => f.message),
    matches: (event: unknown) => ruleset.match(event, { ignoreLogsource: true }).length > 0,
  };
}
