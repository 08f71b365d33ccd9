/**
 * Every value modifier of the Sigma specification (modifiers appendix v2.1), by role:
 * - transform: rewrites the rule's values before matching (applied left to right);
 * - match: decides how a value is compared with the event (at most one, besides the string positions);
 * - position: where a string value sits in the field (contains, startswith, endswith);
 * - flag: changes how values combine or compare (all, cased, neq) or the regex flags (i, m, s after re);
 * - time: extracts a number from a date field (minute ... year) before a numeric comparison.
 */
export type ModifierRole = 'transform' | 'match' | 'position' | 'flag' | 'regex-flag' | 'time';

export const MODIFIERS: Readonly<Record<string, ModifierRole>> = {
  contains: 'position',
  startswith: 'position',
  endswith: 'position',
  all: 'flag',
  cased: 'flag',
  neq: 'flag',
  base64: 'transform',
  base64offset: 'transform',
  utf16: 'transform',
  utf16le: 'transform',
  utf16be: 'transform',
  wide: 'transform',
  windash: 'transform',
  expand: 'transform',
  re: 'match',
  i: 'regex-flag',
  m: 'regex-flag',
  s: 'regex-flag',
  cidr: 'match',
  exists: 'match',
  fieldref: 'match',
  gt: 'match',
  gte: 'match',
  lt: 'match',
  lte: 'match',
  minute: 'time',
  hour: 'time',
  day: 'time',
  week: 'time',
  month: 'time',
  year: 'time',
};

/** How an item's values are compared with the event: one match modifier, or strings when none is given. */
export type MatchKind = 'strings' | 'cidr' | 're' | 'exists' | 'fieldref' | 'compare';

/**
 * Which other roles each match kind takes (pySigma's modifier compatibility, as one table): string
 * positions only where a string is compared, regex flags only with `re`, time parts only with a comparison.
 */
const COMBINES: Readonly<Record<MatchKind, ReadonlySet<ModifierRole>>> = {
  strings: new Set(['transform', 'position', 'flag']),
  cidr: new Set(['transform', 'flag']),
  re: new Set(['transform', 'flag', 'regex-flag']),
  exists: new Set(['transform', 'flag']),
  fieldref: new Set(['transform', 'position', 'flag']),
  compare: new Set(['transform', 'flag', 'time']),
};

/** The modifiers of one item, sorted by role. */
export interface ModifierSet {
  match: MatchKind;
  /** gt/gte/lt/lte, or eq for a time part alone. */
  comparison: 'gt' | 'gte' | 'lt' | 'lte' | 'eq';
  position: 'contains' | 'startswith' | 'endswith' | null;
  /** In the order written: they apply left to right. */
  transforms: string[];
  time: 'minute' | 'hour' | 'day' | 'week' | 'month' | 'year' | null;
  all: boolean;
  cased: boolean;
  neq: boolean;
  regexFlags: { i: boolean; m: boolean; s: boolean };
}

/** Sorts an item's modifiers by role and checks them against the table; null (after `error`) when they cannot go together. */
export function resolveModifiers(mods: readonly string[], error: (message: string) => void): ModifierSet | null {
  for (const m of mods) {
    if (!(m in MODIFIERS)) {
      error(`unknown modifier '${m}'`);
      return null;
    }
  }
  const byRole = (r: ModifierRole) => mods.filter((m) => MODIFIERS[m] === r);
  const matches = byRole('match').filter((m) => m !== 'fieldref');
  const positions = byRole('position');
  const times = byRole('time');
  const flags = byRole('regex-flag');
  for (const list of [matches, positions, times]) {
    if (list.length > 1) {
      error(`modifiers ${list.join(', ')} cannot be combined`);
      return null;
    }
  }
  const first = matches[0];
  let match: MatchKind;
  if (first === 'gt' || first === 'gte' || first === 'lt' || first === 'lte' || times.length) match = 'compare';
  else if (first === 're' || first === 'cidr' || first === 'exists') match = first;
  else if (mods.includes('fieldref')) match = 'fieldref';
  else match = 'strings';
  if (first && mods.includes('fieldref')) {
    error(`modifiers fieldref, ${first} cannot be combined`);
    return null;
  }
  if (flags.length && match !== 're') {
    error(`modifier '${flags[0]}' is a flag of 're' and needs it`);
    return null;
  }
  const allowed = COMBINES[match];
  const stray = mods.find((m) => MODIFIERS[m] !== 'match' && !allowed.has(MODIFIERS[m]!));
  if (stray) {
    error(`modifier '${stray}' cannot be combined with '${first ?? match}'`);
    return null;
  }
  return {
    match,
    comparison: first === 'gt' || first === 'gte' || first === 'lt' || first === 'lte' ? first : 'eq',
    position: (positions[0] as ModifierSet['position']) ?? null,
    transforms: byRole('transform'),
    time: (times[0] as ModifierSet['time']) ?? null,
    all: mods.includes('all'),
    cased: mods.includes('cased'),
    neq: mods.includes('neq'),
    regexFlags: { i: flags.includes('i'), m: flags.includes('m'), s: flags.includes('s') },
  };
}
