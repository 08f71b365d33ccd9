import { addCategory, addType, observer, setDestination, setSource, setTransport } from '../ecs.ts';
import { DecodeError, type Decoder } from '../types.ts';
import { field, windowsCommon, windowsEvent } from './windows-event.ts';

/** Windows Filtering Platform audit events 5152-5159 (Security log) as exported JSON. */
const EVENTS: Record<number, [action: string, verdict: 'allowed' | 'denied']> = {
  5152: ['packet-blocked', 'denied'],
  5153: ['packet-blocked', 'denied'],
  5154: ['listen-permitted', 'allowed'],
  5155: ['listen-blocked', 'denied'],
  5156: ['connection-permitted', 'allowed'],
  5157: ['connection-blocked', 'denied'],
  5158: ['bind-permitted', 'allowed'],
  5159: ['bind-blocked', 'denied'],
};
const DIRECTIONS: Record<string, string> = { '%%14592': 'inbound', '%%14593': 'outbound', Inbound: 'inbound', Outbound: 'outbound' };

export const windowsFilteringPlatform: Decoder = {
  name: 'windows-wfp',
  description: 'Windows Filtering Platform connection events 5152-5159 (Security log) as JSON',
  sniff(input) {
    const ev = windowsEvent(input);
    return ev !== undefined && ev.id >= 5152 && ev.id <= 5159;
  },
  decode(input, draft) {
    const ev = windowsEvent(input);
    if (!ev || EVENTS[ev.id] === undefined) throw new DecodeError('not a Windows Filtering Platform event (EventID 5152-5159)', 0);
    const [action, verdict] = EVENTS[ev.id]!;
    windowsCommon(ev, input, draft);
    observer(draft, 'Microsoft', 'Windows Filtering Platform', 'firewall');
    addCategory(draft, 'network');
    addType(draft, 'connection', verdict);
    draft.event.action = action;
    draft.event.outcome = 'success';
    setSource(draft, field(ev, 'SourceAddress'), field(ev, 'SourcePort'));
    setDestination(draft, field(ev, 'DestAddress', 'DestinationAddress'), field(ev, 'DestPort', 'DestinationPort'));
    setTransport(draft, field(ev, 'Protocol'));
    const dir = DIRECTIONS[field(ev, 'Direction') ?? ''];
    if (dir) (draft.network ??= {}).direction = dir;
    const app = field(ev, 'Application');
    if (app) {
      const cut = Math.max(app.lastIndexOf('\\'), app.lastIndexOf('/'));
      draft.process = { name: app.slice(cut + 1), executable: app };
    }
    const filter = field(ev, 'FilterRTID');
    if (filter) draft.rule = { name: `filter ${filter}` };
  },
};
