import { AssetRegister } from '../../../correlator/detection/assets.ts';
import { FieldMapping } from '../../../correlator/detection/fields/mapping.ts';
import { ListStore } from '../../../correlator/detection/lists.ts';
import { parseRuleText } from '../../../correlator/detection/parse/documents.ts';
import { buildRuleSet, type RuleSet } from '../../../correlator/detection/ruleset.ts';
import { CorrelationEngine } from '../../../correlator/detection/correlation/engine.ts';
import type { BenchSuite, Figure } from '../figure.ts';
import { withRatio } from '../figure.ts';

/**
 * Events per second through the rule matcher with 10, 100 and 1,000 rules (variants generated from the
 * shapes a real pack has), beside a bare loop over the same events in the same run. The index should keep
 * the 1,000-rule cost within 3x the 10-rule cost.
 */
const EVENTS = 20_000;
const ROUNDS = 5;

/** Rule shapes: constant ports, hosts and signature names (indexable), and substring / network tests. */
function ruleVariant(i: number): string {
  const head = `title: bench ${i}\nid: bench-${i}\nlayer: ${1 + (i % 4)}\nlevel: medium\n`;
  switch (i % 8) {
    case 0:
    case 1:
    case 2:
      return `${head}logsource: { category: firewall }\ndetection:\n  sel:\n    dst_port: ${1000 + i}\n    action: [deny, drop]\n  condition: sel\n`;
    case 3:
      return `${head}logsource: { category: firewall }\ndetection:\n  sel:\n    destination.ip: 10.10.${(i >> 8) & 255}.${i & 255}\n    destination.port: [22, 3389]\n  filter:\n    src_ip|cidr: 10.0.0.0/8\n  condition: sel and not filter\n`;
    case 4:
      return `${head}logsource: { category: antivirus }\ndetection:\n  sel:\n    Signature: 'Win.Trojan.Agent-${i}'\n  condition: sel\n`;
    case 5:
      return `${head}logsource: { category: antivirus }\ndetection:\n  sel:\n    Signature|contains: 'Family${i}x'\n  filter:\n    Filename|startswith: 'C:\\Quarantine\\'\n  condition: sel and not filter\n`;
    case 6:
      return `${head}logsource: { category: firewall }\ndetection:\n  sel:\n    rule.name: 'policy-${i}'\n    event.action: deny\n  condition: sel\n`;
    default:
      return `${head}logsource: { category: antivirus }\ndetection:\n  sel:\n    file.hash.sha256: '${i.toString(16).padStart(64, '0')}'\n  condition: sel\n`;
  }
}

function events(): unknown[] {
  const out: unknown[] = [];
  for (let i = 0; i < EVENTS; i++) {
    if (i % 4 === 3) {
      out.push({
        '@timestamp': '2026-11-26T01:00:00.000Z',
        event: {
          kind: 'alert',
          category: ['malware'],
          action: 'detected',
          original: `C:\\Users\\u${i % 50}\\dl\\f${i}.exe: Win.Trojan.Agent-${i % 2000} FOUND`,
        },
        observer: { product: 'ClamAV' },
        host: { name: `srv-${i % 20}` },
        file: { path: `C:\\Users\\u${i % 50}\\dl\\f${i}.exe`, name: `f${i}.exe`, hash: { sha256: (i % 3000).toString(16).padStart(64, '0') } },
        threat: { software: { name: i % 8 === 7 ? `Win.Malware.Family${i % 1200}x-1` : `Win.Trojan.Agent-${i % 2000}` } },
      });
    } else {
      out.push({
        '@timestamp': '2026-11-26T01:00:00.000Z',
        event: { kind: 'event', category: ['network'], type: ['connection'], action: i % 3 ? 'deny' : 'allow', original: `fw line ${i}` },
        observer: { type: 'firewall', product: 'pfSense' },
        host: { name: `srv-${i % 20}` },
        source: { ip: `203.0.${i % 250}.${i % 200}`, port: 40000 + (i % 20000) },
        destination: { ip: `10.10.${(i >> 8) & 3}.${i & 255}`, port: i % 5 === 0 ? 22 : 1000 + (i % 1500) },
        network: { transport: 'tcp' },
        rule: { name: `policy-${i % 1200}` },
      });
    }
  }
  return out;
}

function ruleset(n: number): RuleSet {
  const text = Array.from({ length: n }, (_, i) => ruleVariant(i)).join('---\n');
  const parsed = parseRuleText(text, `bench-${n}.yml`);
  const { ruleset, findings } = buildRuleSet(parsed.rules, { mapping: FieldMapping.defaults(), lists: new ListStore(), assets: AssetRegister.empty() });
  const errors = findings.filter((f) => f.severity === 'error');
  if (errors.length || ruleset.detections.size !== n) throw new Error(`bench rules did not load: ${errors[0]?.message ?? ruleset.detections.size}`);
  return ruleset;
}

/** Best of a few rounds, in events/s: the least disturbed by the other work on the machine. */
function rate(evs: unknown[], fn: (e: unknown) => number): { perSec: number; matches: number } {
  let best = Infinity;
  let matches = 0;
  for (let r = 0; r < ROUNDS; r++) {
    matches = 0;
    const t0 = performance.now();
    for (const e of evs) matches += fn(e);
    best = Math.min(best, performance.now() - t0);
  }
  return { perSec: evs.length / (best / 1000), matches };
}

export const suite: BenchSuite = {
  name: 'rules',
  async run(ctx) {
    const evs = events();
    // The bare loop touches each event as the matcher must at least do (one field read).
    const bare = rate(evs, (e) => ((e as { event: { action: string } }).event.action === 'deny' ? 1 : 0));
    const figures: Figure[] = [{ bench: 'rules.bare_loop', unit: 'events/s', value: Math.round(bare.perSec) }];
    let tenRules = 0;
    const sets = [10, 100, 1000].map((n) => ({ n, rs: ruleset(n) }));
    // One pass each first, so that no size is measured while the JIT is still compiling the matcher.
    for (const { rs } of sets) for (const e of evs) rs.match(e);
    for (const { n, rs } of sets) {
      const r = rate(evs, (e) => rs.match(e).length);
      ctx.log(`${n} rules: ${Math.round(r.perSec)} events/s, ${r.matches} matches per pass`);
      if (n === 10) tenRules = r.perSec;
      figures.push(
        withRatio({
          bench: `rules.match.${n}`,
          unit: 'events/s',
          value: Math.round(r.perSec),
          baseline: Math.round(bare.perSec),
          note: `${r.matches} matches per ${evs.length} events`,
        }),
      );
    }
    const thousand = figures[figures.length - 1]!.value;
    figures.push(
      withRatio({
        bench: 'rules.match.1000_vs_10',
        unit: 'events/s',
        value: thousand,
        baseline: Math.round(tenRules),
        note: 'target: ratio >= 0.333 (1,000 rules no worse than 3x the 10-rule cost)',
      }),
    );
    figures.push(correlationFigure(evs, bare.perSec));
    return figures;
  },
};

/** Events/s through the correlation engine: an event_count over 1,000 source groups, in event-time order. */
function correlationFigure(evs: unknown[], bare: number): Figure {
  const text = `title: scan\nid: scan\nlayer: 2\ncorrelation:\n  type: value_count\n  rules: [deny]\n  group-by: [src_ip]\n  timespan: 1m\n  condition: { field: dst_port, gte: 20 }\n---\ntitle: deny\nid: deny\nname: deny\nlogsource: { category: firewall }\ndetection:\n  sel: { event.action: deny }\n  condition: sel\n`;
  const { ruleset: rs } = buildRuleSet(parseRuleText(text, 'bench-corr.yml').rules, {
    mapping: FieldMapping.defaults(),
    lists: new ListStore(),
    assets: AssetRegister.empty(),
  });
  const denied = evs.filter((e) => rs.match(e).length > 0);
  let best = Infinity;
  let hits = 0;
  for (let r = 0; r < ROUNDS; r++) {
    const engine = new CorrelationEngine(rs, { allowedLatenessMs: 5000 });
    hits = 0;
    const t0 = performance.now();
    denied.forEach((e, i) => {
      hits += engine.feed('deny', e, i * 10, i).length;
    });
    best = Math.min(best, performance.now() - t0);
  }
  return withRatio({
    bench: 'rules.correlate.value_count',
    unit: 'events/s',
    value: Math.round(denied.length / (best / 1000)),
    baseline: Math.round(bare),
    note: `${hits} hits over ${denied.length} events`,
  });
}
