/** IPv4 and IPv6 networks (`cidr` modifier), compared on the address bits. */
export type IpBits = { v: 4; n: number } | { v: 6; bits: bigint };

/** An IPv4 address as an unsigned 32-bit number, or -1. Plain numbers: BigInt costs on every event. */
function parseV4(text: string): number {
  let n = 0;
  let octets = 0;
  let digits = 0;
  let octet = 0;
  for (let i = 0; i <= text.length; i++) {
    const c = i < text.length ? text.charCodeAt(i) : 46;
    if (c === 46) {
      if (digits === 0 || octet > 255 || ++octets > 4) return -1;
      n = n * 256 + octet;
      digits = 0;
      octet = 0;
    } else if (c >= 48 && c <= 57 && digits < 3) {
      octet = octet * 10 + (c - 48);
      digits++;
    } else return -1;
  }
  return octets === 4 ? n : -1;
}

function parseV6(text: string): bigint | null {
  let t = text;
  const zone = t.indexOf('%');
  if (zone >= 0) t = t.slice(0, zone);
  let tailV4 = -1;
  const lastColon = t.lastIndexOf(':');
  if (t.includes('.') && lastColon >= 0) {
    tailV4 = parseV4(t.slice(lastColon + 1));
    if (tailV4 < 0) return null;
    t = `${t.slice(0, lastColon + 1)}0:0`;
  }
  const halves = t.split('::');
  if (halves.length > 2) return null;
  const head = halves[0] ? halves[0].split(':') : [];
  const tail = halves.length === 2 && halves[1] ? halves[1].split(':') : [];
  const missing = 8 - head.length - tail.length;
  if ((halves.length === 1 && missing !== 0) || (halves.length === 2 && missing < 1)) return null;
  const groups = [...head, ...Array<string>(halves.length === 2 ? missing : 0).fill('0'), ...tail];
  let n = 0n;
  for (const g of groups) {
    if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return null;
    n = (n << 16n) | BigInt(parseInt(g, 16));
  }
  if (tailV4 >= 0) n = (n & ~0xffffffffn) | BigInt(tailV4);
  return n;
}

function parseUncached(text: string): IpBits | null {
  const v4 = parseV4(text);
  if (v4 >= 0) return { v: 4, n: v4 };
  const v6 = text.includes(':') ? parseV6(text) : null;
  return v6 === null ? null : { v: 6, bits: v6 };
}

/**
 * One event's addresses are tested against every network of every rule: parse each once. Bounded by
 * starting over when full, which keeps the cost of a flood of distinct addresses at one parse each.
 */
const parsed = new Map<string, IpBits | null>();
const PARSED_MAX = 4096;

export function parseIp(text: string): IpBits | null {
  let ip = parsed.get(text);
  if (ip === undefined) {
    if (parsed.size >= PARSED_MAX) parsed.clear();
    ip = parseUncached(text);
    parsed.set(text, ip);
  }
  return ip;
}

/** A predicate for one network, or an error message for a malformed one. */
export function cidrMatcher(network: string): ((ip: string) => boolean) | string {
  const slash = network.indexOf('/');
  const addr = parseUncached(slash < 0 ? network : network.slice(0, slash));
  if (!addr) return `'${network}' is not an IPv4 or IPv6 network`;
  const width = addr.v === 4 ? 32 : 128;
  const prefix = slash < 0 ? width : Number(network.slice(slash + 1));
  if (!Number.isInteger(prefix) || prefix < 0 || prefix > width) return `'${network}': prefix length must be 0-${width}`;
  if (addr.v === 4) {
    // Integer division keeps the arithmetic in doubles, exact for 32-bit values.
    const size = 2 ** (32 - prefix);
    const want = Math.floor(addr.n / size);
    return (ip) => {
      const got = parseIp(ip);
      if (got?.v === 4) return Math.floor(got.n / size) === want;
      // An IPv4-mapped IPv6 address (::ffff:a.b.c.d) is the IPv4 address.
      if (got?.v === 6 && got.bits >> 32n === 0xffffn) return Math.floor(Number(got.bits & 0xffffffffn) / size) === want;
      return false;
    };
  }
  const shift = BigInt(128 - prefix);
  const want = addr.bits >> shift;
  return (ip) => {
    const got = parseIp(ip);
    return got?.v === 6 && got.bits >> shift === want;
  };
}
