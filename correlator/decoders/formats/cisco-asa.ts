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
} from '../ecs.ts';
import { DecodeError, type Decoder, type Draft } from '../types.ts';

/**
 * Cisco ASA and Firepower Threat Defense syslog: `%ASA-<level>-<id>: <text>` (and %FTD-). The message
 * families of the access path are read field by field; any other id keeps its text and severity.
 */
interface Endpoint {
  ip?: string;
  port?: number;
  iface?: string;
}

/** "outside:10.0.0.1/443", "10.0.0.1/443", "inside/10.0.0.1(443)", "10.0.0.1" (trailing punctuation ignored). */
export function endpoint(raw: string | undefined): Endpoint | undefined {
  if (raw === undefined) return undefined;
  let end = raw.length;
  // A sentence may end on an endpoint ("... dst 10.0.0.1/53."): a trailing comma, semicolon or full stop is not part of it.
  while (end > 0 && (raw.charCodeAt(end - 1) === 44 || raw.charCodeAt(end - 1) === 59 || raw.charCodeAt(end - 1) === 46)) end--;
  let t = end === raw.length ? raw : raw.slice(0, end);
  if (t[0] === '(' && t[t.length - 1] === ')') t = t.slice(1, -1);
  const paren = t.indexOf('(');
  let p: number | undefined;
  if (paren > 0) {
    // "inside/10.0.0.1(443)" carries the port; "1.1.1.1/0(AD\user)" carries a user.
    p = port(t.slice(paren + 1, t.indexOf(')', paren)));
    t = t.slice(0, paren);
  }
  let iface: string | undefined;
  const slash = t.lastIndexOf('/');
  if (slash > 0) {
    const after = t.slice(slash + 1);
    const asPort = port(after);
    if (ip(after) !== undefined) {
      iface = t.slice(0, slash);
      t = after;
    } else {
      if (asPort !== undefined) p = asPort;
      // A service name ("/https") or an out-of-range number is not a port number: drop it.
      t = t.slice(0, slash);
    }
  }
  let a = ip(t);
  if (a === undefined) {
    const colon = t.indexOf(':');
    if (colon > 0) {
      a = ip(t.slice(colon + 1));
      iface = t.slice(0, colon);
    }
  }
  if (a === undefined && p === undefined) return undefined;
  return { ip: a, port: p, iface };
}

/** The endpoints after "from ... to ..." or, failing that, "src ... dst ..." or "for ... to ...". */
function fromTo(words: string[]): [Endpoint | undefined, Endpoint | undefined] {
  for (const [a, b] of [
    ['from', 'to'],
    ['src', 'dst'],
    ['for', 'to'],
  ] as const) {
    const [src, at] = after(words, a);
    if (!src) continue;
    const [dst] = after(words, b, at);
    return [src, dst];
  }
  return [undefined, undefined];
}

function after(words: string[], keyword: string, from = 0): [Endpoint | undefined, number] {
  for (let i = from; i < words.length - 1; i++)
    if (words[i] === keyword) {
      const e = endpoint(words[i + 1]);
      if (e) return [e, i + 1];
    }
  return [undefined, -1];
}

function set(draft: Draft, src: Endpoint | undefined, dst: Endpoint | undefined): void {
  if (src) setSource(draft, src.ip, src.port);
  if (dst) setDestination(draft, dst.ip, dst.port);
  const o = (draft.observer ??= {}) as Record<string, unknown>;
  if (src?.iface) o.ingress = { interface: { name: src.iface } };
  if (dst?.iface) o.egress = { interface: { name: dst.iface } };
}

const TRANSPORTS = new Set(['tcp', 'udp', 'icmp', 'icmp6', 'gre', 'esp', 'ah', 'sctp', 'igmp', 'ospf', 'pim']);

function firstTransport(words: string[], limit: number): string | undefined {
  for (let i = 0; i < Math.min(words.length, limit); i++) {
    // No name in TRANSPORTS is longer than five letters, and lower-casing never shortens a word.
    if (words[i]!.length > 5) continue;
    const w = words[i]!.toLowerCase();
    if (TRANSPORTS.has(w)) return w;
  }
  return undefined;
}

const FIELD_KEY = /^[A-Z]\w*(?: \w+){1,3}$/;

/** "Key: value, Key: value" records of FTD connection, intrusion and file events (430001-430005). */
function colonFields(text: string): Record<string, string> {
  const out: Record<string, string> = Object.create(null) as Record<string, string>;
  let i = 0;
  while (i < text.length) {
    const colon = text.indexOf(': ', i);
    if (colon < 0) break;
    const key = text.slice(i, colon).trim();
    // The value runs to the next ", Key: ": a comma, a space, then a key of one word or a few words the
    // first of them capitalised ("Prefilter Policy", "Tunnel or Prefilter Rule"), then ": ".
    let j = colon + 2;
    let end = text.length;
    let next = text.length;
    while (j < text.length) {
      const comma = text.indexOf(', ', j);
      if (comma < 0) break;
      const colon2 = text.indexOf(': ', comma + 2);
      const space = text.indexOf(' ', comma + 2);
      if (colon2 > 0 && (space < 0 || space >= colon2 || (colon2 - comma < 48 && FIELD_KEY.test(text.slice(comma + 2, colon2))))) {
        end = comma;
        next = comma + 2;
        break;
      }
      j = comma + 2;
    }
    out[key] = text.slice(colon + 2, end).trim();
    i = next;
  }
  return out;
}

function denied(draft: Draft): void {
  addCategory(draft, 'network');
  addType(draft, 'connection', 'denied');
  draft.event.outcome = 'success';
}

function decodeMessage(id: number, text: string, draft: Draft, ftd: boolean): void {
  const split = text.split(' ');
  // Runs of spaces are rare: filter only when there is an empty word to drop.
  const words = split.includes('') ? split.filter((w) => w.length > 0) : split;
  const lower0 = words[0]?.toLowerCase();
  const t = firstTransport(words, 6);
  if (t) setTransport(draft, t);
  switch (id) {
    case 106001: // Inbound TCP connection denied from IP/port to IP/port flags ... on interface X
    case 106006: // Deny inbound UDP from IP/port to IP/port on interface X
    case 106007: // Deny inbound UDP from IP/port to IP/port due to DNS {Response|Query}
    case 106015: // Deny TCP (no connection) from IP/port to IP/port flags ... on interface X
    case 106010:
    case 106016:
    case 106018:
    case 106021:
    case 106011:
    case 710003:
    case 710005:
    case 106012:
    case 106013: {
      const [src, dst] = fromTo(words);
      set(draft, src, dst);
      denied(draft);
      if (words.includes('inbound')) (draft.network ??= {}).direction = 'inbound';
      else if (words.includes('outbound')) (draft.network ??= {}).direction = 'outbound';
      return;
    }
    case 106014: // Deny inbound icmp src IF:IP dst IF:IP (type N, code M)
    case 106023: {
      // Deny PROTO src IF:IP/port dst IF:IP/port [type.. code..] by access-group "acl"
      const [src, at] = after(words, 'src');
      const [dst] = after(words, 'dst', Math.max(at, 0));
      set(draft, src, dst);
      denied(draft);
      if (words[1] === 'inbound' || words[1] === 'outbound') (draft.network ??= {}).direction = words[1];
      const acl = /by access-group "([^"]{1,256})"/.exec(text);
      if (acl) draft.rule = { name: acl[1]! };
      return;
    }
    case 106100:
    case 106103: {
      // access-list NAME permitted|denied|est-allowed PROTO IF/IP(port) -> IF/IP(port) hit-cnt N
      // access-list NAME denied PROTO for user USER IF/IP(port) -> IF/IP(port) hit-cnt N (106103: per-user ACL)
      draft.rule = { name: words[1] ?? '' };
      const verdict = words[2];
      setTransport(draft, words[3]);
      if (words[4] === 'for' && words[5] === 'user') setUser(draft, words[6]);
      const arrow = words.indexOf('->');
      set(draft, endpoint(words[arrow - 1]), endpoint(words[arrow + 1]));
      addCategory(draft, 'network');
      addType(draft, 'connection', verdict === 'denied' ? 'denied' : verdict === 'permitted' || verdict === 'est-allowed' ? 'allowed' : undefined);
      draft.event.outcome = 'success';
      return;
    }
    case 302013:
    case 302015:
    case 302014:
    case 302016:
    case 302017:
    case 302018:
    case 302023:
    case 302024:
    case 302022:
    case 302025:
    case 302026:
    case 302027: {
      // Built {inbound|outbound} PROTO connection ID for IF:IP/port (mapped) to IF:IP/port (mapped)
      // Teardown PROTO connection ID for IF:IP/port to IF:IP/port duration T bytes N [reason]
      const [first, at] = after(words, 'for');
      const [second] = after(words, 'to', Math.max(at, 0));
      if (ftd) {
        // FTD names the initiator first. Its inbound/outbound word comes from interface security levels,
        // which FTD leaves equal, and does not say who initiated (Cisco confirmed it inconsistent, see
        // elastic/integrations#5648): it is not kept as network.direction.
        set(draft, first, second);
      } else {
        const outbound = words[1] === 'outbound';
        if (words[1] === 'inbound' || outbound) (draft.network ??= {}).direction = words[1];
        // The ASA names the foreign (lower-security) side first; an outbound connection was initiated by the second.
        if (outbound) set(draft, second, first);
        else set(draft, first, second);
      }
      addCategory(draft, 'network');
      addType(draft, 'connection', lower0 === 'built' ? 'start' : 'end');
      const user = /\(([^()\s\\]{1,256}\\[^()\s,]{1,256})(?:, \d+)?\)/.exec(text);
      if (user) setUser(draft, user[1]);
      return;
    }
    case 302020:
    case 302021: {
      // Built {inbound|outbound} ICMP connection for faddr F/0 gaddr G/0 laddr L/0; Teardown ICMP connection for ...
      const [foreign] = after(words, 'faddr');
      const [local] = after(words, 'laddr');
      // An inbound ICMP flow was started by the foreign address, an outbound one by the local address. A
      // teardown does not say which: most ICMP through a firewall is inside hosts probing out, so the local
      // address is taken as the source, as Elastic does. Elastic takes it for inbound flows too; we do not,
      // so that an inbound sweep shows the prober as source.ip.
      if (words[1] === 'inbound') set(draft, foreign, local);
      else set(draft, local, foreign);
      const user = /\(([^()\s\\,]{1,256}\\[^()\s,]{1,256})[,)]/.exec(text);
      if (user) setUser(draft, user[1]);
      if (words[1] === 'inbound' || words[1] === 'outbound') (draft.network ??= {}).direction = words[1];
      setTransport(draft, words.includes('ICMPv6') ? 'ipv6-icmp' : 'icmp');
      addCategory(draft, 'network');
      addType(draft, 'connection', lower0 === 'built' ? 'start' : 'end');
      return;
    }
    case 305011:
    case 305012: {
      // Built|Teardown dynamic PROTO translation from IF:IP/port to IF:IP/port
      const [src, at] = after(words, 'from');
      const [dst] = after(words, 'to', Math.max(at, 0));
      set(draft, src, dst);
      addCategory(draft, 'network');
      addType(draft, 'info');
      return;
    }
    case 313004: {
      // Denied ICMP type=N, from laddr IP on interface X to IP: no matching session
      const [src] = after(words, 'laddr');
      const to = words.indexOf('to');
      set(draft, src, to >= 0 ? endpoint(words[to + 1]?.replace(/:$/, '')) : undefined);
      setTransport(draft, 'icmp');
      denied(draft);
      return;
    }
    case 313001: {
      // Denied ICMP type=N, code=M from IP on interface X
      const [src] = after(words, 'from');
      set(draft, src, undefined);
      setTransport(draft, 'icmp');
      denied(draft);
      return;
    }
    case 313005:
    case 313008: {
      // No matching connection for ICMP error message: icmp src IF:IP[(user)] dst IF:IP (type N, code M) on IF
      // interface. Original IP payload: udp src IP/port dst IP/port. The flow the error refers to is the one
      // in the payload (as Elastic reads it); the ICMP message's own ends are its reply path.
      const payloadAt = words.indexOf('payload:');
      const base = Math.max(payloadAt, 0);
      const [src, at] = after(words, 'src', base);
      const [dst] = after(words, 'dst', Math.max(at, base));
      set(draft, src, dst);
      const user = /\(([^()\s\\,]{1,256}\\[^()\s,]{1,256})[,)]/.exec(text);
      if (user) setUser(draft, user[1]);
      setTransport(draft, 'icmp');
      addCategory(draft, 'network');
      addType(draft, 'info');
      return;
    }
    case 313009: {
      // Denied invalid ICMP code N, for IF:IP/port (mapped) to IF:IP/port (mapped), ICMP id N, ICMP type N
      const [src, dst] = fromTo(words);
      set(draft, src, dst);
      setTransport(draft, 'icmp');
      denied(draft);
      return;
    }
    case 607001: {
      // Pre-allocate SIP TYPE secondary channel for IF:IP/port to IF:IP from METHOD message: the address
      // after "to" may now open the channel towards the port pinholed "for" it.
      const [pinhole, at] = after(words, 'for');
      const [peer] = after(words, 'to', Math.max(at, 0));
      set(draft, peer, pinhole);
      addCategory(draft, 'network');
      addType(draft, 'info');
      return;
    }
    case 304001: {
      // SRC Accessed [JAVA ]URL DST:url, each end possibly "user@IP" and the source "user@IP(DOMAIN\user)"
      const bare = (w: string | undefined) => (w ?? '').slice((w ?? '').indexOf('@') + 1).replace(/\(.*$/, '');
      setSource(draft, bare(words[0]));
      const urlAt = words.indexOf('URL');
      const target = bare(words[urlAt + 1]);
      setDestination(draft, target.slice(0, target.indexOf(':')));
      addCategory(draft, 'network', 'web');
      addType(draft, 'connection', 'allowed');
      draft.event.outcome = 'success';
      return;
    }
    case 602303:
    case 602304: {
      // IPSEC: An {inbound|outbound} LAN-to-LAN SA (SPI= x) between A and B (user= U) has been created|deleted
      const between = words.indexOf('between');
      if (between >= 0) set(draft, endpoint(words[between + 1]), endpoint(words[between + 3]));
      const user = /\(user= ([^\s)]{1,256})\)/.exec(text);
      if (user) setUser(draft, user[1]);
      addCategory(draft, 'network');
      addType(draft, 'info', id === 602304 ? 'end' : 'start', 'allowed');
      return;
    }
    case 609001:
    case 609002: {
      // Built|Teardown local-host IF:IP [duration T]: the host whose state the ASA created or freed.
      const [host] = after(words, 'local-host');
      set(draft, host, undefined);
      addCategory(draft, 'network');
      addType(draft, 'connection', id === 609001 ? 'start' : 'end');
      return;
    }
    case 725001:
    case 725002:
    case 725003:
    case 725006:
    case 725007: {
      // [Device completed|Starting] SSL handshake with client|server IF:IP/port ...: a client reached the ASA, a server was reached by it.
      const client = after(words, 'client')[0];
      const server = after(words, 'server')[0];
      if (client) set(draft, client, undefined);
      else if (server) set(draft, undefined, server);
      addCategory(draft, 'network');
      addType(draft, 'info');
      return;
    }
    case 733100: // [ Scanning] drop rate-1 exceeded. Current burst rate is N per second, ...
      addCategory(draft, 'network', 'intrusion_detection');
      addType(draft, 'info');
      draft.event.kind = 'alert';
      return;
    case 430001:
    case 430002:
    case 430003:
    case 430004:
    case 430005: {
      const f = colonFields(text);
      setSource(draft, f.SrcIP, f.SrcPort);
      setDestination(draft, f.DstIP, f.DstPort);
      setTransport(draft, f.Protocol);
      setUser(draft, f.User);
      addCategory(draft, 'network');
      const action = present(f.AccessControlRuleAction ?? f.FileAction ?? f.InlineResult);
      if (action) draft.event.action = action.toLowerCase();
      const a = action?.toLowerCase() ?? '';
      if (/^(block|blocked|drop|would block|block with reset|interactive block|would be blocked)/.test(a)) addType(draft, 'denied');
      else if (a === 'allow' || a === 'trust' || a === 'allowed') addType(draft, 'allowed');
      if (f.AccessControlRuleName) draft.rule = { name: f.AccessControlRuleName };
      if (id === 430001) addCategory(draft, 'intrusion_detection');
      if (id === 430004 || id === 430005) {
        addCategory(draft, 'file');
        setFileName(draft, f.FileName);
        setHash(draft, f.FileSHA256, 'sha256');
        setThreat(draft, f.ThreatName);
        if (f.ThreatName) {
          addCategory(draft, 'malware');
          draft.event.kind = 'alert';
        }
      }
      addType(draft, id === 430002 ? 'start' : id === 430003 ? 'end' : 'info');
      return;
    }
    default:
      if (words[0]?.startsWith('Local:') && words[1]?.startsWith('Remote:')) ikeV2(words, draft);
      else genericEndpoints(words, draft);
  }
}

/** IKEv2 (7500xx, 7510xx): "Local:IP:port Remote:IP:port Username:USER ...", the ASA's own end first. */
function ikeV2(words: string[], draft: Draft): void {
  const end = (w: string) => {
    const v = w.slice(w.indexOf(':') + 1);
    const colon = v.lastIndexOf(':');
    // "81.2.69.144:500"; an IPv6 address keeps its colons, its port comes after the last one.
    return colon > 0 && ip(v.slice(0, colon)) !== undefined ? { ip: v.slice(0, colon), port: port(v.slice(colon + 1)) } : { ip: ip(v) };
  };
  set(draft, end(words[0]!), end(words[1]!));
  const user = words.find((w) => w.startsWith('Username:'));
  if (user) setUser(draft, user.slice('Username:'.length));
  addCategory(draft, 'network');
  addType(draft, 'info');
}

/** Message ids not read field by field: take "from X to Y" / "src X dst Y" endpoints and AAA user names. */
function genericEndpoints(words: string[], draft: Draft): void {
  const [src, dst] = fromTo(words);
  set(draft, src, dst);
  const text = words.join(' ');
  const user = /\b(?:[Uu]ser|Username|Uname) ?(?:[=:<] ?'?|(?=[^\s<>]{1,128} IP ))([^\s,'<>()]{1,128})/.exec(text);
  if (user) setUser(draft, user[1]);
  const userIp = /\b(?:user IP|IP) ?[=<]? ?([0-9a-fA-F.:]{3,45})/.exec(text);
  if (userIp && !draft.source?.ip) setSource(draft, userIp[1]);
  const server = /\bserver ?= ?([0-9a-fA-F.:]{3,45})/.exec(text);
  if (server && !draft.destination?.ip) setDestination(draft, server[1]);
  addCategory(draft, 'network');
  const lower = text.toLowerCase();
  if (lower.includes('rejected') || lower.includes('denied') || lower.startsWith('deny') || lower.includes('not allowed')) {
    addType(draft, 'denied');
    draft.event.outcome = 'failure';
  } else if (lower.includes('successful') || lower.includes('permitted') || lower.includes('accessed')) {
    addType(draft, 'allowed');
    draft.event.outcome = 'success';
  } else addType(draft, 'info');
}

/**
 * event.action by message id, as Elastic's Cisco ASA integration names them; any other message is the
 * work of the access rules ("firewall-rule"). AAA rejections (113015, 611102) are logon failures here,
 * where Elastic leaves them "firewall-rule", so that one login rule reads every failed login.
 */
const ACTIONS: Record<number, string> = {
  302014: 'flow-expiration',
  302016: 'flow-expiration',
  302018: 'flow-expiration',
  302021: 'flow-expiration',
  302036: 'flow-expiration',
  305012: 'flow-expiration',
  609002: 'flow-expiration',
  302020: 'flow-creation',
  113004: 'logged-in',
  113012: 'logged-in',
  605005: 'logged-in',
  611101: 'logged-in',
  113005: 'logon-failed',
  113015: 'logon-failed',
  605004: 'logon-failed',
  611102: 'logon-failed',
  716039: 'logon-failed',
  113019: 'client-vpn-disconnected',
  113039: 'client-vpn-connected',
  722051: 'client-vpn-connected',
  113030: 'client-vpn-error',
  113032: 'client-vpn-error',
  113033: 'client-vpn-error',
  113034: 'client-vpn-error',
  113035: 'client-vpn-error',
  113037: 'client-vpn-error',
  430001: 'intrusion-detected',
  430002: 'connection-started',
  430003: 'connection-finished',
  430004: 'file-detected',
  430005: 'malware-detected',
  602303: 'created',
  602304: 'deleted',
  713902: 'error',
  713904: 'error',
  750003: 'error',
};

/** Outcome of the login messages: a failed logon is a failure whatever the text says. */
function loginOutcome(draft: Draft, action: string): void {
  if (action === 'logon-failed') {
    draft.event.outcome = 'failure';
    addCategory(draft, 'authentication');
  } else if (action === 'logged-in') {
    draft.event.outcome = 'success';
    addCategory(draft, 'authentication');
  }
}

function tagAt(p: string): number {
  const at = p.indexOf('%');
  if (at < 0 || at > 200) return -1;
  const tag = p.slice(at + 1, at + 5);
  return tag === 'ASA-' || tag === 'FTD-' || tag === 'PIX-' || p.startsWith('FWSM-', at + 1) || p.startsWith('NGIPS-', at + 1) ? at : -1;
}

/** "%ASA-6-302013:", "%FTD-session-5-106100:", "%ASA-3-430005 " (no colon): product, level, id and where the text starts. */
function parseTag(p: string, at: number): { product: string; level: number; id: number; text: number } | undefined {
  let end = at;
  while (end < p.length && p[end] !== ':' && p[end] !== ' ') end++;
  const parts = p.slice(at + 1, end).split('-');
  if (parts.length < 3) return undefined;
  const level = int(parts[parts.length - 2]);
  const id = int(parts[parts.length - 1]);
  if (level === undefined || id === undefined) return undefined;
  return { product: parts[0]!, level, id, text: p[end] === ':' ? end + 1 : end };
}

/** AnyConnect lines some exports cut before the tag: "[Tunnel]Group <G> [GroupPolicy <P>] User <U> IP <a.b.c.d> ...". */
function isVpnSessionLine(p: string): boolean {
  return (p.startsWith('Group <') || p.startsWith('TunnelGroup <')) && p.includes('> User <') && p.includes('> IP <');
}

export const ciscoAsa: Decoder = {
  name: 'cisco-asa',
  description: 'Cisco ASA and Firepower Threat Defense syslog (%ASA-/%FTD-): deny/permit/built/teardown families and more',
  sniff: (input) => tagAt(input.payload) >= 0 || isVpnSessionLine(input.payload),
  decode(input, draft) {
    const p = input.payload;
    const at = tagAt(p);
    if (at < 0) {
      if (!isVpnSessionLine(p)) throw new DecodeError('no %ASA-/%FTD- message tag', 0);
      observer(draft, 'Cisco', 'asa', 'firewall');
      draft.message = p;
      genericEndpoints(p.split(' '), draft);
      return;
    }
    const tag = parseTag(p, at);
    if (!tag) throw new DecodeError('message tag is not %PRODUCT-LEVEL-ID:', at);
    const { product, level, id } = tag;
    observer(draft, 'Cisco', product === 'FTD' ? 'ftd' : 'asa', 'firewall');
    draft.event.code = String(id);
    draft.event.severity = level;
    const text = p.slice(tag.text).trim();
    draft.message = text;
    const h = input.header;
    // "Apr 27 02:03:03 dev01: %ASA-..." puts the firewall's name where a tag would be.
    if (h && !h.hostname && h.appName && h.procId === undefined) draft.observer!.name = h.appName;
    if (at > 0 && !h?.hostname) {
      const before = p.slice(0, at).replace(/[:\s]+$/, '');
      if (before && !before.includes(' ')) draft.observer!.name = before;
    }
    decodeMessage(id, text, draft, product === 'FTD');
    // FTD's access-control verdict ("Allow", "Block") stays beside the Elastic action name.
    if (id >= 430001 && id <= 430005 && draft.event.action !== undefined) draft.cisco = { ftd: { rule_action: draft.event.action } };
    draft.event.action = ACTIONS[id] ?? 'firewall-rule';
    loginOutcome(draft, draft.event.action);
    // The AnyConnect errors (113030-113037) refused or cut the session: as Elastic, a denied connection.
    if (draft.event.action === 'client-vpn-error') addType(draft, 'connection', 'denied');
    // As Elastic: the firewall did what it logged (a deny included) unless the message says it failed.
    draft.event.outcome ??= 'success';
  },
};
