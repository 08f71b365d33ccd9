import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { servicesUp } from '../../cli/services/manager.ts';
import type { BenchSuite, Figure } from './figure.ts';

const suitesDir = join(dirname(fileURLToPath(import.meta.url)), 'suites');

async function loadSuites(): Promise<BenchSuite[]> {
  const files = readdirSync(suitesDir)
    .filter((f) => f.endsWith('.ts'))
    .sort();
  return Promise.all(files.map(async (f) => ((await import(pathToFileURL(join(suitesDir, f)).href)) as { suite: BenchSuite }).suite));
}

function fmt(n: number | undefined): string {
  if (n === undefined || Number.isNaN(n)) return '-';
  return n >= 100 ? Math.round(n).toLocaleString('en-US') : n.toFixed(2);
}

function table(figures: Figure[]): string {
  const rows = [
    ['bench', 'unit', 'value', 'baseline', 'ratio', 'p50', 'p99'],
    ...figures.map((f) => [f.bench, f.unit, fmt(f.value), fmt(f.baseline), f.ratio === undefined ? '-' : f.ratio.toFixed(3), fmt(f.p50), fmt(f.p99)]),
  ];
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => r.map((c, i) => (i < 2 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ')).join('\n');
}

/** `npm run bench [-- --only NAME] [-- --json]`. */
export async function runBench(argv: string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({ args: argv, options: { only: { type: 'string', multiple: true }, json: { type: 'boolean' } }, strict: true }));
  } catch (err) {
    process.stderr.write(`bench: ${(err as Error).message}\n`);
    return 2;
  }
  const only = values.only ?? [];
  const suites = (await loadSuites()).filter((s) => only.length === 0 || only.some((o) => s.name === o || s.name.startsWith(`${o}.`)));
  if (suites.length === 0) {
    process.stderr.write(`bench: no suite named ${only.join(', ')}\n`);
    return 2;
  }
  let brokers = process.env.KAFKA_BROKERS;
  let esUrl = process.env.ELASTICSEARCH_URL;
  if (suites.some((s) => s.needsServices) && (!brokers || !esUrl)) {
    const a = await servicesUp();
    brokers ??= a.kafkaBrokers;
    esUrl ??= a.elasticsearchUrl;
  }
  const all: Figure[] = [];
  for (const suite of suites) {
    const log = (m: string) => process.stderr.write(`[${suite.name}] ${m}\n`);
    log('running');
    const figures = await suite.run({ kafkaBrokers: brokers?.split(','), elasticsearchUrl: esUrl, log });
    for (const f of figures) {
      all.push(f);
      if (values.json) process.stdout.write(`${JSON.stringify(f)}\n`);
    }
  }
  if (!values.json) process.stdout.write(`${table(all)}\n`);
  return 0;
}
