import { addCategory, addType, observer, present, setDestination, setSource, setTransport } from '../ecs.ts';
import { scanKv } from '../scan/kv.ts';
import { DecodeError, type Decoder, type Draft } from '../types.ts';

/**
 * Linux netfilter kernel log (iptables/ip6tables LOG and NFLOG, nftables `log prefix`):
 * `[prefix] IN=eth0 OUT= MAC=... SRC=a DST=b LEN=.. PROTO=TCP SPT=1 DPT=2 ...`.
 */
const DENY_WORDS = ['DROP', 'REJECT', 'DENY', 'BLOCK', 'DENIED', 'BLOCKED', 'DROPPED'];
const ALLOW_WORDS = ['ACCEPT', 'ALLOW', 'PASS', 'PERMIT', 'ACCEPTED', 'ALLOWED'];

function kvStart(p: string): number {
  const inAt = p.indexOf('IN=');
  if (inAt === 0 || (inAt > 0 && (p[inAt - 1] === ' ' || p[inAt - 1] === ']' || p[inAt - 1] === ':'))) return inAt;
  // Lines cut at the front (some appliances truncate): start at the first UPPER=value token.
  for (let i = 0; i < p.length; i++) {
    if ((i === 0 || p[i - 1] === ' ') && p.charCodeAt(i) >= 65 && p.charCodeAt(i) <= 90) {
      let j = i;
      while (j < p.length && p.charCodeAt(j) >= 65 && p.charCodeAt(j) <= 90) j++;
      if (p[j] === '=') return i;
    }
  }
  return -1;
}

/** Ubiquiti EdgeOS/UniFi prefixes "[RULESET-RULE-A]" (A accept, D drop, R reject) carry the rule and verdict. */
function ubiquiti(prefix: string, draft: Draft): boolean {
  if (prefix[0] !== '[' || prefix[prefix.length - 1] !== ']') return false;
  const body = prefix.slice(1, -1);
  const last = body.lastIndexOf('-');
  const verdictLetter = body.slice(last + 1);
  if (last < 0 || !['A', 'D', 'R'].includes(verdictLetter)) return false;
  const rest = body.slice(0, last);
  const ruleCut = rest.lastIndexOf('-');
  draft.rule = { name: ruleCut > 0 ? rest.slice(0, ruleCut) : rest };
  draft.event.action = verdictLetter === 'A' ? 'accept' : verdictLetter === 'D' ? 'drop' : 'reject';
  addType(draft, verdictLetter === 'A' ? 'allowed' : 'denied');
  return true;
}

function prefixVerdict(prefix: string, draft: Draft): void {
  if (!prefix || ubiquiti(prefix, draft)) return;
  const words = prefix
    .replace(/[[\]:]/g, ' ')
    .split(/[\s_-]+/)
    .map((w) => w.toUpperCase());
  const last = prefix
    .replace(/^(iptables|ip6tables|nftables|nft|kernel)\b:?\s*/i, '')
    .replace(/[[\]:]/g, '')
    .trim();
  if (last) draft.event.action = last.toLowerCase().split(/\s+/).join('_');
  if (words.some((w) => DENY_WORDS.includes(w))) addType(draft, 'denied');
  else if (words.some((w) => ALLOW_WORDS.includes(w))) addType(draft, 'allowed');
  draft.rule ??= { name: prefix.replace(/[[\]]/g, '').replace(/:$/, '').trim() };
}

export const netfilter: Decoder = {
  name: 'netfilter',
  description: 'Linux netfilter kernel log: iptables/ip6tables LOG and NFLOG, nftables log prefixes (Ubiquiti rule tags too)',
  sniffNeeds: '=',
  sniff(input) {
    const p = input.payload;
    return p.indexOf('PROTO=') >= 0 && (p.indexOf('SRC=') >= 0 || p.indexOf('SPT=') >= 0 || p.indexOf('IN=') >= 0);
  },
  decode(input, draft) {
    let p = input.payload;
    // A kernel timestamp "[ 1234.567890] " before the prefix.
    let base = 0;
    if (p[0] === '[' && /^\[\s*\d+\.\d+\]/.test(p.slice(0, 24))) {
      base = p.indexOf(']') + 1;
      while (p[base] === ' ') base++;
      p = p.slice(base);
    }
    const start = kvStart(p);
    if (start < 0) throw new DecodeError('no KEY=value fields (IN=, SRC=, PROTO=)', base);
    const x = scanKv(p, start);
    if (x.PROTO === undefined) throw new DecodeError('no PROTO= field', base + start);
    observer(draft, 'Linux', 'netfilter', 'firewall');
    addCategory(draft, 'network');
    addType(draft, 'connection');
    prefixVerdict(p.slice(0, start).trim(), draft);
    setSource(draft, x.SRC, x.SPT);
    setDestination(draft, x.DST, x.DPT);
    setTransport(draft, x.PROTO);
    const inIf = present(x.IN);
    const outIf = present(x.OUT);
    const o = draft.observer as Record<string, unknown>;
    if (inIf) o.ingress = { interface: { name: inIf } };
    if (outIf) o.egress = { interface: { name: outIf } };
    if (inIf && !outIf) (draft.network ??= {}).direction = 'inbound';
    else if (outIf && !inIf) (draft.network ??= {}).direction = 'outbound';
    else if (inIf && outIf) (draft.network ??= {}).direction = 'forwarded';
  },
};
