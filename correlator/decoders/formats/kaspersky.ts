import { addCategory, addType, observer, setFileName, setFilePath, setHash, setThreat, setUser } from '../ecs.ts';
import { DecodeError, type Decoder } from '../types.ts';

/**
 * Kaspersky Endpoint Security / Security Center event text: "Key: value" lines joined by (escaped) CRLF,
 * as the Windows event log and KSC syslog export them. KSC's CEF export goes through cef.
 */
function fields(p: string): Record<string, string> {
  const out: Record<string, string> = Object.create(null) as Record<string, string>;
  const parts = p.includes('\\r\\n') ? p.split('\\r\\n') : p.split('\\n');
  for (const part of parts.slice(0, 128)) {
    const colon = part.indexOf(': ');
    if (colon > 0) out[part.slice(0, colon).trim()] = part.slice(colon + 2).trim();
  }
  return out;
}

export const kaspersky: Decoder = {
  name: 'kaspersky',
  description: 'Kaspersky Endpoint Security event text ("Event type: ...\\r\\nResult description: ..."); KSC CEF via cef',
  sniff(input) {
    const p = input.payload;
    return (p.startsWith('Event type: ') || p.startsWith('Result description: ')) && p.includes('\\r\\n');
  },
  decode(input, draft) {
    const x = fields(input.payload);
    if (Object.keys(x).length === 0) throw new DecodeError('no "Key: value" fields', 0);
    observer(draft, 'Kaspersky', 'Kaspersky Endpoint Security', 'antivirus');
    if (x['Result description']) draft.event.action = x['Result description'];
    const user = x.User?.replace(/ \([^)]*\)$/, '');
    setUser(draft, user);
    const object = x.Object;
    if (object) setFilePath(draft, object);
    else if (x['Path to object'] && x['Object name']) setFilePath(draft, `${x['Path to object']}\\${x['Object name']}`);
    else setFileName(draft, x['Object name']);
    setHash(draft, x.SHA256, 'sha256');
    setHash(draft, x.MD5, 'md5');
    if (x.Type && x.Name) {
      setThreat(draft, x.Name);
      addCategory(draft, 'malware');
      draft.event.kind = 'alert';
    } else addCategory(draft, 'process');
    addType(draft, 'info');
    if (x['Event type']) draft.message = x['Event type'];
  },
};
