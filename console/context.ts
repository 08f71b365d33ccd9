import type {} from '@fastify/swagger';
import type { Logger } from '../shared/log.ts';
import type { IncidentStore } from '../shared/store/types.ts';
import type { Guard } from './auth/guard.ts';
import type { AccountLockout } from './auth/lockout.ts';
import type { SessionStore } from './auth/sessions.ts';
import type { UsersDirectory } from './auth/users-file.ts';
import type { ConsoleMetrics } from './metrics.ts';
import type { ChangeFeed } from './stream/change-feed.ts';
import type { ChangeHub } from './stream/hub.ts';
import type { StreamLimitOptions } from './stream/limits.ts';

/** One rule as the console lists it; the rule engine supplies these through a RulesProvider. */
export interface RuleSummary {
  id: string;
  title: string;
  level: string;
  layer: number;
  file: string;
  description?: string | null;
  runbook?: string | null;
  /** The rule's Vietnamese wording (rules/README.md, `vi:`). */
  vi?: { title?: string; description?: string; runbook?: string } | null;
  lint: { state: 'ok' | 'warning' | 'error'; findings: string[] };
}

/** A rule file that did not load at all (broken YAML, no valid rule): listed so that an admin sees it. */
export interface UnloadedRuleFile {
  file: string;
  findings: string[];
}

export interface RulesReport {
  rules: RuleSummary[];
  unloaded: UnloadedRuleFile[];
}

export type RulesProvider = () => Promise<RulesReport>;

/** What every route plugin of one console instance shares. */
export interface ConsoleContext {
  store: IncidentStore;
  feed: ChangeFeed;
  hub: ChangeHub;
  guard: Guard;
  users: UsersDirectory;
  sessions: SessionStore;
  metrics: ConsoleMetrics;
  rules: RulesProvider;
  log: Logger;
  /** Cookies get Secure when the console itself speaks TLS (or sits behind a TLS proxy). */
  secureCookies: boolean;
  sessionTtlMs: number;
  loginAttemptsPerMinute: number;
  lockout: AccountLockout;
  streamLimits: Partial<StreamLimitOptions>;
  /** A bearer token Prometheus may present at /metrics instead of an admin session. */
  metricsToken?: string;
}
