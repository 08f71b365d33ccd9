import { addCategory, addType, int, ip, observer, port, present, setDestination, setSource, setTransport, setUser } from '../ecs.ts';
import { scanKv } from '../scan/kv.ts';
import { iso, parseDateTime } from '../time.ts';
import { DecodeError, type Decoder, type Draft } from '../types.ts';

/** SonicWall SonicOS enhanced syslog: `id=firewall sn=.. time=".." fw=.. pri=.. c=.. m=.. msg=".." src=ip:port:if dst=..`. */
function hostPort(value: string | undefined): [string | undefined, string | undefined] {
  const v = present(value);
  if (!v) return [undefined, undefined];
  // IPv6 endpoints come in srcV6/dstV6; here the address is IPv4 or a name, then :port, then :interface.
  const parts = v.split(':');
  return [parts[0], parts[1]];
}

/** SonicOS message ids (m=) to the action names of Elastic's SonicWall integration. */
const ACTIONS: Record<string, string> = {
  '98': 'connection-start',
  '537': 'connection-end',
  '713': 'connection-denied',
  '526': 'packet-management',
  '1235': 'packet-forwarded',
  '1382': 'config-change',
  '30': 'login-failure',
  '994': 'session-start',
  '177': 'attack-detected',
  '1369': 'attack-detected',
  '1107': 'internal-log-failure',
};

export const sonicwall: Decoder = {
  name: 'sonicwall',
  description: 'SonicWall SonicOS enhanced syslog key=value (id=firewall ... m=<message id>)',
  sniffNeeds: '=',
  sniff(input) {
    const p = input.payload;
    return p.lastIndexOf('id=', 63) >= 0 && p.indexOf(' sn=') > 0 && p.indexOf(' m=') > 0 && p.indexOf(' fw=') > 0;
  },
  decode(input, draft) {
    const x = scanKv(input.payload);
    if (x.id === undefined || x.m === undefined) throw new DecodeError('no id= and m= fields', 0);
    observer(draft, 'SonicWall', 'SonicOS', 'firewall');
    draft.event.code = x.m;
    const sev = int(x.pri);
    if (sev !== undefined) draft.event.severity = sev;
    if (x.time) {
      const ts = iso(parseDateTime(x.time, input.time));
      if (ts) draft['@timestamp'] = ts;
    }
    if (x.msg) draft.message = x.msg;
    const [sIp, sPort] = hostPort(x.src);
    const [dIp, dPort] = hostPort(x.dst);
    setSource(draft, x.srcV6 ?? sIp, sPort);
    setDestination(draft, x.dstV6 ?? dIp, dPort);
    const proto = present(x.proto);
    if (proto) setTransport(draft, proto.split('/')[0]);
    setUser(draft, x.usr ?? x.user);
    if (x.rule) draft.rule = { name: x.rule };
    const action = present(x.fw_action)?.replace(/^"|"$/g, '').toLowerCase();
    const msg = (x.msg ?? '').toLowerCase();
    if (draft.source || draft.destination) addCategory(draft, 'network');
    if (action === 'drop' || action === 'deny' || action === 'reject' || msg.includes('dropped') || msg.includes('blocked') || msg.includes('denied'))
      addType(draft, 'denied');
    else if (action === 'forward' || action === 'allow' || msg.includes('allowed') || msg.includes('permitted')) addType(draft, 'allowed');
    else addType(draft, 'info');
    // event.action by message id as Elastic names them; otherwise the fw_action word (kept below as well).
    draft.event.action = ACTIONS[x.m] ?? action;
    if (x.m === '30') {
      addCategory(draft, 'authentication');
      draft.event.outcome = 'failure';
    }
    if (present(x.sn)) draft.observer!.serial_number = x.sn;
    // "src=1.2.3.4:41000:X1": the third part is the interface the packet came in by (the destination's, out).
    const inIf = present(x.src?.split(':')[2]);
    const outIf = present(x.dst?.split(':')[2]);
    if (inIf) draft.observer!.ingress = { interface: { name: inIf } };
    if (outIf) draft.observer!.egress = { interface: { name: outIf } };
    const [snat, snatPort] = hostPort(x.natSrc);
    const [dnat, dnatPort] = hostPort(x.natDst);
    if (ip(snat) && ip(snat) !== ip(sIp) && draft.source) draft.source.nat = { ip: ip(snat)!, ...(port(snatPort) ? { port: port(snatPort) } : {}) };
    if (ip(dnat) && ip(dnat) !== ip(dIp) && draft.destination) draft.destination.nat = { ip: ip(dnat)!, ...(port(dnatPort) ? { port: port(dnatPort) } : {}) };
    const sent = int(x.sent);
    const rcvd = int(x.rcvd);
    if (sent !== undefined && draft.source) draft.source.bytes = sent;
    if (rcvd !== undefined && draft.destination) draft.destination.bytes = rcvd;
    draft.event.outcome ??= 'success';
    draft.sonicwall = { sn: x.sn, category: x.c, gcat: x.gcat, message_id: x.m, fw_action: action } satisfies Draft[string];
  },
};
