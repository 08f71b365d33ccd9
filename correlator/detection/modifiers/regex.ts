import { RE2JS } from 're2js';

/**
 * `re` with its flags i, m, s, on re2js: linear time whatever the pattern, so no rule can hang the
 * correlator. A pattern re2js cannot compile (backreferences, lookaround) is returned as an error message.
 */
export function compileRegex(pattern: string, flags: { i: boolean; m: boolean; s: boolean }): ((s: string) => boolean) | string {
  let bits = 0;
  if (flags.i) bits |= RE2JS.CASE_INSENSITIVE;
  if (flags.m) bits |= RE2JS.MULTILINE;
  if (flags.s) bits |= RE2JS.DOTALL;
  try {
    const re = RE2JS.compile(pattern, bits);
    return (s) => re.test(s);
  } catch (err) {
    return `regular expression '${pattern}' cannot run on the linear-time engine: ${(err as Error).message}`;
  }
}
