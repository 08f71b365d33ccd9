import type { Draft } from './types.ts';

/** IANA protocol numbers to the lower-case names ECS network.transport uses. */
const PROTOCOLS: Record<string, string> = {
  '0': 'hopopt',
  '1': 'icmp',
  '2': 'igmp',
  '4': 'ipv4',
  '6': 'tcp',
  '8': 'egp',
  '9': 'igp',
  '17': 'udp',
  '27': 'rdp',
  '33': 'dccp',
  '41': 'ipv6',
  '46': 'rsvp',
  '47': 'gre',
  '50': 'esp',
  '51': 'ah',
  '58': 'ipv6-icmp',
  '88': 'eigrp',
  '89': 'ospf',
  '94': 'ipip',
  '103': 'pim',
  '108': 'ipcomp',
  '112': 'vrrp',
  '115': 'l2tp',
  '132': 'sctp',
  '136': 'udplite',
};
const PROTOCOL_ALIASES: Record<string, string> = { icmpv6: 'ipv6-icmp', icmp6: 'ipv6-icmp', ipv6icmp: 'ipv6-icmp' };

export function transport(value: string | number | undefined): string | undefined {
  if (value === undefined) return undefined;
  let s = String(value).trim();
  // "tcp/https" (SonicWall) names the protocol, then the service.
  const slash = s.indexOf('/');
  if (slash > 0) s = s.slice(0, slash);
  if (s === '' || s === '-') return undefined;
  const byNumber = PROTOCOLS[s];
  if (byNumber) return byNumber;
  if (isDigits(s)) return s;
  const lower = s.toLowerCase();
  return PROTOCOL_ALIASES[lower] ?? lower;
}

export function isDigits(s: string): boolean {
  if (s.length === 0) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 48 || c > 57) return false;
  }
  return true;
}

export function port(value: string | number | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value === 'number') return Number.isInteger(value) && value >= 0 && value <= 65535 ? value : undefined;
  const s = value.trim();
  if (s.length === 0 || s.length > 5) return undefined;
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i) - 48;
    if (c < 0 || c > 9) return undefined;
    n = n * 10 + c;
  }
  return n <= 65535 ? n : undefined;
}

export function int(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const s = value.trim();
  if (s.length === 0 || s.length > 15) return undefined;
  const neg = s[0] === '-';
  if (!isDigits(neg ? s.slice(1) : s)) return undefined;
  return Number(s);
}

/** An IPv4 or IPv6 address as a string, or undefined for placeholders ("-", "N/A", host names). */
export function ip(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  let s = value.trim();
  if (s.length < 2 || s.length > 64) return undefined;
  if (s[0] === '[' && s[s.length - 1] === ']') s = s.slice(1, -1);
  return isIpv4(s) || isIpv6(s) ? s : undefined;
}

export function isIpv4(s: string): boolean {
  let parts = 0;
  let digits = 0;
  let value = 0;
  for (let i = 0; i <= s.length; i++) {
    const c = i === s.length ? 46 : s.charCodeAt(i);
    if (c === 46) {
      if (digits === 0 || value > 255) return false;
      parts++;
      digits = 0;
      value = 0;
    } else if (c >= 48 && c <= 57) {
      if (++digits > 3) return false;
      value = value * 10 + (c - 48);
    } else return false;
  }
  return parts === 4;
}

export function isIpv6(s: string): boolean {
  if (s.length < 2 || s.length > 45) return false;
  const pct = s.indexOf('%');
  const addr = pct >= 0 ? s.slice(0, pct) : s;
  let colons = 0;
  let group = 0;
  for (let i = 0; i < addr.length; i++) {
    const c = addr.charCodeAt(i);
    if (c === 58) {
      colons++;
      group = 0;
    } else if ((c >= 48 && c <= 57) || (c >= 97 && c <= 102) || (c >= 65 && c <= 70)) {
      if (++group > 4) return false;
    } else if (c === 46) {
      // An embedded IPv4 tail (::ffff:10.0.0.1).
      const tail = addr.slice(addr.lastIndexOf(':') + 1);
      return colons >= 2 && isIpv4(tail);
    } else return false;
  }
  return colons >= 2 && colons <= 7;
}

/** Present and meaningful: not empty and not one of the placeholders vendors write for "none". */
export function present(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  const s = value.trim();
  if (s === '' || s === '-' || s === 'N/A' || s === 'n/a' || s === 'none' || s === '(null)' || s === 'null' || s === 'NULL') return undefined;
  return s;
}

const DENIED = new Set([
  'deny',
  'denied',
  'drop',
  'dropped',
  'block',
  'blocked',
  'reject',
  'rejected',
  'refused',
  'prevent',
  'prevented',
  'quarantine',
  'quarantined',
  'reset',
  'reset-both',
  'reset-client',
  'reset-server',
  'close-denied',
  'ip-conn',
  'discard',
  'discarded',
  'deny-all',
  'server-rst',
  'client-rst',
  'forbidden',
  'detected-blocked',
  'denied-by-policy',
  'block-url',
  'block-ip',
  'block-continue',
  'sinkhole',
  'drop-all-packets',
  'drop-icmp',
  'block-override',
]);
const ALLOWED = new Set([
  'accept',
  'accepted',
  'allow',
  'allowed',
  'permit',
  'permitted',
  'pass',
  'passed',
  'passthrough',
  'ok',
  'forward',
  'forwarded',
  'start',
  'built',
  'close',
  'timeout',
  'exempt',
  'allow-all',
]);

/** Classifies a vendor action word as the ECS event.type word 'denied' or 'allowed'. */
export function verdict(action: string | undefined): 'denied' | 'allowed' | undefined {
  if (action === undefined) return undefined;
  const a = action.trim().toLowerCase();
  if (DENIED.has(a)) return 'denied';
  if (ALLOWED.has(a)) return 'allowed';
  return undefined;
}

export function addType(draft: Draft, ...types: (string | undefined)[]): void {
  for (const t of types) {
    if (t === undefined) continue;
    const list = (draft.event.type ??= []);
    if (!list.includes(t)) list.push(t);
  }
}

export function addCategory(draft: Draft, ...categories: string[]): void {
  const list = (draft.event.category ??= []);
  for (const c of categories) if (!list.includes(c)) list.push(c);
}

/** Network firewall verdict: category network, type connection plus denied/allowed, outcome. */
export function firewallVerdict(draft: Draft, action: string | undefined): void {
  addCategory(draft, 'network');
  addType(draft, 'connection');
  const v = verdict(action);
  if (v) addType(draft, v);
  if (action) draft.event.action = action.toLowerCase();
}

export function setSource(draft: Draft, address: string | undefined, p?: string | number): void {
  const a = ip(address);
  const n = port(p);
  if (a === undefined && n === undefined) return;
  const s = (draft.source ??= {});
  if (a !== undefined) s.ip = a;
  if (n !== undefined) s.port = n;
}

export function setDestination(draft: Draft, address: string | undefined, p?: string | number): void {
  const a = ip(address);
  const n = port(p);
  if (a === undefined && n === undefined) return;
  const d = (draft.destination ??= {});
  if (a !== undefined) d.ip = a;
  if (n !== undefined) d.port = n;
}

export function setTransport(draft: Draft, value: string | number | undefined): void {
  const t = transport(value);
  if (t !== undefined) (draft.network ??= {}).transport = t;
}

/** "DOMAIN\user" becomes user.name and user.domain; other shapes are kept whole as user.name. */
export function setUser(draft: Draft, value: string | undefined): void {
  const v = present(value);
  if (v === undefined) return;
  const slash = v.lastIndexOf('\\');
  let domainEnd = slash;
  // Some exports double the backslash ("CORP\\\\user").
  while (domainEnd > 0 && v[domainEnd - 1] === '\\') domainEnd--;
  if (slash > 0 && domainEnd > 0 && slash < v.length - 1) draft.user = { name: v.slice(slash + 1), domain: v.slice(0, domainEnd) };
  else draft.user = { name: v };
}

/** A file path (Windows or POSIX, file:// URLs too) fills file.path and file.name. */
export function setFilePath(draft: Draft, value: string | undefined): void {
  let v = present(value);
  if (v === undefined) return;
  if (v.startsWith('file:///')) v = v.slice(8);
  const f = (draft.file ??= {});
  f.path = v;
  const cut = Math.max(v.lastIndexOf('\\'), v.lastIndexOf('/'));
  const name = v.slice(cut + 1);
  if (name) f.name = name;
}

export function setFileName(draft: Draft, value: string | undefined): void {
  const v = present(value);
  if (v !== undefined) (draft.file ??= {}).name = v;
}

/** A hex digest goes to file.hash under the algorithm its length implies. */
export function setHash(draft: Draft, value: string | undefined, algorithm?: string): void {
  const v = present(value);
  if (v === undefined) return;
  const algo = algorithm ?? ({ 32: 'md5', 40: 'sha1', 64: 'sha256', 128: 'sha512' } as Record<number, string>)[v.length];
  if (algo === undefined) return;
  const f = (draft.file ??= {});
  (f.hash ??= {})[algo] = v;
}

export function setThreat(draft: Draft, value: string | undefined): void {
  const v = present(value);
  if (v !== undefined) draft.threat = { software: { name: v } };
}

export function observer(draft: Draft, vendor: string, product: string, type: string): void {
  const o = (draft.observer ??= {});
  o.vendor = vendor;
  o.product = product;
  o.type = type;
}
