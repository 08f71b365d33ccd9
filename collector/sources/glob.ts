import { readdirSync, statSync } from 'node:fs';
import { isAbsolute, join, resolve, sep } from 'node:path';

/**
 * File globs for tail sources: `*` and `?` inside one path segment, `**` for any number of
 * directories. Patterns are turned into anchored regular expressions with every other character
 * escaped, so a path can never be read as regex syntax.
 */
function segmentRegex(segment: string): RegExp {
  let re = '';
  for (const ch of segment) {
    if (ch === '*') re += '[^/]*';
    else if (ch === '?') re += '[^/]';
    else re += ch.replace(/[\\^$.|+()[\]{}]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

function hasWildcard(s: string): boolean {
  return s.includes('*') || s.includes('?');
}

/** Files (not directories) matching `pattern`, absolute paths, sorted. Unreadable directories are skipped. */
export function expandGlob(pattern: string, cwd = process.cwd()): string[] {
  const abs = isAbsolute(pattern) ? pattern : resolve(cwd, pattern);
  const segments = abs.split(sep).filter((s, i) => s !== '' || i === 0);
  let base = segments[0] === '' ? sep : segments[0]!;
  let i = 1;
  while (i < segments.length - 1 && !hasWildcard(segments[i]!)) base = join(base, segments[i++]!);
  const out = new Set<string>();
  walk(base, segments.slice(i), out);
  return [...out].sort();
}

function walk(dir: string, rest: string[], out: Set<string>): void {
  const [seg, ...tail] = rest;
  if (seg === undefined) return;
  if (seg === '**') {
    walk(dir, tail, out);
    for (const sub of listDirs(dir)) walk(join(dir, sub), rest, out);
    return;
  }
  if (!hasWildcard(seg)) {
    const p = join(dir, seg);
    if (tail.length === 0) {
      if (isFile(p)) out.add(p);
    } else walk(p, tail, out);
    return;
  }
  const re = segmentRegex(seg);
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return;
  }
  for (const name of names) {
    if (!re.test(name)) continue;
    const p = join(dir, name);
    if (tail.length === 0) {
      if (isFile(p)) out.add(p);
    } else walk(p, tail, out);
  }
}

function listDirs(dir: string): string[] {
  try {
    return readdirSync(dir, { withFileTypes: true })
      .filter((d) => d.isDirectory())
      .map((d) => d.name);
  } catch {
    return [];
  }
}

function isFile(p: string): boolean {
  try {
    return statSync(p).isFile();
  } catch {
    return false;
  }
}

/** Whether `path` matches `pattern` (for `exclude`). */
export function globMatches(pattern: string, path: string, cwd = process.cwd()): boolean {
  const abs = isAbsolute(pattern) ? pattern : resolve(cwd, pattern);
  const parts = abs.split(sep);
  const target = path.split(sep);
  return matchParts(parts, 0, target, 0);
}

function matchParts(p: string[], i: number, t: string[], j: number): boolean {
  if (i === p.length) return j === t.length;
  if (p[i] === '**') {
    for (let k = j; k <= t.length; k++) if (matchParts(p, i + 1, t, k)) return true;
    return false;
  }
  if (j === t.length) return false;
  return segmentRegex(p[i]!).test(t[j]!) && matchParts(p, i + 1, t, j + 1);
}
