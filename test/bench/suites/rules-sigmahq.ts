import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AssetRegister } from '../../../correlator/detection/assets.ts';
import { FieldMapping } from '../../../correlator/detection/fields/mapping.ts';
import { ListStore } from '../../../correlator/detection/lists.ts';
import type { ParsedDetection, ParsedRule } from '../../../correlator/detection/parse/documents.ts';
import { buildRuleSet, ruleFiles, type RuleContext, type RuleSet } from '../../../correlator/detection/ruleset.ts';
import { parseRuleFile } from '../../../correlator/detection/parse/documents.ts';
import type { BenchSuite, Figure } from '../figure.ts';
import { withRatio } from '../figure.ts';

/**
 * Events per second through the rule matcher on public rules: 100 and 1,000 SigmaHQ Windows rules over
 * real Windows events (SigmaHQ regression data, replicated to 100k, each copy parsed anew so no string
 * is shared between copies), and 100 rules over events generated from those rules' own selections.
 * Log source ignored, one core, in-process. Rates are events per CPU second of this process (user +
 * system), so that the other work on a shared machine does not count against them; the bare loop is
 * measured the same way. The corpus lives beside the repository
 * (<repo>/../shared/corpus/sigma, or SIGMA_CORPUS_DIR); without it the suite says so and reports nothing.
 */
const REPLICATED = 100_000;
const ROUNDS = 3;
/** A slow configuration is measured on the events it gets through in this time, not on all 100k. */
const ROUND_MS = 3_000;

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

function corpusDir(): string | null {
  const dir = process.env.SIGMA_CORPUS_DIR ?? join(repo, '..', 'shared', 'corpus', 'sigma');
  return existsSync(join(dir, 'sigma-rules.tar.gz')) && existsSync(join(dir, 'windows-events-dev.ndjson')) ? dir : null;
}

function context(): RuleContext {
  return { mapping: FieldMapping.defaults(), lists: new ListStore(), assets: AssetRegister.empty() };
}

/** Every Windows detection rule of the snapshot that loads, in path order. */
function windowsRules(tarball: string): ParsedDetection[] {
  const dir = mkdtempSync(join(tmpdir(), 'canhgac-sigmahq-'));
  try {
    const tar = spawnSync('tar', ['-xzf', tarball, '-C', dir, 'rules/windows'], { encoding: 'utf8' });
    if (tar.status !== 0) throw new Error(`tar: ${tar.stderr}`);
    const out: ParsedDetection[] = [];
    for (const f of ruleFiles([join(dir, 'rules', 'windows')]).files) {
      const r = parseRuleFile(f);
      if (r.findings.some((x) => x.severity === 'error')) continue;
      for (const p of r.rules) if (p.kind === 'detection') out.push(p);
    }
    const { ruleset } = buildRuleSet(out, context());
    return out.filter((p) => ruleset.detections.has(p.doc.id ?? p.doc.name ?? ''));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** n rules spread evenly over the whole set, so every category is represented. */
function pick(all: ParsedDetection[], n: number): RuleSet {
  const chosen: ParsedRule[] = [];
  for (let i = 0; i < n; i++) chosen.push(all[Math.floor((i * all.length) / n)]!);
  return buildRuleSet(chosen, context()).ruleset;
}

/** A string the value would match: wildcards filled, and text around it where the position allows. */
function sample(value: unknown, modifiers: string[]): unknown {
  if (typeof value !== 'string') return value;
  const plain = value.replace(/\\([*?\\])|\*|\?/g, (m, esc: string | undefined) => esc ?? (m === '?' ? 'x' : ''));
  if (modifiers.includes('contains')) return `pre ${plain} post`;
  if (modifiers.includes('startswith')) return `${plain} tail`;
  if (modifiers.includes('endswith')) return `C:\\head\\${plain}`;
  return plain;
}

/** One event per rule from the first alternative of each selection (items the sampler cannot fill are left out). */
function generated(rs: RuleSet): unknown[] {
  const out: unknown[] = [];
  for (const d of rs.detections.values()) {
    const ev: Record<string, unknown> = {};
    for (const s of d.parsed.selections) {
      for (const { item } of s.alternatives[0] ?? []) {
        if (item.modifiers.some((m) => !['contains', 'startswith', 'endswith', 'all', 'windash', 'cased'].includes(m))) continue;
        if (item.field === null) ev.message = `pre ${String(item.values[0])} post`;
        else if (item.modifiers.includes('all')) ev[item.field] = item.values.map((v) => sample(v, ['contains'])).join(' ');
        else ev[item.field] = sample(item.values[0], item.modifiers);
      }
    }
    out.push(ev);
  }
  return out;
}

function replicate(lines: string[]): unknown[] {
  const out: unknown[] = [];
  for (let i = 0; i < REPLICATED; i++) out.push(JSON.parse(lines[i % lines.length]!));
  return out;
}

/** CPU milliseconds this process has used. */
function cpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

/** Best of a few rounds, each over the events it gets through in ROUND_MS of CPU time (at most all of them). */
function rate(evs: unknown[], fn: (e: unknown) => number): { perSec: number; events: number; matches: number } {
  let best = 0;
  let events = 0;
  let matches = 0;
  for (let r = 0; r < ROUNDS; r++) {
    let n = 0;
    let m = 0;
    const t0 = cpuMs();
    while (n < evs.length) {
      m += fn(evs[n]!);
      n++;
      if ((n & 255) === 0 && cpuMs() - t0 > ROUND_MS) break;
    }
    const elapsed = cpuMs() - t0;
    const perSec = n / (elapsed / 1000);
    if (perSec > best) {
      best = perSec;
      events = n;
      matches = m;
    }
  }
  return { perSec: best, events, matches };
}

export const suite: BenchSuite = {
  name: 'rules.sigmahq',
  async run(ctx) {
    const dir = corpusDir();
    if (!dir) {
      ctx.log('skipped: no SigmaHQ corpus at ../shared/corpus/sigma (or SIGMA_CORPUS_DIR)');
      return [];
    }
    const all = windowsRules(join(dir, 'sigma-rules.tar.gz'));
    const lines = readFileSync(join(dir, 'windows-events-dev.ndjson'), 'utf8')
      .split('\n')
      .filter((l) => l.trim());
    const real = replicate(lines);
    ctx.log(`${all.length} Windows rules load; ${lines.length} real events replicated to ${real.length}`);
    // The bare loop touches each event as the matcher must at least do (one field read).
    const bare = rate(real, (e) => ((e as { EventID?: unknown }).EventID === 1 ? 1 : 0));
    const matcher = (rs: RuleSet) => (e: unknown) => rs.match(e, { ignoreLogsource: true }).length;
    const figures: Figure[] = [];
    for (const n of [100, 1000]) {
      const rs = pick(all, n);
      rate(real.slice(0, 2000), matcher(rs));
      const r = rate(real, matcher(rs));
      ctx.log(`${rs.detections.size} SigmaHQ rules, real events: ${Math.round(r.perSec)} events per CPU second (${r.events} events, ${r.matches} matches)`);
      figures.push(
        withRatio({
          bench: `rules.sigmahq.real.${n}`,
          unit: 'events/cpu-s',
          value: Math.round(r.perSec),
          baseline: Math.round(bare.perSec),
          note: `${r.matches} matches over ${r.events} events`,
        }),
      );
    }
    const rs = pick(all, 100);
    const gen = generated(rs);
    const genEvents: unknown[] = [];
    for (let i = 0; i < REPLICATED; i++) genEvents.push(structuredClone(gen[i % gen.length]));
    rate(genEvents.slice(0, 2000), matcher(rs));
    const g = rate(genEvents, matcher(rs));
    ctx.log(`100 SigmaHQ rules, generated events: ${Math.round(g.perSec)} events per CPU second (${g.events} events, ${g.matches} matches)`);
    figures.push(
      withRatio({
        bench: 'rules.sigmahq.generated.100',
        unit: 'events/cpu-s',
        value: Math.round(g.perSec),
        baseline: Math.round(bare.perSec),
        note: `${g.matches} matches over ${g.events} events`,
      }),
    );
    return figures;
  },
};
