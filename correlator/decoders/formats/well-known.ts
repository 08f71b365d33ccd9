import { addType, present, setDestination, setFilePath, setHash, setSource, setThreat, setTransport, setUser, verdict } from '../ecs.ts';
import { iso, parseAny } from '../time.ts';
import type { DecodeInput, Draft } from '../types.ts';

/**
 * Field names many products share, for records no dedicated decoder knows (generic JSON and key=value):
 * lower-cased names in order of preference.
 */
const KEYS = {
  sourceIp: ['source_ip', 'src_ip', 'srcip', 'sourceip', 'sourceaddress', 'src', 'clientaddress', 'client_ip', 'local_ip', 'localip'],
  sourcePort: ['source_port', 'src_port', 'srcport', 'sourceport', 'sport', 'spt', 'local_port'],
  destinationIp: ['destination_ip', 'dst_ip', 'dstip', 'destinationip', 'destinationaddress', 'dst', 'destaddress', 'remote_ip', 'remoteip', 'serveraddress'],
  destinationPort: ['destination_port', 'dst_port', 'dstport', 'destinationport', 'dport', 'dpt', 'destport', 'remote_port'],
  transport: ['protocol', 'proto', 'transport', 'protocolname', 'ipproto'],
  user: ['user', 'username', 'user_name', 'usr', 'login', 'account', 'accountname'],
  threat: ['threat_name', 'threatname', 'malware_name', 'malware', 'virus', 'virus_name', 'detection', 'signature'],
  path: ['file_path', 'filepath', 'path', 'object_path', 'file'],
  sha256: ['sha256', 'file_sha256', 'filesha256'],
  md5: ['md5', 'file_md5', 'filemd5'],
  host: ['hostname', 'host_name', 'computer_name', 'computername', 'device_name'],
  time: ['timestamp', 'time', 'date', 'eventtime', 'event_time', 'created', 'occurred', '@timestamp'],
  action: ['action', 'act', 'disposition', 'fw_action'],
};

/** "1.2.3.4:443" (and "1.2.3.4:443:X1") as address and port; three colons or more make an IPv6 address. */
function splitAddress(value: string | undefined): [string | undefined, string | undefined] {
  if (value === undefined) return [value, undefined];
  const c1 = value.indexOf(':');
  if (c1 < 0) return [value, undefined];
  const c2 = value.indexOf(':', c1 + 1);
  if (c2 >= 0 && value.indexOf(':', c2 + 1) >= 0) return [value, undefined];
  return [value.slice(0, c1), c2 < 0 ? value.slice(c1 + 1) : value.slice(c1 + 1, c2)];
}

/** The well-known fields of a record (JSON object or key=value pairs) to ECS, names matched case-insensitively. */
export function mapWellKnown(record: Record<string, unknown>, input: DecodeInput, draft: Draft): void {
  const found = gather(record);
  const [sIp, sPort] = splitAddress(pick(found, SLOTS.sourceIp));
  const [dIp, dPort] = splitAddress(pick(found, SLOTS.destinationIp));
  setSource(draft, sIp, pick(found, SLOTS.sourcePort) ?? sPort);
  setDestination(draft, dIp, pick(found, SLOTS.destinationPort) ?? dPort);
  setTransport(draft, pick(found, SLOTS.transport));
  setUser(draft, pick(found, SLOTS.user));
  setThreat(draft, pick(found, SLOTS.threat));
  const path = pick(found, SLOTS.path);
  if (path && (path.includes('/') || path.includes('\\'))) setFilePath(draft, path);
  setHash(draft, pick(found, SLOTS.sha256), 'sha256');
  setHash(draft, pick(found, SLOTS.md5), 'md5');
  const host = pick(found, SLOTS.host);
  if (host) draft.host = { name: host };
  const t = pick(found, SLOTS.time);
  const ts = t ? iso(parseAny(t.replace('T', ' '), input.time)) : undefined;
  if (ts) draft['@timestamp'] = ts;
  const action = present(pick(found, SLOTS.action));
  if (action) draft.event.action = action;
  addType(draft, verdict(action) ?? 'info');
}

// Every wanted name gets a slot, so that a record's values are gathered in one pass over its keys and each
// field then reads a few array slots instead of probing the record once per candidate name.
const SLOT = new Map<string, number>();
for (const names of Object.values(KEYS)) for (const n of names) if (!SLOT.has(n)) SLOT.set(n, SLOT.size);
const SLOTS = Object.fromEntries(Object.entries(KEYS).map(([field, names]) => [field, names.map((n) => SLOT.get(n)!)])) as Record<keyof typeof KEYS, number[]>;

/** The record's value for each wanted name: the first key that lower-cases to it. */
function gather(record: Record<string, unknown>): unknown[] {
  // Holes read as undefined; filling the array first would cost more than the whole pass.
  const found = new Array<unknown>(SLOT.size);
  for (const k in record) {
    const slot = SLOT.get(k.toLowerCase());
    if (slot !== undefined) found[slot] ??= record[k];
  }
  return found;
}

/** The first present (non-placeholder) string or number among the slots, in order of preference. */
function pick(found: unknown[], slots: readonly number[]): string | undefined {
  for (const slot of slots) {
    const v = found[slot];
    const p = present(typeof v === 'string' ? v : typeof v === 'number' ? String(v) : undefined);
    if (p !== undefined) return p;
  }
  return undefined;
}
