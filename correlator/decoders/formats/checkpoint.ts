import { addCategory, addType, int, observer, present, setDestination, setFilePath, setFileName, setHash, setSource, setThreat, setTransport, setUser, verdict } from '../ecs.ts';
import { iso, parseEpoch } from '../time.ts';
import { DecodeError, type Decoder, type Draft } from '../types.ts';

/** Check Point Log Exporter syslog: `[key:"value"; key:"value"; ...]` after an RFC 5424 header. */
export function checkpointFields(s: string, from: number): Record<string, string> {
  const out: Record<string, string> = Object.create(null) as Record<string, string>;
  let i = from + 1;
  const n = s.length;
  while (i < n) {
    while (i < n && (s[i] === ' ' || s[i] === ';')) i++;
    if (s[i] === ']' || i >= n) break;
    const colon = s.indexOf(':"', i);
    if (colon < 0) throw new DecodeError('expected key:"value"', i);
    const key = s.slice(i, colon);
    let j = colon + 2;
    let value = '';
    let chunk = j;
    while (j < n && s[j] !== '"') {
      if (s[j] === '\\' && j + 1 < n) {
        value += s.slice(chunk, j);
        chunk = j + 1;
        j += 2;
      } else j++;
    }
    if (j >= n) throw new DecodeError(`unterminated value of ${key.slice(0, 64)}`, colon + 1);
    out[key] = value + s.slice(chunk, j);
    i = j + 1;
  }
  return out;
}

function mapCheckpoint(x: Record<string, string>, draft: Draft): void {
  observer(draft, 'Checkpoint', present(x.product) ?? 'Check Point', 'firewall');
  const t = x.time ? iso(parseEpoch(x.time)) : undefined;
  if (t) draft['@timestamp'] = t;
  setSource(draft, x.src ?? x.client_ip, x.s_port);
  setDestination(draft, x.dst, x.service);
  setTransport(draft, x.proto);
  const action = present(x.action);
  if (action) {
    draft.event.action = action;
    const v = verdict(action);
    if (v) addType(draft, v);
  }
  setUser(draft, x.src_user_name ?? x.user ?? x.administrator ?? x.dst_user_name);
  if (x.rule_name) draft.rule = { name: x.rule_name };
  if (x.ifdir === 'inbound' || x.ifdir === 'outbound') (draft.network ??= {}).direction = x.ifdir;
  if (x.origin) draft.observer!.name = x.origin;
  const malware = present(x.malware_family ?? x.protection_name ?? x.malware_rule_id);
  if (x.file_name) {
    if (x.file_name.includes('/') || x.file_name.includes('\\')) setFilePath(draft, x.file_name);
    else setFileName(draft, x.file_name);
  }
  setHash(draft, x.file_md5, 'md5');
  setHash(draft, x.file_sha256, 'sha256');
  setHash(draft, x.file_sha1, 'sha1');
  if (malware && (x.malware_action || x.product?.includes('Anti') || x.product === 'Threat Emulation')) {
    setThreat(draft, malware);
    addCategory(draft, 'malware');
  }
  if (draft.source || draft.destination) addCategory(draft, 'network');
  if (x.audit_status === 'Success' || x.audit_status === 'Failure') draft.event.outcome = x.audit_status === 'Success' ? 'success' : 'failure';
  if (!draft.event.type) addType(draft, 'info');
  const sev = int(x.severity);
  if (sev !== undefined) draft.event.severity = sev;
  draft.checkpoint = x;
}

export const checkpoint: Decoder = {
  name: 'checkpoint',
  description: 'Check Point Log Exporter syslog ([key:"value"; ...]); Check Point CEF goes through cef',
  sniff(input) {
    const p = input.payload;
    return p[0] === '[' && (input.header?.appName === 'CheckPoint' || /^\[[a-z_]{1,40}:"/.test(p.slice(0, 48)));
  },
  decode(input, draft) {
    if (input.payload[0] !== '[') throw new DecodeError('expected [key:"value"; ...]', 0);
    mapCheckpoint(checkpointFields(input.payload, 0), draft);
  },
};
