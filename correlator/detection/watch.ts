import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileStamp, filesStamp, watchFolder, type FolderWatch } from '../../shared/folder-watch.ts';
import type { Finding } from '../../shared/yaml-source.ts';
import { AssetRegister } from './assets.ts';
import { FieldMapping } from './fields/mapping.ts';
import { ListStore } from './lists.ts';
import { parseRuleFile, type ParsedRule } from './parse/documents.ts';
import { DEFAULT_RULE_LIMITS } from './limits.ts';
import { buildRuleSet, ruleFiles, sortFindings, type BuildOptions, type RuleContext, type RuleSet } from './ruleset.ts';

export interface ReloadEvent {
  ruleset: RuleSet;
  /** Everything the reload found wrong, including what made a file keep its previous version. */
  findings: Finding[];
  /** Files read again (added, changed or removed). */
  changed: string[];
  /** Changed files that are broken: their previous good version stays in force (if they had one). */
  kept: string[];
}

export interface RulesWatcher {
  /** The rule set in force now (swapped atomically on reload). */
  readonly ruleset: RuleSet;
  /** The folder's own asset register (assets.yml), without `extraAssets`: the servers the audits watch. */
  readonly assets: AssetRegister;
  /** The findings of the last load or reload. */
  readonly findings: Finding[];
  /** Rescans now (without waiting for a file-system event). */
  reload(): ReloadEvent | null;
  close(): void;
}

interface FileState {
  stamp: string;
  rules: ParsedRule[];
}

/**
 * Watches a rules folder: a changed rule file is re-read and re-linted, and the new set replaces the old
 * one at once; a file that is broken keeps its previous good version and is reported. Changes to
 * lists/, assets.yml and fields.yml apply the same way (a broken context file keeps the previous one).
 */
export function watchRules(
  dir: string,
  onChange: (e: ReloadEvent) => void,
  opts: BuildOptions & { debounceMs?: number; extraAssets?: AssetRegister } = {},
): RulesWatcher {
  const root = resolve(dir);
  const limits = opts.limits ?? DEFAULT_RULE_LIMITS;
  const good = new Map<string, FileState>();
  /** Files whose last version was refused: a change of context (a list file added) may let them load. */
  const refused = new Set<string>();
  const contextStamps = new Map<string, string | null>();
  const lists = new ListStore();
  let mapping = FieldMapping.defaults();
  let assets = AssetRegister.empty();
  let current: RuleSet;
  let lastFindings: Finding[] = [];

  /** Reloads the context files that changed; returns their findings and whether anything changed. */
  const reloadContext = (): { findings: Finding[]; changed: string[] } => {
    const findings: Finding[] = [];
    const changed: string[] = [];
    const fieldsFile = join(root, 'fields.yml');
    const assetsFile = join(root, 'assets.yml');
    const listsDir = join(root, 'lists');
    const listStamp = existsSync(listsDir) ? filesStamp(listsDir) : null;
    for (const [key, stamp] of [
      [fieldsFile, fileStamp(fieldsFile)],
      [assetsFile, fileStamp(assetsFile)],
      [listsDir, listStamp],
    ] as const) {
      if (contextStamps.has(key) && contextStamps.get(key) === stamp) continue;
      contextStamps.set(key, stamp);
      changed.push(key);
      if (key === fieldsFile) {
        const m = FieldMapping.load(fieldsFile, limits);
        findings.push(...m.findings);
        if (!m.findings.some((f) => f.severity === 'error')) mapping = m.mapping;
      } else if (key === assetsFile) {
        const a = AssetRegister.load(assetsFile, limits);
        findings.push(...a.findings);
        if (a.register) assets = a.register;
      } else {
        findings.push(...lists.loadDir(listsDir, limits));
      }
    }
    return { findings, changed };
  };

  const build = (files: Map<string, FileState>, context: RuleContext) =>
    buildRuleSet(
      [...files.keys()].sort().flatMap((f) => files.get(f)!.rules),
      context,
      opts,
    );

  const rescan = (initial: boolean): ReloadEvent | null => {
    const ctx = reloadContext();
    const { files } = ruleFiles(existsSync(root) ? [root] : []);
    const present = new Set(files);
    const changed: string[] = [...ctx.changed];
    const parseFindings: Finding[] = [...ctx.findings];
    const candidate = new Map(good);
    const touched = new Map<string, FileState | null>();
    for (const f of files) {
      const stamp = fileStamp(f);
      if (stamp === null || (good.get(f)?.stamp === stamp && !(ctx.changed.length && refused.has(f)))) continue;
      const parsed = parseRuleFile(f, limits.maxFileBytes);
      parseFindings.push(...parsed.findings);
      changed.push(f);
      const state = { stamp, rules: parsed.rules };
      touched.set(f, state);
      candidate.set(f, state);
    }
    for (const f of good.keys()) {
      if (!present.has(f)) {
        changed.push(f);
        touched.set(f, null);
        candidate.delete(f);
      }
    }
    if (!initial && changed.length === 0) return null;
    const context: RuleContext = { mapping, lists, assets: opts.extraAssets ? assets.with(opts.extraAssets) : assets };
    let result = build(candidate, context);
    const findings = [...parseFindings, ...result.findings];
    const broken = new Set(findings.filter((f) => f.severity === 'error').map((f) => f.file));
    const kept: string[] = [];
    for (const [f] of touched) {
      if (!broken.has(f)) continue;
      kept.push(f);
      const previous = good.get(f);
      if (previous) candidate.set(f, { ...previous, stamp: touched.get(f)?.stamp ?? previous.stamp });
      else candidate.set(f, { stamp: touched.get(f)?.stamp ?? '', rules: [] });
    }
    for (const f of touched.keys()) refused.delete(f);
    for (const f of kept) refused.add(f);
    if (kept.length) result = build(candidate, context);
    good.clear();
    for (const [f, s] of candidate) good.set(f, s);
    current = result.ruleset;
    lastFindings = sortFindings(findings);
    return { ruleset: current, findings: lastFindings, changed, kept };
  };

  rescan(true);

  let watcher: FolderWatch | null = null;
  try {
    watcher = watchFolder(root, opts.debounceMs ?? 100, () => {
      const e = rescan(false);
      if (e) onChange(e);
    });
  } catch (err) {
    lastFindings = [...lastFindings, { file: root, line: 1, col: 1, severity: 'error', message: `cannot watch: ${(err as Error).message}` }];
  }

  return {
    get ruleset() {
      return current;
    },
    get assets() {
      return assets;
    },
    get findings() {
      return lastFindings;
    },
    reload() {
      const e = rescan(false);
      if (e) onChange(e);
      return e;
    },
    close() {
      watcher?.close();
    },
  };
}
