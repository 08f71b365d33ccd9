import { addCategory, addType, observer, present, setDestination, setFilePath, setSource, setTransport, setUser, verdict } from '../ecs.ts';
import { scanKv } from '../scan/kv.ts';
import { iso, parseAny } from '../time.ts';
import { DecodeError, type Decoder } from '../types.ts';

/** IBM LEEF 1.0/2.0: `LEEF:1.0|vendor|product|version|event id|` then tab-separated key=value attributes. */
export const leef: Decoder = {
  name: 'leef',
  description: 'IBM LEEF 1.0 / 2.0 (WatchGuard, some Symantec and Sophos exports)',
  sniff(input) {
    const p = input.payload;
    // A forward native search first: the bounded backward one is slow per character and most lines have no label.
    const label = p.indexOf('LEEF:');
    return label === 0 || (label > 0 && label <= 256 && p.lastIndexOf(' LEEF:', 255) > -1);
  },
  decode(input, draft) {
    const p = input.payload;
    const space = p.startsWith('LEEF:') ? -1 : p.lastIndexOf(' LEEF:', 255);
    if (space < 0 && !p.startsWith('LEEF:')) throw new DecodeError('no LEEF: header', 0);
    const start = space + 1;
    const header: string[] = [];
    let i = start + 5;
    let from = i;
    while (header.length < 5) {
      const bar = p.indexOf('|', i);
      if (bar < 0) throw new DecodeError(`truncated header: ${header.length + 1} of 6 fields`, p.length);
      header.push(p.slice(from, bar));
      i = from = bar + 1;
    }
    let separator = '\t';
    // LEEF 2.0 names its attribute separator in one more header field ("^" or "x5E").
    if (header[0]!.startsWith('2')) {
      const bar = p.indexOf('|', i);
      if (bar >= 0 && bar - i <= 4) {
        const sep = p.slice(i, bar);
        separator = sep.startsWith('x') || sep.startsWith('0x') ? String.fromCharCode(parseInt(sep.replace(/^0?x/, ''), 16)) : sep || '\t';
        i = bar + 1;
      }
    }
    const body = separator === '\t' ? p.slice(i) : p.slice(i).split(separator).join('\t');
    const x = scanKv(body, 0, true);
    const [, vendor, product, , eventId] = header as [string, string, string, string, string];
    observer(draft, vendor, product, 'security');
    draft.event.code = eventId;
    setSource(draft, x.src ?? x.srcIP, x.srcPort);
    setDestination(draft, x.dst ?? x.dstIP, x.dstPort);
    setTransport(draft, x.proto);
    const act = present(x.disp ?? x.action ?? x.act);
    if (act) {
      draft.event.action = act;
      addType(draft, verdict(act));
    }
    setUser(draft, x.usrName ?? x.src_user ?? x.user);
    setFilePath(draft, x.filePath ?? x.fname);
    const ts = x.devTime ? iso(parseAny(x.devTime, input.time)) : undefined;
    if (ts) draft['@timestamp'] = ts;
    if (x.policy) draft.rule = { name: x.policy };
    if (draft.source || draft.destination) {
      addCategory(draft, 'network');
      addType(draft, 'connection');
    }
    draft.leef = { event_id: eventId, attributes: x };
  },
};
