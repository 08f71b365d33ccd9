/** A correlation condition: one bound (gt, gte, lt, lte, eq, neq) or a range (gt/gte with lt/lte). */
export interface Threshold {
  gt?: number;
  gte?: number;
  lt?: number;
  lte?: number;
  eq?: number;
  neq?: number;
}

export function parseThreshold(c: Threshold & { field?: string }): Threshold | string {
  const t: Threshold = {};
  for (const k of ['gt', 'gte', 'lt', 'lte', 'eq', 'neq'] as const) if (c[k] !== undefined) t[k] = c[k];
  const keys = Object.keys(t);
  if (keys.length === 0) return 'the condition needs one of gt, gte, lt, lte, eq, neq';
  if (t.eq !== undefined && keys.length > 1) return "'eq' cannot be combined with other bounds";
  if (t.gt !== undefined && t.gte !== undefined) return "use 'gt' or 'gte', not both";
  if (t.lt !== undefined && t.lte !== undefined) return "use 'lt' or 'lte', not both";
  const low = t.gt ?? t.gte;
  const high = t.lt ?? t.lte;
  if (low !== undefined && high !== undefined && (low > high || (low === high && (t.gt !== undefined || t.lt !== undefined)))) {
    return `the range ${JSON.stringify(t)} is empty`;
  }
  return t;
}

export function satisfies(t: Threshold, v: number): boolean {
  if (t.gt !== undefined && !(v > t.gt)) return false;
  if (t.gte !== undefined && !(v >= t.gte)) return false;
  if (t.lt !== undefined && !(v < t.lt)) return false;
  if (t.lte !== undefined && !(v <= t.lte)) return false;
  if (t.eq !== undefined && v !== t.eq) return false;
  if (t.neq !== undefined && v === t.neq) return false;
  return true;
}

/**
 * Only lower bounds: a window that meets it may be reported as soon as its last event arrives. With an
 * upper bound (lt, lte, eq, neq) the answer is known only once the whole window has passed.
 */
export function isLowerBoundOnly(t: Threshold): boolean {
  return t.lt === undefined && t.lte === undefined && t.eq === undefined && t.neq === undefined;
}
