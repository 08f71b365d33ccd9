import { addCategory, addType, observer, present, setDestination, setFileName, setSource, setThreat, setTransport, setUser, verdict } from '../ecs.ts';
import { scanKv } from '../scan/kv.ts';
import { iso, parseDateTime } from '../time.ts';
import { DecodeError, type Decoder } from '../types.ts';

/** Sophos XG / SFOS firewall key=value logs (v17 `device="SFW" date= time=`, v19+ `device_name= timestamp=`). */
export const sophosXg: Decoder = {
  name: 'sophos-xg',
  description: 'Sophos XG / SFOS firewall key=value logs: Firewall, IPS, Anti-Virus, Web Filter, ATP, Event',
  sniff(input) {
    const p = input.payload;
    return (p.startsWith('device="SFW"') || p.startsWith('device_name=') || p.indexOf(' device_name="') >= 0 || p.indexOf('device="SFW"') >= 0) && (p.indexOf('log_id=') >= 0 || p.indexOf('log_type=') >= 0);
  },
  decode(input, draft) {
    const x = scanKv(input.payload);
    if (x.log_type === undefined && x.log_id === undefined) throw new DecodeError('no log_type= or log_id= field', 0);
    observer(draft, 'Sophos', 'XG', 'firewall');
    const type = x.log_type ?? '';
    const subtype = x.log_subtype ?? '';
    draft.event.dataset = `sophos.xg`;
    draft.event.code = x.log_id;
    const when = x.timestamp ? iso(parseDateTime(x.timestamp, input.time)) : x.date && x.time ? iso(parseDateTime(`${x.date} ${x.time}`, input.time)) : undefined;
    if (when) draft['@timestamp'] = when;
    if (x.device_name) draft.observer = { ...draft.observer, name: x.device_name };
    setSource(draft, x.src_ip, x.src_port);
    setDestination(draft, x.dst_ip, x.dst_port);
    setTransport(draft, x.protocol);
    setUser(draft, x.user_name ?? x.user);
    const virus = present(x.virus ?? x.malware ?? x.threatname);
    setThreat(draft, virus);
    setFileName(draft, x.filename);
    if (present(x.file_path) && draft.file) (draft.file as Record<string, unknown>).path = x.file_path;
    if (x.fw_rule_name || x.fw_rule_id) draft.rule = { name: x.fw_rule_name || x.fw_rule_id! };
    draft.event.action = present(subtype) ?? present(x.status);
    if (x.message) draft.message = x.message;
    if (draft.source || draft.destination) addCategory(draft, 'network');
    const word = subtype.toLowerCase();
    if (virus || type === 'Anti-Virus' && word === 'virus') {
      addCategory(draft, 'malware');
      addType(draft, 'info', 'denied');
      draft.event.kind = 'alert';
    } else {
      const v = verdict(word) ?? verdict(x.status) ?? (word === 'denied' || word === 'drop' ? 'denied' : undefined);
      if (v) addType(draft, v);
      else addType(draft, 'info');
    }
    if (draft.source || draft.destination) addType(draft, 'connection');
    if (type === 'IDP' || type === 'IPS') addCategory(draft, 'intrusion_detection');
    draft.sophos = { xg: { log_type: type, log_component: x.log_component, log_subtype: subtype, priority: x.priority } };
  },
};
