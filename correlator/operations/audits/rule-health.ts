import type { Finding } from '../../../shared/yaml-source.ts';
import type { AuditFinding } from './findings.ts';

/**
 * Rule health: every rule file the last load or hot reload found broken (it keeps its previous good
 * version, or is not in force at all) is a finding until it is fixed. Warnings are left to `rules lint`.
 */
export function ruleHealthAudit(findings: readonly Finding[], display: (file: string) => string = (f) => f): AuditFinding[] {
  const byFile = new Map<string, Finding[]>();
  for (const f of findings) {
    if (f.severity !== 'error') continue;
    const list = byFile.get(f.file) ?? [];
    list.push(f);
    byFile.set(f.file, list);
  }
  return [...byFile.entries()]
    .sort((a, b) => (a[0] < b[0] ? -1 : 1))
    .map(([file, errs]) => ({
      audit: 'rule-health' as const,
      group: { 'rule.file': display(file) },
      host: null,
      unit: null,
      message: `${display(file)}: ${errs.length} error(s); first at line ${errs[0]!.line}, column ${errs[0]!.col}: ${errs[0]!.message}`,
    }));
}
