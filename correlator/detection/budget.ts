import { performance } from 'node:perf_hooks';
import { EvaluationAbandoned, underDeadline } from './compile/deadline.ts';
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
  /** `abandoned`: the evaluation was stopped at ABANDON_AFTER budgets and counted as no match. */
  onOverrun?: (rule: CompiledDetection, ms: number, abandoned: boolean) => void;
  onDisable?: (rule: SlowRule) => void;
}

interface Overruns {
  /** When the recent overruns happened (at most `overruns` kept). */
  at: number[];
  slowestMs: number;
}

/**
 * An evaluation still running after this many budgets (100 ms by default) is abandoned: the rule is
 * taken as not matching that event. One synchronous evaluation holds up every other event and, in
 * `canhgac start`, the console; a cold rule of hundreds of regular expressions took over a second per
 * event before V8 had compiled its matcher, and the budget only disables a rule after its third overrun.
 * Four budgets leave a rule that is merely over budget its answer.
 */
export const ABANDON_AFTER = 4;

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

  /**
   * Whether the rule matches the event; false without evaluating it when the rule is disabled, and
   * false when the evaluation is abandoned (an overrun).
   */
  evaluate(rule: CompiledDetection, event: unknown): boolean {
    if (this.off.size > 0 && this.off.get(rule.info.id)?.parsed === rule.parsed) return false;
    const start = this.now();
    let hit = false;
    let abandoned = false;
    try {
      hit = underDeadline(start + ABANDON_AFTER * this.limits.evaluationBudget, this.now, rule.predicate, event);
    } catch (err) {
      if (!(err instanceof EvaluationAbandoned)) throw err;
      abandoned = true;
    }
    const ms = this.now() - start;
    if (ms > this.limits.evaluationBudget || abandoned) this.overrun(rule, ms, start, abandoned);
    return hit;
  }

  private overrun(rule: CompiledDetection, ms: number, at: number, abandoned: boolean): void {
    this.hooks.onOverrun?.(rule, ms, abandoned);
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
