import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CronJob, validateCronExpression } from 'cron';
import type { Level } from '../../shared/incident.ts';
import type { Finding } from '../../shared/yaml-source.ts';
import type { SlowRule } from '../detection/budget.ts';
import { coverageAudit, type RegisteredServer } from './audits/coverage.ts';
import { applyFindings, type AlertSink, type AuditOutcome } from './audits/findings.ts';
import { ruleHealthAudit } from './audits/rule-health.ts';
import { ruleSpeedAudit } from './audits/rule-speed.ts';
import { signatureAgeAudit } from './audits/signature-age.ts';
import { silentSourcesAudit } from './audits/silent-sources.ts';
import type { OperationsSection } from './config.ts';
import { escalateOverdue, type EscalationRun } from './escalation.ts';
import type { NationalExporter } from './national/export.ts';
import { importFeed, type ImportResult } from './national/feeds.ts';
import type { SecurityLevelOf } from './national/qualify.ts';
import { collectReport, reportHtml, reportText, type OperationsReport } from './report.ts';
import type { TelemetryLedger } from './telemetry.ts';
import type { Trail } from './trail.ts';

export interface OperationsDeps {
  trail: Trail;
  /** Where audit findings become incidents: the correlator's IncidentSink. */
  sink: AlertSink;
  ledger: TelemetryLedger;
  /** The asset register now (it hot-reloads). */
  servers: () => readonly RegisteredServer[];
  /** The findings of the rules' last load or reload (RulesWatcher.findings). */
  ruleFindings: () => readonly Finding[];
  /** The rules the evaluation budget disabled (none when absent). */
  slowRules?: () => readonly SlowRule[];
  securityLevelOf: SecurityLevelOf;
  /** Which hosts this instance audits (null: host-less findings); all when absent (one instance). */
  owns?: (host: string | null) => boolean;
  exporter?: NationalExporter | null;
  /** rules/lists/: where imported feeds are written. */
  listsDir: string;
  timezone: string;
  config: OperationsSection;
  /** The correlator's per-severity acknowledgement deadlines and national report delay. */
  ackDueMsByLevel: Record<Level, number>;
  reportDueMs: number;
}

/** A cron expression that cron 4 refuses, named by the job it belongs to (a config error at start). */
export class ScheduleError extends Error {
  override name = 'ScheduleError';
}

interface Job {
  name: string;
  cron: string;
  run: () => Promise<unknown>;
}

/**
 * Layer-3 and layer-4 jobs on cron schedules: escalation, the audits, the daily report, the national
 * export sweep and each feed import. A job whose previous run is still going skips its tick; a failing
 * run is logged and the next tick tries again, never taking the process down.
 */
export class OperationsSchedule {
  private readonly cronJobs: CronJob[] = [];
  private readonly running = new Set<string>();

  constructor(private readonly d: OperationsDeps) {}

  runEscalation(): Promise<EscalationRun> {
    const esc = this.d.config.escalation;
    const byLayer: Partial<Record<number, number>> = {};
    for (const [layer, ms] of Object.entries(esc.ackAfterByLayer)) if (ms !== undefined) byLayer[Number(layer)] = ms;
    return escalateOverdue(this.d.trail, {
      ackDueMsByLevel: this.d.ackDueMsByLevel,
      ackDueMsByLayer: byLayer,
      reportDueMs: this.d.reportDueMs,
      securityLevelOf: this.d.securityLevelOf,
    });
  }

  async runAudits(): Promise<AuditOutcome[]> {
    const a = this.d.config.audits;
    const now = this.d.trail.now();
    const servers = this.d.servers();
    const batches = [
      ['coverage', coverageAudit(servers, this.d.ledger, now, a.coverageWindow)],
      [
        'silent-source',
        silentSourcesAudit(this.d.ledger, servers, now, { heartbeatLostMs: a.heartbeatLost, silentAfterMs: a.silentAfter, dropWindowMs: a.coverageWindow }),
      ],
      ['signature-age', signatureAgeAudit(servers, this.d.ledger, now, a.signatureMaxAge)],
      ['rule-health', ruleHealthAudit(this.d.ruleFindings())],
      ['rule-speed', ruleSpeedAudit(this.d.slowRules?.() ?? [])],
    ] as const;
    const out: AuditOutcome[] = [];
    for (const [name, findings] of batches) out.push(await applyFindings(this.d.trail, this.d.sink, name, findings, this.d.owns));
    return out;
  }

  /** The report of the 24 hours before now, written as JSON, text and HTML into the report folder. */
  async runReport(period?: { from: Date; to: Date }): Promise<{ report: OperationsReport; files: string[] }> {
    const now = this.d.trail.now();
    const p = period ?? { from: new Date(now.getTime() - 24 * 3600_000), to: now };
    const report = await collectReport(this.d.trail.store, p, now, this.d.config.national?.dueSoon ?? 2 * 24 * 3600_000);
    const dir = this.d.config.report.dir;
    mkdirSync(dir, { recursive: true });
    const base = join(dir, `canhgac-report-${report.period.to.replace(/[:.]/g, '-')}`);
    const files: string[] = [];
    for (const [ext, body] of [
      ['json', `${JSON.stringify(report, null, 2)}\n`],
      ['txt', reportText(report)],
      ['html', reportHtml(report)],
    ] as const) {
      const file = `${base}.${ext}`;
      writeFileSync(`${file}.tmp`, body);
      renameSync(`${file}.tmp`, file);
      files.push(file);
    }
    this.d.trail.log.info({ files, incidents: report.total.incidents }, 'operations report written');
    return { report, files };
  }

  async runFeeds(): Promise<ImportResult[]> {
    const out: ImportResult[] = [];
    for (const feed of this.d.config.feeds) out.push(await importFeed(feed, this.d.listsDir, { now: this.d.trail.now, log: this.d.trail.log }));
    return out;
  }

  jobs(): Job[] {
    const c = this.d.config;
    const jobs: Job[] = [
      { name: 'escalation', cron: c.escalation.schedule, run: () => this.runEscalation() },
      { name: 'audits', cron: c.audits.schedule, run: () => this.runAudits() },
      { name: 'report', cron: c.report.schedule, run: () => this.runReport() },
    ];
    const exporter = this.d.exporter;
    if (exporter && c.national) jobs.push({ name: 'national-sweep', cron: c.national.retrySchedule, run: () => exporter.exportPending() });
    for (const feed of c.feeds)
      jobs.push({
        name: `feed:${feed.name}`,
        cron: feed.schedule,
        run: () => importFeed(feed, this.d.listsDir, { now: this.d.trail.now, log: this.d.trail.log }),
      });
    return jobs;
  }

  /** Runs a job now unless its previous run is still going; never throws. Returns false when skipped. */
  async tick(job: Job): Promise<boolean> {
    if (this.running.has(job.name)) {
      this.d.trail.log.warn({ job: job.name }, 'previous run still going; tick skipped');
      return false;
    }
    this.running.add(job.name);
    try {
      await job.run();
    } catch (err) {
      this.d.trail.log.error({ job: job.name, err: (err as Error).message }, 'scheduled job failed; the next tick retries');
    } finally {
      this.running.delete(job.name);
    }
    return true;
  }

  /** Checks every cron expression first, so a bad one is a clear error at start rather than a job that never runs. */
  start(): void {
    const jobs = this.jobs();
    for (const j of jobs) {
      const v = validateCronExpression(j.cron);
      if (!v.valid) throw new ScheduleError(`operations job '${j.name}': '${j.cron}' is not a cron expression (${v.error?.message ?? 'invalid'})`);
    }
    for (const j of jobs) {
      this.cronJobs.push(
        CronJob.from({ cronTime: j.cron, timeZone: this.d.timezone, start: true, unrefTimeout: true, onTick: () => void this.tick(j), name: j.name }),
      );
    }
    this.d.trail.log.info({ jobs: jobs.map((j) => `${j.name} ${j.cron}`) }, 'operations schedule started');
  }

  async stop(): Promise<void> {
    for (const j of this.cronJobs) await j.stop();
    this.cronJobs.length = 0;
    while (this.running.size) await new Promise((r) => setTimeout(r, 20));
  }
}
