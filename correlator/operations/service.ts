import type { Bus } from '../../shared/bus/types.ts';
import type { Level } from '../../shared/incident.ts';
import type { Logger } from '../../shared/log.ts';
import type { IncidentStore } from '../../shared/store/types.ts';
import type { Topics } from '../../shared/topics.ts';
import type { Finding } from '../../shared/yaml-source.ts';
import type { AssetRegister } from '../detection/assets.ts';
import type { SlowRule } from '../detection/budget.ts';
import type { RegisteredServer } from './audits/coverage.ts';
import type { AlertSink } from './audits/findings.ts';
import type { OperationsSection } from './config.ts';
import { NationalExporter } from './national/export.ts';
import type { SecurityLevelOf } from './national/qualify.ts';
import { OperationsSchedule } from './schedule.ts';
import type { TelemetryLedger } from './telemetry.ts';

export interface OperationsServiceOptions {
  config: OperationsSection;
  bus: Bus;
  store: IncidentStore;
  topics: Topics;
  /** The correlator's IncidentSink: audit findings become incidents through it. */
  sink: AlertSink;
  /** Fed by the correlator's raw stage (observeEvent, observeHeartbeat). */
  ledger: TelemetryLedger;
  /** The asset register in force now (it hot-reloads with the rules). */
  assets: () => AssetRegister;
  /** The rules' last load or reload findings (RulesWatcher.findings). */
  ruleFindings: () => readonly Finding[];
  /** The rules the evaluation budget disabled (EvaluationBudget.slowRules). */
  slowRules?: () => readonly SlowRule[];
  /** rules/lists/ */
  listsDir: string;
  /** Consumer group of the national exporter on soc.incidents. */
  groupId: string;
  timezone: string;
  ackDueMsByLevel: Record<Level, number>;
  reportDueMs: number;
  log: Logger;
  owns?: (host: string | null) => boolean;
  now?: () => Date;
}

export function registeredServers(register: AssetRegister): RegisteredServer[] {
  return register.assets.map((a) => ({ host: a.host, unit: a.unit, securityLevel: a.security_level }));
}

/** The ledger's host names: a log's alias or address becomes the register's name, so audits find it. */
export function canonicalHost(assets: () => AssetRegister): (host: string) => string {
  return (host) => assets().lookup(host)?.host ?? host;
}

export interface RunningOperations {
  schedule: OperationsSchedule;
  exporter: NationalExporter | null;
  stop(): Promise<void>;
}

/**
 * Layers 3 and 4 next to the correlator: the national exporter following soc.incidents (when the
 * national section is configured) and the cron schedule of escalation, audits, report, export sweep and
 * feed imports.
 */
export async function startOperations(o: OperationsServiceOptions): Promise<RunningOperations> {
  const producer = await o.bus.producer();
  const trail = { store: o.store, producer, incidentsTopic: o.topics.incidents, now: o.now ?? (() => new Date()), log: o.log };
  const securityLevelOf: SecurityLevelOf = (h) => o.assets().lookup(h)?.security_level;
  const exporter = o.config.national
    ? new NationalExporter({ trail, nationalTopic: o.topics.national, config: o.config.national, securityLevelOf, reportDueMs: o.reportDueMs })
    : null;
  const schedule = new OperationsSchedule({
    trail,
    sink: o.sink,
    ledger: o.ledger,
    servers: () => registeredServers(o.assets()),
    ruleFindings: o.ruleFindings,
    slowRules: o.slowRules,
    securityLevelOf,
    owns: o.owns,
    exporter,
    listsDir: o.listsDir,
    timezone: o.timezone,
    config: o.config,
    ackDueMsByLevel: o.ackDueMsByLevel,
    reportDueMs: o.reportDueMs,
  });
  try {
    schedule.start();
    await exporter?.start(o.bus, o.groupId);
  } catch (err) {
    await schedule.stop();
    await producer.close();
    throw err;
  }
  return {
    schedule,
    exporter,
    async stop() {
      await schedule.stop();
      await exporter?.stop();
      await producer.close();
    },
  };
}
