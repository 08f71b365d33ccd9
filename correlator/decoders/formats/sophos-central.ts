import { addCategory, addType, observer, present, setDestination, setFilePath, setHash, setSource, setThreat, setUser } from '../ecs.ts';
import { iso, parseAny } from '../time.ts';
import { DecodeError, type Decoder } from '../types.ts';
import { jsonObject, str } from './json-payload.ts';

/**
 * Sophos Central SIEM events and alerts (JSON from the SIEM integration API / script): `type` names the event
 * ("Event::Endpoint::WebFilteringBlocked"), `name` or `description` is the sentence Sophos writes, the endpoint is
 * `dhost` / `location` with `source_info.ip`, the user `suser` / `source`. Detections quote their threat and path
 * in the sentence ("PUA detected: 'X' at 'C:\...'"), which is the only place some event types carry them.
 */
function obj(v: unknown): Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
}

const QUOTED_AT = /'(?<threat>[^']{1,256})' at '(?<path>[^']{1,1024})'/;
const BLOCKED_TO = /blocked to "(?<site>[^"]{1,512})" because of "(?<rule>[^"]{1,256})"/;
const DLP_ACTION = /An [\u2033"](?<action>[^\u2033"]{1,64})[\u2033"] action was taken/;
const DLP_RULE = /Rule names: [\u2032'](?<rule>[^\u2032']{1,256})[\u2032']/;
const DLP_SOURCE = /Source path: (?<path>.+?)(?:\s{2}|$)/;
const EXPLOIT = /^'(?<name>[^']{1,128})' exploit prevented/;

function timeOf(x: Record<string, unknown>, data: Record<string, unknown>): number | string | undefined {
  return str(x.when) ?? str(x.created_at) ?? str(x.rt) ?? str(x.end) ?? (typeof data.created_at === 'number' ? data.created_at : undefined);
}

export const sophosCentral: Decoder = {
  name: 'sophos-central',
  description: 'Sophos Central SIEM events and alerts (JSON): threats, PUA, web filtering, application control, DLP, encryption, IPS',
  sniff(input) {
    const x = jsonObject(input);
    if (x === undefined) return false;
    if (typeof x.type === 'string' && x.type.startsWith('Event::')) return true;
    return typeof x.customer_id === 'string' && typeof x.endpoint_id === 'string' && (x.when !== undefined || x.rt !== undefined);
  },
  decode(input, draft) {
    const x = jsonObject(input);
    if (!x) throw new DecodeError('not a JSON object', 0);
    const data = obj(x.data);
    const type = str(x.type) ?? '';
    const sentence = str(x.name) ?? str(x.description) ?? '';
    observer(draft, 'Sophos', 'Sophos Central', 'antivirus');
    draft.event.code = type || undefined;
    draft.message = sentence || undefined;
    const t = timeOf(x, data);
    if (typeof t === 'number') draft['@timestamp'] = iso(t);
    else if (t) draft['@timestamp'] = iso(parseAny(t.replace('T', ' ').replace('Z', ' +00:00'), input.time));
    const host = present(str(x.dhost)) ?? present(str(x.location));
    if (host) draft.host = { name: host };
    // The endpoint's address; an IPS detection adds the remote end of the connection it stopped.
    setSource(draft, str(obj(x.source_info).ip) ?? str(obj(data.source_info).ip));
    const ips = { ...obj(data.ips_threat), ...obj(x.ips_threat_data) };
    setSource(draft, undefined, str(ips.local_port) ?? str(ips.localPort));
    setDestination(draft, str(ips.remote_ip) ?? str(ips.remoteIp), str(ips.remote_port) ?? str(ips.remotePort));
    const who = present(str(x.suser)) ?? present(str(x.source));
    setUser(draft, who?.replace(/^\\+/, ''));
    setHash(draft, str(x.appSha256), 'sha256');
    const quoted = QUOTED_AT.exec(sentence)?.groups;
    setThreat(draft, present(str(x.threat)) ?? quoted?.threat ?? EXPLOIT.exec(sentence)?.groups?.name);
    if (quoted) setFilePath(draft, quoted.path);
    addType(draft, 'info');
    const group = str(x.group) ?? '';
    if (type.includes('WebFilteringBlocked') || type.includes('WebControlViolation')) {
      const m = BLOCKED_TO.exec(sentence)?.groups;
      if (m) {
        draft.rule = { name: m.rule! };
        (draft as Record<string, unknown>).url = { domain: m.site };
      }
      addCategory(draft, 'network', 'web');
      addType(draft, 'denied');
    } else if (type.includes('DataLossPrevention')) {
      const action = DLP_ACTION.exec(sentence)?.groups?.action;
      if (action) draft.event.action = action;
      const rule = DLP_RULE.exec(sentence)?.groups?.rule;
      if (rule) draft.rule = { name: rule };
      setFilePath(draft, DLP_SOURCE.exec(sentence)?.groups?.path);
      addCategory(draft, 'file');
      addType(
        draft,
        type.includes('Allowed') || action?.startsWith('allow') ? 'allowed' : type.includes('Blocked') || action?.startsWith('block') ? 'denied' : undefined,
      );
    } else if (type.includes('Application::Blocked') || type.endsWith('::Blocked')) {
      addCategory(draft, 'file');
      addType(draft, 'denied');
    } else if (type.includes('PuaDetection') || type.includes('Threat') || group === 'MALWARE' || group === 'PUA' || x.threat !== undefined) {
      addCategory(draft, 'malware');
      draft.event.kind = 'alert';
      if (type.includes('Detection') || type.includes('Detected')) draft.event.action = 'detected';
      if (group === 'PUA' && draft.threat?.software?.name) draft.rule = { name: draft.threat.software.name };
    } else if (type.includes('Exploit') || group === 'RUNTIME_DETECTIONS') {
      addCategory(draft, 'intrusion_detection');
      draft.event.kind = 'alert';
    }
    if (draft.destination) addCategory(draft, 'network');
    if (!draft.event.category) addCategory(draft, 'host');
  },
};
