import {
  addCategory,
  addType,
  int,
  observer,
  present,
  setDestination,
  setFilePath,
  setFileName,
  setHash,
  setSource,
  setThreat,
  setTransport,
  setUser,
  verdict,
} from '../ecs.ts';
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
    // The value ends at the first quote no backslash escapes, found by native searches for quotes and
    // backslashes rather than a loop over its characters: the engine compiled such a loop on entry to it
    // and threw that code away on leaving it, again and again on long values.
    let j = colon + 2;
    let value = '';
    let chunk = j;
    let slash = s.indexOf('\\', j);
    let end = -1;
    for (;;) {
      const quote = s.indexOf('"', j);
      if (quote < 0) break;
      if (slash < 0 || slash > quote) {
        end = quote;
        break;
      }
      value += s.slice(chunk, slash);
      chunk = slash + 1;
      j = slash + 2;
      slash = s.indexOf('\\', j);
    }
    if (end < 0) throw new DecodeError(`unterminated value of ${key.slice(0, 64)}`, colon + 1);
    out[key] = value + s.slice(chunk, end);
    i = end + 1;
  }
  return out;
}

/** Translated addresses and ports ("0.0.0.0" / "0" when the gateway translated nothing). */
function nat(draft: Draft, x: Record<string, string>): void {
  const side = (end: 'source' | 'destination', addr: string | undefined, p: string | undefined) => {
    const a = present(addr);
    const n = int(p);
    if ((a === undefined || a === '0.0.0.0') && !n) return;
    const target = (draft[end] ??= {}) as Record<string, unknown>;
    target.nat = { ...(a !== undefined && a !== '0.0.0.0' ? { ip: a } : {}), ...(n ? { port: n } : {}) };
  };
  side('source', x.xlatesrc, x.xlatesport);
  side('destination', x.xlatedst, x.xlatedport);
}

function mapCheckpoint(x: Record<string, string>, draft: Draft): void {
  observer(draft, 'Checkpoint', present(x.product) ?? 'Check Point', 'firewall');
  const t = x.time ? iso(parseEpoch(x.time)) : undefined;
  if (t) draft['@timestamp'] = t;
  setSource(draft, x.src ?? x.client_ip, x.s_port);
  setDestination(draft, x.dst, x.service);
  setTransport(draft, x.proto);
  const action = present(x.action);
  if (action) draft.event.action = action;
  // The rule's verdict decides allowed/denied (an "Inform" or "Decrypt" log line of an accepted connection is
  // still allowed); logins carry theirs in the action.
  const ruleAction = present(x.rule_action) ?? action;
  if (ruleAction === 'Detect' || ruleAction === 'Prevent') addCategory(draft, 'intrusion_detection');
  if (ruleAction === 'Prevent' || ruleAction === 'Detect' || ruleAction === 'Quarantine') draft.event.kind = 'alert';
  if (action === 'Log In' || action === 'Failed Log In') {
    addCategory(draft, 'authentication');
    addType(draft, action === 'Log In' ? 'allowed' : 'denied');
    draft.event.outcome = action === 'Log In' ? 'success' : 'failure';
  } else {
    const v = ruleAction === 'Prevent' ? 'denied' : verdict(ruleAction);
    if (v) {
      addType(draft, v, 'connection');
      draft.event.outcome = 'success';
    }
  }
  nat(draft, x);
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

/** Where the field list opens: at once, or after a program word when the sender wrote no header ("syslog[..."). */
function bracket(p: string): number {
  if (p[0] === '[') return 0;
  const open = p.indexOf('[');
  return open > 0 && open <= 32 && /^[A-Za-z][\w-]*$/.test(p.slice(0, open)) ? open : -1;
}

/**
 * The older quoted-column export (fw log / OPSEC LEA to text): number, date, time, interface, origin, type, action,
 * service, source port, source, destination, protocol, rule, rule name, ..., then "key: value; ..." details and
 * the product.
 */
const LEGACY = /^"\d+" "\d{1,2}[A-Z][a-z]{2}\d{4}" "\d\d:\d\d:\d\d" "/;
const LEGACY_COLUMNS = [
  'loguid',
  'date',
  'time',
  'ifname',
  'origin',
  'type',
  'action',
  'service',
  's_port',
  'src',
  'dst',
  'proto',
  'rule',
  'rule_name',
] as const;

function legacyFields(p: string): Record<string, string> {
  const columns: string[] = [];
  const re = /"((?:[^"\\]|\\.)*)"/g;
  for (let m = re.exec(p); m !== null; m = re.exec(p)) columns.push(m[1]!);
  if (columns.length < LEGACY_COLUMNS.length) throw new DecodeError(`${columns.length} quoted columns, ${LEGACY_COLUMNS.length} expected`, p.length);
  const x: Record<string, string> = Object.create(null) as Record<string, string>;
  LEGACY_COLUMNS.forEach((k, i) => {
    if (columns[i] !== '') x[k] = columns[i]!;
  });
  for (const part of columns.slice(LEGACY_COLUMNS.length).join('; ').split(';')) {
    const colon = part.indexOf(':');
    if (colon > 0) x[part.slice(0, colon).trim()] ??= part.slice(colon + 1).trim();
  }
  const product = columns.slice(LEGACY_COLUMNS.length).find((c) => /^[A-Z][\w -]+$/.test(c) && !c.includes(':'));
  if (product) x.product = product;
  // Protocol names here, numbers in the newer export; service is a port only when numeric.
  if (x.service !== undefined && !/^\d+$/.test(x.service)) delete x.service;
  return x;
}

export const checkpoint: Decoder = {
  name: 'checkpoint',
  description: 'Check Point Log Exporter syslog ([key:"value"; ...]) and the older quoted-column export; Check Point CEF goes through cef',
  sniff(input) {
    const p = input.payload;
    if (LEGACY.test(p)) return true;
    const open = bracket(p);
    return open >= 0 && (input.header?.appName === 'CheckPoint' || /^\[[a-z_]{1,40}:"/.test(p.slice(open, open + 48)));
  },
  decode(input, draft) {
    const p = input.payload;
    if (p[0] === '"') {
      mapCheckpoint(legacyFields(p), draft);
      return;
    }
    const open = bracket(p);
    if (open < 0) throw new DecodeError('expected [key:"value"; ...]', 0);
    mapCheckpoint(checkpointFields(p, open), draft);
  },
};
