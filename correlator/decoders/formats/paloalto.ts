import {
  addCategory,
  addType,
  int,
  ip,
  observer,
  port,
  present,
  setDestination,
  setFilePath,
  setSource,
  setThreat,
  setTransport,
  setUser,
  verdict,
} from '../ecs.ts';
import { splitCsv } from '../scan/kv.ts';
import { iso, parseDateTime } from '../time.ts';
import { DecodeError, type Decoder, type Draft, type ObserverSide } from '../types.ts';

/**
 * Palo Alto Networks PAN-OS syslog CSV (the documented field order of each log type): TRAFFIC and THREAT
 * in full; USERID, AUTHENTICATION, GLOBALPROTECT, SYSTEM, CONFIG and others for their time, host and user.
 */
const TYPES = new Set([
  'TRAFFIC',
  'THREAT',
  'START',
  'AUTH',
  'SYSTEM',
  'CONFIG',
  'USERID',
  'AUTHENTICATION',
  'GLOBALPROTECT',
  'HIPMATCH',
  'IPTAG',
  'DECRYPTION',
  'CORRELATION',
  'TUNNEL',
  'SCTP',
  'GTP',
  'AUDIT',
]);

function typeAt(p: string): string | undefined {
  const c1 = p.indexOf(',');
  const c2 = p.indexOf(',', c1 + 1);
  const c3 = p.indexOf(',', c2 + 1);
  const c4 = p.indexOf(',', c3 + 1);
  if (c1 < 0 || c1 > 12 || c4 < 0 || c4 - c3 > 16) return undefined;
  const date = p.slice(c1 + 1, c2);
  if (date.length < 19 || (date[4] !== '/' && date[4] !== '-')) return undefined;
  const type = p.slice(c3 + 1, c4);
  return TYPES.has(type) ? type : undefined;
}

const THREAT_SUBTYPES: Record<string, string> = {
  url: 'url_filtering',
  virus: 'virus_detected',
  wildfire: 'wildfire_verdict',
  'wildfire-virus': 'wildfire_virus_detected',
  spyware: 'spyware_detected',
  vulnerability: 'exploit_detected',
  file: 'file_match',
  scan: 'scan_detected',
  flood: 'flood_detected',
  data: 'data_match',
};

function threatName(field: string | undefined): string | undefined {
  const v = present(field);
  if (!v) return undefined;
  const paren = v.lastIndexOf('(');
  const name = paren > 0 ? v.slice(0, paren).trim() : paren === 0 ? '' : v;
  return name || undefined;
}

const FLOW_ACTIONS: Record<string, string> = { start: 'flow_started', end: 'flow_terminated', drop: 'flow_dropped', deny: 'flow_denied' };

/** An address PAN-OS filled in: 0.0.0.0 and :: are its "none". */
function assigned(value: string | undefined): string | undefined {
  const a = ip(value);
  return a === undefined || a === '0.0.0.0' || a === '::' ? undefined : a;
}

function count(value: string | undefined): number | undefined {
  return int(value);
}

/** Elastic's event.severity for PAN-OS threat severities (1 is the worst). */
const SEVERITY: Record<string, number> = { critical: 1, high: 2, medium: 3, low: 4, informational: 5 };

/** A zone and an interface of the firewall, when PAN-OS names either. */
function side(zone: string | undefined, iface: string | undefined): ObserverSide | undefined {
  const z = present(zone);
  const i = present(iface);
  if (z === undefined && i === undefined) return undefined;
  const out: ObserverSide = {};
  if (z !== undefined) out.zone = z;
  if (i !== undefined) out.interface = { name: i };
  return out;
}

/** Fields TRAFFIC and THREAT share: NAT, zones, interfaces, application, device name. */
function session(f: string[], type: string, draft: Draft): void {
  // "0.0.0.0" (no translation) is the common case: checked before parsing the address.
  if (f[9] !== '0.0.0.0' && draft.source) {
    const snat = assigned(f[9]);
    if (snat) draft.source.nat = { ip: snat, port: port(f[26]) || undefined };
  }
  if (f[10] !== '0.0.0.0' && draft.destination) {
    const dnat = assigned(f[10]);
    if (dnat) draft.destination.nat = { ip: dnat, port: port(f[27]) || undefined };
  }
  const o = draft.observer!;
  const ingress = side(f[16], f[18]);
  if (ingress) o.ingress = ingress;
  const egress = side(f[17], f[19]);
  if (egress) o.egress = egress;
  const app = present(f[14]);
  if (app && app !== 'incomplete' && app !== 'not-applicable') (draft.network ??= {}).application = app;
  // The device name follows the device-group hierarchy: field 52 of TRAFFIC, 59 of THREAT.
  const device = present(f[type === 'THREAT' ? 59 : 52]);
  if (device && !device.includes(' ')) o.name = device;
}

function traffic(f: string[], type: string, draft: Draft): void {
  setSource(draft, f[7], f[24]);
  setDestination(draft, f[8], f[25]);
  setTransport(draft, f[29]);
  if (present(f[11])) draft.rule = { name: f[11]! };
  setUser(draft, f[12] || f[13]);
  session(f, type, draft);
  const action = present(f[30]);
  addCategory(draft, 'network');
  if (type !== 'THREAT') {
    // Bytes and packets: total, sent by the source, received back (PAN-OS TRAFFIC fields 31-34, 44-45).
    const n = (draft.network ??= {});
    const bytes = count(f[31]);
    if (bytes !== undefined) n.bytes = bytes;
    const packets = count(f[34]);
    if (packets !== undefined) n.packets = packets;
    const sentBytes = count(f[32]);
    const rcvdBytes = count(f[33]);
    const sentPkts = count(f[44]);
    const rcvdPkts = count(f[45]);
    const s = draft.source;
    const d = draft.destination;
    if (s && sentBytes !== undefined) s.bytes = sentBytes;
    if (s && sentPkts !== undefined) s.packets = sentPkts;
    if (d && rcvdBytes !== undefined) d.bytes = rcvdBytes;
    if (d && rcvdPkts !== undefined) d.packets = rcvdPkts;
    const endReason = present(f[46]);
    if (endReason) draft.event.reason = endReason;
    addType(draft, 'connection');
    // Elastic's names for the session's log subtype (start, end, drop, deny); the policy's action
    // word (allow, deny, drop, reset-*) stays in panw.action.
    draft.event.action = FLOW_ACTIONS[f[4] ?? ''] ?? action;
    if (action) draft.panw = { action };
    const v = verdict(action);
    if (v) addType(draft, v);
    const sub = f[4];
    if (sub === 'start') addType(draft, 'start');
    else if (sub === 'end') addType(draft, 'end');
    // As Elastic reads PAN-OS: a session the policy denied is a failure.
    draft.event.outcome = v === 'denied' ? 'failure' : 'success';
    return;
  }
  addCategory(draft, 'intrusion_detection');
  const sub = f[4] ?? '';
  draft.event.action = THREAT_SUBTYPES[sub] ?? sub;
  // A THREAT record's action "alert" means the session went on: allowed.
  const threatVerdict = action === 'alert' ? 'allowed' : verdict(action);
  if (threatVerdict) addType(draft, threatVerdict);
  draft.event.outcome = threatVerdict === 'denied' ? 'failure' : 'success';
  if (sub === 'virus' || sub === 'wildfire-virus' || sub === 'spyware' || sub === 'wildfire') addCategory(draft, 'malware');
  if (sub !== 'url') {
    const name = threatName(f[32]);
    if (name) setThreat(draft, name);
  }
  // "Eicar Test File(100000)": the threat's id in parentheses; severity word in field 34.
  const id = /\((\d{1,12})\)\s*$/.exec(f[32] ?? '')?.[1];
  const severity = present(f[34])?.toLowerCase();
  if (severity && SEVERITY[severity] !== undefined) draft.event.severity = SEVERITY[severity];
  if (id || severity) draft.panw = { threat: { ...(id ? { id } : {}), ...(severity ? { severity } : {}), ...(present(f[33]) ? { category: f[33] } : {}) } };
  if (sub === 'file' || sub === 'virus' || sub === 'wildfire' || sub === 'wildfire-virus') setFilePath(draft, f[31]);
  if (sub !== 'url' && sub !== 'file') draft.event.kind = 'alert';
}

/** SYSTEM auth descriptions: "failed authentication for user 'u'. ... From: 1.2.3.4." and kin. */
function systemAuth(text: string, draft: Draft): void {
  const user = /\buser '?([^'\s,]{1,128})'?/.exec(text);
  if (user) setUser(draft, user[1]!.replace(/\.$/, ''));
  const from = /\b[Ff]rom:? '?([0-9a-fA-F.:]{3,45})'?/.exec(text);
  if (from) setSource(draft, from[1]!.replace(/\.$/, ''));
  const server = /Server Address '?([0-9a-fA-F.:]{3,45})'?/.exec(text);
  if (server) setDestination(draft, server[1]);
  addCategory(draft, 'authentication');
}

export const paloalto: Decoder = {
  name: 'paloalto',
  description: 'Palo Alto Networks PAN-OS syslog CSV: TRAFFIC, THREAT, and the time/host/user of the other log types',
  sniff: (input) => typeAt(input.payload) !== undefined,
  decode(input, draft) {
    const type = typeAt(input.payload);
    if (!type) throw new DecodeError('not a PAN-OS CSV record (field 4 names no log type)', 0);
    // Every field read here is among the first 60 (the device name, field 59 of THREAT, is the last): the rest
    // of a record, up to some 120 fields, is left unsplit.
    const f = splitCsv(input.payload, 0, 60);
    observer(draft, 'Palo Alto Networks', 'PAN-OS', 'firewall');
    draft.event.dataset = `paloalto.${type.toLowerCase()}`;
    const ts = iso(parseDateTime(f[6] && f[6].length === 19 ? f[6] : f[1]!, input.time));
    if (ts) draft['@timestamp'] = ts;
    if (present(f[2])) (draft.observer as Record<string, unknown>).serial_number = f[2];
    switch (type) {
      case 'TRAFFIC':
      case 'THREAT':
      case 'START':
      case 'DECRYPTION':
        if (f.length < 31) throw new DecodeError(`truncated ${type} record: ${f.length} fields, 31 needed`, input.payload.length);
        traffic(f, type, draft);
        return;
      case 'USERID':
      case 'AUTHENTICATION':
      case 'AUTH':
      case 'IPTAG':
        setSource(draft, f[8], type === 'USERID' ? f[14] : undefined);
        if (type === 'USERID') setDestination(draft, undefined, f[15]);
        setUser(draft, f[9]);
        addCategory(draft, type === 'IPTAG' ? 'network' : 'authentication');
        addType(draft, 'info');
        draft.event.action = f[4];
        return;
      case 'GLOBALPROTECT': {
        // Event id (portal-auth, gateway-auth, ...), stage, status (success/failure), reason, error.
        draft.event.action = f[8];
        setUser(draft, f[12]);
        // The client's address as Elastic reads it (field 17, its IPv6 in 18), else the public one (15, 16)
        // that a failed pre-login often alone carries; 0.0.0.0 is the "none" PAN-OS writes.
        setSource(
          draft,
          [f[17], f[18], f[15], f[16]].map(assigned).find((a) => a !== undefined),
        );
        const machine = present(f[14]);
        if (machine && draft.source) draft.source.domain = machine;
        addCategory(draft, 'network', 'session');
        const status = present(f[28])?.toLowerCase();
        const auth = /auth|login/.test(f[8] ?? '') || /login/.test(f[9] ?? '');
        if (auth) addCategory(draft, 'authentication');
        if (status === 'success' || status === 'failure') draft.event.outcome = status;
        addType(draft, auth ? 'start' : 'info');
        const reason = present(f[26]) ?? present(f[25]) ?? present(f[27]);
        if (reason) draft.event.reason = reason;
        return;
      }
      case 'CONFIG':
        addCategory(draft, 'configuration');
        addType(draft, 'change');
        setSource(draft, f[7]);
        setUser(draft, f[10]);
        // "cmd-set", "cmd-commit": the command, as Elastic names configuration actions.
        if (present(f[9])) draft.event.action = `cmd-${f[9]}`;
        return;
      case 'SYSTEM':
        addCategory(draft, 'host');
        addType(draft, 'info');
        draft.event.action = f[8];
        draft.message = f[14];
        if (f[4] === 'auth' && f[14]) systemAuth(f[14], draft);
        return;
      case 'CORRELATION':
        setSource(draft, f[7]);
        setUser(draft, f[8]);
        addCategory(draft, 'threat');
        addType(draft, 'indicator');
        return;
      case 'HIPMATCH':
        setUser(draft, f[7]);
        setSource(draft, f[11]);
        addCategory(draft, 'host');
        addType(draft, 'info');
        return;
      default:
        addType(draft, 'info');
    }
  },
};
