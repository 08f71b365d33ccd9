/** gt, gte, lt, lte (and neq on numbers): numeric comparisons; a field that is not a number never matches. */
export type Comparison = 'gt' | 'gte' | 'lt' | 'lte' | 'eq' | 'neq';

export function toNumber(v: unknown): number | null {
  if (typeof v === 'number') return Number.isFinite(v) ? v : null;
  if (typeof v === 'string' && v.trim() !== '') {
    const n = Number(v);
    return Number.isFinite(n) ? n : null;
  }
  return null;
}

export function compareNumbers(op: Comparison, got: number, want: number): boolean {
  switch (op) {
    case 'gt':
      return got > want;
    case 'gte':
      return got >= want;
    case 'lt':
      return got < want;
    case 'lte':
      return got <= want;
    case 'eq':
      return got === want;
    case 'neq':
      return got !== want;
  }
}
