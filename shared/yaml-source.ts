import { closeSync, fstatSync, openSync, readFileSync } from 'node:fs';
import { isCollection, isNode, LineCounter, parseDocument, type Document } from 'yaml';
import type { z } from 'zod';

/** A YAML file parsed with positions kept, so that every finding can name its file, line and column. */
export interface YamlSource {
  file: string;
  doc: Document.Parsed;
  lines: LineCounter;
}

export interface Finding {
  file: string;
  line: number;
  col: number;
  severity: 'error' | 'warning';
  message: string;
}

export function formatFinding(f: Finding): string {
  return `${f.file}:${f.line}:${f.col}: ${f.severity}: ${f.message}`;
}

/** Alias expansion is capped so that a "billion laughs" document is rejected instead of eating memory. */
export const YAML_MAX_ALIAS_COUNT = 100;

export function parseYaml(text: string, file: string): { source: YamlSource; findings: Finding[] } {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  const source = { file, doc, lines };
  const findings: Finding[] = [...doc.errors, ...doc.warnings].map((e) => {
    const pos = lines.linePos(e.pos[0]);
    return {
      file,
      line: pos.line,
      col: pos.col,
      severity: doc.errors.includes(e as never) ? 'error' : 'warning',
      message: e.message.split('\n')[0] ?? e.message,
    };
  });
  return { source, findings };
}

export function readYamlFile(file: string): { source: YamlSource; findings: Finding[] } {
  return parseYaml(readFileSync(file, 'utf8'), file);
}

/** The file's text, or null when it holds more than `maxBytes` (the size is checked before reading). */
export function readTextBounded(file: string, maxBytes: number): string | null {
  const fd = openSync(file, 'r');
  try {
    if (fstatSync(fd).size > maxBytes) return null;
    const buf = readFileSync(fd);
    // It may have grown between the check and the read.
    return buf.length > maxBytes ? null : buf.toString('utf8');
  } finally {
    closeSync(fd);
  }
}

/**
 * A YAML file of at most `maxBytes`, checked before it is read (parsing takes many times the file's
 * size in memory); a larger or unreadable file is one error finding naming the file and `limitName`.
 */
export function readYamlFileBounded(file: string, maxBytes: number, limitName: string): { source?: YamlSource; findings: Finding[] } {
  const refuse = (message: string) => ({ findings: [{ file, line: 1, col: 1, severity: 'error' as const, message }] });
  let text: string | null;
  try {
    text = readTextBounded(file, maxBytes);
  } catch (err) {
    return refuse(`cannot read: ${(err as Error).message}`);
  }
  if (text === null) return refuse(`the file is larger than the limit of ${maxBytes} bytes (${limitName})`);
  return parseYaml(text, file);
}

/** Converts the document to plain data, or returns the finding that stops it (alias bomb, bad YAML). */
export function toData(source: YamlSource): { data: unknown } | { finding: Finding } {
  try {
    return { data: source.doc.toJS({ maxAliasCount: YAML_MAX_ALIAS_COUNT }) };
  } catch (err) {
    return { finding: { file: source.file, line: 1, col: 1, severity: 'error', message: (err as Error).message } };
  }
}

/** Line and column of the node at `path`, or of its deepest existing ancestor when the field is missing. */
export function positionOf(source: YamlSource, path: readonly PropertyKey[]): { line: number; col: number } {
  for (let depth = path.length; depth >= 0; depth--) {
    const sub = path.slice(0, depth) as (string | number)[];
    let node: unknown;
    if (depth === 0) node = source.doc.contents;
    else {
      // A key's position is more useful than its value's when the value is the problem.
      const parent = depth === 1 ? source.doc.contents : source.doc.getIn(sub.slice(0, -1), true);
      if (isCollection(parent)) {
        const key = sub[sub.length - 1];
        const pair = (parent.items as unknown[]).find(
          (it) => typeof it === 'object' && it !== null && 'key' in it && nodeValue((it as { key: unknown }).key) === key,
        ) as { key?: unknown } | undefined;
        node = pair?.key ?? source.doc.getIn(sub, true);
      }
    }
    if (isNode(node) && node.range) {
      const pos = source.lines.linePos(node.range[0]);
      return { line: pos.line, col: pos.col };
    }
  }
  return { line: 1, col: 1 };
}

function nodeValue(n: unknown): unknown {
  return isNode(n) && 'value' in n ? (n as { value: unknown }).value : n;
}

export function zodFindings(source: YamlSource, error: z.ZodError, prefix: readonly PropertyKey[] = []): Finding[] {
  return error.issues.map((issue) => {
    const path = [...prefix, ...issue.path];
    // Point at the offending key itself, not at the mapping that holds it.
    const at = issue.code === 'unrecognized_keys' && issue.keys[0] !== undefined ? [...path, issue.keys[0]] : path;
    const pos = positionOf(source, at);
    const field = path.length ? path.join('.') : '(document)';
    return { file: source.file, ...pos, severity: 'error' as const, message: `field ${field}: ${issue.message}` };
  });
}
