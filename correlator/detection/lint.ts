import { formatFinding, type Finding } from '../../shared/yaml-source.ts';
import { loadRuleSet, ruleFiles, type LoadOptions } from './ruleset.ts';

export interface LintReport {
  files: number;
  rules: number;
  findings: Finding[];
  errors: number;
  warnings: number;
}

/**
 * Lints rule files and folders: every finding the loader reports (invalid YAML, schema, unknown modifier,
 * missing selection, bad correlation, duplicate id, regex the linear-time engine cannot run, unknown
 * field with a did-you-mean, missing layer, placeholder without a list), with file:line:col.
 */
export function lintPaths(paths: readonly string[], opts: LoadOptions = {}): LintReport {
  const { files } = ruleFiles(paths);
  const { ruleset, findings } = loadRuleSet(paths, opts);
  const errors = findings.filter((f) => f.severity === 'error').length;
  return { files: files.length, rules: ruleset.size, findings, errors, warnings: findings.length - errors };
}

export function formatReport(r: LintReport, display: (file: string) => string = (f) => f): string[] {
  const lines = r.findings.map((f) => formatFinding({ ...f, file: display(f.file) }));
  const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;
  lines.push(`${plural(r.files, 'file')}, ${plural(r.rules, 'rule')} loaded: ${plural(r.errors, 'error')}, ${plural(r.warnings, 'warning')}`);
  return lines;
}
