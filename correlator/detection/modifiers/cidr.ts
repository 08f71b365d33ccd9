/** IPv4 and IPv6 networks (`cidr` modifier), compared on the address bits. */
export type IpBits = { v: 4 | 6; bits: bigint };

function parseV4(text: string): bigint | null {
  const parts = text.split('.');
  if (parts.length !== 4) return null;
  let n = 0n;
  for (const p of parts) {
    if (!/^\d{1,3}$/.test(p) || Number(p) > 255) return null;
    n = (n << 8n) | BigInt(Number(p));
  }
  return n;
}

function parseV6(text: string): bigint | null {
  let t = text;
  const zone = t.indexOf('%');
  if (zone >= 0) t = t.slice(0, zone);
  let tailV4: bigint | null = null;
  const lastColon = t.lastIndexOf(':');
  if (t.includes('.') && lastColon >= 0) {
    tailV4 = parseV4(t.slice(lastColon + 1));
    if (tailV4 === null) return null;
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
  if (tailV4 !== null) n = (n & ~0xffffffffn) | tailV4;
  return n;
}

export function parseIp(text: string): IpBits | null {
  const v4 = parseV4(text);
  if (v4 !== null) return { v: 4, bits: v4 };
  const v6 = text.includes(':') ? parseV6(text) : null;
  return v6 === null ? null : { v: 6, bits: v6 };
}

/** A predicate for one network, or an error message for a malformed one. */
export function cidrMatcher(network: string): ((ip: string) => boolean) | string {
  const slash = network.indexOf('/');
  const addr = parseIp(slash < 0 ? network : network.slice(0, slash));
  if (!addr) return `'${network}' is not an IPv4 or IPv6 network`;
  const width = addr.v === 4 ? 32 : 128;
  const prefix = slash < 0 ? width : Number(network.slice(slash + 1));
  if (!Number.isInteger(prefix) || prefix < 0 || prefix > width) return `'${network}': prefix length must be 0-${width}`;
  const shift = BigInt(width - prefix);
  const want = addr.bits >> shift;
  return (ip) => {
    const got = parseIp(ip);
    if (got?.v === addr.v) return got.bits >> shift === want;
    // An IPv4-mapped IPv6 address (::ffff:a.b.c.d) is the IPv4 address.
    if (got?.v === 6 && addr.v === 4 && got.bits >> 32n === 0xffffn) return (got.bits & 0xffffffffn) >> shift === want;
    return false;
  };
}
