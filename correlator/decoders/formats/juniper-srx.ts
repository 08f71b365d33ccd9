import { addCategory, addType, observer, present, setDestination, setSource, setThreat, setTransport, setUser } from '../ecs.ts';
import { scanKv } from '../scan/kv.ts';
import { DecodeError, type Decoder, type DecodeInput } from '../types.ts';

/** Juniper SRX structured syslog: RT_FLOW (session create/close/deny), RT_IDS screens, RT_IDP, RT_UTM, RT_AAMW. */
function junosParams(input: DecodeInput): Record<string, string> | undefined {
  const sd = input.header?.structuredData;
  if (sd) for (const id in sd) if (id.startsWith('junos@')) return sd[id];
  if (input.payload.includes('source-address="')) return scanKv(input.payload, input.payload[0] === '[' ? 1 : 0);
  return undefined;
}

export const juniperSrx: Decoder = {
  name: 'juniper-srx',
  description: 'Juniper SRX structured syslog: RT_FLOW session create/close/deny, RT_IDS, RT_IDP, RT_UTM, RT_AAMW',
  sniff(input) {
    const app = input.header?.appName;
    if (input.payload.startsWith('RT_FLOW_') || input.payload.startsWith('RT_UTM') || input.payload.startsWith('RT_IDP')) return true;
    if (app?.startsWith('RT_')) return true;
    const sd = input.header?.structuredData;
    if (sd) for (const id in sd) if (id.startsWith('junos@')) return true;
    return input.payload.indexOf('source-address="') >= 0 && input.payload.indexOf('destination-address="') >= 0;
  },
  decode(input, draft) {
    const x = junosParams(input);
    observer(draft, 'Juniper', 'SRX', 'firewall');
    // Without a syslog header the message id is the first word ("RT_FLOW_SESSION_DENY [junos@...]").
    const firstWord = input.payload.slice(0, Math.max(0, input.payload.indexOf(' ')));
    const msgId = input.header?.msgId ?? (/^[A-Z][A-Z0-9_]{2,63}$/.test(firstWord) ? firstWord : '');
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
    const action = present(x.action)?.toUpperCase();
    if (action === 'BLOCK' || action === 'DROP' || action === 'DENY' || action === 'CLOSE' || action === 'RESET') {
      addType(draft, 'info', 'denied', 'connection');
      draft.event.outcome = 'success';
    } else if (action === 'PERMIT' || action === 'ACCEPT' || action === 'ALLOW') {
      addType(draft, 'allowed', 'connection');
      draft.event.outcome = 'success';
    } else if (id.includes('DENY') || id.includes('BLOCKED') || id.includes('DROP') || id.startsWith('RT_SCREEN') || id.startsWith('AV_VIRUS_DETECTED') || id.startsWith('IDP_APPDDOS')) {
      addType(draft, 'denied', 'connection');
      draft.event.outcome = 'success';
    } else if (id.includes('CREATE') || id.includes('PERMITTED') || id.includes('CLOSE') || id.startsWith('APPTRACK_')) {
      addType(draft, 'allowed', 'connection', id.includes('CREATE') ? 'start' : id.includes('CLOSE') ? 'end' : 'info');
      draft.event.outcome = 'success';
    } else addType(draft, 'info');
    if (id.startsWith('RT_FLOW_SESSION_DENY')) draft.event.action = 'flow_deny';
    else if (id.startsWith('RT_FLOW_SESSION_CREATE')) draft.event.action = 'flow_started';
    else if (id.startsWith('RT_FLOW_SESSION_CLOSE')) draft.event.action = 'flow_close';
    else if (msgId) draft.event.action = msgId.toLowerCase();
    const attack = present(x['attack-name']);
    if (attack) {
      addCategory(draft, 'intrusion_detection');
      draft.event.kind = 'alert';
    }
    const malware = present(x['malware-info'] ?? x['threat-name'] ?? x['virus-name'] ?? (id.startsWith('AV_VIRUS') ? x.name : undefined));
    if (malware) {
      setThreat(draft, malware);
      addCategory(draft, 'malware');
      draft.event.kind = 'alert';
    }
    if (x['file-name'] || x.filename) (draft.file ??= {}).name = x['file-name'] ?? x.filename;
    draft.juniper = { srx: x };
  },
};
