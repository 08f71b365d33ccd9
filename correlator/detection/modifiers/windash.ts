/** The characters Windows accepts where a command line has a dash. */
const DASHES = ['-', '/', '\u2013', '\u2014', '\u2015'];
const ANY_DASH = /[-/\u2013\u2014\u2015]/g;

/** Above this many dashes the permutations would explode; lint reports it rather than compiling millions of values. */
const WINDASH_MAX_DASHES = 5;

/**
 * windash as a comparison: every dash character of the value stands for any of them (the specification's
 * permutations of every dash), so both the value and the event text map each dash to '-' and compare.
 */
export function undash(s: string): string {
  return s.replace(ANY_DASH, '-');
}

/** The permutations themselves, for a value that is encoded afterwards (base64, utf16), where no text is left to map. */
export function windash(value: string): string[] {
  const spots: number[] = [];
  for (let i = 0; i < value.length; i++) if (DASHES.includes(value[i]!)) spots.push(i);
  if (spots.length > WINDASH_MAX_DASHES) throw new Error(`windash before an encoding: ${spots.length} dashes in one value, at most ${WINDASH_MAX_DASHES}`);
  let variants = [value];
  for (const at of spots) variants = variants.flatMap((v) => DASHES.map((d) => v.slice(0, at) + d + v.slice(at + 1)));
  return [...new Set(variants)];
}
