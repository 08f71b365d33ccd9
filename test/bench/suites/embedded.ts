import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { Alert, Incident, IncidentStatus, Level } from '../../../shared/incident.ts';
import { EmbeddedIncidentStore } from '../../../shared/store/embedded.ts';
import { alertFixture, incidentFixture } from '../../../shared/store/fixtures.ts';
import type { IncidentFilter } from '../../../shared/store/types.ts';
import { percentile, type BenchContext, type BenchSuite, type Figure } from '../figure.ts';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = join(HERE, '..', '..', '..');
const CANHGAC = join(ROOT, 'bin', 'canhgac.mjs');

const INCIDENTS = Number(process.env.BENCH_EMBEDDED_INCIDENTS ?? 200_000);
const ALERTS_PER_INCIDENT = 10;
const FLOOD_LINES = Number(process.env.BENCH_EMBEDDED_FLOOD ?? 300_000);
/** How long after a flood RSS is read: the bus's 60 s keep window, and the correlator's windows on top. */
const SETTLE_MS = Number(process.env.BENCH_EMBEDDED_SETTLE_MS ?? 100_000);
/**
 * Which parts run (comma-separated: soak, kill9, flood; default all). `flood` alone runs the floods on an
 * empty data folder: minutes instead of the soak's year of data, for work on memory after a flood.
 */
const PARTS = new Set((process.env.BENCH_EMBEDDED_PARTS ?? 'soak,kill9,flood').split(',').map((p) => p.trim()));
const YEAR_MS = 365 * 86_400_000;
/** The soak's "now": the end of the simulated year. */
const END = Date.parse('2026-12-01T00:00:00.000Z');
/** Thirteen months of data, so that retention (12 months) has a month to delete. */
const START = END - YEAR_MS - 31 * 86_400_000;

const UNITS = Array.from({ length: 30 }, (_, i) => `so-unit-${i}`);
const HOSTS = Array.from({ length: 60 }, (_, i) => `srv-${String(i).padStart(2, '0')}`);
const RULES = [
  'SSH brute force against a shared server',
  'Port scan sweep from outside the perimeter',
  'Malware found on a workstation and not cleaned',
  'Administrator login outside office hours',
  'Traffic to a known command and control domain',
  'Log source went silent',
  'Web shell upload attempt',
  'Repeated VPN authentication failures',
].map((title, i) => ({ id: `r-${i}`, title, level: (['low', 'medium', 'high', 'critical'] as Level[])[i % 4]!, layer: (i % 4) + 1 }));
const STATUSES: IncidentStatus[] = [
  'resolved',
  'resolved',
  'resolved',
  'resolved',
  'resolved',
  'resolved',
  'false_positive',
  'false_positive',
  'acknowledged',
  'new',
];

/** A deterministic pseudo-random sequence, so that two runs write the same year. */
function rng(seed: number) {
  let s = seed >>> 0;
  return () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32;
}

function incidentAt(n: number, r: () => number): Incident {
  const t = START + Math.floor((n / INCIDENTS) * (END - START));
  const rule = RULES[Math.floor(r() * RULES.length)]!;
  const at = new Date(t).toISOString();
  const last = new Date(t + Math.floor(r() * 3_600_000)).toISOString();
  const status = STATUSES[Math.floor(r() * STATUSES.length)]!;
  return incidentFixture({
    id: `inc-${n}`,
    rule,
    group: { 'source.ip': `198.51.${Math.floor(r() * 256)}.${Math.floor(r() * 256)}` },
    group_key: `source.ip=198.51.${n % 256}.${(n >> 8) % 256}`,
    status,
    layer: rule.layer,
    severity: rule.level,
    unit: UNITS[Math.floor(r() * UNITS.length)]!,
    host: [HOSTS[Math.floor(r() * HOSTS.length)]!],
    first_seen: at,
    last_seen: last,
    updated_at: last,
    alert_count: ALERTS_PER_INCIDENT,
    drill: r() < 0.02 ? `drill-${n % 12}` : null,
    timeline:
      status === 'new'
        ? []
        : [
            {
              at: last,
              actor: 'lan',
              action: status === 'acknowledged' ? 'acknowledge' : 'resolve',
              note: r() < 0.3 ? 'Blocked the source at the FortiGate; confirmed with the unit' : undefined,
            },
          ],
  });
}

function folderBytes(dir: string): number {
  let n = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) n += e.isDirectory() ? folderBytes(join(dir, e.name)) : statSync(join(dir, e.name)).size;
  return n;
}

const ms = (values: number[]) => values.sort((a, b) => a - b);

/** A year of a small site written through the store, then the console's queries, retention and size. */
async function soak(ctx: BenchContext, dir: string): Promise<Figure[]> {
  const figures: Figure[] = [];
  let clock = START;
  const store = new EmbeddedIncidentStore(join(dir, 'store'), { now: () => new Date(clock) });
  await store.init();
  const r = rng(18);
  const loop = monitorEventLoopDelay({ resolution: 5 });
  loop.enable();
  const t0 = performance.now();
  // The size of one correlator batch: 100 incidents and their 1,000 alerts per transaction.
  const BATCH = 100;
  for (let n = 0; n < INCIDENTS; n += BATCH) {
    const incidents = Array.from({ length: Math.min(BATCH, INCIDENTS - n) }, (_, k) => incidentAt(n + k, r));
    await store.upsertIncidents(incidents);
    const alerts: Alert[] = incidents.flatMap((i) => Array.from({ length: ALERTS_PER_INCIDENT }, (_, a) => alertFixture(i, a)));
    await store.writeAlerts(alerts);
    clock = Date.parse(incidents.at(-1)!.last_seen);
    if (n % 20_000 === 0 && n)
      ctx.log(
        `${n} incidents, ${n * ALERTS_PER_INCIDENT} alerts written (${Math.round((performance.now() - t0) / 1000)} s, rss ${Math.round(process.memoryUsage().rss / 2 ** 20)} MB)`,
      );
    await new Promise((res) => setImmediate(res));
  }
  loop.disable();
  const writeSecs = (performance.now() - t0) / 1000;
  figures.push({
    bench: 'embedded.soak.write',
    unit: 'alerts/s',
    value: Math.round((INCIDENTS * ALERTS_PER_INCIDENT) / writeSecs),
    note: `${INCIDENTS} incidents, ${INCIDENTS * ALERTS_PER_INCIDENT} alerts, one transaction per batch of ${BATCH} incidents / ${BATCH * ALERTS_PER_INCIDENT} alerts`,
  });
  figures.push({
    bench: 'embedded.soak.event-loop-delay',
    unit: 'ms',
    value: loop.max / 1e6,
    p50: loop.percentile(50) / 1e6,
    p99: loop.percentile(99) / 1e6,
    note: 'event-loop delay while writing (max as value)',
  });

  clock = END;
  const retention = await store.applyRetention();
  const cutoff = Date.parse(retention.before);
  figures.push({
    bench: 'embedded.soak.retention',
    unit: 'alerts deleted',
    value: retention.alerts,
    note: `${retention.incidents} closed incidents deleted; before ${retention.before}`,
  });
  const older = (await store.alertHistogram({ from: new Date(START - 86_400_000).toISOString(), to: retention.before, intervalMinutes: 60 * 24 * 31 })).reduce(
    (a, b) => a + b.count,
    0,
  );
  figures.push({
    bench: 'embedded.soak.retention.left-older',
    unit: 'alerts',
    value: older,
    note: `alerts older than ${new Date(cutoff).toISOString()} left after retention (expected 0)`,
  });

  const q = rng(7);
  const pick = <T>(xs: T[]) => xs[Math.floor(q() * xs.length)]!;
  const filters: Record<string, () => IncidentFilter> = {
    none: () => ({}),
    status: () => ({ status: pick<IncidentStatus>(['new', 'acknowledged', 'resolved']) }),
    layer: () => ({ layer: pick([1, 2, 3, 4]) }),
    severity: () => ({ severity: pick<Level>(['low', 'medium', 'high', 'critical']) }),
    unit: () => ({ unit: pick(UNITS) }),
    host: () => ({ host: pick(HOSTS) }),
    rule: () => ({ rule: pick(RULES).id }),
    time: () => {
      const from = END - Math.floor(q() * YEAR_MS);
      return { from: new Date(from).toISOString(), to: new Date(from + 7 * 86_400_000).toISOString() };
    },
    'status+unit+time': () => ({ status: 'resolved', unit: pick(UNITS), from: new Date(END - 30 * 86_400_000).toISOString() }),
    'page-20': () => ({ status: 'resolved', page: 20, size: 50 }),
    'q-word': () => ({ q: pick(['brute', 'malware', 'silent', 'vpn', 'fortigate', 'shell']) }),
    'q-prefix+filter': () => ({ q: `${pick(['brut', 'malw', 'comm', 'scan'])}*`, status: 'resolved' }),
    'q-host': () => ({ q: pick(HOSTS) }),
  };
  for (const [name, make] of Object.entries(filters)) {
    const times: number[] = [];
    let total = 0;
    for (let i = 0; i < 60; i++) {
      const t = performance.now();
      total += (await store.searchIncidents(make())).total;
      times.push(performance.now() - t);
    }
    const sorted = ms(times);
    figures.push({
      bench: `embedded.query.${name}`,
      unit: 'ms',
      value: percentile(sorted, 99),
      p50: percentile(sorted, 50),
      p99: percentile(sorted, 99),
      note: `60 queries, page of 50, mean total ${Math.round(total / 60)}`,
    });
  }
  const tAlerts: number[] = [];
  for (let i = 0; i < 60; i++) {
    const t = performance.now();
    await store.alertsOf(`inc-${Math.floor(q() * INCIDENTS)}`);
    tAlerts.push(performance.now() - t);
  }
  figures.push({
    bench: 'embedded.query.alerts-of',
    unit: 'ms',
    value: percentile(ms(tAlerts), 99),
    p50: percentile(tAlerts, 50),
    p99: percentile(tAlerts, 99),
  });
  const th = performance.now();
  await store.alertHistogram({ from: new Date(END - 86_400_000).toISOString(), to: new Date(END).toISOString(), intervalMinutes: 5 });
  figures.push({ bench: 'embedded.query.histogram-24h', unit: 'ms', value: performance.now() - th });
  figures.push({
    bench: 'embedded.soak.rss',
    unit: 'MB',
    value: Math.round(process.memoryUsage().rss / 2 ** 20),
    note: 'the bench process (tsx, every suite, generator, store, queries); the start process with this store: embedded.flood.rss baseline',
  });
  await store.close();
  figures.push({
    bench: 'embedded.soak.folder',
    unit: 'MB',
    value: Math.round(folderBytes(dir) / 2 ** 20),
    note: 'data folder after retention and a clean close',
  });
  return figures;
}

/** A writer child process acknowledging incidents of the soak's store, killed with SIGKILL at three random moments. */
async function killNine(ctx: BenchContext, dir: string): Promise<Figure[]> {
  const script = join(dir, 'writer.mts');
  writeFileSync(
    script,
    `import { EmbeddedIncidentStore } from ${JSON.stringify(join(ROOT, 'shared', 'store', 'embedded.ts'))};
const store = new EmbeddedIncidentStore(${JSON.stringify(join(dir, 'store'))}, { now: () => new Date(${END}) });
const opened = performance.now();
await store.init();
process.stdout.write('open ' + Math.round(performance.now() - opened) + '\\n');
for (let n = Number(process.argv[2]); ; n++) {
  const id = 'inc-' + (${INCIDENTS} - 1 - n);
  const r = await store.updateIncident(id, (i) => ({ ...i, status: 'acknowledged', assignee: 'kill9' })).catch(() => null);
  if (r) process.stdout.write('ack ' + id + '\\n');
}
`,
  );
  const acked = new Set<string>();
  const opens: number[] = [];
  let next = 0;
  for (let round = 0; round < 3; round++) {
    const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', script, String(next)], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
    let buf = '';
    child.stdout!.on('data', (d: Buffer) => {
      buf += d.toString();
      const lines = buf.split('\n');
      buf = lines.pop()!;
      for (const l of lines) {
        if (l.startsWith('ack ')) acked.add(l.slice(4));
        if (l.startsWith('open ')) opens.push(Number(l.slice(5)));
      }
    });
    await new Promise((res) => setTimeout(res, 3000 + Math.random() * 4000));
    const exited = new Promise((res) => child.once('exit', res));
    child.kill('SIGKILL');
    await exited;
    next = Math.floor(((round + 1) * INCIDENTS) / 4);
    ctx.log(`kill -9 round ${round + 1}: ${acked.size} acknowledgements so far`);
  }
  const check = new EmbeddedIncidentStore(join(dir, 'store'), { now: () => new Date(END) });
  const t = performance.now();
  await check.init();
  const openMs = performance.now() - t;
  let lost = 0;
  for (const id of acked) if ((await check.getIncident(id))?.assignee !== 'kill9') lost++;
  await check.close();
  return [
    { bench: 'embedded.kill9.lost', unit: 'acknowledgements', value: lost, note: `of ${acked.size} acknowledged before three SIGKILLs (expected 0)` },
    {
      bench: 'embedded.kill9.open',
      unit: 'ms',
      value: openMs,
      p50: percentile(ms([...opens]), 50),
      p99: Math.max(...opens),
      note: 'store open after the last kill (p50/p99: opens after each kill, in the child incl. init)',
    },
  ];
}

function rssOf(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

interface StartProcess {
  child: ChildProcess;
  base: string;
  syslogPort: number;
}

function startCanhgac(data: string, config: string): Promise<StartProcess> {
  const env: NodeJS.ProcessEnv = { ...process.env, CANHGAC_ADMIN_PASSWORD: 'bench-embedded-password' };
  delete env.KAFKA_BROKERS;
  delete env.ELASTICSEARCH_URL;
  const child = spawn(process.execPath, [CANHGAC, 'start', '--no-demo', '--port', '0', '--data', data, '--config', config], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  return new Promise((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const c = /console\s+(http:\/\/\S+?)\/?\s/.exec(out);
      const s = /syslog\s+\S+ on 127\.0\.0\.1:(\d+)/.exec(out);
      if (c && s) resolve({ child, base: c[1]!.replace('localhost', '127.0.0.1'), syslogPort: Number(s[1]) });
    });
    child.once('exit', (code) => reject(new Error(`start exited with ${code}: ${err}`)));
  });
}

async function answering(base: string): Promise<void> {
  for (;;) {
    try {
      const res = await fetch(`${base}/api/health`);
      if (res.status < 500 || res.status === 503) return;
    } catch {
      // not yet listening
    }
    await new Promise((r) => setTimeout(r, 20));
  }
}

function send(port: number, lines: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const sock = connect(port, '127.0.0.1', async () => {
      for (let i = 0; i < lines.length; i += 2000) {
        const ok = sock.write(lines.slice(i, i + 2000).join('\n') + '\n');
        if (!ok) await new Promise((r) => sock.once('drain', r));
      }
      sock.end(resolve);
    });
    sock.once('error', reject);
  });
}

/** Two floods of real vendor lines through `canhgac start`'s syslog source: RSS before, at the peak, after; then a restart. */
async function floods(ctx: BenchContext, dir: string): Promise<Figure[]> {
  const corpus = readFileSync(process.env.CANHGAC_CORPUS ?? join(ROOT, '..', 'shared', 'corpus', 'decoders-dev.ndjson'), 'utf8');
  const vendorLines = corpus
    .split('\n')
    .filter(Boolean)
    .map((l) => (JSON.parse(l) as { line: string }).line)
    .filter((l) => l.startsWith('<') && !l.includes('\n'));
  const lines = Array.from({ length: FLOOD_LINES }, (_, i) => vendorLines[i % vendorLines.length]!);
  const config = join(dir, 'start.yml');
  writeFileSync(config, 'collector:\n  host: bench-gw\n  sources:\n    - { type: syslog, name: flood, protocol: tcp, listen: { host: 127.0.0.1, port: 0 } }\n');
  // The soak's folder: the start opens the year of data, so that its RSS and restart include it.
  const data = dir;
  let s = await startCanhgac(data, config);
  await answering(s.base);
  await new Promise((r) => setTimeout(r, 5000));
  const plateau = rssOf(s.child.pid!);
  const figures: Figure[] = [];
  const after: number[] = [];
  let peak = plateau;
  for (let f = 0; f < 2; f++) {
    const sampler = setInterval(() => (peak = Math.max(peak, rssOf(s.child.pid!))), 250);
    const t = performance.now();
    await send(s.syslogPort, lines);
    ctx.log(`flood ${f + 1}: ${FLOOD_LINES} lines sent in ${Math.round(performance.now() - t)} ms; waiting for the keep window and the correlator`);
    await new Promise((r) => setTimeout(r, SETTLE_MS));
    clearInterval(sampler);
    after.push(rssOf(s.child.pid!));
  }
  figures.push(
    {
      bench: 'embedded.flood.rss',
      unit: 'MB',
      value: after.at(-1)!,
      baseline: plateau,
      ratio: Math.round((after.at(-1)! / plateau) * 1000) / 1000,
      note: `after two floods of ${FLOOD_LINES} lines and ${SETTLE_MS / 1000} s each, against the plateau before (target: ratio <= 1.2)`,
    },
    {
      bench: 'embedded.flood.rss.after-first',
      unit: 'MB',
      value: after[0]!,
      baseline: plateau,
      ratio: Math.round((after[0]! / plateau) * 1000) / 1000,
      note: 'after the first flood',
    },
    {
      bench: 'embedded.flood.rss.peak',
      unit: 'MB',
      value: peak,
      baseline: plateau,
      ratio: Math.round((peak / plateau) * 1000) / 1000,
      note: 'highest during the floods',
    },
  );
  const stopped = new Promise((r) => s.child.once('exit', r));
  s.child.kill('SIGTERM');
  await stopped;
  // Three restarts on the folder the floods left: one alone is at the mercy of whatever else runs.
  const restarts: number[] = [];
  for (let n = 0; n < 3; n++) {
    const t = performance.now();
    s = await startCanhgac(data, config);
    await answering(s.base);
    restarts.push(performance.now() - t);
    const done = new Promise((r) => s.child.once('exit', r));
    s.child.kill('SIGTERM');
    await done;
  }
  const sorted = ms(restarts);
  figures.push({
    bench: 'embedded.flood.restart',
    unit: 'ms',
    value: percentile(sorted, 50),
    p50: percentile(sorted, 50),
    p99: sorted.at(-1)!,
    note: 'spawn of canhgac start to the console answering, after the floods: median of 3 (p99: the slowest)',
  });
  return figures;
}

export const suite: BenchSuite = {
  name: 'embedded',
  async run(ctx) {
    const dir = mkdtempSync(join(tmpdir(), 'bench-embedded-'));
    try {
      const figures: Figure[] = [];
      if (PARTS.has('soak')) figures.push(...(await soak(ctx, dir)));
      if (PARTS.has('kill9')) figures.push(...(await killNine(ctx, dir)));
      if (PARTS.has('flood')) figures.push(...(await floods(ctx, dir)));
      return figures;
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
};
