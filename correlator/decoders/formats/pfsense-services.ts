import { addCategory, addType, observer, present, setDestination, setSource, setTransport, setUser } from '../ecs.ts';
import { DecodeError, type Decoder, type DecodeInput, type Draft } from '../types.ts';

/**
 * The other daemons a pfSense / OPNsense box logs besides filterlog, told apart by the syslog program as the
 * appliance names them: DHCP (dhcpd, dhcp6c, dhclient), IPsec (charon), OpenVPN, HAProxy, Unbound, Squid and the
 * web configurator (php-fpm). The client of each service (DHCP client, VPN peer, proxy client, DNS client) is the
 * source, as Elastic's pfSense integration has it.
 */
const IP = String.raw`(?:\d{1,3}(?:\.\d{1,3}){3}|[0-9A-Fa-f:]*:[0-9A-Fa-f:.]+)`;

const DHCP = [
  new RegExp(String.raw`^(?<action>DHCP[A-Z]+) (?:for|on) (?<client>${IP})(?: \((?<server>${IP})\))?`),
  new RegExp(String.raw`^(?<action>.+?) (?:from|to) (?<client>${IP}) port (?<port>\d{1,5})`),
  new RegExp(String.raw`^(?<action>.+?) for: (?<client>${IP})`),
  new RegExp(String.raw`^(?<action>.+?): address (?<client>${IP}) to client`),
  new RegExp(String.raw`^(?<action>add an address|remove an address|.+?) (?<client>${IP})(?:/\d+)? on [a-z0-9.]+$`),
];
const CHARON = new RegExp(String.raw`(?<src>${IP})\[(?<sport>\d{1,5})\] to (?<dst>${IP})\[(?<dport>\d{1,5})\]`);
const OPENVPN_USER_PEER = new RegExp(String.raw`^(?<user>[A-Za-z0-9._@-]+)/(?<src>${IP}):(?<sport>\d{1,5}) `);
const OPENVPN_PEER = new RegExp(String.raw`(?:^|\[AF_INET6?\]|\s)(?<src>${IP}):(?<sport>\d{1,5})(?:\s|$)`);
const OPENVPN_PEER_USER = /^\S+ \[(?<user>[A-Za-z0-9._@-]+)\] /;
const QUOTED_USER = /user '(?<user>[^']{1,128})'/;
const HAPROXY = new RegExp(String.raw`^(?<src>${IP}):(?<sport>\d{1,5}) \[`);
const UNBOUND = new RegExp(String.raw`^\[\d+:\d+\] (?:info|reply): (?<src>${IP}) (?<name>\S+)\.? (?<type>[A-Z0-9]+) IN`);
const PHP_LOGIN = new RegExp(String.raw`^/\S*: (?<what>.+?) for user '(?<user>[^']{1,128})' from:? (?<src>${IP})`);

function dhcp(input: DecodeInput, draft: Draft): void {
  setTransport(draft, 'udp');
  addCategory(draft, 'network');
  addType(draft, 'connection', 'protocol', 'info');
  const p = input.payload;
  for (const re of DHCP) {
    const m = re.exec(p);
    if (!m?.groups) continue;
    draft.event.action = m.groups.action!.toLowerCase().replace(/ /g, '-');
    setSource(draft, m.groups.client, m.groups.port);
    setDestination(draft, m.groups.server);
    return;
  }
  const word = /^[A-Z]+/.exec(p);
  if (word) draft.event.action = word[0].toLowerCase();
}

function openvpn(input: DecodeInput, draft: Draft): void {
  const p = input.payload;
  const userPeer = OPENVPN_USER_PEER.exec(p);
  const peer = userPeer ?? OPENVPN_PEER.exec(p);
  if (peer?.groups) {
    setSource(draft, peer.groups.src, peer.groups.sport);
    addType(draft, 'connection');
  }
  setUser(draft, userPeer?.groups?.user ?? OPENVPN_PEER_USER.exec(p)?.groups?.user ?? QUOTED_USER.exec(p)?.groups?.user);
  const lower = p.toLowerCase();
  if (lower.includes('auth')) addCategory(draft, 'authentication');
  if (lower.includes('error') || lower.includes('not auth') || lower.includes('failed')) {
    addType(draft, 'error');
    if (lower.includes('auth')) draft.event.outcome = 'failure';
  } else if (lower.includes('authenticated')) draft.event.outcome = 'success';
  if (lower.includes('initiat')) addType(draft, 'start');
  addType(draft, 'info');
}

/** Squid native access log: time elapsed client code/status bytes method URL user hierarchy/peer type. */
function squid(input: DecodeInput, draft: Draft): void {
  const f = input.payload.split(/\s+/);
  const at = f.findIndex((w) => /^[A-Z_]+\/\d{3}$/.test(w));
  if (at < 1) return;
  setSource(draft, f[at - 1]);
  const [code, status] = f[at]!.split('/');
  draft.event.action = code!.toLowerCase();
  (draft as Record<string, unknown>).http = { request: { method: f[at + 2] }, response: { status_code: Number(status) } };
  const url = f[at + 3];
  if (url) (draft as Record<string, unknown>).url = { original: url };
  setUser(draft, f[at + 4]);
  const peer = f[at + 5]?.split('/')[1];
  setDestination(draft, peer);
  addCategory(draft, 'network', 'web');
  addType(draft, 'access', code!.includes('DENIED') ? 'denied' : 'allowed');
}

const DAEMONS: Record<string, (input: DecodeInput, draft: Draft) => void> = {
  dhcpd: dhcp,
  dhcp6c: dhcp,
  dhclient: dhcp,
  dhcpleases: dhcp,
  charon(input, draft) {
    const m = CHARON.exec(input.payload);
    if (m?.groups) {
      setSource(draft, m.groups.src, m.groups.sport);
      setDestination(draft, m.groups.dst, m.groups.dport);
      addType(draft, 'connection');
    }
    if (input.payload.toLowerCase().includes('disconnected')) addType(draft, 'end');
    addCategory(draft, 'network');
    ((draft.network ??= {}) as Record<string, unknown>).protocol = 'ipsec';
  },
  openvpn,
  haproxy(input, draft) {
    const m = HAPROXY.exec(input.payload);
    if (m?.groups) setSource(draft, m.groups.src, m.groups.sport);
    addCategory(draft, 'web');
    addType(draft, 'access');
  },
  unbound(input, draft) {
    const m = UNBOUND.exec(input.payload);
    if (!m?.groups) return;
    setSource(draft, m.groups.src);
    addCategory(draft, 'network');
    addType(draft, 'connection', 'protocol');
    (draft as Record<string, unknown>).dns = { question: { name: m.groups.name!.replace(/\.$/, ''), type: m.groups.type } };
  },
  'php-fpm'(input, draft) {
    const m = PHP_LOGIN.exec(input.payload);
    if (!m?.groups) return;
    setSource(draft, m.groups.src);
    setUser(draft, m.groups.user);
    addCategory(draft, 'authentication');
    const failed = /error|fail/i.test(m.groups.what!);
    draft.event.outcome = failed ? 'failure' : 'success';
    addType(draft, 'start');
    draft.event.action = failed ? 'login-failed' : 'login-succeeded';
  },
  '(squid-1)': squid,
  squid,
};

export const pfsenseServices: Decoder = {
  name: 'pfsense-services',
  description: 'pfSense / OPNsense service logs besides filterlog: DHCP, IPsec (charon), OpenVPN, HAProxy, Unbound, Squid, web configurator logins',
  sniff: (input) => input.header?.appName !== undefined && DAEMONS[input.header.appName] !== undefined,
  decode(input, draft) {
    const app = input.header?.appName;
    const handler = app === undefined ? undefined : DAEMONS[app];
    if (!handler) throw new DecodeError('not a pfSense service line', 0);
    const host = input.header?.hostname?.toLowerCase() ?? '';
    observer(draft, 'netgate', host.includes('opnsense') ? 'opnsense' : 'pfsense', 'firewall');
    (draft.event as Record<string, unknown>).provider = app;
    draft.message = present(input.payload);
    handler(input, draft);
  },
};
