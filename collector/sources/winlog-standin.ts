import { chmodSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Test support: a stand-in for PowerShell's Get-WinEvent on a machine without Windows. `install` writes
 * a Node script named `pwsh` and `powershell` into a folder to put first on PATH; it decodes the
 * -EncodedCommand the winlog reader passes, takes the channel, the event-id filter, the record-id
 * filter and -MaxEvents from it, and prints what Get-WinEvent would from the channels a JSON file holds.
 */
const SCRIPT = String.raw`
const { readFileSync, appendFileSync } = require('node:fs');
const args = process.argv.slice(2);
const i = args.indexOf('-EncodedCommand');
if (i < 0) { process.stderr.write('stand-in: no -EncodedCommand\n'); process.exit(2); }
const script = Buffer.from(args[i + 1], 'base64').toString('utf16le');
const channel = /^\$log = '((?:[^']|'')*)'$/m.exec(script)[1].replaceAll("''", "'");
const query = /-FilterXPath '((?:[^']|'')*)' -Oldest -MaxEvents (\d+)/.exec(script);
const xpath = query[1].replaceAll("''", "'");
const max = Number(query[2]);
const after = Number(/EventRecordID>(\d+)/.exec(xpath)[1]);
const tests = [];
for (const m of xpath.matchAll(/\(EventID>=(\d+) and EventID<=(\d+)\)|EventID=(\d+)/g)) {
  if (m[3] !== undefined) tests.push((id) => id === Number(m[3]));
  else tests.push((id) => id >= Number(m[1]) && id <= Number(m[2]));
}
if (process.env.WINLOG_STANDIN_CALLS) appendFileSync(process.env.WINLOG_STANDIN_CALLS, JSON.stringify({ channel, xpath, max }) + '\n');
let store;
try { store = JSON.parse(readFileSync(STORE ?? process.env.WINLOG_STANDIN_STORE, 'utf8')); } catch { store = { channels: {} }; }
const events = store.channels[channel];
if (!events) { process.stderr.write("Get-WinEvent : There is not an event log on the localhost computer that matches \"" + channel + "\".\n"); process.exit(1); }
const out = [JSON.stringify({ bounds: { oldest: events[0]?.RecordId ?? null, newest: events.at(-1)?.RecordId ?? null } })];
for (const e of events) {
  if (out.length > max) break;
  if (e.RecordId > after && (tests.length === 0 || tests.some((t) => t(e.EventID)))) out.push(JSON.stringify(e));
}
process.stdout.write(out.join('\r\n') + '\r\n');
`;

export interface StandinEvent {
  EventID: number;
  RecordId: number;
  ProviderName: string;
  Channel: string;
  Computer: string;
  TimeCreated: string;
  Level: string;
  EventData: Record<string, string>;
}

/**
 * Writes the stand-in as `pwsh` and `powershell` into `binDir`; returns the folder to put first on PATH.
 * It reads the event log file named by WINLOG_STANDIN_STORE, or `store` when given (one machine's log
 * per stand-in, for several collectors in one process).
 */
export function installStandin(binDir: string, store?: string): string {
  mkdirSync(binDir, { recursive: true });
  for (const name of ['pwsh', 'powershell']) {
    const file = join(binDir, name);
    writeFileSync(file, `#!${process.execPath}\nconst STORE = ${JSON.stringify(store ?? null)};\n${SCRIPT}`);
    chmodSync(file, 0o755);
  }
  return binDir;
}

/** The event log the stand-in reads: channels of records with increasing record ids, written atomically. */
export class StandinLog {
  private readonly channels: Record<string, StandinEvent[]> = {};
  private readonly next: Record<string, number> = {};

  constructor(readonly file: string) {
    this.save();
  }

  /** Appends events to their channel, numbering them as the event log does; returns them. */
  append(events: Omit<StandinEvent, 'RecordId'>[]): StandinEvent[] {
    const added = events.map((e) => {
      const id = (this.next[e.Channel] ??= 1);
      this.next[e.Channel] = id + 1;
      const ev = { ...e, RecordId: id };
      (this.channels[e.Channel] ??= []).push(ev);
      return ev;
    });
    this.save();
    return added;
  }

  /** Creates an empty channel (Get-WinEvent fails on a channel that does not exist). */
  create(channel: string): void {
    this.channels[channel] ??= [];
    this.save();
  }

  /** wevtutil cl: the channel is emptied and its record ids start again at 1. */
  clear(channel: string): void {
    this.channels[channel] = [];
    this.next[channel] = 1;
    this.save();
  }

  /** The log reached its maximum size: its oldest records are overwritten. */
  dropOldest(channel: string, n: number): void {
    this.channels[channel] = (this.channels[channel] ?? []).slice(n);
    this.save();
  }

  private save(): void {
    writeFileSync(`${this.file}.tmp`, JSON.stringify({ channels: this.channels }));
    renameSync(`${this.file}.tmp`, this.file);
  }
}
