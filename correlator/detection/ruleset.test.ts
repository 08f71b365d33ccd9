import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { context, rulesFrom } from './testdata/build.ts';
import { MAX_CORRELATION_CHAIN } from './limits.ts';
import { loadRuleSet } from './ruleset.ts';

const errors = (findings: { severity: string; message: string; line: number; col: number }[]) =>
  findings.filter((f) => f.severity === 'error').map((f) => `${f.line}:${f.col} ${f.message}`);

describe('loading', () => {
  it('a broken rule is reported with its position and the others keep working', () => {
    const yaml = `title: good\nid: good\nlayer: 1\ndetection:\n  s: { a: 1 }\n  condition: s\n---\ntitle: bad\nid: bad\nlayer: 1\ndetection:\n  s: { a|nope: 1 }\n  condition: s and t\n`;
    const { ruleset, findings } = rulesFrom(yaml);
    expect(errors(findings)).toEqual(["12:8 unknown modifier 'nope'", "13:20 condition names 't', which no selection defines"]);
    expect([...ruleset.detections.keys()]).toEqual(['good']);
    expect(ruleset.match({ a: 1 }).map((m) => m.rule.id)).toEqual(['good']);
  });
  it('invalid YAML and schema errors point at the line', () => {
    expect(errors(rulesFrom('title: x\nid: [\n').findings)[0]).toMatch(/^\d+:\d+ /);
    const schema = rulesFrom('title: x\nid: x\nlevel: severe\ndetection:\n  s: { a: 1 }\n  condition: s\n').findings;
    expect(errors(schema)).toEqual([expect.stringMatching(/^3:1 field level: /)]);
  });
  it('an alias bomb is rejected', () => {
    const bomb = [
      'a: &a [x, x, x, x, x, x, x, x, x, x]',
      ...Array.from(
        { length: 9 },
        (_, i) =>
          `${String.fromCharCode(98 + i)}: &${String.fromCharCode(98 + i)} [${Array(10)
            .fill(`*${String.fromCharCode(97 + i)}`)
            .join(', ')}]`,
      ),
    ];
    const { findings, ruleset } = rulesFrom(`title: bomb\nid: bomb\n${bomb.join('\n')}\ndetection:\n  s: { a: 1 }\n  condition: s\n`);
    expect(errors(findings).join()).toMatch(/alias/i);
    expect(ruleset.size).toBe(0);
  });
  it('duplicate ids and names are errors naming the first definition', () => {
    const rule = (id: string, line = '') => `title: r\nid: ${id}\nlayer: 1\n${line}detection:\n  s: { a: 1 }\n  condition: s\n`;
    const { findings, ruleset } = rulesFrom(`${rule('x')}---\n${rule('x')}`);
    expect(errors(findings)).toEqual(["9:1 duplicate id 'x' (first defined at test.yml:2:1)"]);
    expect(ruleset.detections.size).toBe(1);
    expect(errors(rulesFrom(`${rule('x', 'name: n\n')}---\n${rule('y', 'name: n\n')}`).findings)).toEqual([expect.stringMatching(/duplicate name 'n'/)]);
  });
  it('bad correlations: unknown rule, missing condition, cycles', () => {
    const base = 'title: b\nid: b\ndetection:\n  s: { a: 1 }\n  condition: s\n';
    const corr = (id: string, body: string) => `title: ${id}\nid: ${id}\nlayer: 2\ncorrelation:\n${body.replace(/^/gm, '  ')}\n`;
    const missing = rulesFrom(`${corr('c', 'type: event_count\nrules: [nope]\ntimespan: 1m\ncondition: { gte: 2 }')}---\n${base}`).findings;
    expect(errors(missing).join()).toMatch(/rule 'nope' is not defined/);
    const nocond = rulesFrom(`${corr('c', 'type: event_count\nrules: [b]\ntimespan: 1m')}---\n${base}`).findings;
    expect(errors(nocond).join()).toMatch(/needs a 'condition'/);
    const nofield = rulesFrom(`${corr('c', 'type: value_count\nrules: [b]\ntimespan: 1m\ncondition: { gte: 2 }')}---\n${base}`).findings;
    expect(errors(nofield).join()).toMatch(/needs 'field'/);
    const badspan = rulesFrom(`${corr('c', 'type: event_count\nrules: [b]\ntimespan: 5 minutes\ncondition: { gte: 2 }')}---\n${base}`).findings;
    expect(errors(badspan).join()).toMatch(/timespan/);
    const empty = rulesFrom(`${corr('c', 'type: event_count\nrules: [b]\ntimespan: 1m\ncondition: { gt: 5, lt: 3 }')}---\n${base}`).findings;
    expect(errors(empty).join()).toMatch(/is empty/);
    const brokenBase = rulesFrom(`${corr('c', 'type: event_count\nrules: [b]\ntimespan: 1m\ncondition: { gte: 2 }')}---\n${base.replace('a: 1', 'a|bad: 1')}`);
    expect(errors(brokenBase.findings)).toEqual([
      expect.stringMatching(/unknown modifier 'bad'/),
      expect.stringMatching(/counts rule 'b', which could not be loaded/),
    ]);
    const cycle = rulesFrom(
      `${corr('c1', 'type: event_count\nrules: [c2]\ntimespan: 1m\ncondition: { gte: 2 }')}---\n${corr('c2', 'type: event_count\nrules: [c1, b]\ntimespan: 1m\ncondition: { gte: 2 }')}---\n${base}`,
    );
    expect(errors(cycle.findings).join()).toMatch(/cycle/);
    expect(cycle.ruleset.correlations.size).toBe(0);
  });
  it('correlations counting correlations: 16 deep run, deeper is an error at the correlation too deep, in either order', () => {
    const base = 'title: b\nid: c0\nlayer: 1\ndetection:\n  s: { destination.port: 1 }\n  condition: s\n';
    const chain = (n: number) => [
      base,
      ...Array.from(
        { length: n },
        (_, k) => `title: c${k + 1}\nid: c${k + 1}\nlayer: 2\ncorrelation:\n  type: event_count\n  rules: c${k}\n  timespan: 1m\n  condition: { gte: 1 }\n`,
      ),
    ];
    for (const order of [(d: string[]) => d, (d: string[]) => [...d].reverse()]) {
      expect(rulesFrom(order(chain(MAX_CORRELATION_CHAIN)).join('---\n')).findings).toEqual([]);
      const deep = rulesFrom(order(chain(MAX_CORRELATION_CHAIN + 1)).join('---\n'));
      expect(errors(deep.findings)).toEqual([
        expect.stringMatching(
          new RegExp(
            `^\\d+:3 correlations count one another more than ${MAX_CORRELATION_CHAIN} deep: c${MAX_CORRELATION_CHAIN + 1} -> c${MAX_CORRELATION_CHAIN}`,
          ),
        ),
      ]);
      expect(deep.ruleset.correlations.size).toBe(MAX_CORRELATION_CHAIN);
    }
    // Thousands chained, last first: each is reported, none overflows the stack, the first 16 still run.
    const long = rulesFrom(chain(3000).reverse().join('---\n'));
    expect(long.ruleset.size).toBe(MAX_CORRELATION_CHAIN + 1);
    expect(errors(long.findings)).toHaveLength(3000 - MAX_CORRELATION_CHAIN);
  });
  it('a rule without layer is layer 1 with a warning; base rules of correlations need none', () => {
    const layerWarnings = (yaml: string) =>
      rulesFrom(yaml)
        .findings.filter((f) => /layer/.test(f.message))
        .map((f) => `${f.line} ${f.message}`);
    const { ruleset } = rulesFrom('title: r\nid: r\ndetection:\n  s: { a: 1 }\n  condition: s\n');
    expect(ruleset.rule('r')!.layer).toBe(1);
    expect(layerWarnings('title: r\nid: r\ndetection:\n  s: { a: 1 }\n  condition: s\n')).toEqual([
      "1 no 'layer': the rule is treated as layer 1 (on-site force)",
    ]);
    const chained =
      'title: c\nid: c\nlayer: 2\ncorrelation:\n  type: event_count\n  rules: [r]\n  timespan: 1m\n  condition: { gte: 2 }\n---\ntitle: r\nid: r\ndetection:\n  s: { a: 1 }\n  condition: s\n';
    expect(layerWarnings(chained)).toEqual([]);
  });
  it('canhgac response fields are read', () => {
    const { ruleset } = rulesFrom(
      'title: r\nid: r\nlayer: 2\nlevel: high\nresponse:\n  runbook: Block it.\n  escalate_after: 15m\n  share_national: true\ndetection:\n  s: { a: 1 }\n  condition: s\n',
    );
    expect(ruleset.rule('r')!.response).toEqual({ runbook: 'Block it.', escalateAfterMs: 900_000, shareNational: true });
  });
  it('unknown fields warn with a did-you-mean', () => {
    const { findings } = rulesFrom('title: r\nid: r\nlayer: 1\ndetection:\n  s: { destination.prot: 22 }\n  condition: s\n');
    expect(findings.map((f) => f.message)).toEqual([
      "field 'destination.prot' is not in the event schema or the field mappings (did you mean 'destination.port'?)",
    ]);
  });
  it('folders load recursively, skipping lists/, drills/, decoders/ and the context files, whose context they use', () => {
    const dir = mkdtempSync(join(tmpdir(), 'rules-'));
    mkdirSync(join(dir, 'lists'));
    mkdirSync(join(dir, 'drills'));
    writeFileSync(join(dir, 'drills', 'scenario.yml'), 'name: not a rule\n');
    mkdirSync(join(dir, 'decoders'));
    writeFileSync(join(dir, 'decoders', 'acme.yml'), 'name: acme-waf\n');
    mkdirSync(join(dir, 'layer1'));
    writeFileSync(join(dir, 'lists', 'bad.txt'), '6.6.6.6\n');
    writeFileSync(join(dir, 'fields.yml'), 'fields:\n  Attacker: source.ip\n');
    writeFileSync(join(dir, 'assets.yml'), 'assets:\n  - { host: web01, unit: U, security_level: 4, owner: { name: O } }\n');
    writeFileSync(join(dir, 'layer1', 'r.yml'), "title: r\nid: r\nlayer: 1\ndetection:\n  s: { Attacker|expand: '%bad%' }\n  condition: s\n");
    const { ruleset, findings } = loadRuleSet([join(dir, 'layer1', 'r.yml')]);
    expect(findings).toEqual([]);
    expect(ruleset.match({ source: { ip: '6.6.6.6' } }).map((m) => m.rule.id)).toEqual(['r']);
    expect(ruleset.context.assets.lookup('WEB01')?.security_level).toBe(4);
    expect(loadRuleSet([dir]).ruleset.size).toBe(1);
  });
});

describe('the index', () => {
  /** Random rules over a few fields, then: indexed match == every rule's predicate evaluated. */
  it('returns exactly what evaluating every rule would', () => {
    let seed = 7;
    const rnd = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    const fields = ['a', 'b', 'event.action', 'destination.port'];
    const vals = ['xray', 'yankee', 'Zulu', '22', 'deny', 'x', 'denied', 'ray/den', 'ee-zu'];
    const mods = ['', '', '|contains', '|startswith', '|endswith', '|cased', '|contains|all', '|windash|contains'];
    const docs: string[] = [];
    for (let i = 0; i < 200; i++) {
      const value = () => (rnd(5) === 0 ? `'${vals[rnd(vals.length)]!.slice(0, 2)}*${vals[rnd(vals.length)]!.slice(-1)}'` : vals[rnd(vals.length)]);
      const sel = () => {
        const items = fields.filter(() => rnd(2)).map((f) => `${f}${mods[rnd(mods.length)]}: ${rnd(3) ? value() : `[${value()}, ${value()}]`}`);
        // An empty selection ({}) is refused, as it would match every event.
        return items.length ? items : [`a: ${value()}`];
      };
      const s1 = sel();
      const s2 = sel();
      const cond = ['s1', 's1 and s2', 's1 or s2', 's1 and not s2', '1 of s*', 'all of s*'][rnd(6)];
      const cat = ['', 'logsource: { category: firewall }\n', 'logsource: { product: pfsense }\n'][rnd(3)];
      const s3 = rnd(8) === 0 ? `  s3: [${value()}, ${value()}]\n` : '';
      docs.push(
        `title: r${i}\nid: r${i}\nlayer: 1\n${cat}detection:\n  s1: {${s1.join(', ')}}\n  s2: {${s2.join(', ')}}\n${s3}  condition: ${s3 ? `s3 and ${cond}` : cond}\n`,
      );
    }
    const { ruleset, findings } = rulesFrom(docs.join('---\n'), context());
    expect(errors(findings)).toEqual([]);
    let matched = 0;
    for (let i = 0; i < 1000; i++) {
      const event: Record<string, unknown> = {};
      for (const f of fields)
        if (rnd(4))
          event[f] = f === 'destination.port' && rnd(2) ? 22 : rnd(3) ? vals[rnd(vals.length)] : `${vals[rnd(vals.length)]}-${vals[rnd(vals.length)]}`;
      if (rnd(2)) event.message = `${vals[rnd(vals.length)]} and ${vals[rnd(vals.length)]}`;
      if (rnd(2)) event['event.category'] = ['network'];
      if (rnd(2)) event['observer.product'] = 'pfSense';
      const tokens = new Set<string>();
      if (event['event.category']) tokens.add('category:firewall');
      if (event['observer.product']) tokens.add('product:pfsense');
      const expected = [...ruleset.detections.values()]
        .filter((r) => r.logsource.every((t) => tokens.has(t)) && r.predicate(event))
        .map((r) => r.info.id)
        .sort();
      const got = ruleset
        .match(event)
        .map((m) => m.rule.id)
        .sort();
      expect(got).toEqual(expected);
      matched += got.length;
    }
    expect(matched).toBeGreaterThan(100);
  });
});
