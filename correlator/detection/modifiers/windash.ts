/** The characters Windows accepts in front of a command-line flag. */
const DASHES = ['-', '/', '\u2013', '\u2014', '\u2015'];

/** Above this many flags the permutations would explode; lint reports it rather than compiling millions of values. */
export const WINDASH_MAX_FLAGS = 5;

/**
 * windash: every permutation of the dash characters at the places where a flag starts (a dash or slash at
 * the beginning of the value or after whitespace).
 */
export function windash(value: string): string[] {
  const spots: number[] = [];
  for (let i = 0; i < value.length; i++) {
    if (DASHES.includes(value[i]!) && (i === 0 || /\s/.test(value[i - 1]!))) spots.push(i);
  }
  if (spots.length > WINDASH_MAX_FLAGS) throw new Error(`windash: ${spots.length} flags in one value, at most ${WINDASH_MAX_FLAGS}`);
  let variants = [value];
  for (const at of spots) {
    variants = variants.flatMap((v) => DASHES.map((d) => v.slice(0, at) + d + v.slice(at + 1)));
  }
  return [...new Set(variants)];
}
