import {
  addCategory,
  addType,
  int,
  ip,
  observer,
  port,
  present,
  setDestination,
  setFileName,
  setHash,
  setSource,
  setThreat,
  setTransport,
  setUser,
  verdict,
} from '../ecs.ts';
import { scanKv } from '../scan/kv.ts';
import { iso, parseDateTime } from '../time.ts';
import { DecodeError, type Decoder } from '../types.ts';

/**
 * Whether `stem` followed by one of `endings` occurs in p: one native search for the stem, whose occurrences
 * are few, rather than one search of the whole line per ending (most lines sniffed here are no Sophos line).
 */
function hasKey(p: string, stem: string, endings: readonly string[]): boolean {
  for (let at = p.indexOf(stem); at >= 0; at = p.indexOf(stem, at + 1)) {
    const after = at + stem.length;
    for (const e of endings) if (p.startsWith(e, after)) return true;
  }
  return false;
}

/** device_name=, device="SFW" (v17), device_serial_id=; log_id=, log_type=. */
const DEVICE_KEYS = ['_name=', '="SFW"', '_serial_id='];
const LOG_KEYS = ['id=', 'type='];

/** Sophos XG / SFOS firewall key=value logs (v17 `device="SFW" date= time=`, v19+ `device_name= timestamp=`). */
export const sophosXg: Decoder = {
  name: 'sophos-xg',
  description: 'Sophos XG / SFOS firewall key=value logs: Firewall, IPS, Anti-Virus, Web Filter, ATP, Event',
  sniffNeeds: '=',
  sniff(input) {
    const p = input.payload;
    return hasKey(p, 'device', DEVICE_KEYS) && hasKey(p, 'log_', LOG_KEYS);
  },
  decode(input, draft) {
    const x = scanKv(input.payload);
    if (x.log_type === undefined && x.log_id === undefined) throw new DecodeError('no log_type= or log_id= field', 0);
    observer(draft, 'Sophos', 'XG', 'firewall');
    const type = x.log_type ?? '';
    const subtype = x.log_subtype ?? '';
    draft.event.dataset = `sophos.xg`;
    draft.event.code = x.log_id;
    const when = x.timestamp
      ? iso(parseDateTime(x.timestamp, input.time))
      : x.date && x.time
        ? iso(parseDateTime(`${x.date} ${x.time}`, input.time))
        : undefined;
    if (when) draft['@timestamp'] = when;
    if (x.device_name) draft.observer!.name = x.device_name;
    setSource(draft, x.src_ip ?? x.sourceip, x.src_port);
    setDestination(draft, x.dst_ip ?? x.destinationip, x.dst_port);
    setTransport(draft, x.protocol);
    setUser(draft, x.user_name ?? x.user);
    const virus = present(x.virus ?? x.malware ?? x.threatname);
    setThreat(draft, virus);
    setFileName(draft, x.filename);
    if (present(x.file_path) && draft.file) (draft.file as Record<string, unknown>).path = x.file_path;
    // Sandbox logs name a SHA-256 "sha1sum": the digest length decides.
    setHash(draft, x.sha256 ?? x.sha1sum);
    // The firewall rule's number and name; an IPS record names its signature instead (Elastic: rule.name).
    const ruleName = present(x.fw_rule_name) ?? (type === 'IDP' || type === 'IPS' ? present(x.signature_msg) : undefined);
    if (present(x.fw_rule_id) || ruleName) draft.rule = { ...(present(x.fw_rule_id) ? { id: x.fw_rule_id } : {}), ...(ruleName ? { name: ruleName } : {}) };
    if (present(x.device_serial_id ?? x.device_id)) draft.observer!.serial_number = (x.device_serial_id ?? x.device_id)!;
    const ingress = { ...(present(x.in_interface) ? { interface: { name: x.in_interface! } } : {}), ...(present(x.src_zone) ? { zone: x.src_zone! } : {}) };
    const egress = { ...(present(x.out_interface) ? { interface: { name: x.out_interface! } } : {}), ...(present(x.dst_zone) ? { zone: x.dst_zone! } : {}) };
    if (Object.keys(ingress).length) draft.observer!.ingress = ingress;
    if (Object.keys(egress).length) draft.observer!.egress = egress;
    const app = present(x.app_name) ?? present(x.application);
    if (app) (draft.network ??= {}).application = app.toLowerCase();
    const snat = ip(x.src_trans_ip);
    if (snat && draft.source) draft.source.nat = { ip: snat, ...(port(x.src_trans_port) ? { port: port(x.src_trans_port) } : {}) };
    const dnat = ip(x.dst_trans_ip);
    if (dnat && draft.destination) draft.destination.nat = { ip: dnat, ...(port(x.dst_trans_port) ? { port: port(x.dst_trans_port) } : {}) };
    const sent = int(x.sent_bytes);
    const received = int(x.recv_bytes);
    if (sent !== undefined && draft.source) draft.source.bytes = sent;
    if (received !== undefined && draft.destination) draft.destination.bytes = received;
    draft.event.outcome = 'success';
    draft.event.action = present(subtype) ?? present(x.status);
    if (x.message) draft.message = x.message;
    if (draft.source || draft.destination) addCategory(draft, 'network');
    const word = subtype.toLowerCase();
    if (virus || (type === 'Anti-Virus' && word === 'virus')) {
      addCategory(draft, 'malware');
      addType(draft, 'info', 'denied');
      draft.event.kind = 'alert';
    } else {
      const spam = x.spamaction?.toLowerCase();
      const v = verdict(word) ?? verdict(x.status) ?? (spam ? (spam === 'accept' ? 'allowed' : 'denied') : word === 'warned' ? 'allowed' : undefined);
      if (v) addType(draft, v);
      else addType(draft, 'info');
    }
    if (draft.source || draft.destination) addType(draft, 'connection');
    if (type === 'IDP' || type === 'IPS') addCategory(draft, 'intrusion_detection');
    draft.sophos = { xg: { log_type: type, log_component: x.log_component, log_subtype: subtype, priority: x.priority } };
  },
};
