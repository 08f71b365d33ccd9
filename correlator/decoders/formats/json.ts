import { addType, present, setDestination, setFilePath, setHash, setSource, setThreat, setTransport, setUser } from '../ecs.ts';
import { iso, parseAny } from '../time.ts';
import { DecodeError, type Decoder } from '../types.ts';
import { jsonObject, parseJsonPayload, str } from './json-payload.ts';

/**
 * Any other JSON object (cloud AV consoles, EDR APIs): the well-known field names at the top level map to ECS;
 * the document itself stays in event.original.
 */
const KEYS: Record<string, string[]> = {
  sourceIp: ['source_ip', 'src_ip', 'srcip', 'sourceip', 'sourceaddress', 'src', 'clientaddress', 'client_ip', 'local_ip', 'localip'],
  sourcePort: ['source_port', 'src_port', 'srcport', 'sourceport', 'sport', 'local_port'],
  destinationIp: ['destination_ip', 'dst_ip', 'dstip', 'destinationip', 'destinationaddress', 'dst', 'destaddress', 'remote_ip', 'remoteip', 'serveraddress'],
  destinationPort: ['destination_port', 'dst_port', 'dstport', 'destinationport', 'dport', 'destport', 'remote_port'],
  transport: ['protocol', 'proto', 'transport', 'protocolname'],
  user: ['user', 'username', 'user_name', 'login', 'account', 'accountname'],
  threat: ['threat_name', 'threatname', 'malware_name', 'malware', 'virus', 'virus_name', 'detection', 'signature'],
  path: ['file_path', 'filepath', 'path', 'object_path', 'file'],
  sha256: ['sha256', 'file_sha256', 'filesha256'],
  md5: ['md5', 'file_md5', 'filemd5'],
  host: ['hostname', 'host_name', 'computer_name', 'computername', 'host', 'device_name'],
  time: ['timestamp', 'time', 'date', 'eventtime', 'event_time', 'created', 'occurred', '@timestamp'],
};

export const jsonGeneric: Decoder = {
  name: 'json',
  description: 'any other JSON object: well-known top-level field names (src_ip, user, threat_name, ...) map to ECS',
  sniff: (input) => input.payload.charCodeAt(0) === 123,
  decode(input, draft) {
    const x = jsonObject(input);
    if (!x) {
      // Raises the parser's own message and position when the text is not JSON at all.
      parseJsonPayload(input);
      throw new DecodeError('JSON value is not an object', 0);
    }
    const lower: Record<string, unknown> = Object.create(null) as Record<string, unknown>;
    for (const k in x) lower[k.toLowerCase()] = x[k];
    const pick = (names: string[]): string | undefined => {
      for (const n of names) {
        const v = present(str(lower[n]));
        if (v !== undefined) return v;
      }
      return undefined;
    };
    setSource(draft, pick(KEYS.sourceIp!), pick(KEYS.sourcePort!));
    setDestination(draft, pick(KEYS.destinationIp!), pick(KEYS.destinationPort!));
    setTransport(draft, pick(KEYS.transport!));
    setUser(draft, pick(KEYS.user!));
    setThreat(draft, pick(KEYS.threat!));
    const path = pick(KEYS.path!);
    if (path && (path.includes('/') || path.includes('\\'))) setFilePath(draft, path);
    setHash(draft, pick(KEYS.sha256!), 'sha256');
    setHash(draft, pick(KEYS.md5!), 'md5');
    const host = pick(KEYS.host!);
    if (host) draft.host = { name: host };
    const t = pick(KEYS.time!);
    const ts = t ? iso(parseAny(t.replace('T', ' '), input.time)) : undefined;
    if (ts) draft['@timestamp'] = ts;
    addType(draft, 'info');
  },
};
