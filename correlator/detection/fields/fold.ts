/**
 * Lower-cases each event string once, however many rule values compare with it: the rule set clears
 * the memo before each event, so it holds one event's strings (bounded in case a caller never clears it).
 */
const MAX_ENTRIES = 4096;
const memo = new Map<string, string>();

/** Below this length lower-casing again is cheaper than the memo's hashing. */
const MEMO_FROM = 32;

export function folded(s: string): string {
  if (s.length < MEMO_FROM) return s.toLowerCase();
  const hit = memo.get(s);
  if (hit !== undefined) return hit;
  const lower = s.toLowerCase();
  if (memo.size >= MAX_ENTRIES) memo.clear();
  memo.set(s, lower);
  return lower;
}

export function forgetFolded(): void {
  if (memo.size) memo.clear();
}
