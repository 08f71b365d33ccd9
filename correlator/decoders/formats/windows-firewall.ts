import { addCategory, addType, observer, present, setDestination, setSource, setTransport } from '../ecs.ts';
import { iso, parseDateTime } from '../time.ts';
import { DecodeError, type Decoder } from '../types.ts';

/**
 * Windows Firewall `pfirewall.log` (W3C extended log): `#Fields:` names the columns of the lines that follow.
 * A session remembers the last #Fields header; a lone line uses the documented default column order.
 */
export const DEFAULT_FIELDS = [
  'date',
  'time',
  'action',
  'protocol',
  'src-ip',
  'dst-ip',
  'src-port',
  'dst-port',
  'size',
  'tcpflags',
  'tcpsyn',
  'tcpack',
  'tcpwin',
  'icmptype',
  'icmpcode',
  'info',
  'path',
];
const STATE_KEY = 'windows-firewall.fields';
const ACTIONS = new Set(['ALLOW', 'DROP', 'OPEN', 'CLOSE', 'OPEN-INBOUND', 'INFO-EVENTS-LOST']);

function isRecord(p: string): boolean {
  if (!(p.length > 24 && p[4] === '-' && p[7] === '-' && p[10] === ' ' && p[13] === ':' && p[16] === ':' && p[19] === ' ')) return false;
  const end = p.indexOf(' ', 20);
  return ACTIONS.has(p.slice(20, end < 0 ? undefined : end));
}

export const windowsFirewall: Decoder = {
  name: 'windows-firewall',
  description: 'Windows Firewall pfirewall.log (W3C extended format; #Fields header-driven)',
  sniff(input) {
    const p = input.payload;
    if (p[0] === '#')
      return p.startsWith('#Fields:') || p.startsWith('#Software: Microsoft Windows Firewall') || p.startsWith('#Version:') || p.startsWith('#Time Format:');
    return isRecord(p);
  },
  decode(input, draft) {
    const p = input.payload;
    observer(draft, 'Microsoft', 'Windows Firewall', 'firewall');
    if (p[0] === '#') {
      draft.event.kind = 'state';
      addCategory(draft, 'configuration');
      addType(draft, 'info');
      draft.event.action = 'log-header';
      if (p.startsWith('#Fields:')) {
        const fields = p.slice(8).trim().split(/\s+/).slice(0, 64);
        if (fields.length < 3) throw new DecodeError('#Fields header names fewer than 3 columns', 8);
        input.state?.set(STATE_KEY, fields);
      }
      draft.message = p;
      return;
    }
    const fields = (input.state?.get(STATE_KEY) as string[] | undefined) ?? DEFAULT_FIELDS;
    const values = p.split(' ');
    if (values.length < Math.min(fields.length, 8)) throw new DecodeError(`truncated record: ${values.length} of ${fields.length} columns`, p.length);
    const v: Record<string, string | undefined> = {};
    for (let i = 0; i < fields.length; i++) v[fields[i]!] = present(values[i]);
    const ts = v.date && v.time ? iso(parseDateTime(`${v.date} ${v.time}`, input.time)) : undefined;
    if (ts) draft['@timestamp'] = ts;
    const action = v.action ?? '';
    draft.event.action = action.toLowerCase();
    addCategory(draft, 'network');
    addType(draft, 'connection');
    if (action === 'DROP') addType(draft, 'denied');
    else if (action === 'ALLOW' || action.startsWith('OPEN')) addType(draft, 'allowed');
    setSource(draft, v['src-ip'], v['src-port']);
    setDestination(draft, v['dst-ip'], v['dst-port']);
    setTransport(draft, v.protocol);
    const path = v.path;
    if (path === 'SEND' || path === 'RECEIVE') (draft.network ??= {}).direction = path === 'SEND' ? 'outbound' : 'inbound';
    if (v.pid) draft.process = { pid: Number(v.pid) };
  },
};
