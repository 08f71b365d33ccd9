import { addCategory, addType, observer, present, setDestination, setSource, setTransport, setUser, verdict } from '../ecs.ts';
import { scanKv } from '../scan/kv.ts';
import { DecodeError, type Decoder } from '../types.ts';

/** Sophos UTM (formerly Astaro) key="value" logs: `id="2002" severity="info" sys="SecureNet" sub="packetfilter" ...`. */
export const sophosUtm: Decoder = {
  name: 'sophos-utm',
  description: 'Sophos UTM (Astaro) key="value" logs: packet filter, web proxy (httpd), IPS, VPN',
  sniffNeeds: '=',
  sniff(input) {
    const p = input.payload;
    return p.indexOf(' sys="') > 0 && p.indexOf(' sub="') > 0 && p.indexOf('id="') >= 0;
  },
  decode(input, draft) {
    const x = scanKv(input.payload, Math.max(0, input.payload.indexOf('id="')));
    if (x.sys === undefined) throw new DecodeError('no sys= field', 0);
    observer(draft, 'Sophos', 'UTM', 'firewall');
    draft.event.code = x.id;
    setSource(draft, x.srcip, x.srcport);
    setDestination(draft, x.dstip, x.dstport);
    setTransport(draft, x.proto);
    setUser(draft, x.user);
    const action = present(x.action);
    if (action) draft.event.action = action;
    // fwrule is the packet-filter rule's number (ECS rule.id, as Elastic maps it).
    if (present(x.fwrule)) draft.rule = { id: x.fwrule };
    if (present(x.initf)) draft.observer!.ingress = { interface: { name: x.initf! } };
    if (present(x.outitf)) draft.observer!.egress = { interface: { name: x.outitf! } };
    if (x.name) draft.message = x.name;
    if (draft.source || draft.destination) {
      addCategory(draft, 'network');
      addType(draft, 'connection');
    }
    addType(draft, verdict(action) ?? 'info');
  },
};
