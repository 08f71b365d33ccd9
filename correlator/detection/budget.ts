import { performance } from 'node:perf_hooks';
import type { CompiledDetection } from './compile/rule.ts';
import type { RuleLimits } from './limits.ts';

/** A rule the budget took out of service: it overran its time on too many events too close together. */
export interface SlowRule {
  id: string;
  title: string;
  file: string;
  line: number;
  overruns: number;
  /** The longest single evaluation seen, in milliseconds. */
  slowestMs: number;
  disabledAt: string;
}

export interface BudgetHooks {
  /** Monotonic milliseconds; performance.now() unless a test drives time. */
  now?: () => number;
  onOverrun?: (rule: CompiledDetection, ms: number) => void;
  onDisable?: (rule: SlowRule) => void;
}

interface Overruns {
  /** When the recent overruns happened (at most `overruns` kept). */
  at: number[];
  slowestMs: number;
}

/**
 * The per-event evaluation budget of single-event rules. Each evaluation is timed; one longer than
 * `evaluationBudget` is an overrun, and a rule with `overruns` of them within `overrunWindow` is
 * disabled, so that one rule cannot stall the pipeline. A disabled rule stays out until its file
 * changes (a reload that re-reads it gives it another chance); an unrelated reload keeps it out.
 * One budget lives as long as the correlator, across reloads.
 */
export class EvaluationBudget {
  private readonly now: () => number;
  private readonly recent = new Map<string, Overruns>();
  /** Disabled rules by id, with the parsed rule that was disabled (a re-read file is a new object). */
  private readonly off = new Map<string, { parsed: CompiledDetection['parsed']; slow: SlowRule }>();

  constructor(
    private readonly limits: Pick<RuleLimits, 'evaluationBudget' | 'overruns' | 'overrunWindow'>,
    private readonly hooks: BudgetHooks = {},
  ) {
    this.now = hooks.now ?? (() => performance.now());
  }

  /** Whether the rule matches the event; false without evaluating it when the rule is disabled. */
  evaluate(rule: CompiledDetection, event: unknown): boolean {
    if (this.off.size > 0 && this.off.get(rule.info.id)?.parsed === rule.parsed) return false;
    const start = this.now();
    const hit = rule.predicate(event);
    const ms = this.now() - start;
    if (ms > this.limits.evaluationBudget) this.overrun(rule, ms, start);
    return hit;
  }

  private overrun(rule: CompiledDetection, ms: number, at: number): void {
    this.hooks.onOverrun?.(rule, ms);
    const id = rule.info.id;
    const r = this.recent.get(id) ?? { at: [], slowestMs: 0 };
    r.at = [...r.at.filter((t) => at - t <= this.limits.overrunWindow), at].slice(-this.limits.overruns);
    r.slowestMs = Math.max(r.slowestMs, ms);
    this.recent.set(id, r);
    if (r.at.length < this.limits.overruns) return;
    this.recent.delete(id);
    const slow: SlowRule = {
      id,
      title: rule.info.title,
      file: rule.info.file,
      line: rule.info.line,
      overruns: r.at.length,
      slowestMs: Math.round(r.slowestMs),
      disabledAt: new Date().toISOString(),
    };
    this.off.set(id, { parsed: rule.parsed, slow });
    this.hooks.onDisable?.(slow);
  }

  /** Forgets what no longer applies to the rules in force: rules removed, or re-read from a changed file. */
  retain(detections: ReadonlyMap<string, CompiledDetection>): void {
    for (const [id, o] of this.off) if (detections.get(id)?.parsed !== o.parsed) this.off.delete(id);
    for (const id of this.recent.keys()) if (!detections.has(id)) this.recent.delete(id);
  }

  /** The rules disabled now. */
  slowRules(): SlowRule[] {
    return [...this.off.values()].map((o) => o.slow);
  }
}
