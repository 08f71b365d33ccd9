import { getField } from '../../../shared/event.ts';

export type FieldReader = (event: unknown) => unknown;

/** Reads one dotted path: the flat key first, then the nested walk; getField handles dotted keys at any depth. */
function pathReader(path: string): FieldReader {
  const parts = path.split('.');
  if (parts.length === 1) {
    return (e) => (e !== null && typeof e === 'object' ? (e as Record<string, unknown>)[path] : undefined);
  }
  return (e) => {
    if (e === null || typeof e !== 'object') return undefined;
    const flat = (e as Record<string, unknown>)[path];
    if (flat !== undefined) return flat;
    let cur: unknown = e;
    for (const p of parts) {
      if (cur === null || typeof cur !== 'object') return getField(e, path);
      cur = (cur as Record<string, unknown>)[p];
    }
    return cur === undefined ? getField(e, path) : cur;
  };
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
