export type FieldReader = (event: unknown) => unknown;

/**
 * Reads one dotted path from nested objects whose keys may themselves hold dots ("source.ip" flat at the
 * top, "hash.sha256" under "file"), as shared/event.ts getField does, with the key strings built once.
 */
function pathReader(path: string): FieldReader {
  const parts = path.split('.');
  const n = parts.length;
  if (n === 1) {
    return (e) => (e !== null && typeof e === 'object' ? (e as Record<string, unknown>)[path] : undefined);
  }
  // keys[i][j]: parts i..j joined, the key that spans those segments.
  const keys = parts.map((_, i) => parts.map((__, j) => (j >= i ? parts.slice(i, j + 1).join('.') : '')));
  const walk = (cur: unknown, i: number): unknown => {
    if (cur === null || typeof cur !== 'object') return undefined;
    const obj = cur as Record<string, unknown>;
    for (let j = i; j < n; j++) {
      const v = obj[keys[i]![j]!];
      if (v === undefined) continue;
      if (j === n - 1) return v;
      const found = walk(v, j + 1);
      if (found !== undefined) return found;
    }
    return undefined;
  };
  return (e) => walk(e, 0);
}

/**
 * A rule's field reads the mapped ECS name and, failing that, the name as the rule wrote it, so that
 * normalized events and flat objects with the rule's own field names both work.
 */
export function fieldReader(ecs: string, original: string): FieldReader {
  const primary = pathReader(ecs);
  if (ecs === original) return primary;
  const fallback = pathReader(original);
  return (e) => {
    const v = primary(e);
    return v === undefined ? fallback(e) : v;
  };
}
