import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type { Finding } from '../../shared/yaml-source.ts';
import { AssetRegister } from './assets.ts';
import type { EvaluationBudget } from './budget.ts';
import { eventTokenizer, type EventTokens } from './compile/logsource.ts';
import { RuleIndex } from './compile/rule-index.ts';
import { compileDetection, ruleInfo, type CompiledDetection } from './compile/rule.ts';
import { compileCorrelation, type CorrelationDef, type RuleRef } from './correlation/definition.ts';
import { costFinding } from './cost.ts';
import { forgetFolded } from './fields/fold.ts';
import { forgetKeywordStrings } from './fields/keywords.ts';
import { FieldMapping } from './fields/mapping.ts';
import { DEFAULT_RULE_LIMITS, MAX_CORRELATION_CHAIN, type ContextLimits, type RuleLimits } from './limits.ts';
import { ListStore } from './lists.ts';
import type { RuleInfo, RuleMatch } from './model.ts';
import { parseRuleFile, type ParsedRule } from './parse/documents.ts';

/** What rules are read against: field mapping (rules/fields.yml), lists (rules/lists/), asset register (rules/assets.yml). */
export interface RuleContext {
  mapping: FieldMapping;
  lists: ListStore;
  assets: AssetRegister;
}

export interface BuildOptions {
  /** File size and cost limits (correlator.ruleLimits); the defaults when absent. */
  limits?: RuleLimits;
  /** Times each evaluation and leaves out rules that overrun (the correlator's); none for lint and tests. */
  budget?: EvaluationBudget;
}

export interface LoadOptions extends BuildOptions {
  /** Defaults to the context found next to the rules (see findContextDir). */
  context?: RuleContext;
  /** Registered after the folder's own assets.yml, which wins on a name both know (the demo's sample register). */
  extraAssets?: AssetRegister;
}

/** Files and folders in a rules folder that are context, not rules (drills/ holds drill scenarios). */
const CONTEXT_FILES = new Set(['assets.yml', 'assets.yaml', 'fields.yml', 'fields.yaml']);
const CONTEXT_DIRS = new Set(['lists', 'drills', 'decoders']);

/** The rule files of the given files and folders (folders recursively; context files and folders left out). */
export function ruleFiles(paths: readonly string[]): { files: string[]; findings: Finding[] } {
  const files: string[] = [];
  const findings: Finding[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const p = join(dir, entry.name);
      if (entry.isDirectory()) {
        if (!CONTEXT_DIRS.has(entry.name) && !entry.name.startsWith('.')) walk(p);
      } else if (/\.ya?ml$/.test(entry.name) && !CONTEXT_FILES.has(entry.name)) files.push(p);
    }
  };
  for (const p of paths) {
    if (!existsSync(p)) {
      findings.push({ file: p, line: 1, col: 1, severity: 'error', message: 'no such file or folder' });
    } else if (statSync(p).isDirectory()) walk(p);
    else files.push(p);
  }
  return { files, findings };
}

/** The nearest folder, from `path` upwards, that holds rules context (fields.yml, assets.yml or lists/). */
export function findContextDir(path: string): string | null {
  let dir = resolve(path);
  if (existsSync(dir) && !statSync(dir).isDirectory()) dir = dirname(dir);
  for (;;) {
    if (['fields.yml', 'assets.yml', 'lists'].some((f) => existsSync(join(dir, f)))) return dir;
    const up = dirname(dir);
    if (up === dir) return null;
    dir = up;
  }
}

/** Loads fields.yml, lists/ and assets.yml of a folder (each missing one means empty defaults), within `limits`. */
export function loadContext(dir: string | null, limits: ContextLimits = DEFAULT_RULE_LIMITS): { context: RuleContext; findings: Finding[] } {
  if (!dir) return { context: { mapping: FieldMapping.defaults(), lists: new ListStore(), assets: AssetRegister.empty() }, findings: [] };
  const m = FieldMapping.load(join(dir, 'fields.yml'), limits);
  const lists = new ListStore();
  const listFindings = lists.loadDir(join(dir, 'lists'), limits);
  const a = AssetRegister.load(join(dir, 'assets.yml'), limits);
  return {
    context: { mapping: m.mapping, lists, assets: a.register ?? AssetRegister.empty() },
    findings: [...m.findings, ...listFindings, ...a.findings],
  };
}

export class RuleSet {
  private readonly index: RuleIndex;
  private readonly tokens: EventTokens;
  private readonly feeds = new Map<string, string[]>();
  private readonly alerting = new Map<string, boolean>();
  private matchSeq = 0;

  constructor(
    readonly detections: ReadonlyMap<string, CompiledDetection>,
    readonly correlations: ReadonlyMap<string, CorrelationDef>,
    readonly context: RuleContext,
    private readonly budget?: EvaluationBudget,
  ) {
    budget?.retain(detections);
    this.index = new RuleIndex(detections.values());
    this.tokens = eventTokenizer(context.mapping.logsources);
    for (const c of correlations.values()) {
      for (const r of c.rules) {
        const list = this.feeds.get(r) ?? [];
        list.push(c.info.id);
        this.feeds.set(r, list);
      }
    }
    // A rule that feeds correlations alerts on its own only when one of them says `generate: true`.
    for (const id of [...detections.keys(), ...correlations.keys()]) {
      const fed = this.feeds.get(id) ?? [];
      this.alerting.set(id, fed.length === 0 || fed.some((c) => correlations.get(c)!.generate));
    }
  }

  get size(): number {
    return this.detections.size + this.correlations.size;
  }

  rule(id: string): RuleInfo | undefined {
    return this.detections.get(id)?.info ?? this.correlations.get(id)?.info;
  }

  rules(): RuleInfo[] {
    return [...[...this.detections.values()].map((d) => d.info), ...[...this.correlations.values()].map((c) => c.info)];
  }

  /** Single-event rules that match; only rules whose log source and indexed field values fit are evaluated. */
  match(event: unknown, opts: { ignoreLogsource?: boolean } = {}): RuleMatch[] {
    const out: RuleMatch[] = [];
    const seq = ++this.matchSeq;
    forgetFolded();
    forgetKeywordStrings();
    const tokens = opts.ignoreLogsource ? null : this.tokens(event);
    this.index.candidates(event, (r) => {
      if (r.seen === seq) return;
      r.seen = seq;
      if (tokens) for (const t of r.logsource) if (!tokens.has(t)) return;
      if (this.budget ? this.budget.evaluate(r, event) : r.predicate(event))
        out.push({ rule: r.info, correlations: this.feeds.get(r.info.id) ?? [], alert: this.alerting.get(r.info.id) ?? true });
    });
    return out;
  }

  /** Whether a rule's own hits are alerts (false for a base rule that only feeds correlations). */
  alerts(ruleId: string): boolean {
    return this.alerting.get(ruleId) ?? true;
  }

  /** The correlations a rule (detection or correlation) feeds. */
  correlationsFedBy(ruleId: string): string[] {
    return this.feeds.get(ruleId) ?? [];
  }

  /** The group-by names of a correlation (alias names as written), for re-keying through soc.correlate. */
  groupByFor(correlationId: string): string[] {
    return this.correlations.get(correlationId)?.groupBy ?? [];
  }

  /**
   * The group-by values a correlation takes from an event that `sourceRuleId` matched (aliases applied),
   * or null when a group-by field is missing (the engine counts such events, it does not group them).
   */
  groupKeyFor(correlationId: string, sourceRuleId: string, event: unknown): Record<string, string> | null {
    const c = this.correlations.get(correlationId);
    const readers = c?.groupReaders.get(sourceRuleId);
    if (!c || !readers) return null;
    const group: Record<string, string> = {};
    for (let i = 0; i < readers.length; i++) {
      const v = readers[i]!(event);
      const s = Array.isArray(v) ? v.map(String).join(',') : v === undefined || v === null ? null : String(v);
      if (s === null) return null;
      group[c.groupBy[i]!] = s;
    }
    return group;
  }
}

/**
 * Builds a rule set from parsed documents: ids checked for duplicates, correlations resolved, and what
 * cannot run reported and left out while the rest keeps working.
 */
export function buildRuleSet(parsed: readonly ParsedRule[], context: RuleContext, opts: BuildOptions = {}): { ruleset: RuleSet; findings: Finding[] } {
  const limits = opts.limits ?? DEFAULT_RULE_LIMITS;
  const findings: Finding[] = [];
  const detections = new Map<string, CompiledDetection>();
  const refs = new Map<string, RuleRef>();
  const where = new Map<string, string>();
  const correlationDocs: { parsed: Extract<ParsedRule, { kind: 'correlation' }>; info: RuleInfo }[] = [];

  const claim = (p: ParsedRule, key: string, path: string, label: string): boolean => {
    const prev = where.get(key);
    if (prev) {
      findings.push(p.at([path], 'error', `duplicate ${label} '${key.slice(key.indexOf(':') + 1)}' (first defined at ${prev})`));
      return false;
    }
    const pos = p.at([path], 'error', '');
    where.set(key, `${pos.file}:${pos.line}:${pos.col}`);
    return true;
  };

  for (const p of parsed) {
    const info = ruleInfo(p, findings);
    if (!info) continue;
    if (!claim(p, `id:${info.id}`, p.doc.id ? 'id' : 'name', p.doc.id ? 'id' : 'name')) continue;
    if (p.doc.name && p.doc.id && !claim(p, `name:${p.doc.name}`, 'name', 'name')) continue;
    // Registered even when it fails to compile, so a correlation counting it says why it cannot run.
    const ref: RuleRef = { id: info.id, name: p.doc.name ?? null, kind: p.kind };
    refs.set(info.id, ref);
    if (p.doc.name) refs.set(p.doc.name, ref);
    if (p.kind === 'detection') {
      const cost = costFinding(p, limits);
      if (cost) findings.push(cost);
      if (cost?.severity === 'error') continue;
      const compiled = compileSafely(p, context, findings);
      if (compiled) detections.set(info.id, compiled);
    } else {
      correlationDocs.push({ parsed: p, info });
    }
  }

  const correlations = new Map<string, CorrelationDef>();
  for (const { parsed: p, info } of correlationDocs) {
    const def = compileCorrelation(p, info, (r) => refs.get(r), context.mapping, findings);
    if (def) correlations.set(info.id, def);
  }
  dropBroken(correlations, detections, findings, correlationDocs);

  const referenced = new Set([...correlations.values()].flatMap((c) => c.rules));
  for (const d of detections.values()) {
    if (d.parsed.doc.layer === undefined && !referenced.has(d.info.id)) {
      findings.push(d.parsed.at(['title'], 'warning', "no 'layer': the rule is treated as layer 1 (on-site force)"));
    }
  }
  for (const { parsed: p, info } of correlationDocs) {
    if (correlations.has(info.id) && p.doc.layer === undefined && !referenced.has(info.id)) {
      findings.push(p.at(['title'], 'warning', "no 'layer': the rule is treated as layer 1 (on-site force)"));
    }
  }
  return { ruleset: new RuleSet(detections, correlations, context, opts.budget), findings };
}

/**
 * Compiles one detection; a failure the checks did not foresee (a bug, an exhausted resource) is that
 * rule's error, never the end of the rule set or of the process that loads it.
 */
function compileSafely(p: Extract<ParsedRule, { kind: 'detection' }>, context: RuleContext, findings: Finding[]): CompiledDetection | null {
  try {
    return compileDetection(p, context, findings);
  } catch (err) {
    findings.push(p.at(['detection'], 'error', `the rule cannot be compiled: ${(err as Error).message}`));
    return null;
  }
}

/**
 * Correlations that count a rule that failed, that count one another in a cycle, or whose chain of
 * correlations counting correlations is longer than MAX_CORRELATION_CHAIN (the engine passes a hit
 * along the chain recursively) cannot run either. Walked without recursion and in time linear in the
 * references, so that a file of thousands of chained correlations is reported, not a stack overflow.
 */
function dropBroken(
  correlations: Map<string, CorrelationDef>,
  detections: ReadonlyMap<string, CompiledDetection>,
  findings: Finding[],
  docs: { parsed: Extract<ParsedRule, { kind: 'correlation' }>; info: RuleInfo }[],
): void {
  const parsedOf = new Map(docs.map((d) => [d.info.id, d.parsed]));
  const fail = (id: string, message: string) => {
    findings.push(parsedOf.get(id)!.at(['correlation', 'rules'], 'error', message));
    correlations.delete(id);
  };
  const countedBy = new Map<string, string[]>();
  for (const [id, c] of correlations) {
    for (const r of c.rules) {
      const list = countedBy.get(r);
      if (list) list.push(id);
      else countedBy.set(r, [id]);
    }
  }
  /** Drops what counts a rule that is gone, and what counts that, and so on. */
  const dropCounting = (gone: Iterable<string>) => {
    const queue = [...gone];
    while (queue.length) {
      const r = queue.pop()!;
      for (const id of countedBy.get(r) ?? []) {
        if (!correlations.has(id)) continue;
        fail(id, `counts rule '${r}', which could not be loaded`);
        queue.push(id);
      }
    }
  };
  dropCounting([...countedBy.keys()].filter((r) => !detections.has(r) && !correlations.has(r)));

  // Depth-first over correlations counting correlations, with the path as an explicit stack.
  const depth = new Map<string, number>();
  const dropped: string[] = [];
  for (const root of [...correlations.keys()]) {
    if (depth.has(root) || !correlations.has(root)) continue;
    const path: { id: string; next: number; deepest: number }[] = [{ id: root, next: 0, deepest: 0 }];
    while (path.length) {
      const top = path[path.length - 1]!;
      const rules = correlations.get(top.id)!.rules;
      if (top.next < rules.length) {
        const r = rules[top.next++]!;
        if (!correlations.has(r)) continue;
        const known = depth.get(r);
        if (known !== undefined && known < MAX_CORRELATION_CHAIN) {
          top.deepest = Math.max(top.deepest, known);
          continue;
        }
        if (known !== undefined) {
          // What counts the top of the path is walked again as roots of its own (or dropped for counting it).
          path.length = 0;
          fail(top.id, `correlations count one another more than ${MAX_CORRELATION_CHAIN} deep: ${top.id} -> ${r} -> ... (${known} below it)`);
          dropped.push(top.id);
          continue;
        }
        const loop = path.findIndex((p) => p.id === r);
        if (loop < 0 && path.length < MAX_CORRELATION_CHAIN) {
          path.push({ id: r, next: 0, deepest: 0 });
          continue;
        }
        const ids = path.splice(0).map((p) => p.id);
        if (loop >= 0) {
          fail(r, `correlations refer to each other in a cycle: ${[...ids.slice(loop), r].join(' -> ')}`);
          // Everything on the path counts the next one, which is part of the cycle or counts it.
          for (let i = ids.length - 1; i >= 0; i--) if (correlations.has(ids[i]!)) fail(ids[i]!, `counts rule '${ids[i + 1] ?? r}', which could not be loaded`);
          dropped.push(...ids);
        } else {
          // Only the root is known to be too deep; the rest of the path is walked again as roots of its own.
          fail(root, `correlations count one another more than ${MAX_CORRELATION_CHAIN} deep: ${[...ids, r].join(' -> ')}`);
          dropped.push(root);
        }
        continue;
      }
      path.pop();
      depth.set(top.id, top.deepest + 1);
      if (path.length) path[path.length - 1]!.deepest = Math.max(path[path.length - 1]!.deepest, top.deepest + 1);
    }
  }
  dropCounting(dropped);
}

/**
 * Loads the rules of files and folders. Broken rules are reported (file:line:col) and left out; the
 * others work. The context (field mapping, lists, assets) is the one found next to the first path
 * unless given.
 */
export function loadRuleSet(paths: readonly string[], opts: LoadOptions = {}): { ruleset: RuleSet; findings: Finding[] } {
  const findings: Finding[] = [];
  let context = opts.context;
  if (!context) {
    const loaded = loadContext(paths[0] === undefined ? null : findContextDir(paths[0]), opts.limits);
    context = opts.extraAssets ? { ...loaded.context, assets: loaded.context.assets.with(opts.extraAssets) } : loaded.context;
    findings.push(...loaded.findings);
  }
  const { files, findings: fileFindings } = ruleFiles(paths);
  findings.push(...fileFindings);
  const parsed: ParsedRule[] = [];
  const limits = opts.limits ?? DEFAULT_RULE_LIMITS;
  for (const f of files) {
    const r = parseRuleFile(f, limits.maxFileBytes);
    findings.push(...r.findings);
    parsed.push(...r.rules);
  }
  const built = buildRuleSet(parsed, context, opts);
  return { ruleset: built.ruleset, findings: sortFindings([...findings, ...built.findings]) };
}

export function sortFindings(findings: Finding[]): Finding[] {
  return [...findings].sort((a, b) => a.file.localeCompare(b.file) || a.line - b.line || a.col - b.col);
}
