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

/** "1.2.3.4:443" (and "1.2.3.4:443:X1") as address and port. */
function splitAddress(value: string | undefined): [string | undefined, string | undefined] {
  if (value === undefined || value.split(':').length > 3) return [value, undefined];
  const [a, p] = value.split(':');
  return [a, p];
}

export function mapWellKnown(get: (names: string[]) => string | undefined, input: DecodeInput, draft: Draft): void {
  const [sIp, sPort] = splitAddress(get(KEYS.sourceIp));
  const [dIp, dPort] = splitAddress(get(KEYS.destinationIp));
  setSource(draft, sIp, get(KEYS.sourcePort) ?? sPort);
  setDestination(draft, dIp, get(KEYS.destinationPort) ?? dPort);
  setTransport(draft, get(KEYS.transport));
  setUser(draft, get(KEYS.user));
  setThreat(draft, get(KEYS.threat));
  const path = get(KEYS.path);
  if (path && (path.includes('/') || path.includes('\\'))) setFilePath(draft, path);
  setHash(draft, get(KEYS.sha256), 'sha256');
  setHash(draft, get(KEYS.md5), 'md5');
  const host = get(KEYS.host);
  if (host) draft.host = { name: host };
  const t = get(KEYS.time);
  const ts = t ? iso(parseAny(t.replace('T', ' '), input.time)) : undefined;
  if (ts) draft['@timestamp'] = ts;
  const action = present(get(KEYS.action));
  if (action) draft.event.action = action;
  addType(draft, verdict(action) ?? 'info');
}

/** A case-insensitive getter over a record, skipping placeholder values. */
const WANTED = new Set(Object.values(KEYS).flat());

export function lookup(record: Record<string, unknown>): (names: string[]) => string | undefined {
  // Only the names looked for are kept, so a large document costs one lower-casing per top-level key.
  const lower: Record<string, unknown> = Object.create(null) as Record<string, unknown>;
  for (const k in record) {
    const l = k.toLowerCase();
    if (WANTED.has(l)) lower[l] ??= record[k];
  }
  return (names) => {
    for (const n of names) {
      const v = lower[n];
      const s = typeof v === 'string' ? v : typeof v === 'number' ? String(v) : undefined;
      const p = present(s);
      if (p !== undefined) return p;
    }
    return undefined;
  };
}
