import { readFileSync } from 'node:fs';
import { AssetRegister } from '../../correlator/detection/assets.ts';
import { FieldMapping } from '../../correlator/detection/fields/mapping.ts';
import { ListStore } from '../../correlator/detection/lists.ts';
import { parseRuleFile, type ParsedDetection } from '../../correlator/detection/parse/documents.ts';
import { buildRuleSet, ruleFiles } from '../../correlator/detection/ruleset.ts';
const ctx = () => ({ mapping: FieldMapping.defaults(), lists: new ListStore(), assets: AssetRegister.empty() });
const all: ParsedDetection[] = [];
for (const f of ruleFiles(['/tmp/sigx/rules/windows']).files) { const r = parseRuleFile(f); if (r.findings.some((x) => x.severity === 'error')) continue; for (const p of r.rules) if (p.kind === 'detection') all.push(p); }
const { ruleset: full } = buildRuleSet(all, ctx());
const ok = all.filter((p) => full.detections.has(p.doc.id ?? ''));
const chosen = Array.from({ length: 1000 }, (_, i) => ok[Math.floor((i * ok.length) / 1000)]!);
const rs = buildRuleSet(chosen, ctx()).ruleset;
const lines = readFileSync('/work/shared/corpus/sigma/windows-events-dev.ndjson', 'utf8').split('\n').filter(Boolean);
const evs = Array.from({ length: 40000 }, (_, i) => JSON.parse(lines[i % lines.length]!));
// candidates per event
let cand = 0;
const idx = (rs as any).index;
for (const e of evs.slice(0, 1140)) { const seen = new Set(); idx.candidates(e, (r: any) => seen.add(r)); cand += seen.size; }
console.log('candidates/event', cand / 1140, 'rest', idx.bucket.rest.length);
const rest = idx.bucket.rest.map((r: any) => r.info.file.split("/").pop());
console.log(rest.slice(0, 40).join(' '));
for (let k = 0; k < 3; k++) {
  const cpu = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1000; };
  let t0 = cpu(); let n = 0;
  for (const e of evs) idx.candidates(e, () => { n++; });
  const tc = cpu() - t0;
  t0 = cpu(); let mm = 0;
  for (const e of evs) mm += rs.match(e, { ignoreLogsource: true }).length;
  const tm = cpu() - t0;
  console.log('candidates only', (evs.length / (tc / 1000)) | 0, 'match', (evs.length / (tm / 1000)) | 0, 'index share', (tc / tm).toFixed(2));
}
let t = performance.now(); let m = 0;
for (const e of evs) m += rs.match(e, { ignoreLogsource: true }).length;
console.log('ev/s', evs.length / ((performance.now() - t) / 1000));
const stats: [string, number, number][] = [];
for (const [k, f] of idx.bucket.substr) {
  let chars = 0;
  for (const e of evs.slice(0, 114)) { const v = f.reader(e); for (const x of Array.isArray(v) ? v : v === undefined ? [] : [v]) if (typeof x === 'string') chars += x.length; }
  stats.push([k.replace('\u0000', ' / '), f.literals.size, chars / 114]);
}
console.log(stats.sort((a, b) => b[2] - a[2]).slice(0, 12));
console.log('exact fields', idx.bucket.exact.size, 'substr fields', idx.bucket.substr.size);
const per = new Map<any, number>();
for (let k = 0; k < 2; k++) for (const e of evs.slice(0, 5000)) {
  const seen = new Set<any>();
  idx.candidates(e, (r: any) => seen.add(r));
  for (const r of seen) { const t0 = performance.now(); for (let j = 0; j < 5; j++) r.predicate(e); per.set(r, (per.get(r) ?? 0) + performance.now() - t0); }
}
const tot = [...per.values()].reduce((a, b) => a + b, 0);
console.log([...per].sort((a, b) => b[1] - a[1]).slice(0, 12).map(([r, t]) => `${(100 * t / tot).toFixed(1)}% ${r.info.file.split('/').pop()}`).join('\n'));
