import { readFileSync } from 'node:fs';
import { getField } from '../../../shared/event.ts';
import { transport } from '../ecs.ts';
import { decodeLine } from '../index.ts';

/**
 * Agreement between the decoders and the public parsers' expected fields on the shared corpus
 * (../shared/corpus/decoders-dev.ndjson): per vendor, how many of the compared fields came out equal.
 */
export const COMPARED = [
  'source.ip',
  'source.port',
  'destination.ip',
  'destination.port',
  'network.transport',
  'event.type',
  'file.path',
  'file.name',
  'file.hash.sha256',
  'file.hash.md5',
  'threat.software.name',
  'user.name',
] as const;

/** The vendors issue 4 names; the 98% bar applies to them pooled. */
export const NAMED_VENDORS = [
  'iptables',
  'pfsense',
  'fortigate',
  'cisco_asa',
  'cisco_ftd',
  'windows_firewall',
  'windows_defender',
  'cef',
  'paloalto',
  'sophos',
  'checkpoint',
  'sonicwall',
  'juniper_srx',
  'kaspersky',
  'symantec_endpoint',
  'trendmicro_apexone',
  'eset',
];

export interface CorpusCase {
  id: string;
  vendor: string;
  line: string;
  expect: Record<string, unknown>;
}

export interface Mismatch {
  id: string;
  vendor: string;
  field: string;
  expected: unknown;
  actual: unknown;
}

export interface VendorRow {
  vendor: string;
  cases: number;
  compared: number;
  agreed: number;
  pipelineErrors: number;
}

const CASE_INSENSITIVE = new Set([
  'user.name',
  'threat.software.name',
  'file.name',
  'file.path',
  'file.hash.sha256',
  'file.hash.md5',
  'source.ip',
  'destination.ip',
]);

function verdictWord(types: unknown): string | undefined {
  const list = Array.isArray(types) ? types : [types];
  if (list.includes('denied')) return 'denied';
  if (list.includes('allowed')) return 'allowed';
  return undefined;
}

/** Compares one field; undefined when the expectation does not constrain the field. */
function agrees(field: string, expected: unknown, event: Record<string, unknown>): [boolean, unknown] | undefined {
  if (field === 'event.type') {
    const want = verdictWord(expected);
    if (want === undefined) return undefined;
    const got = getField(event, 'event.type');
    return [verdictWord(got) === want, got];
  }
  const actual = getField(event, field);
  if (field === 'network.transport') return [transport(expected as string) === transport(actual as string), actual];
  if (field === 'user.name' && typeof expected === 'string' && expected.includes('\\')) {
    // The decoders split DOMAIN\user into user.domain and user.name, as ECS asks.
    const domain = getField(event, 'user.domain');
    const joined = domain === undefined ? actual : `${domain}\\${actual}`;
    return [String(joined).toLowerCase() === expected.toLowerCase(), joined];
  }
  if (CASE_INSENSITIVE.has(field) && typeof expected === 'string' && typeof actual === 'string')
    return [expected.toLowerCase() === actual.toLowerCase(), actual];
  if (Array.isArray(expected) && typeof actual === 'string') return [expected.includes(actual), actual];
  return [expected === actual, actual];
}

export function readCorpus(file: string): CorpusCase[] {
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.trim().length > 0)
    .map((l) => JSON.parse(l) as CorpusCase);
}

export function measureAgreement(cases: CorpusCase[]): { rows: VendorRow[]; mismatches: Mismatch[] } {
  const rows = new Map<string, VendorRow>();
  const mismatches: Mismatch[] = [];
  // A fixed receive time: the corpus lines without a year then resolve the same way on every run.
  const received = new Date('2026-11-26T00:00:00Z');
  for (const c of cases) {
    const row = rows.get(c.vendor) ?? { vendor: c.vendor, cases: 0, compared: 0, agreed: 0, pipelineErrors: 0 };
    rows.set(c.vendor, row);
    row.cases++;
    const event = decodeLine(c.line, { received }) as unknown as Record<string, unknown>;
    if ((event.event as { kind: string }).kind === 'pipeline_error') row.pipelineErrors++;
    for (const field of COMPARED) {
      if (!(field in c.expect)) continue;
      const r = agrees(field, c.expect[field], event);
      if (r === undefined) continue;
      row.compared++;
      if (r[0]) row.agreed++;
      else mismatches.push({ id: c.id, vendor: c.vendor, field, expected: c.expect[field], actual: r[1] });
    }
  }
  return { rows: [...rows.values()].sort((a, b) => a.vendor.localeCompare(b.vendor)), mismatches };
}

export function formatTable(rows: VendorRow[]): string {
  const named = new Set(NAMED_VENDORS);
  const lines = ['vendor                 named  cases  compared  agreed  agreement  pipeline_errors'];
  for (const r of rows) {
    const pct = r.compared ? ((100 * r.agreed) / r.compared).toFixed(1) : '-';
    lines.push(
      `${r.vendor.padEnd(22)} ${(named.has(r.vendor) ? 'yes' : '').padEnd(5)} ${String(r.cases).padStart(6)} ${String(r.compared).padStart(9)} ${String(r.agreed).padStart(7)} ${pct.padStart(10)} ${String(r.pipelineErrors).padStart(16)}`,
    );
  }
  const pool = (filter: (r: VendorRow) => boolean) => {
    const sel = rows.filter(filter);
    const compared = sel.reduce((s, r) => s + r.compared, 0);
    const agreed = sel.reduce((s, r) => s + r.agreed, 0);
    return `${agreed}/${compared} = ${compared ? ((100 * agreed) / compared).toFixed(2) : '-'}%`;
  };
  lines.push(`named vendors pooled: ${pool((r) => named.has(r.vendor))}`);
  lines.push(`all vendors pooled:   ${pool(() => true)}`);
  return lines.join('\n');
}
