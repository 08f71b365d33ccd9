/**
 * The deadline of the rule evaluation running now (detection/budget.ts sets it). A predicate is one
 * synchronous call, so nothing can interrupt it from outside: its costly loops (each `re` pattern, each
 * RE2 alternation of wildcard values) check the deadline between steps and give up past it. Outside
 * a budgeted evaluation (lint, `rules test`) there is no deadline and the check costs one comparison.
 */

/** Thrown out of a predicate whose evaluation ran past its deadline; the budget catches it. */
export class EvaluationAbandoned extends Error {
  constructor() {
    super('rule evaluation abandoned past its deadline');
  }
}

let deadline = Infinity;
let clock: () => number = () => 0;

/** Runs `evaluate(arg)` with a deadline on `now`'s clock (milliseconds), restoring the outer one after. */
export function underDeadline<A, T>(at: number, now: () => number, evaluate: (arg: A) => T, arg: A): T {
  const outer = deadline;
  const outerClock = clock;
  deadline = at;
  clock = now;
  try {
    return evaluate(arg);
  } finally {
    deadline = outer;
    clock = outerClock;
  }
}

/** Between the costly steps of a predicate: throws EvaluationAbandoned once the deadline has passed. */
export function checkDeadline(): void {
  if (deadline !== Infinity && clock() > deadline) throw new EvaluationAbandoned();
}
