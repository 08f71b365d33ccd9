import { relative } from 'node:path';
import { loadRuleSet } from '../correlator/detection/ruleset.ts';
import { formatFinding, type Finding } from '../shared/yaml-source.ts';
import type { RuleSummary, RulesProvider } from './context.ts';

/**
 * The rules of a folder as the correlator loads them, with each file's lint findings. Read on every
 * request: the page shows what the files say now, the same thing the correlator's hot reload sees.
 */
export function rulesFromFolder(dir: string): RulesProvider {
  return async () => {
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
  };
}
