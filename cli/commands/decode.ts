import { createReadStream, existsSync } from 'node:fs';
import { access } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { CommandError, parseFlags, UsageError, type Command } from '../command.ts';
import { formatFinding } from '../../shared/yaml-source.ts';
import { AssetRegister } from '../../correlator/detection/assets.ts';
import type { AssetFinder } from '../../correlator/decoders/placement.ts';
import { createDecodeSession, DEFAULT_TIMEZONE, ESCAPED_LABEL, isKnownFormat, listFormats, MAX_LINE, oversizedLine } from '../../correlator/decoders/index.ts';
import { isValidTimezone } from '../../correlator/decoders/time.ts';
import { loadDecoders } from '../../correlator/decoders/custom/load.ts';
import { useCustomDecoders } from '../../correlator/decoders/registry.ts';

// A reader keeps at most this many bytes of one line; the rest of a longer line is counted, not stored.
const MAX_LINE_BYTES = MAX_LINE * 4;

async function* lines(input: Readable): AsyncGenerator<{ bytes: Buffer; length: number }> {
  let parts: Buffer[] = [];
  let kept = 0;
  let length = 0;
  const take = (chunk: Buffer) => {
    length += chunk.length;
    if (kept < MAX_LINE_BYTES) {
      const piece = chunk.subarray(0, MAX_LINE_BYTES - kept);
      parts.push(piece);
      kept += piece.length;
    }
  };
  const flush = () => {
    let bytes = parts.length === 1 ? parts[0]! : Buffer.concat(parts);
    let total = length;
    if (bytes.length > 0 && bytes[bytes.length - 1] === 13 && total === bytes.length) {
      bytes = bytes.subarray(0, -1);
      total--;
    }
    parts = [];
    kept = 0;
    length = 0;
    return { bytes, length: total };
  };
  for await (const chunk of input as AsyncIterable<Buffer>) {
    let start = 0;
    for (let nl = chunk.indexOf(10, start); nl >= 0; nl = chunk.indexOf(10, start)) {
      take(chunk.subarray(start, nl));
      yield flush();
      start = nl + 1;
    }
    if (start < chunk.length) take(chunk.subarray(start));
  }
  if (length > 0) yield flush();
}

/** Loads a folder of custom decoders for this run; any error in it stops the command with its positions. */
export function installDecoders(dir: string): void {
  const { decoders, findings } = loadDecoders([dir]);
  for (const f of findings) process.stderr.write(`${formatFinding(f)}\n`);
  const errors = findings.filter((f) => f.severity === 'error').length;
  if (errors) throw new CommandError(`${dir}: ${errors} error(s) in custom decoders (see above); fix them or run canhgac decoders lint ${dir}`);
  useCustomDecoders(decoders.map((d) => d.decoder));
}

function write(text: string): Promise<void> | undefined {
  if (process.stdout.write(text)) return undefined;
  return new Promise((resolve) => process.stdout.once('drain', resolve));
}

/** The register as placement asks it; a missing or broken file is a command error naming what is wrong. */
function registerLookup(file: string): AssetFinder {
  if (!existsSync(file)) throw new CommandError(`${file}: no such file`);
  const { register, findings } = AssetRegister.load(file);
  if (!register) throw new CommandError(findings.map(formatFinding).join('\n'));
  return (name) => {
    const a = register.lookup(name);
    return a ? { host: a.host, unit: a.unit, securityLevel: a.security_level } : undefined;
  };
}

export const command: Command = {
  name: 'decode',
  summary: 'decode raw firewall / antivirus lines to normalized events (JSON lines)',
  usage: `Usage: canhgac decode [--format NAME|auto] [--timezone ZONE] [--assets FILE] [--decoders DIR] [FILE|-]
       canhgac decode --list [--decoders DIR]

Reads raw log lines from FILE (or standard input with - or no FILE) and writes one normalized event
(JSON, ECS field names) per input line on standard output, in input order. A line no decoder
understands becomes an event with event.kind "pipeline_error" and error.message; decoding goes on.
Control characters (shown as control pictures) and invalid UTF-8 (U+FFFD) do not stop a line from
decoding; such events carry labels.line_escaped (control, invalid_utf8).
A summary (lines, decoded per format, errors, lines with characters replaced) goes to standard error. Exit status 0 even when some
lines were pipeline errors; 1 when FILE cannot be read; 2 on bad usage.

Options:
  --format NAME    decode every line as NAME (see --list); auto (default) sniffs each line
  --timezone ZONE  IANA zone for times written without an offset (default ${DEFAULT_TIMEZONE})
  --assets FILE    asset register (rules/assets.yml): a firewall line is placed on the registered server
                   it is about (host.name, labels.unit, labels.security_level), as the correlator does
  --decoders DIR   custom decoders (YAML, see rules/decoders/README.md) tried before the built-in
                   ones; a broken file is reported as FILE:LINE:COL and stops the command (exit 1)
  --list           name the formats and exit`,
  async run(argv) {
    const { values, positionals } = parseFlags(argv, {
      format: { type: 'string' },
      timezone: { type: 'string' },
      assets: { type: 'string' },
      list: { type: 'boolean' },
      decoders: { type: 'string' },
    });
    if (values.decoders !== undefined) installDecoders(values.decoders);
    if (values.list) {
      if (positionals.length || values.format) throw new UsageError('--list takes no other argument');
      const formats = listFormats();
      const width = Math.max(...formats.map((f) => f.name.length));
      for (const f of formats) process.stdout.write(`${f.name.padEnd(width)}  ${f.description}\n`);
      return 0;
    }
    if (positionals.length > 1) throw new UsageError(`one input at most, got ${positionals.length}: ${positionals.join(' ')}`);
    const format = values.format ?? 'auto';
    if (!isKnownFormat(format)) throw new UsageError(`unknown format '${format}' (see canhgac decode --list)`);
    const timezone = values.timezone ?? DEFAULT_TIMEZONE;
    if (!isValidTimezone(timezone)) throw new UsageError(`unknown time zone '${timezone}'`);
    const placement = values.assets === undefined ? undefined : { assets: registerLookup(values.assets) };
    const file = positionals[0] ?? '-';
    let input: Readable;
    if (file === '-') input = process.stdin;
    else {
      try {
        await access(file);
      } catch (err) {
        throw new CommandError(`${file}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message}`);
      }
      input = createReadStream(file, { highWaterMark: 256 * 1024 });
    }
    const session = createDecodeSession();
    const perFormat = new Map<string, number>();
    let total = 0;
    let errors = 0;
    let escaped = 0;
    try {
      for await (const { bytes, length } of lines(input)) {
        total++;
        const received = new Date();
        const event =
          length > bytes.length
            ? oversizedLine(bytes.toString('utf8'), length, { received })
            : session.decodeBytes(bytes, { format, timezone, received, placement });
        if (event.labels?.[ESCAPED_LABEL] !== undefined) escaped++;
        if (event.event.kind === 'pipeline_error') errors++;
        else {
          const name = String(event.event.module ?? format);
          perFormat.set(name, (perFormat.get(name) ?? 0) + 1);
        }
        const pending = write(`${JSON.stringify(event)}\n`);
        if (pending) await pending;
      }
    } catch (err) {
      throw new CommandError(`${file === '-' ? 'standard input' : file}: ${(err as Error).message}`);
    }
    const decoded = [...perFormat.entries()]
      .sort((a, b) => b[1] - a[1])
      .map(([n, c]) => `${n} ${c}`)
      .join(', ');
    process.stderr.write(
      `decode: ${total} lines, ${total - errors} decoded${decoded ? ` (${decoded})` : ''}, ${errors} pipeline errors${escaped ? `, ${escaped} with characters replaced (labels.line_escaped)` : ''}\n`,
    );
    return 0;
  },
};
