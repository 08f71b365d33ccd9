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

/**
 * The common life of a service command (`collector`, `correlator`, `console`): `--config FILE`,
 * read and check the config, start, run until SIGTERM or SIGINT, stop cleanly.
 */
export async function runService<C, R extends { stop(): Promise<void> }>(
  argv: string[],
  load: (file: string) => C,
  start: (config: C, file: string) => Promise<R>,
  started?: (running: R) => void,
): Promise<number> {
  const { values, positionals } = parseFlags(argv, { config: { type: 'string' } }, false);
  if (positionals.length) throw new UsageError(`unexpected argument '${positionals[0]}'`);
  if (!values.config) throw new UsageError('missing --config FILE');
  let config: C;
  try {
    config = load(values.config);
  } catch (err) {
    // A bad config names its file, line and field; anything else is a failure too, not a crash.
    throw new CommandError((err as Error).message);
  }
  let running: R;
  try {
    running = await start(config, values.config);
  } catch (err) {
    throw new CommandError((err as Error).message);
  }
  started?.(running);
  await new Promise<void>((resolve) => {
    process.once('SIGTERM', resolve);
    process.once('SIGINT', resolve);
  });
  await running.stop();
  return 0;
}
