import { addCategory, addType, observer, present, setDestination, setFilePath, setHash, setSource, setThreat, setTransport, setUser } from '../ecs.ts';
import { iso, parseAny, parseMonthDay } from '../time.ts';
import { DecodeError, type Decoder, type DecodeInput } from '../types.ts';
import { jsonObject, str } from './json-payload.ts';

/** ESET PROTECT syslog JSON (Threat_Event, FirewallAggregated_Event, HipsAggregated_Event, ...) and ESET Connect detections. */
function obj(v: unknown): Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
}

/** "21-Jun-2021 13:10:04" (ESET PROTECT's `occured`, UTC). */
function esetTime(s: string, input: DecodeInput): string | undefined {
  const m = /^(\d{1,2})-([A-Za-z]{3})-(\d{4}) (\d\d:\d\d:\d\d)$/.exec(s.trim());
  if (!m) return iso(parseAny(s, input.time));
  return iso(parseMonthDay(`${m[2]} ${m[1]} ${m[3]} ${m[4]} +00:00`, input.time));
}

export const esetProtect: Decoder = {
  name: 'eset-protect',
  description: 'ESET PROTECT syslog JSON events (threat, firewall, HIPS, audit) and ESET Connect detections',
  sniff(input) {
    const x = jsonObject(input);
    return x !== undefined && ((typeof x.event_type === 'string' && x.event_type.endsWith('_Event')) || String(x.category).startsWith('DETECTION_CATEGORY_'));
  },
  decode(input, draft) {
    const x = jsonObject(input);
    if (!x) throw new DecodeError('not a JSON object', 0);
    observer(draft, 'ESET', 'ESET PROTECT', 'antivirus');
    addType(draft, 'info');
    if (typeof x.event_type === 'string') {
      draft.event.action = present(str(x.action_taken) ?? str(x.action))?.toLowerCase();
      const t = str(x.occured);
      if (t) {
        const ts = esetTime(t, input);
        if (ts) draft['@timestamp'] = ts;
      }
      setSource(draft, str(x.source_address), str(x.source_port));
      setDestination(draft, str(x.target_address), str(x.target_port));
      setTransport(draft, str(x.protocol));
      if (x.inbound === true || x.inbound === false) (draft.network ??= {}).direction = x.inbound ? 'inbound' : 'outbound';
      setUser(draft, str(x.username) ?? str(x.account) ?? str(x.user));
      setThreat(draft, str(x.threat_name));
      setFilePath(draft, str(x.object_uri) ?? str(x.target));
      setHash(draft, str(x.hash));
      if (str(x.hostname)) draft.host = { name: str(x.hostname)!, ip: str(x.ipv4) };
      const rule = str(x.rule_id) ?? str(x.rulename);
      if (rule) draft.rule = { name: rule };
      if (x.event_type === 'Threat_Event') {
        addCategory(draft, 'malware');
        draft.event.kind = 'alert';
      } else if (x.event_type === 'FirewallAggregated_Event' || x.event_type === 'HipsAggregated_Event') addCategory(draft, 'intrusion_detection');
      draft.message = str(x.event) ?? str(x.operation);
      return;
    }
    const net = obj(x.networkCommunication);
    const ctx = obj(x.context);
    const ts = str(x.occurTime);
    if (ts) draft['@timestamp'] = iso(parseAny(ts.replace('T', ' '), input.time));
    setSource(draft, str(net.localIpAddress), str(net.localPort));
    setDestination(draft, str(net.remoteIpAddress), str(net.remotePort));
    const proto = str(net.protocolName);
    if (proto && proto !== '0') setTransport(draft, proto);
    setUser(draft, str(ctx.userName));
    const category = String(x.category).replace('DETECTION_CATEGORY_', '').toLowerCase();
    addCategory(draft, category === 'network_intrusion' ? 'intrusion_detection' : category === 'vulnerability' ? 'vulnerability' : 'malware');
    setFilePath(draft, str(x.objectUrl));
    setHash(draft, str(x.objectHashSha1), 'sha1');
    if (category !== 'network_intrusion' && category !== 'vulnerability' && category !== 'hips_rule') setThreat(draft, str(x.displayName) ?? str(x.typeName));
    draft.message = str(ctx.circumstances);
  },
};
