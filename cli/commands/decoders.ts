import { isAbsolute, relative } from 'node:path';
import { parseFlags, UsageError, type Command } from '../command.ts';
import { formatFinding } from '../../shared/yaml-source.ts';
import { loadDecoders } from '../../correlator/decoders/custom/load.ts';

const USAGE = `Usage: canhgac decoders lint [PATH...]

  lint   check custom decoder files and folders (default: rules/decoders): YAML, schema, RE2
         expressions, timestamp formats and zones, field names the parser cannot produce, and the
         tests each file carries. One line per finding, PATH:LINE:COL: error|warning: MESSAGE, then
         a summary. Exit 1 when there is an error.

Custom decoders are YAML files in the decoders/ folder of the rules; the correlator reloads them on
change (a broken file keeps its last good version), and canhgac decode --decoders DIR and
canhgac rules test use them. See rules/decoders/README.md.`;

function display(file: string): string {
  if (!isAbsolute(file)) return file;
  const rel = relative(process.cwd(), file);
  return rel.startsWith('..') ? file : rel;
}

export const command: Command = {
  name: 'decoders',
  summary: 'lint custom decoders (YAML files in rules/decoders)',
  usage: USAGE,
  async run(argv) {
    const [sub, ...rest] = argv;
    if (sub === undefined) throw new UsageError('missing subcommand: lint');
    if (sub !== 'lint') throw new UsageError(`unknown subcommand '${sub}': lint`);
    const { positionals } = parseFlags(rest, {});
    const { decoders, findings, files } = loadDecoders(positionals.length ? positionals : ['rules/decoders']);
    for (const f of findings) process.stdout.write(`${formatFinding({ ...f, file: display(f.file) })}\n`);
    const errors = findings.filter((f) => f.severity === 'error').length;
    const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;
    process.stdout.write(
      `${plural(files, 'file')}, ${plural(decoders.length, 'decoder')} loaded: ${plural(errors, 'error')}, ${plural(findings.length - errors, 'warning')}\n`,
    );
    return errors ? 1 : 0;
  },
};
