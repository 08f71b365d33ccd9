import { addCategory, addType, ip, observer, present, setDestination, setHash, setSource, setThreat, setTransport, setUser, verdict } from '../ecs.ts';
import { iso, parseEpoch } from '../time.ts';
import { DecodeError, type Decoder, type DecodeInput, type Draft } from '../types.ts';

/**
 * Cisco Meraki MX/MR/MS syslog: "<pri>1 <epoch.nanos> <device> <log type> <body>", where the body is key=value
 * pairs (values bare or 'single-quoted') with free text after "pattern:", "request:" or "message:". The header is
 * RFC 5424 in shape only, so the framing's app name is the log type and the body is re-read from its procId on.
 */
const TYPES = new Set([
  'events',
  'urls',
  'flows',
  'firewall',
  'vpn_firewall',
  'cellular_firewall',
  'bridge_anyconnect_client_vpn_firewall',
  'ip_flow_start',
  'ip_flow_end',
  'ids-alerts',
  'security_event',
  'airmarshal_events',
]);
const BARE = /^(?<time>\d{9,10}\.\d{1,9}) (?<device>\S{1,128}) (?<type>[a-z_-]{4,40}) (?<body>.*)$/;

interface MerakiLine {
  time?: string;
  device?: string;
  type: string;
  body: string;
}

function read(input: DecodeInput): MerakiLine | undefined {
  const h = input.header;
  if (h?.version === 1 && h.appName !== undefined && TYPES.has(h.appName)) {
    // procId, msgId and the payload, those present, joined by spaces.
    let body = input.payload;
    if (h.msgId !== undefined && h.msgId !== '') body = body === '' ? h.msgId : `${h.msgId} ${body}`;
    if (h.procId !== undefined && h.procId !== '') body = body === '' ? h.procId : `${h.procId} ${body}`;
    return { device: h.hostname, type: h.appName, body };
  }
  const m = BARE.exec(input.payload);
  if (m?.groups && TYPES.has(m.groups.type!)) return { time: m.groups.time, device: m.groups.device, type: m.groups.type!, body: m.groups.body! };
  return undefined;
}

/** JavaScript's \s: the white space between pairs. */
function isSpace(c: number): boolean {
  if (c <= 32) return c === 32 || (c >= 9 && c <= 13);
  if (c < 0xa0) return false;
  return (
    c === 0xa0 || c === 0x1680 || (c >= 0x2000 && c <= 0x200a) || c === 0x2028 || c === 0x2029 || c === 0x202f || c === 0x205f || c === 0x3000 || c === 0xfeff
  );
}

/** A character of a key: a word character, '.' or '-'. */
function isKeyChar(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 48 && c <= 57) || c === 95 || c === 46 || c === 45;
}

const MARKERS = new Set(['pattern', 'request', 'message', 'msg']);

function endOfWord(s: string, i: number): number {
  while (i < s.length && !isSpace(s.charCodeAt(i))) i++;
  return i;
}

function hasLineBreak(s: string, from: number): boolean {
  for (let i = from; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 10 || c === 13 || c === 0x2028 || c === 0x2029) return true;
  }
  return false;
}

/**
 * key=value and key='value' pairs (keys of 1-64 word characters, dots and dashes; one space allowed after the
 * '=') up to the first free-text marker ("pattern:", "request:", "message:", "msg:", when the text after it
 * holds no line break); the bare words before the first pair are returned apart, later ones skipped. One pass
 * by hand: every Meraki line is read this way.
 */
function fields(body: string): { kv: Record<string, string>; words: string[]; text?: string } {
  const kv: Record<string, string> = Object.create(null) as Record<string, string>;
  const words: string[] = [];
  const n = body.length;
  let paired = false;
  let i = 0;
  for (;;) {
    while (i < n && isSpace(body.charCodeAt(i))) i++;
    if (i >= n) break;
    let k = i;
    while (k < n && isKeyChar(body.charCodeAt(k))) k++;
    const after = body.charCodeAt(k);
    if (after === 61 /* = */ && k > i && k - i <= 64) {
      const key = body.slice(i, k);
      let v = k + 1;
      if (body.charCodeAt(v) === 32) v++;
      const close = body.charCodeAt(v) === 39 /* ' */ ? body.indexOf("'", v + 1) : -1;
      if (close >= 0) {
        kv[key] = body.slice(v + 1, close);
        i = close + 1;
      } else {
        i = endOfWord(body, v);
        kv[key] = body.slice(v, i);
      }
      paired = true;
      continue;
    }
    if (after === 58 /* : */ && MARKERS.has(body.slice(i, k))) {
      let t = k + 1;
      if (t < n && isSpace(body.charCodeAt(t))) t++;
      if (!hasLineBreak(body, t)) return { kv, words, text: body.slice(t) };
    }
    const end = endOfWord(body, i);
    if (!paired) words.push(body.slice(i, end));
    i = end;
  }
  return { kv, words, text: undefined };
}

/** "10.0.0.1:443", "[fe80::1]:443" or an IPv6 address with ":port" appended unbracketed, to address and port. */
function endpoint(v: string | undefined): [string | undefined, string | undefined] {
  if (v === undefined) return [undefined, undefined];
  if (v.startsWith('[') && v.includes(']:')) return [v.slice(1, v.indexOf(']:')), v.slice(v.indexOf(']:') + 2)];
  const colon = v.lastIndexOf(':');
  if (colon < 0 || (v.indexOf(':') !== colon && ip(v) !== undefined)) return [v, undefined];
  return [v.slice(0, colon), v.slice(colon + 1)];
}

/** The matched rule's verdict: a word ("allow all", "deny ...") or, in newer firmware, 0 (allow) / 1 (deny). */
function patternVerdict(text: string | undefined): 'allowed' | 'denied' | undefined {
  const first = text?.split(' ')[0];
  if (first === '0') return 'allowed';
  if (first === '1') return 'denied';
  return verdict(first);
}

function network(draft: Draft, kv: Record<string, string>): void {
  const [sip, sp] = endpoint(kv.src);
  const [dip, dp] = endpoint(kv.dst);
  setSource(draft, sip, kv.sport ?? sp);
  setDestination(draft, dip, kv.dport ?? dp);
  const proto = kv.protocol?.replace('/ip', '');
  if (proto !== undefined && proto !== 'icmp6') setTransport(draft, proto);
  else if (proto === 'icmp6') setTransport(draft, 'ipv6-icmp');
  if (draft.source || draft.destination) addCategory(draft, 'network');
}

const RADIUS = /Server IP=(?<server>\S+) Server port=(?<sport>\d+) Peer IP=(?<peer>\S+) Peer port=(?<pport>\d+) User=(?<user>[^:\s]+)/;
const VPN_CONNECT = /user id '(?<user>[^']+)' local ip (?<local>\S+) (?:re)?connected from (?<remote>\S+)/;
const VPN_DISCONNECT = /user id '(?<user>[^']+)' local ip (?<local>\S+) disconnected from (?<remote>\S+)/;

function vpnUser(draft: Draft, user: string | undefined): void {
  const u = present(user);
  if (u === undefined) return;
  const at = u.indexOf('@');
  if (at > 0) draft.user = { name: u.slice(0, at), domain: u.slice(at + 1) };
  else setUser(draft, u);
}

function events(draft: Draft, kv: Record<string, string>, words: string[], text: string | undefined, body: string): void {
  const type = kv.type ?? words[0] ?? '';
  draft.event.action = type || undefined;
  addType(draft, 'info');
  const radius = RADIUS.exec(text ?? kv.msg ?? '');
  if (radius?.groups) {
    setSource(draft, radius.groups.peer, radius.groups.pport);
    setDestination(draft, radius.groups.server, radius.groups.sport);
    vpnUser(draft, radius.groups.user);
  }
  const vpn = VPN_CONNECT.exec(body) ?? VPN_DISCONNECT.exec(body);
  if (vpn?.groups) {
    setSource(draft, vpn.groups.remote);
    vpnUser(draft, vpn.groups.user);
    ((draft.source ??= {}) as Record<string, unknown>).nat = { ip: vpn.groups.local };
  }
  if (type.includes('auth_success') || type.endsWith('eap_success')) {
    addCategory(draft, 'authentication');
    addType(draft, 'allowed', 'start');
    draft.event.outcome = 'success';
  } else if (type.includes('auth_failure') || type.endsWith('eap_failure') || type === 'wpa_deauth') {
    addCategory(draft, 'authentication');
    addType(draft, 'denied');
    draft.event.outcome = 'failure';
  } else if (type === 'content_filtering_block') {
    const [ip, p] = endpoint(kv.server);
    setDestination(draft, ip, p);
    addCategory(draft, 'network', 'web');
    addType(draft, 'denied');
    draft.event.outcome = 'failure';
    if (kv.url) (draft as Record<string, unknown>).url = { original: kv.url };
  } else if (type === 'vpn_connectivity_change') {
    const [ip, p] = endpoint(kv.peer_contact);
    setDestination(draft, ip, p);
    addType(draft, 'connection');
  }
  setUser(draft, draft.user?.name ?? kv.identity);
  if (kv.client_ip && kv.client_ip !== '0.0.0.0') setSource(draft, kv.client_ip);
  if (draft.source || draft.destination) addCategory(draft, 'network');
}

export const ciscoMeraki: Decoder = {
  name: 'cisco-meraki',
  description: 'Cisco Meraki MX/MR/MS syslog: flows, firewall, urls, ip_flow_start/end, IDS and AMP security events, events, air marshal',
  sniff: (input) => read(input) !== undefined,
  decode(input, draft) {
    const line = read(input);
    if (!line) throw new DecodeError('not a Cisco Meraki line', 0);
    observer(draft, 'Cisco', 'Meraki', line.type === 'events' || line.type === 'airmarshal_events' ? 'network' : 'firewall');
    if (line.device) draft.observer!.name = line.device;
    if (line.time) draft['@timestamp'] = iso(parseEpoch(line.time));
    const { kv, words, text } = fields(line.body);
    (draft.event as Record<string, unknown>).provider = line.type;
    draft.message = text ?? line.body;
    switch (line.type) {
      case 'flows': {
        network(draft, kv);
        const v = verdict(words[0]) ?? patternVerdict(text);
        addType(draft, 'connection', 'start', v);
        draft.event.action = words[0] ?? v;
        if (v) draft.event.outcome = 'success';
        break;
      }
      case 'firewall':
      case 'vpn_firewall':
      case 'cellular_firewall':
      case 'bridge_anyconnect_client_vpn_firewall': {
        network(draft, kv);
        const v = patternVerdict(text);
        addType(draft, 'connection', 'start', v);
        if (v) draft.event.outcome = 'success';
        if (text) draft.rule = { name: text };
        break;
      }
      case 'ip_flow_start':
      case 'ip_flow_end': {
        network(draft, kv);
        addType(draft, 'connection', line.type === 'ip_flow_start' ? 'start' : 'end');
        // The MX's NAT: the source it translated to (outbound), or the destination it forwarded to (inbound).
        const port = kv.translated_port;
        if (kv.translated_src_ip && draft.source)
          (draft.source as Record<string, unknown>).nat = { ip: kv.translated_src_ip, ...(port ? { port: Number(port) } : {}) };
        if (kv.translated_dst_ip && draft.destination)
          (draft.destination as Record<string, unknown>).nat = { ip: kv.translated_dst_ip, ...(port ? { port: Number(port) } : {}) };
        break;
      }
      case 'urls': {
        network(draft, kv);
        addCategory(draft, 'web');
        addType(draft, 'access');
        const [method, url] = (text ?? '').split(' ');
        if (url) (draft as Record<string, unknown>).url = { original: url };
        if (method) (draft as Record<string, unknown>).http = { request: { method } };
        if (kv.agent) (draft as Record<string, unknown>).user_agent = { original: kv.agent };
        break;
      }
      case 'ids-alerts':
      case 'security_event': {
        network(draft, kv);
        const kind = words[0] ?? 'ids_alerted';
        draft.event.action = kind;
        draft.event.kind = 'alert';
        if (kind === 'ids_alerted' || line.type === 'ids-alerts') {
          addCategory(draft, 'intrusion_detection');
          addType(draft, 'info');
          if (text) draft.rule = { name: text, ...(kv.signature ? { id: kv.signature } : {}) } as Draft['rule'];
          const v = verdict(kv.decision === 'blocked' ? 'block' : kv.decision === 'allowed' ? 'allow' : undefined);
          if (v) addType(draft, v);
          if (kv.direction === 'ingress' || kv.direction === 'egress') (draft.network ??= {}).direction = kv.direction === 'ingress' ? 'inbound' : 'outbound';
        } else {
          addCategory(draft, 'file', 'malware');
          addType(draft, 'info');
          setThreat(draft, kv.name);
          setHash(draft, kv.sha256, 'sha256');
          if (kv.url) (draft as Record<string, unknown>).url = { original: kv.url };
          const v = verdict(kv.action);
          if (v) addType(draft, v);
        }
        break;
      }
      case 'events':
        events(draft, kv, words, text, line.body);
        break;
      default:
        addType(draft, 'info');
    }
  },
};
