import { selectionsFor, type ConditionNode } from './grammar.ts';

export type Predicate = (event: unknown) => boolean;

const NEVER: Predicate = () => false;

/** Names the condition refers to that no selection defines (a lint error). */
export function missingSelections(node: ConditionNode, names: readonly string[]): { name: string; offset: number }[] {
  switch (node.kind) {
    case 'ref':
      return names.includes(node.name) ? [] : [{ name: node.name, offset: node.offset }];
    case 'of':
      return selectionsFor(node.pattern, names).length ? [] : [{ name: node.pattern, offset: node.offset }];
    case 'not':
      return missingSelections(node.item, names);
    default:
      return node.items.flatMap((i) => missingSelections(i, names));
  }
}

/** Turns the condition tree into one closure; selections are already compiled predicates. */
export function compileCondition(node: ConditionNode, selections: ReadonlyMap<string, Predicate>): Predicate {
  const names = [...selections.keys()];
  switch (node.kind) {
    case 'ref':
      return selections.get(node.name) ?? NEVER;
    case 'not': {
      const inner = compileCondition(node.item, selections);
      return (e) => !inner(e);
    }
    case 'and':
      return allOf(node.items.map((i) => compileCondition(i, selections)));
    case 'or':
      return anyOf(node.items.map((i) => compileCondition(i, selections)));
    case 'of': {
      const preds = selectionsFor(node.pattern, names).map((n) => selections.get(n)!);
      if (node.quantifier === 'all') return allOf(preds);
      if (node.quantifier === 1) return anyOf(preds);
      const need = node.quantifier;
      return (e) => {
        let hits = 0;
        for (const p of preds) if (p(e) && ++hits >= need) return true;
        return false;
      };
    }
  }
}

export function allOf(preds: Predicate[]): Predicate {
  if (preds.length === 1) return preds[0]!;
  if (preds.length === 2) {
    const [a, b] = preds as [Predicate, Predicate];
    return (e) => a(e) && b(e);
  }
  return (e) => {
    for (const p of preds) if (!p(e)) return false;
    return true;
  };
}

export function anyOf(preds: Predicate[]): Predicate {
  if (preds.length === 0) return NEVER;
  if (preds.length === 1) return preds[0]!;
  if (preds.length === 2) {
    const [a, b] = preds as [Predicate, Predicate];
    return (e) => a(e) || b(e);
  }
  return (e) => {
    for (const p of preds) if (p(e)) return true;
    return false;
  };
}
