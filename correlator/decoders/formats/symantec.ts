import { addCategory, addType, observer, present, setDestination, setFilePath, setSource, setThreat, setTransport, setUser } from '../ecs.ts';
import { splitCsv } from '../scan/kv.ts';
import { iso, parseDateTime } from '../time.ts';
import { DecodeError, type Decoder } from '../types.ts';

/** Symantec Endpoint Protection Manager syslog export: comma-separated "Key: value" entries and bare words. */
const SIGNATURES = [
  'Event Description:',
  'Local Host IP:',
  'Local Host:',
  'Risk name:',
  'Remote Host IP:',
  'Remote Port:',
  'Scan ID:',
  'Computer name:',
  'Begin: ',
  'End Time: ',
  'User Name: ',
  'Domain Name: ',
  'Site: ',
  'Admin: ',
  'Category: ',
  'Event time: ',
  // Agent behavior (application and device control) records.
  'Action Type: ',
  'File size (bytes): ',
];

/** The signatures by the character before their colon: each its text up to the colon, a bit, and whether a space follows. */
const BY_LAST: { head: string; bit: number; space: boolean }[][] = [];
for (const [i, sig] of SIGNATURES.entries()) {
  const colon = sig.indexOf(':');
  (BY_LAST[sig.charCodeAt(colon - 1)] ??= []).push({ head: sig.slice(0, colon), bit: 1 << i, space: sig.length > colon + 1 });
}

export const symantec: Decoder = {
  name: 'symantec',
  description: 'Symantec Endpoint Protection Manager syslog export (risks, network threat protection, scans, system events)',
  sniff(input) {
    const app = input.header?.appName;
    if (app === 'SymantecServer' || app === 'SymantecEndpoint') return true;
    const p = input.payload;
    if (p.indexOf(',') < 0) return false;
    // Every signature ends at its only colon: the line's colons are walked once (one native search each)
    // instead of searching the whole line for each signature; a signature seen twice counts once.
    let seen = 0;
    for (let colon = p.indexOf(':'); colon >= 0; colon = p.indexOf(':', colon + 1)) {
      const candidates = BY_LAST[p.charCodeAt(colon - 1)];
      if (candidates === undefined) continue;
      for (const c of candidates) {
        if ((seen & c.bit) !== 0 || !p.startsWith(c.head, colon - c.head.length) || (c.space && p.charCodeAt(colon + 1) !== 32)) continue;
        if (seen !== 0) return true;
        seen = c.bit;
      }
    }
    return false;
  },
  decode(input, draft) {
    const parts = splitCsv(input.payload, 0, 256);
    if (parts.length < 2) throw new DecodeError('not a comma-separated record', 0);
    observer(draft, 'Symantec', 'Endpoint Protection', 'antivirus');
    const x: Record<string, string> = Object.create(null) as Record<string, string>;
    const words: string[] = [];
    // A risk record names the infected file without a key, right after "Occurrences: N" (the newer export
    // writes "File path: ..." instead).
    let riskFile: string | undefined;
    let previous = '';
    for (const part of parts) {
      const colon = part.indexOf(': ');
      const key = colon > 0 ? part.slice(0, colon) : '';
      if (colon > 0 && colon < 40 && !key.includes('\\') && !key.includes('/')) x[(previous = key.trim())] = part.slice(colon + 2).trim();
      else if (part.endsWith(':') && part.length < 40) x[(previous = part.slice(0, -1))] = '';
      else {
        if (previous === 'Occurrences') riskFile = present(part);
        words.push(part.trim());
        previous = '';
      }
    }
    const inbound = words.includes('Inbound');
    const outbound = words.includes('Outbound');
    const local = present(x['Local Host IP'] ?? x['Local Host'] ?? x.Local);
    const remote = present(x['Remote Host IP']);
    if (local || remote) {
      // The export names the endpoints local/remote; the traffic direction says which one started it.
      if (inbound) {
        setSource(draft, remote, x['Remote Port']);
        setDestination(draft, local, x['Local Port']);
      } else {
        setSource(draft, local, x['Local Port']);
        setDestination(draft, remote, x['Remote Port']);
      }
      if (inbound || outbound) (draft.network ??= {}).direction = inbound ? 'inbound' : 'outbound';
      addCategory(draft, 'network');
    } else if (x['IP Address']) {
      // A risk that came from another computer (a share, a download) names it as the source; otherwise the
      // endpoint's own address is the only one the record has.
      setSource(draft, present(x['Source IP'] ?? x['Source Computer IP']) ?? x['IP Address']);
    }
    // Application and device control records: "host,ip,action,..." with no keys for the first fields.
    else if (words[1] !== undefined && words[1] === parts[1]) setSource(draft, words[1]);
    const proto = words.find((w) => ['TCP', 'UDP', 'ICMP', 'ICMPV6', 'OTHERS'].includes(w.toUpperCase()));
    if (proto) setTransport(draft, proto);
    setUser(draft, x['User Name'] ?? x.User ?? x.User1 ?? x.Admin);
    const risk = present(x['Risk name']);
    if (risk) {
      setThreat(draft, risk);
      addCategory(draft, 'malware');
      draft.event.kind = 'alert';
    }
    setFilePath(draft, present(x['File path']) ?? (risk ? riskFile : undefined));
    const action = present(x['Actual action'] ?? x.Action) ?? words.find((w) => w === 'Blocked' || w === 'Allowed' || w === 'Continue');
    if (action) draft.event.action = action;
    const lowerAction = action?.toLowerCase() ?? '';
    const description = x['Event Description'] ?? '';
    // "attack detected but not blocked" is an allowed intrusion; test it before the plain " blocked".
    if (description.includes('not blocked')) addType(draft, 'allowed');
    else if (
      lowerAction === 'blocked' ||
      lowerAction.startsWith('quarantined') ||
      lowerAction.startsWith('cleaned') ||
      lowerAction.startsWith('deleted') ||
      / blocked\b/.test(description)
    )
      addType(draft, 'denied');
    else if (lowerAction === 'allowed' || lowerAction === 'continue') addType(draft, 'allowed');
    else addType(draft, 'info');
    if (description) draft.message = description;
    if (x.Rule) draft.rule = { name: x.Rule };
    const when = x['Event time'] ?? x.Begin;
    const ts = when ? iso(parseDateTime(when, input.time)) : undefined;
    if (ts) draft['@timestamp'] = ts;
    const host = present(x['Computer name'] ?? x.Computer) ?? (words[0] && !words[0].includes(' ') && words[0] === parts[0] ? words[0] : undefined);
    if (host) draft.host = { name: host };
  },
};
