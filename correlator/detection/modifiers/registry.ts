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
