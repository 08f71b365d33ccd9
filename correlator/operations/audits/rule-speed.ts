import type { SlowRule } from '../../detection/budget.ts';
import type { AuditFinding } from './findings.ts';

/**
 * Rule speed: every rule the evaluation budget disabled (it overran its time per event repeatedly) is a
 * finding until its file changes and the new version loads.
 */
export function ruleSpeedAudit(slow: readonly SlowRule[], display: (file: string) => string = (f) => f): AuditFinding[] {
  return [...slow]
    .sort((a, b) => (a.id < b.id ? -1 : 1))
    .map((r) => ({
      audit: 'rule-speed' as const,
      group: { 'rule.id': r.id },
      host: null,
      unit: null,
      message: `rule '${r.title}' (${r.id}, ${display(r.file)}:${r.line}) disabled at ${r.disabledAt}: ${r.overruns} evaluations over budget, the slowest ${r.slowestMs} ms`,
    }));
}
