import { addCategory, addType, observer, present, setDestination, setSource, setThreat, setTransport, setUser } from '../ecs.ts';
import { scanKv } from '../scan/kv.ts';
import { DecodeError, type Decoder, type DecodeInput } from '../types.ts';

/** Juniper SRX structured syslog: RT_FLOW (session create/close/deny), RT_IDS screens, RT_IDP, RT_UTM, RT_AAMW. */
function junosParams(input: DecodeInput): Record<string, string> | undefined {
  const sd = input.header?.structuredData;
  if (sd) for (const id in sd) if (id.startsWith('junos@')) return sd[id];
  if (input.payload.includes('source-address="')) return scanKv(input.payload);
  return undefined;
}

export const juniperSrx: Decoder = {
  name: 'juniper-srx',
  description: 'Juniper SRX structured syslog: RT_FLOW session create/close/deny, RT_IDS, RT_IDP, RT_UTM, RT_AAMW',
  sniff(input) {
    const app = input.header?.appName;
    if (app && app.startsWith('RT_')) return true;
    const sd = input.header?.structuredData;
    if (sd) for (const id in sd) if (id.startsWith('junos@')) return true;
    return input.payload.indexOf('source-address="') >= 0 && input.payload.indexOf('destination-address="') >= 0;
  },
  decode(input, draft) {
    const x = junosParams(input);
    observer(draft, 'Juniper', 'SRX', 'firewall');
    const msgId = input.header?.msgId ?? '';
    if (msgId) draft.event.code = msgId;
    if (!x) {
      draft.message = input.payload;
      addType(draft, 'info');
      if (!input.header?.appName) throw new DecodeError('no junos structured data', 0);
      return;
    }
    setSource(draft, x['source-address'], x['source-port']);
    setDestination(draft, x['destination-address'], x['destination-port']);
    setTransport(draft, x['protocol-id'] ?? x.protocol ?? x['protocol-name']);
    setUser(draft, x.username);
    if (present(x['policy-name'])) draft.rule = { name: x['policy-name']! };
    addCategory(draft, 'network');
    const id = msgId.toUpperCase();
    if (id.includes('DENY') || id.includes('BLOCKED') || id.includes('DROP') || id.startsWith('RT_SCREEN')) {
      addType(draft, 'denied', 'connection');
      draft.event.outcome = 'success';
    } else if (id.includes('CREATE') || id.includes('PERMITTED') || id.includes('CLOSE')) {
      addType(draft, 'allowed', 'connection', id.includes('CREATE') ? 'start' : id.includes('CLOSE') ? 'end' : 'info');
      draft.event.outcome = 'success';
    } else addType(draft, 'info');
    if (id.startsWith('RT_FLOW_SESSION_DENY')) draft.event.action = 'flow_deny';
    else if (id.startsWith('RT_FLOW_SESSION_CREATE')) draft.event.action = 'flow_started';
    else if (id.startsWith('RT_FLOW_SESSION_CLOSE')) draft.event.action = 'flow_close';
    else if (msgId) draft.event.action = msgId.toLowerCase();
    const attack = present(x['attack-name'] ?? x['threat-name'] ?? x['virus-name']);
    if (attack) {
      addCategory(draft, 'intrusion_detection');
      draft.event.kind = 'alert';
      if (x['virus-name'] || x['threat-name']) setThreat(draft, attack);
    }
    if (x['file-name'] || x.filename) (draft.file ??= {}).name = x['file-name'] ?? x.filename;
    draft.juniper = { srx: x };
  },
};
