import { pino, type Logger } from 'pino';

/** JSON logs on stderr (stdout belongs to command output), with the component in every line. */
export function createLogger(component: string, bindings: Record<string, unknown> = {}, level?: string): Logger {
  const chosen = level ?? process.env.CANHGAC_LOG_LEVEL ?? (process.env.VITEST ? 'silent' : 'info');
  return pino({ level: chosen, base: { component, pid: process.pid, ...bindings } }, pino.destination(2));
}

export type { Logger };
