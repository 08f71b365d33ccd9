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

export type WellKnown = keyof typeof KEYS;

export function mapWellKnown(get: (field: WellKnown) => string | undefined, input: DecodeInput, draft: Draft): void {
  const [sIp, sPort] = splitAddress(get('sourceIp'));
  const [dIp, dPort] = splitAddress(get('destinationIp'));
  setSource(draft, sIp, get('sourcePort') ?? sPort);
  setDestination(draft, dIp, get('destinationPort') ?? dPort);
  setTransport(draft, get('transport'));
  setUser(draft, get('user'));
  setThreat(draft, get('threat'));
  const path = get('path');
  if (path && (path.includes('/') || path.includes('\\'))) setFilePath(draft, path);
  setHash(draft, get('sha256'), 'sha256');
  setHash(draft, get('md5'), 'md5');
  const host = get('host');
  if (host) draft.host = { name: host };
  const t = get('time');
  const ts = t ? iso(parseAny(t.replace('T', ' '), input.time)) : undefined;
  if (ts) draft['@timestamp'] = ts;
  const action = present(get('action'));
  if (action) draft.event.action = action;
  addType(draft, verdict(action) ?? 'info');
}

// Every wanted name gets a slot, so that a record's values are gathered in one pass over its keys and each
// field then reads a few array slots instead of probing the record once per candidate name.
const SLOT = new Map<string, number>();
for (const names of Object.values(KEYS)) for (const n of names) if (!SLOT.has(n)) SLOT.set(n, SLOT.size);
const SLOTS = Object.fromEntries(Object.entries(KEYS).map(([field, names]) => [field, names.map((n) => SLOT.get(n)!)])) as Record<WellKnown, number[]>;

/** A case-insensitive getter over a record (the first key of each lower-cased name), skipping placeholder values. */
export function lookup(record: Record<string, unknown>): (field: WellKnown) => string | undefined {
  // Holes read as undefined; filling the array first would cost more than the whole pass.
  const found = new Array<unknown>(SLOT.size);
  for (const k in record) {
    const slot = SLOT.get(k.toLowerCase());
    if (slot !== undefined) found[slot] ??= record[k];
  }
  return (field) => {
    for (const slot of SLOTS[field]) {
      const v = found[slot];
      const s = typeof v === 'string' ? v : typeof v === 'number' ? String(v) : undefined;
      const p = present(s);
      if (p !== undefined) return p;
    }
    return undefined;
  };
}
