import { join, relative } from 'node:path';
import { findContextDir, loadRuleSet, ruleFiles } from '../correlator/detection/ruleset.ts';
import { fileStamp, filesStamp } from '../shared/folder-watch.ts';
import { formatFinding, type Finding } from '../shared/yaml-source.ts';
import type { RuleSummary, RulesProvider, RulesReport } from './context.ts';

/**
 * The rules of a folder as the correlator loads them, with each file's lint findings: what the files
 * say now, the same thing the correlator's hot reload sees. Loading compiles every rule (seconds for a
 * rule with 100k inline values), so the report is kept while the folder's files are unchanged: each
 * request only lists and stats the files the loader reads.
 */
export function rulesFromFolder(dir: string): RulesProvider {
  let cached: { stamp: string; report: RulesReport } | null = null;
  return async () => {
    const stamp = folderStamp(dir);
    if (cached?.stamp !== stamp) cached = { stamp, report: report(dir) };
    return cached.report;
  };
}

/**
 * Size, modification time and inode of every file the loader reads (rule files, fields.yml, assets.yml,
 * lists/): any change, addition or removal changes it, as in the correlator's watcher.
 */
export function folderStamp(dir: string): string {
  const files = ruleFiles([dir]).files;
  const context = findContextDir(dir);
  if (context) files.push(join(context, 'fields.yml'), join(context, 'assets.yml'));
  const stamps = files.map((f) => `${f}=${fileStamp(f) ?? '-'}`);
  if (context) stamps.push(`lists:${filesStamp(join(context, 'lists'))}`);
  return stamps.join('|');
}

function report(dir: string): RulesReport {
  const { ruleset, findings } = loadRuleSet([dir]);
  const display = (f: string) => relative(process.cwd(), f) || f;
  const byFile = new Map<string, Finding[]>();
  for (const f of findings) byFile.set(f.file, [...(byFile.get(f.file) ?? []), f]);
  const infos = [...ruleset.detections.values()].map((d) => d.info).concat([...ruleset.correlations.values()].map((c) => c.info));
  const rules: RuleSummary[] = infos
    .map((info) => {
      const own = byFile.get(info.file) ?? [];
      const state = own.some((f) => f.severity === 'error') ? 'error' : own.length ? 'warning' : 'ok';
      return {
        id: info.id,
        title: info.title,
        description: info.description,
        runbook: info.response.runbook,
        vi: info.vi,
        level: info.level,
        layer: info.layer,
        file: display(info.file),
        lint: { state, findings: own.map((f) => formatFinding({ ...f, file: display(f.file) })) },
      } as RuleSummary;
    })
    .sort((a, b) => a.file.localeCompare(b.file) || a.id.localeCompare(b.id));
  const loadedFiles = new Set(infos.map((i) => i.file));
  const unloaded = [...byFile.entries()]
    .filter(([file, fs]) => !loadedFiles.has(file) && fs.some((f) => f.severity === 'error'))
    .map(([file, fs]) => ({ file: display(file), findings: fs.map((f) => formatFinding({ ...f, file: display(f.file) })) }));
  return { rules, unloaded };
}
