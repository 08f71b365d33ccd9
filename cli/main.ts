import { readdirSync } from 'node:fs';
import { dirname, extname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { CommandError, UsageError, wantsHelp, type Command } from './command.ts';

const here = fileURLToPath(import.meta.url);
const commandsDir = join(dirname(here), 'commands');
// .ts when run from the sources (tests), .js when run from dist/ (the bin).
const ext = extname(here);

function commandNames(): string[] {
  return readdirSync(commandsDir)
    .filter((f) => f.endsWith(ext) && !f.endsWith(`.test${ext}`))
    .map((f) => f.slice(0, -ext.length))
    .sort();
}

async function loadCommand(name: string): Promise<Command> {
  const mod = (await import(pathToFileURL(join(commandsDir, `${name}${ext}`)).href)) as { command: Command };
  return mod.command;
}

async function overview(): Promise<string> {
  const commands = await Promise.all(commandNames().map(loadCommand));
  const width = Math.max(...commands.map((c) => c.name.length));
  return [
    'canhgac: security-operations event monitor (firewall and antivirus logs, four-layer model)',
    '',
    'Usage: canhgac <command> [options]',
    '',
    'Commands:',
    ...commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    '',
    'Run `canhgac <command> --help` for the options of one command.',
  ].join('\n');
}

/** Runs one command line and returns the exit status: 0 success, 1 failure, 2 bad usage. */
export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(`${await overview()}\n`);
    return name === undefined ? 2 : 0;
  }
  if (!commandNames().includes(name)) {
    process.stderr.write(`canhgac: unknown command '${name}' (see canhgac --help)\n`);
    return 2;
  }
  const command = await loadCommand(name);
  if (wantsHelp(rest)) {
    process.stdout.write(`${command.usage.trimEnd()}\n`);
    return 0;
  }
  try {
    return await command.run(rest);
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`canhgac ${name}: ${err.message}\n`);
      return 2;
    }
    const message = err instanceof Error ? err.message : String(err);
    for (const line of message.split('\n')) process.stderr.write(`canhgac ${name}: ${line}\n`);
    if (!(err instanceof CommandError) && process.env.CANHGAC_DEBUG && err instanceof Error) process.stderr.write(`${err.stack}\n`);
    return 1;
  }
}
