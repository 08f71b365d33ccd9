import { join } from 'node:path';
import { CommandError, UsageError } from '../../cli/command.ts';
import { command } from '../../cli/commands/collector.ts';
import { loadCollectorConfig } from '../config.ts';

/**
 * canhgac-collector.exe: the collector alone, for a Windows server (a single executable application).
 * Without --config it reads %ProgramData%\canhgac\collector.yml, where the service install puts it;
 * --check reads and checks the config, then exits (0 when it is valid).
 */
export const DEFAULT_CONFIG = join(process.env.ProgramData ?? 'C:\\ProgramData', 'canhgac', 'collector.yml');

const USAGE = `Usage: canhgac-collector [--config FILE] [--check]

${command.usage.split('\n').slice(2).join('\n')}

  --check         read and check the config, print what it would start, and exit
Without --config: ${DEFAULT_CONFIG}`;

async function main(argv: string[]): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const check = argv.includes('--check');
  const rest = argv.filter((a) => a !== '--check');
  const args = rest.includes('--config') ? rest : [...rest, '--config', DEFAULT_CONFIG];
  if (check) {
    const file = args[args.indexOf('--config') + 1];
    if (!file) throw new UsageError('missing --config FILE');
    try {
      const c = loadCollectorConfig(file).collector;
      process.stdout.write(`${file}: valid; host ${c.host}, sources ${c.sources.map((s) => `${s.name} (${s.type})`).join(', ')}\n`);
      return 0;
    } catch (err) {
      throw new CommandError((err as Error).message);
    }
  }
  return command.run(args);
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`canhgac-collector: ${(err as Error).message}\n`);
    process.exit(err instanceof UsageError ? 2 : 1);
  },
);
