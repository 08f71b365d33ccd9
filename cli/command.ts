import { parseArgs, type ParseArgsConfig } from 'node:util';

/** One `canhgac` subcommand. Files in cli/commands/ export `command` and are found by name. */
export interface Command {
  name: string;
  summary: string;
  /** Full help text, printed by `canhgac NAME --help`. */
  usage: string;
  run(argv: string[]): Promise<number>;
}

/** Bad usage: exit status 2 with a one-line message. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** A failure the user can act on: exit status 1 with a one-line message (file and line where there is one). */
export class CommandError extends Error {
  override name = 'CommandError';
}

type Options = NonNullable<ParseArgsConfig['options']>;

export function parseFlags<O extends Options>(argv: string[], options: O, allowPositionals = true) {
  try {
    return parseArgs({ args: argv, options: { ...options, help: { type: 'boolean', short: 'h' } }, allowPositionals, strict: true });
  } catch (err) {
    throw new UsageError((err as Error).message.split('\n')[0]);
  }
}

export function wantsHelp(argv: string[]): boolean {
  return argv.includes('--help') || argv.includes('-h');
}
