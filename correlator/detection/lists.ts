import { existsSync, readdirSync } from 'node:fs';
import { extname, join } from 'node:path';
import { z } from 'zod';
import { readTextBounded, readYamlFileBounded, toData, zodFindings, type Finding } from '../../shared/yaml-source.ts';
import { DEFAULT_RULE_LIMITS, type ContextLimits } from './limits.ts';

/**
 * Named value lists for `expand` placeholders (`'%ncsc_ips%'`): files under rules/lists/ (NAME.txt, one
 * value a line, `#` comments; or NAME.yml, a YAML list) and feeds set at run time (layer-4 indicators).
 * Matchers hold the entry and notice a new version, so a list updates without reloading any rule.
 */
export class ListEntry {
  values: readonly string[] = [];
  version = 0;
  defined = false;
  /** The folder a list file came from, so that deleting the file deletes the list on reload. */
  fromDir: string | null = null;

  constructor(readonly name: string) {}
}

const ListFileSchema = z.union([z.array(z.union([z.string(), z.number()])), z.object({ values: z.array(z.union([z.string(), z.number()])) }).strict()]);

export class ListStore {
  private readonly entries = new Map<string, ListEntry>();

  /** The entry for a name, created empty (undefined) when no list has it yet, so a later load fills it. */
  entry(name: string): ListEntry {
    let e = this.entries.get(name);
    if (!e) {
      e = new ListEntry(name);
      this.entries.set(name, e);
    }
    return e;
  }

  has(name: string): boolean {
    return this.entries.get(name)?.defined ?? false;
  }

  get(name: string): readonly string[] | undefined {
    const e = this.entries.get(name);
    return e?.defined ? e.values : undefined;
  }

  names(): string[] {
    return [...this.entries.values()]
      .filter((e) => e.defined)
      .map((e) => e.name)
      .sort();
  }

  set(name: string, values: readonly string[]): void {
    const e = this.entry(name);
    e.values = [...values];
    e.defined = true;
    e.version++;
  }

  delete(name: string): void {
    const e = this.entries.get(name);
    if (!e?.defined) return;
    e.values = [];
    e.defined = false;
    e.version++;
  }

  /** Loads every list file of `dir`; a broken or oversized file is reported and keeps its previous values. */
  loadDir(dir: string, limits: ContextLimits = DEFAULT_RULE_LIMITS): Finding[] {
    if (!existsSync(dir)) return [];
    const findings: Finding[] = [];
    const seen = new Set<string>();
    for (const f of readdirSync(dir).sort()) {
      const ext = extname(f);
      if (!['.txt', '.yml', '.yaml'].includes(ext)) continue;
      const name = f.slice(0, -ext.length);
      seen.add(name);
      const r = readListFile(join(dir, f), limits);
      findings.push(...r.findings);
      if (r.values) this.set(name, r.values);
    }
    for (const e of this.entries.values()) if (e.defined && !seen.has(e.name) && e.fromDir === dir) this.delete(e.name);
    for (const name of seen) this.entry(name).fromDir = dir;
    return findings;
  }
}

const tooMany = (limits: ContextLimits) => `more than ${limits.maxListEntries} values, the limit per list file (correlator.ruleLimits.maxListEntries)`;

/**
 * One list file: NAME.txt up to `maxListBytes` (split into lines, nothing more), NAME.yml up to
 * `maxFileBytes` (parsed like a rule file); either at most `maxListEntries` values.
 */
export function readListFile(file: string, limits: ContextLimits = DEFAULT_RULE_LIMITS): { values?: string[]; findings: Finding[] } {
  const refuse = (message: string) => ({ findings: [{ file, line: 1, col: 1, severity: 'error' as const, message }] });
  let values: string[];
  let findings: Finding[] = [];
  if (file.endsWith('.txt')) {
    let text: string | null;
    try {
      text = readTextBounded(file, limits.maxListBytes);
    } catch (err) {
      return refuse(`cannot read: ${(err as Error).message}`);
    }
    if (text === null) return refuse(`the list file is larger than the limit of ${limits.maxListBytes} bytes (correlator.ruleLimits.maxListBytes)`);
    // Line by line, stopping past the limit: splitting 64 MiB of empty lines at once would take gigabytes.
    values = [];
    for (let at = 0; at <= text.length; ) {
      const newline = text.indexOf('\n', at);
      const end = newline < 0 ? text.length : newline;
      const line = text.slice(at, end).trim();
      at = end + 1;
      if (!line || line.startsWith('#')) continue;
      if (values.length === limits.maxListEntries) return refuse(tooMany(limits));
      values.push(line);
    }
  } else {
    const read = readYamlFileBounded(file, limits.maxFileBytes, 'correlator.ruleLimits.maxFileBytes; a long list belongs in a .txt list file');
    findings = read.findings;
    if (!read.source || findings.some((f) => f.severity === 'error')) return { findings };
    const data = toData(read.source);
    if ('finding' in data) return { findings: [...findings, data.finding] };
    const parsed = ListFileSchema.safeParse(data.data ?? []);
    if (!parsed.success) return { findings: [...findings, ...zodFindings(read.source, parsed.error)] };
    values = (Array.isArray(parsed.data) ? parsed.data : parsed.data.values).map(String);
  }
  if (values.length > limits.maxListEntries) return refuse(tooMany(limits));
  return { values, findings };
}
