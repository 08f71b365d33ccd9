import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { extname, join } from 'node:path';
import { z } from 'zod';
import { parseYaml, toData, zodFindings, type Finding } from '../../shared/yaml-source.ts';

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

  /** Loads every list file of `dir`; a broken file is reported and keeps its previous values. */
  loadDir(dir: string): Finding[] {
    if (!existsSync(dir)) return [];
    const findings: Finding[] = [];
    const seen = new Set<string>();
    for (const f of readdirSync(dir).sort()) {
      const ext = extname(f);
      if (!['.txt', '.yml', '.yaml'].includes(ext)) continue;
      const name = f.slice(0, -ext.length);
      seen.add(name);
      const r = readListFile(join(dir, f));
      findings.push(...r.findings);
      if (r.values) this.set(name, r.values);
    }
    for (const e of this.entries.values()) if (e.defined && !seen.has(e.name) && e.fromDir === dir) this.delete(e.name);
    for (const name of seen) this.entry(name).fromDir = dir;
    return findings;
  }
}

export function readListFile(file: string): { values?: string[]; findings: Finding[] } {
  const text = readFileSync(file, 'utf8');
  if (file.endsWith('.txt')) {
    const values = text
      .split(/\r?\n/)
      .map((l) => l.trim())
      .filter((l) => l && !l.startsWith('#'));
    return { values, findings: [] };
  }
  const { source, findings } = parseYaml(text, file);
  if (findings.some((f) => f.severity === 'error')) return { findings };
  const data = toData(source);
  if ('finding' in data) return { findings: [...findings, data.finding] };
  const parsed = ListFileSchema.safeParse(data.data ?? []);
  if (!parsed.success) return { findings: [...findings, ...zodFindings(source, parsed.error)] };
  const raw = Array.isArray(parsed.data) ? parsed.data : parsed.data.values;
  return { values: raw.map(String), findings };
}
