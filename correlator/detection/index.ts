/**
 * The rule engine's public API: load rules (Sigma detection + correlation, canhgac fields), match events,
 * run correlations on event time, hot-reload a rules folder, look up assets and lists.
 */
export { loadRuleSet, buildRuleSet, loadContext, findContextDir, ruleFiles, RuleSet, type RuleContext, type LoadOptions } from './ruleset.ts';
export { CorrelationEngine, type CorrelationHit, type EngineOptions, type EngineStats, type EventRef } from './correlation/engine.ts';
export type { CorrelationDef } from './correlation/definition.ts';
export { watchRules, type ReloadEvent, type RulesWatcher } from './watch.ts';
export { AssetRegister, type Asset } from './assets.ts';
export { ListStore } from './lists.ts';
export { FieldMapping } from './fields/mapping.ts';
export { lintPaths, formatReport, type LintReport } from './lint.ts';
export { EventRunner, checkRuleTests, eventTime, type TestOutput } from './rule-tests.ts';
export type { RuleInfo, RuleMatch, ResponseSpec, Logsource } from './model.ts';
