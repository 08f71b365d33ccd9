import { spawn } from 'node:child_process';
import { z } from 'zod';

/** What one poll of one channel asks for: the events after the bookmark, oldest first, at most `max`. */
export interface ChannelQuery {
  channel: string;
  /** Only these event ids (sorted); every event when absent. */
  ids?: readonly number[];
  afterRecordId: number;
  max: number;
}

/** One event as the reader printed it: the JSON line shipped as is, and the record id parsed from it. */
export interface ReadEvent {
  recordId: number;
  line: string;
}

export interface ChannelRead {
  /** The channel's oldest and newest record ids (null: the channel is empty), read before the events. */
  oldest: number | null;
  newest: number | null;
  events: ReadEvent[];
}

/** How a winlog source reads the event log; the tests put a stand-in PowerShell on PATH instead of Windows. */
export interface WinlogReader {
  read(q: ChannelQuery): Promise<ChannelRead>;
}

/** Consecutive ids as XPath ranges, so that a long list stays under the event log's XPath size limit. */
function idCondition(ids: readonly number[]): string {
  const parts: string[] = [];
  for (let i = 0; i < ids.length; ) {
    let j = i;
    while (j + 1 < ids.length && ids[j + 1] === ids[j]! + 1) j++;
    parts.push(i === j ? `EventID=${ids[i]}` : `(EventID>=${ids[i]} and EventID<=${ids[j]})`);
    i = j + 1;
  }
  return parts.join(' or ');
}

/** The Get-WinEvent XPath of a query: its event ids and the records after the bookmark. */
export function queryXPath(q: ChannelQuery): string {
  const after = `EventRecordID>${q.afterRecordId}`;
  return `*[System[${q.ids?.length ? `(${idCondition(q.ids)}) and ` : ''}${after}]]`;
}

const quote = (s: string): string => `'${s.replaceAll("'", "''")}'`;

/**
 * The PowerShell script of a query. Its first output line is the channel's record-id bounds, then one
 * compressed JSON object per event, in the top-level shape the windows-event decoder reads (EventID,
 * ProviderName, Channel, Computer, TimeCreated, EventData with the named Data elements of the event XML).
 */
export function powershellScript(q: ChannelQuery): string {
  return [
    "$ErrorActionPreference = 'Stop'",
    '[Console]::OutputEncoding = [Text.Encoding]::UTF8',
    `$log = ${quote(q.channel)}`,
    '$o = Get-WinEvent -LogName $log -MaxEvents 1 -Oldest -ErrorAction SilentlyContinue',
    '$n = Get-WinEvent -LogName $log -MaxEvents 1 -ErrorAction SilentlyContinue',
    '@{ bounds = @{ oldest = $o.RecordId; newest = $n.RecordId } } | ConvertTo-Json -Compress',
    `Get-WinEvent -LogName $log -FilterXPath ${quote(queryXPath(q))} -Oldest -MaxEvents ${q.max} -ErrorAction SilentlyContinue | ForEach-Object {`,
    '  $x = [xml]$_.ToXml(); $d = [ordered]@{}',
    "  foreach ($e in $x.Event.EventData.Data) { if ($e.Name) { $d[$e.Name] = $e.'#text' } }",
    "  [ordered]@{ EventID = $_.Id; RecordId = $_.RecordId; ProviderName = $_.ProviderName; Channel = $_.LogName; Computer = $_.MachineName; TimeCreated = $_.TimeCreated.ToUniversalTime().ToString('o'); Level = $_.LevelDisplayName; EventData = $d } | ConvertTo-Json -Compress -Depth 3",
    '}',
  ].join('\n');
}

/** The command line: -EncodedCommand (base64 of UTF-16LE) keeps quotes intact through Windows argument parsing. */
export function powershellArgs(q: ChannelQuery): string[] {
  return ['-NoProfile', '-NonInteractive', '-ExecutionPolicy', 'Bypass', '-EncodedCommand', Buffer.from(powershellScript(q), 'utf16le').toString('base64')];
}

const Bounds = z.object({
  bounds: z.object({ oldest: z.number().int().nonnegative().nullable().default(null), newest: z.number().int().nonnegative().nullable().default(null) }),
});
const EventLine = z.looseObject({ RecordId: z.number().int().positive(), EventID: z.number().int().nonnegative() });

/** Parses the reader's output; a line that is not what the script prints names its line number and field. */
export function parseReaderOutput(command: string, channel: string, text: string): ChannelRead {
  const lines = text.split(/\r?\n/).filter((l) => l.trim() !== '');
  const where = (i: number) => `${command} output for '${channel}', line ${i + 1}`;
  const parse = (i: number): unknown => {
    try {
      return JSON.parse(lines[i]!);
    } catch (err) {
      throw new Error(`${where(i)}: not JSON (${(err as Error).message})`);
    }
  };
  if (lines.length === 0) throw new Error(`${command} printed nothing for '${channel}' (expected the bounds line first)`);
  const bounds = Bounds.safeParse(parse(0));
  if (!bounds.success) throw new Error(`${where(0)}: ${bounds.error.issues.map((i) => `${i.path.join('.') || '(line)'}: ${i.message}`).join('; ')}`);
  const events: ReadEvent[] = [];
  for (let i = 1; i < lines.length; i++) {
    const ev = EventLine.safeParse(parse(i));
    if (!ev.success) throw new Error(`${where(i)}: ${ev.error.issues.map((x) => `${x.path.join('.') || '(line)'}: ${x.message}`).join('; ')}`);
    events.push({ recordId: ev.data.RecordId, line: lines[i]!.trim() });
  }
  return { oldest: bounds.data.bounds.oldest, newest: bounds.data.bounds.newest, events };
}

/** Runs PowerShell's Get-WinEvent once per query. */
export class PowershellReader implements WinlogReader {
  constructor(
    private readonly command: string,
    private readonly timeoutMs = 60_000,
  ) {}

  read(q: ChannelQuery): Promise<ChannelRead> {
    return new Promise((resolve, reject) => {
      const child = spawn(this.command, powershellArgs(q), { stdio: ['ignore', 'pipe', 'pipe'], windowsHide: true, timeout: this.timeoutMs });
      const out: Buffer[] = [];
      const err: Buffer[] = [];
      child.stdout.on('data', (b: Buffer) => out.push(b));
      child.stderr.on('data', (b: Buffer) => err.push(b));
      child.once('error', (e) => reject(new Error(`cannot run ${this.command}: ${e.message}`)));
      child.once('close', (code, signal) => {
        if (code !== 0) {
          const why = Buffer.concat(err).toString('utf8').trim().slice(0, 500);
          reject(new Error(`${this.command} exited with ${signal ?? code} reading '${q.channel}'${why ? `: ${why}` : ''}`));
          return;
        }
        try {
          resolve(parseReaderOutput(this.command, q.channel, Buffer.concat(out).toString('utf8')));
        } catch (e) {
          reject(e as Error);
        }
      });
    });
  }
}
