/**
 * key=value scanning for FortiGate, Sophos, SonicWall and kin: a hand-written single pass, so a hostile line
 * costs linear time. Values are "quoted" (backslash escapes honoured) or run to the next separator.
 */
export type Fields = Record<string, string>;

const SPACE = 32;
const TAB = 9;
const QUOTE = 34;
const EQ = 61;
const BACKSLASH = 92;

const keys = new Map<string, string>();

/**
 * `name`, or the equal string handed out before. The key names a source writes recur on every line, and storing
 * a property under a freshly sliced name costs a look-up of that name among the engine's property names; a name
 * handed back from here, once stored, spares most of it. Short names only, a bounded number, so that a hostile
 * stream cannot grow it.
 */
export function knownKey(name: string): string {
  const known = keys.get(name);
  if (known !== undefined) return known;
  if (name.length <= 64 && keys.size < 4096) keys.set(name, name);
  return name;
}

/**
 * The key last seen per hash of its characters, taken while the name is scanned: a name found here is the
 * one knownKey would hand back, without slicing it out of the line or looking it up by its text.
 */
const KEY_SLOTS = 1024;
const keySlots: string[] = new Array<string>(KEY_SLOTS).fill('');

/**
 * Scans `key=value` pairs from `from`; with `tabOnly`, values run to the next tab (LEEF 1.0); with `comma`,
 * unquoted values also end at a comma (FortiOS "date=..,time=..").
 */
export function scanKv(s: string, from = 0, tabOnly = false, comma = false): Fields {
  const out: Fields = Object.create(null) as Fields;
  const n = s.length;
  // Most records hold no tab: one native search spares a per-value one.
  const tabs = !tabOnly && !comma && s.indexOf('\t', from) >= 0;
  let i = from;
  while (i < n) {
    let c = s.charCodeAt(i);
    while (i < n && (c === SPACE || c === TAB || c === 44) /* , */) c = s.charCodeAt(++i);
    const keyStart = i;
    let hash = 0;
    while (i < n && (c = s.charCodeAt(i)) !== EQ && c !== SPACE && c !== TAB) {
      hash = (hash * 31 + c) | 0;
      i++;
    }
    if (i >= n) break;
    if (c !== EQ || i === keyStart) {
      // A bare word: skip it.
      while (i < n && (c = s.charCodeAt(i)) !== SPACE && c !== TAB) i++;
      continue;
    }
    const slot = (hash ^ (i - keyStart)) & (KEY_SLOTS - 1);
    let key = keySlots[slot]!;
    if (key.length !== i - keyStart || !s.startsWith(key, keyStart)) {
      key = knownKey(s.slice(keyStart, i));
      if (key.length <= 64) keySlots[slot] = key;
    }
    i++;
    if (i < n && s.charCodeAt(i) === QUOTE) {
      i++;
      let value = '';
      let chunk = i;
      // Only \" is an escape: vendors write Windows paths with literal backslashes inside quotes.
      for (;;) {
        const q = s.indexOf('"', i);
        if (q < 0) {
          i = n;
          break;
        }
        if (q > chunk && s.charCodeAt(q - 1) === BACKSLASH) {
          value += s.slice(chunk, q - 1);
          chunk = q;
          i = q + 1;
          continue;
        }
        i = q;
        break;
      }
      value += s.slice(chunk, i);
      out[key] = value;
      i++;
    } else {
      const valueStart = i;
      if (tabOnly) while (i < n && s.charCodeAt(i) !== TAB) i++;
      else if (comma) while (i < n && (c = s.charCodeAt(i)) !== SPACE && c !== TAB && c !== 44) i++;
      else {
        // The next space ends the value (a native search); a tab before it ends it sooner.
        const space = s.indexOf(' ', i);
        const end = space < 0 ? n : space;
        if (tabs) while (i < end && s.charCodeAt(i) !== TAB) i++;
        else i = end;
      }
      out[key] = s.slice(valueStart, i);
    }
  }
  return out;
}

/** Splits one CSV record (RFC 4180 quoting, "" inside quotes); `maxFields` bounds the work on hostile lines. */
export function splitCsv(s: string, from = 0, maxFields = 512, separator = 44): string[] {
  // Most records quote nothing: the native split is then exact.
  if (s.indexOf('"', from) < 0) return (from ? s.slice(from) : s).split(String.fromCharCode(separator), maxFields);
  const out: string[] = [];
  const n = s.length;
  const sep = String.fromCharCode(separator);
  // The next separator at or after i (native searches), or the end of the line.
  const fieldEnd = (i: number): number => {
    if (i >= n) return i;
    const next = s.indexOf(sep, i);
    return next < 0 ? n : next;
  };
  let i = from;
  while (out.length < maxFields) {
    if (i < n && s.charCodeAt(i) === QUOTE) {
      let value = '';
      let chunk = ++i;
      for (;;) {
        const q = s.indexOf('"', i);
        if (q < 0) {
          i = n;
          break;
        }
        i = q;
        if (s.charCodeAt(i + 1) !== QUOTE) break;
        value += s.slice(chunk, i + 1);
        i += 2;
        chunk = i;
      }
      value += s.slice(chunk, i);
      i = fieldEnd(i + 1);
      out.push(value);
    } else {
      const start = i;
      i = fieldEnd(i);
      out.push(s.slice(start, i));
    }
    if (i >= n) break;
    i++;
    if (i === n) {
      out.push('');
      break;
    }
  }
  return out;
}
