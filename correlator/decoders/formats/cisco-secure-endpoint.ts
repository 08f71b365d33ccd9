import { addCategory, addType, observer, present, setDestination, setHash, setSource, setThreat, setTransport } from '../ecs.ts';
import { iso } from '../time.ts';
import { DecodeError, type Decoder } from '../types.ts';
import { jsonObject, str } from './json-payload.ts';

/**
 * Cisco Secure Endpoint (formerly AMP for Endpoints) events from its event stream / REST API: one event object,
 * alone or under `data` as the API pages them. The endpoint (`computer`) is the host the event is about; network
 * events are seen from it, so the local address is the source (direction "Outgoing connection from") or the
 * destination (incoming).
 */
function obj(v: unknown): Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
}

function eventOf(x: Record<string, unknown>): Record<string, unknown> {
  return x.data !== undefined && typeof obj(x.data).event_type === 'string' ? obj(x.data) : x;
}

const SEVERITY: Record<string, number> = { Low: 1, Medium: 2, High: 3, Critical: 4 };

export const ciscoSecureEndpoint: Decoder = {
  name: 'cisco-secure-endpoint',
  description: 'Cisco Secure Endpoint (AMP for Endpoints) event-stream and API events (JSON)',
  sniff(input) {
    const x = jsonObject(input);
    if (x === undefined) return false;
    const e = eventOf(x);
    return typeof e.event_type === 'string' && typeof e.event_type_id === 'number' && typeof e.connector_guid === 'string';
  },
  decode(input, draft) {
    const x = jsonObject(input);
    if (!x) throw new DecodeError('not a JSON object', 0);
    const e = eventOf(x);
    observer(draft, 'Cisco', 'Secure Endpoint', 'antivirus');
    draft.event.kind = 'alert';
    draft.event.action = str(e.event_type);
    draft.event.code = str(e.event_type_id);
    const sev = SEVERITY[str(e.severity) ?? ''];
    if (sev !== undefined) draft.event.severity = sev;
    addType(draft, 'info');
    if (typeof e.timestamp === 'number') draft['@timestamp'] = iso(e.timestamp * 1000);
    else if (str(e.date)) draft['@timestamp'] = iso(Date.parse(str(e.date)!));
    const computer = obj(e.computer);
    const hostname = present(str(computer.hostname));
    if (hostname) draft.host = { name: hostname.toLowerCase(), ip: str(computer.external_ip) };
    const user = present(str(computer.user));
    if (user) {
      const at = user.indexOf('@');
      draft.user = at > 0 && at === user.lastIndexOf('@') ? { name: user.slice(0, at), domain: user.slice(at + 1) } : { name: user };
    }
    const file = obj(e.file);
    const name = present(str(file.file_name));
    const path = present(str(file.file_path));
    if (name || path) {
      addCategory(draft, 'file');
      draft.file = { ...(name ? { name } : {}), ...(path ? { path } : {}) };
    }
    const identity = obj(file.identity);
    setHash(draft, str(identity.sha256), 'sha256');
    setHash(draft, str(identity.sha1), 'sha1');
    setHash(draft, str(identity.md5), 'md5');
    if (file.disposition === 'Malicious') addCategory(draft, 'malware');
    setThreat(draft, str(e.detection));
    const net = obj(e.network_info);
    const nfm = obj(net.nfm);
    const direction = str(nfm.direction);
    if (direction !== undefined) {
      const outgoing = direction.startsWith('Outgoing');
      const [src, dst] = outgoing ? ['local', 'remote'] : ['remote', 'local'];
      setSource(draft, str(net[`${src}_ip`]), str(net[`${src}_port`]));
      setDestination(draft, str(net[`${dst}_ip`]), str(net[`${dst}_port`]));
      (draft.network ??= {}).direction = outgoing ? 'egress' : 'ingress';
      addCategory(draft, 'network');
    } else {
      setSource(draft, str(net.local_ip), str(net.local_port));
      setDestination(draft, str(net.remote_ip), str(net.remote_port));
    }
    setTransport(draft, str(nfm.protocol));
    const parent = obj(file.parent ?? net.parent);
    const pname = present(str(parent.file_name));
    if (pname || typeof parent.process_id === 'number') {
      draft.process = { ...(pname ? { name: pname } : {}), ...(typeof parent.process_id === 'number' ? { pid: parent.process_id } : {}) };
    }
    draft.message = str(e.event_type);
  },
};
