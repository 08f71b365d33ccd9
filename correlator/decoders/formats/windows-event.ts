import type { DecodeInput, Draft } from '../types.ts';
import { iso, parseDateTime } from '../time.ts';
import { jsonObject, str } from './json-payload.ts';

/**
 * A Windows event log record as JSON, whichever shipper wrote it: NXLog/Snare (fields at the top level),
 * Winlogbeat (winlog.event_data) or a plain EventData object.
 */
export interface WindowsEvent {
  id: number;
  provider: string;
  channel: string;
  data: Record<string, unknown>;
  top: Record<string, unknown>;
}

function obj(v: unknown): Record<string, unknown> | undefined {
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
}

export function windowsEvent(input: DecodeInput): WindowsEvent | undefined {
  const top = jsonObject(input);
  if (!top) return undefined;
  const winlog = obj(top.winlog);
  const id = Number(str(top.EventID) ?? str(winlog?.event_id) ?? str(obj(top.System)?.EventID));
  if (!Number.isInteger(id)) return undefined;
  const provider = str(top.SourceName) ?? str(top.ProviderName) ?? str(winlog?.provider_name) ?? str(obj(top.System)?.Provider) ?? '';
  const channel = str(top.Channel) ?? str(winlog?.channel) ?? '';
  const data = obj(winlog?.event_data) ?? obj(top.EventData) ?? top;
  return { id, provider, channel, data, top };
}

export function field(ev: WindowsEvent, ...names: string[]): string | undefined {
  for (const n of names) {
    const v = str(ev.data[n]) ?? str(ev.top[n]);
    if (v !== undefined && v !== '') return v;
  }
  return undefined;
}

export function windowsCommon(ev: WindowsEvent, input: DecodeInput, draft: Draft): void {
  draft.event.code = String(ev.id);
  const host = str(ev.top.Hostname) ?? str(ev.top.Computer) ?? str(obj(ev.top.winlog)?.computer_name);
  if (host) draft.host = { name: host };
  const when = str(ev.top.TimeCreated) ?? str(ev.top['@timestamp']) ?? str(ev.top.EventTime);
  if (when) {
    const t = iso(parseDateTime(when.replace('T', ' '), input.time));
    if (t) draft['@timestamp'] = t;
  }
}
