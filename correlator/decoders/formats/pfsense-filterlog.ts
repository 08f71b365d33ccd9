import { firewallVerdict, observer, present, setDestination, setSource, setTransport } from '../ecs.ts';
import { splitCsv } from '../scan/kv.ts';
import { DecodeError, type Decoder } from '../types.ts';

/**
 * pfSense / OPNsense `filterlog` CSV (the documented raw filter log format): rule, sub-rule, anchor, tracker,
 * interface, reason, action, direction, IP version, then IPv4 or IPv6 header fields, then protocol fields.
 */
function looksLikeFilterlog(p: string): boolean {
  const c = p.charCodeAt(0);
  if (!(c >= 48 && c <= 57)) return false;
  const match = p.indexOf(',match,');
  return match > 0 && match < 120 && /,(pass|block|reject),(in|out),(4|6),/.test(p.slice(match, match + 24));
}

export const pfsenseFilterlog: Decoder = {
  name: 'pfsense-filterlog',
  description: 'pfSense / OPNsense filterlog CSV (IPv4 and IPv6; tcp, udp, icmp and others)',
  sniff: (input) => input.header?.appName === 'filterlog' || looksLikeFilterlog(input.payload),
  decode(input, draft) {
    const f = splitCsv(input.payload, 0, 64);
    if (f.length < 9) throw new DecodeError(`truncated record: ${f.length} fields, at least 9 needed`, input.payload.length);
    const [rule, , , tracker, iface, reason, action, direction, ipVersion] = f as string[];
    if (ipVersion !== '4' && ipVersion !== '6') throw new DecodeError(`IP version '${ipVersion?.slice(0, 8)}' is neither 4 nor 6`, input.payload.length);
    observer(draft, 'netgate', input.header?.hostname?.toLowerCase().includes('opnsense') ? 'opnsense' : 'pfsense', 'firewall');
    firewallVerdict(draft, action);
    draft.event.reason = reason;
    draft.rule = { name: present(tracker) ?? rule, id: rule } as { name: string };
    if (direction === 'in' || direction === 'out') draft.network = { direction: direction === 'in' ? 'inbound' : 'outbound' };
    (draft.observer as Record<string, unknown>).ingress = { interface: { name: iface } };
    // Field positions after the version differ between IPv4 and IPv6.
    const v4 = ipVersion === '4';
    const protoText = v4 ? f[16] : f[12];
    const protoId = v4 ? f[15] : f[13];
    const src = v4 ? f[18] : f[15];
    const dst = v4 ? f[19] : f[16];
    if (src === undefined || dst === undefined) throw new DecodeError(`truncated IPv${ipVersion} header: ${f.length} fields`, input.payload.length);
    setTransport(draft, present(protoText) ?? protoId);
    const rest = v4 ? 20 : 17;
    const proto = draft.network?.transport;
    if (proto === 'tcp' || proto === 'udp' || proto === 'sctp') {
      setSource(draft, src, f[rest]);
      setDestination(draft, dst, f[rest + 1]);
    } else {
      setSource(draft, src);
      setDestination(draft, dst);
    }
  },
};
