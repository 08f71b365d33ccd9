import { addCategory, addType, observer, present, setDestination, setSource, setThreat, setTransport, setUser } from '../ecs.ts';
import { scanKv } from '../scan/kv.ts';
import { DecodeError, type Decoder, type DecodeInput, type Draft } from '../types.ts';

/** Juniper SRX structured syslog: RT_FLOW (session create/close/deny), RT_IDS screens, RT_IDP, RT_UTM, RT_AAMW. */
function junosParams(input: DecodeInput): Record<string, string> | undefined {
  const sd = input.header?.structuredData;
  if (sd) for (const id in sd) if (id.startsWith('junos@')) return sd[id];
  if (input.payload.includes('source-address="')) return scanKv(input.payload, input.payload[0] === '[' ? 1 : 0);
  return undefined;
}

/**
 * Junos system events in plain syslog, "[program[pid]: ][node ]EVENT_ID: text" with no structured data: logins and
 * commands (UI_*, SSHD_*), firewall-filter packet logs (PFE_FW_SYSLOG_IP), rshd sessions.
 */
const JUNOS_EVENT =
  /^(?:(?<program>[\w/.-]{1,64})\[\d{1,10}\]: )?(?:[\w.-]{1,64} )?(?<id>(?:UI|SSHD|PFE_FW|KMD|RPD|L2ALD|CHASSISD|SNMPD|JSRPD|LICENSE|ESWD|DCD|LACPD)_[A-Z0-9_]{1,60}): (?<text>.*)$/;
const RSHD = /^rshd\[\d{1,10}\]: (?<remote>[\w.-]{1,64})@(?<ip>[0-9A-Fa-f.:]{2,45}) as (?<user>[\w.-]{1,64}): /;
// "FW: <interface> <A|D|R> <protocol> <source> <destination> <source port> <destination port> (<n> packets)"
const PFE_FW = /^FW: (?<iface>\S+) +(?<action>[ADR]) +(?<proto>\S+) +(?<src>\S+) +(?<dst>\S+) +(?<sport>\d+) +(?<dport>\d+) +\((?<packets>\d+) packets?\)/;
const QUOTED_USER = /[Uu]ser '(?<user>[^']{1,128})'/;
const FROM_HOST = /from host '(?<ip>[0-9A-Fa-f.:]{2,45})'/;

function junosEvent(input: DecodeInput, draft: Draft): boolean {
  const p = input.payload;
  const rsh = RSHD.exec(p);
  if (rsh?.groups) {
    setSource(draft, rsh.groups.ip);
    setUser(draft, rsh.groups.user);
    draft.event.action = 'rshd';
    addCategory(draft, 'authentication');
    addType(draft, 'info');
    return true;
  }
  const m = JUNOS_EVENT.exec(p);
  if (!m?.groups) return false;
  const id = m.groups.id!;
  const text = m.groups.text!;
  draft.event.code = id;
  draft.event.action = id.toLowerCase();
  draft.message = text;
  if (id === 'PFE_FW_SYSLOG_IP' || id === 'PFE_FW_SYSLOG_IP6_GEN' || id === 'PFE_FW_SYSLOG_ETH_IP') {
    const fw = PFE_FW.exec(text)?.groups;
    if (fw) {
      // Ports are written for every protocol (0 where it has none), and kept as written.
      setSource(draft, fw.src, fw.sport);
      setDestination(draft, fw.dst, fw.dport);
      setTransport(draft, fw.proto);
      (draft.observer as Record<string, unknown>).ingress = { interface: { name: fw.iface } };
      addCategory(draft, 'network');
      addType(draft, 'connection', fw.action === 'A' ? 'allowed' : 'denied');
      draft.event.outcome = 'success';
      (draft as Record<string, unknown>).network = { ...draft.network, packets: Number(fw.packets) };
    }
    return true;
  }
  setUser(draft, QUOTED_USER.exec(text)?.groups?.user);
  setSource(draft, FROM_HOST.exec(text)?.groups?.ip);
  if (id === 'UI_AUTH_EVENT' || id === 'UI_LOGIN_EVENT' || id === 'SSHD_LOGIN_ACCEPTED') {
    addCategory(draft, 'authentication');
    addType(draft, 'start');
    draft.event.outcome = 'success';
  } else if (id === 'SSHD_LOGIN_FAILED' || id === 'UI_LOGIN_FAILED' || id === 'LOGIN_FAILED') {
    addCategory(draft, 'authentication');
    addType(draft, 'start');
    draft.event.outcome = 'failure';
  } else if (id === 'UI_LOGOUT_EVENT') {
    addCategory(draft, 'authentication');
    addType(draft, 'end');
  } else if (id === 'UI_CMDLINE_READ_LINE' || id === 'UI_COMMIT' || id === 'UI_COMMIT_PROGRESS') {
    addCategory(draft, 'process');
    addType(draft, 'access');
  } else addType(draft, id.endsWith('_START') ? 'start' : 'info');
  return true;
}

export const juniperSrx: Decoder = {
  name: 'juniper-srx',
  description: 'Juniper SRX structured syslog: RT_FLOW session create/close/deny, RT_IDS, RT_IDP, RT_UTM, RT_AAMW',
  sniff(input) {
    const app = input.header?.appName;
    if (input.payload.startsWith('RT_FLOW_') || input.payload.startsWith('RT_UTM') || input.payload.startsWith('RT_IDP')) return true;
    if (app?.startsWith('RT_')) return true;
    if (JUNOS_EVENT.test(input.payload) || RSHD.test(input.payload)) return true;
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
      if (junosEvent(input, draft)) return;
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
    } else if (
      id.includes('DENY') ||
      id.includes('BLOCKED') ||
      id.includes('DROP') ||
      id.startsWith('RT_SCREEN') ||
      id.startsWith('AV_VIRUS_DETECTED') ||
      id.startsWith('IDP_APPDDOS')
    ) {
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
