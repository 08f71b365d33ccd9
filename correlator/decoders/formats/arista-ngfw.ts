import { addCategory, addType, observer, present, setDestination, setSource, setTransport, setUser } from '../ecs.ts';
import { iso, parseAny } from '../time.ts';
import { DecodeError, type Decoder, type Draft } from '../types.ts';
import { jsonObject, str } from './json-payload.ts';

/**
 * Arista NG Firewall (formerly Untangle) event JSON as its syslog export writes it ("uvm[0]:  {...}"): one Java
 * event class per record, named in `class`. Sessions are written twice over, client side (CClient -> CServer) and
 * server side after NAT (SClient -> SServer); ECS source/destination take the client side, the NAT fields the other.
 */
function obj(v: unknown): Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
}

function eventClass(x: Record<string, unknown>): string | undefined {
  const c = str(x.class);
  if (c === undefined || !c.startsWith('class com.untangle.')) return undefined;
  return c.slice(c.lastIndexOf('.') + 1);
}

/** The session an event is about: the event itself, or the one it nests (directly or under its HTTP request). */
function sessionOf(x: Record<string, unknown>): Record<string, unknown> | undefined {
  if (x.CClientAddr !== undefined) return x;
  const s = obj(x.sessionEvent);
  if (s.CClientAddr !== undefined) return s;
  const r = obj(obj(x.httpRequestEvent).sessionEvent);
  return r.CClientAddr !== undefined ? r : undefined;
}

function mapSession(s: Record<string, unknown>, draft: Draft): void {
  setSource(draft, str(s.CClientAddr), str(s.CClientPort));
  setDestination(draft, str(s.CServerAddr) ?? str(s.SServerAddr), str(s.CServerPort) ?? str(s.SServerPort));
  const snat = str(s.SClientAddr);
  if (draft.source && snat !== undefined && snat !== draft.source.ip) (draft.source as Record<string, unknown>).nat = { ip: snat, port: s.SClientPort };
  const dnat = str(s.SServerAddr);
  if (draft.destination && dnat !== undefined && dnat !== draft.destination.ip)
    (draft.destination as Record<string, unknown>).nat = { ip: dnat, port: s.SServerPort };
  setTransport(draft, str(s.protocolName) ?? str(s.protocol));
  setUser(draft, str(s.username));
  // The client's name as the appliance learnt it: the client end, not the appliance (observer) nor
  // necessarily a registered server, so it names the source and leaves host.name to the asset lookup.
  const hostname = present(str(s.hostname));
  if (hostname && draft.source) draft.source.domain = hostname;
  // Interface 1 is the external (WAN) side in the appliance's default setup, which the client side then faces.
  if (s.serverIntf === 1 && s.clientIntf !== 1) (draft.network ??= {}).direction = 'outbound';
  else if (s.clientIntf === 1 && s.serverIntf !== 1) (draft.network ??= {}).direction = 'inbound';
}

function verdictOf(draft: Draft, blocked: unknown): void {
  if (typeof blocked !== 'boolean') return;
  addType(draft, blocked ? 'denied' : 'allowed');
  draft.event.outcome = blocked ? 'failure' : 'success';
}

export const aristaNgfw: Decoder = {
  name: 'arista-ngfw',
  description: 'Arista NG Firewall (Untangle) syslog event JSON (sessions, firewall, web filter, IPS, admin logins, stats)',
  sniff(input) {
    const x = jsonObject(input);
    return x !== undefined && eventClass(x) !== undefined;
  },
  decode(input, draft) {
    const x = jsonObject(input);
    const cls = x && eventClass(x);
    if (!x || !cls) throw new DecodeError('not an Arista NG Firewall event', 0);
    observer(draft, 'Arista', 'Arista NG Firewall', 'firewall');
    draft.event.action = cls;
    const ts = str(x.timeStamp);
    if (ts) draft['@timestamp'] = iso(parseAny(ts, input.time));
    const session = sessionOf(x);
    if (session) mapSession(session, draft);
    if (cls === 'AdminLoginEvent') {
      addCategory(draft, 'network', 'authentication', 'iam');
      setSource(draft, str(x.clientAddress));
      setUser(draft, str(x.login));
      verdictOf(draft, typeof x.succeeded === 'boolean' ? !x.succeeded : undefined);
    } else if (cls === 'IntrusionPreventionLogEvent') {
      addCategory(draft, 'intrusion_detection');
      setSource(draft, str(x.ipSource), x.protocol === 'tcp' || x.protocol === 'udp' ? str(x.sportItype) : undefined);
      setDestination(draft, str(x.ipDestination), x.protocol === 'tcp' || x.protocol === 'udp' ? str(x.dportIcode) : undefined);
      setTransport(draft, str(x.protocol) === 'ip' ? undefined : str(x.protocol));
      const sig = str(x.msg);
      if (sig) draft.rule = { name: sig, ...(x.signatureId !== undefined ? { id: str(x.signatureId) } : {}) } as Draft['rule'];
      verdictOf(draft, x.blocked);
      draft.event.kind = 'alert';
    } else if (cls === 'FirewallEvent' || cls === 'WebFilterEvent' || cls === 'ApplicationControlLogEvent' || cls === 'ThreatPreventionEvent') {
      addCategory(draft, 'network');
      if (cls === 'WebFilterEvent') addCategory(draft, 'web');
      addType(draft, 'connection');
      verdictOf(draft, x.blocked);
      if (x.ruleId !== undefined) draft.rule = { id: str(x.ruleId) } as Draft['rule'];
    } else if (cls === 'HttpRequestEvent' || cls === 'HttpResponseEvent') {
      addCategory(draft, 'network', 'web');
      addType(draft, 'connection', cls === 'HttpRequestEvent' ? 'start' : 'end');
    } else if (cls === 'SessionEvent' || cls === 'SessionStatsEvent') {
      addCategory(draft, 'network', 'session');
      addType(draft, 'info');
    } else if (cls.endsWith('StatEvent')) {
      addCategory(draft, 'host');
      addType(draft, 'info');
      draft.event.kind = 'metric';
    } else addType(draft, 'info');
    draft.message = str(x.msg) ?? str(x.requestLine) ?? cls;
  },
};
