import { addCategory, addType, observer, present, setDestination, setFilePath, setHash, setSource, setThreat, setTransport, setUser } from '../ecs.ts';
import { iso, parseAny } from '../time.ts';
import { DecodeError, type Decoder, type Draft } from '../types.ts';
import { jsonObject, str } from './json-payload.ts';

/**
 * Bitdefender GravityZone push-notification events (JSON, one event per object, `module` naming the event type:
 * av, avc, fw, uc, network-monitor, new-incident, antiexploit, task-status, install, ...). The endpoint that
 * reported (`computer_*`) is the host, and the target of network detections (destination), as Elastic's
 * integration has it.
 */
function obj(v: unknown): Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
}

/** "user@domain" to name and domain; "DOMAIN\user" via setUser. */
function userOf(draft: Draft, value: string | undefined): void {
  const v = present(value);
  if (v === undefined) return;
  const at = v.indexOf('@');
  if (at > 0 && !v.includes('\\')) draft.user = { name: v.slice(0, at), domain: v.slice(at + 1) };
  else setUser(draft, v);
}

const THREAT_MODULES = new Set([
  'av',
  'avc',
  'fw',
  'uc',
  'network-monitor',
  'new-incident',
  'antiexploit',
  'hd',
  'dp',
  'aph',
  'network-sandboxing',
  'ransomware-mitigation',
  'exchange-malware',
  'antiphishing',
]);
const CONFIG_MODULES = new Set([
  'install',
  'uninstall',
  'endpoint-moved-in',
  'endpoint-moved-out',
  'security-container-update-available',
  'exchange-user-credentials',
  'modules',
  'sva',
  'registration',
  'supa-update-status',
  'product-modules-status',
]);

export const bitdefenderGravityZone: Decoder = {
  name: 'bitdefender-gravityzone',
  description: 'Bitdefender GravityZone push-notification events (JSON: malware, ATC, firewall, web control, incidents, tasks, inventory)',
  sniff(input) {
    const x = jsonObject(input);
    return x !== undefined && typeof x.module === 'string' && typeof x.companyId === 'string';
  },
  decode(input, draft) {
    const x = jsonObject(input);
    if (!x || typeof x.module !== 'string') throw new DecodeError('not a GravityZone push notification', 0);
    const module = x.module;
    observer(draft, 'Bitdefender', 'GravityZone', 'antivirus');
    (draft.event as Record<string, unknown>).provider = module;
    addType(draft, 'info');
    const when = str(x.timestamp) ?? str(x.detection_time) ?? str(x.last_blocked) ?? str(x.created) ?? str(x.endDate);
    if (when) draft['@timestamp'] = iso(parseAny(when.replace('T', ' ').replace('Z', ' +00:00'), input.time));
    const name = present(str(x.computer_name));
    if (name) draft.host = { name };
    setDestination(draft, str(x.computer_ip), str(x.local_port));
    setSource(draft, str(x.source_ip));
    setTransport(draft, str(x.protocol_id));
    userOf(draft, str(obj(x.user).userName) ?? str(x.username) ?? str(x.detection_username));
    setThreat(draft, str(x.malware_name) ?? str(x.detection_threatName) ?? str(x.detection_name) ?? str(x.exploit_type));
    setFilePath(draft, str(x.file_path) ?? str(x.detection_path));
    setHash(draft, str(x.hash));
    setHash(draft, str(x.file_hash_md5), 'md5');
    setHash(draft, str(x.file_hash_sha256), 'sha256');
    const action = present(str(x.final_status) ?? str(x.actionTaken) ?? str(x.detection_action) ?? str(x.main_action) ?? str(x.status));
    if (action) draft.event.action = action;
    if (THREAT_MODULES.has(module)) {
      addCategory(draft, 'threat');
      draft.event.kind = 'alert';
      if (module === 'av' || module === 'avc' || module === 'exchange-malware') addCategory(draft, 'malware');
      else if (module === 'uc') addCategory(draft, 'network', 'web');
      else if (module === 'fw') addCategory(draft, 'intrusion_detection', 'network');
      else addCategory(draft, 'intrusion_detection');
      if (module === 'new-incident' && !action) draft.event.action = 'no action';
      if (str(x.url)) (draft as Record<string, unknown>).url = { original: str(x.url) };
    } else if (CONFIG_MODULES.has(module)) addCategory(draft, 'configuration', 'package', 'host');
    else if (module === 'task-status' || module === 'troubleshooting-activity') addCategory(draft, 'configuration', 'host', 'process');
    draft.message = `${module}${action ? `: ${action}` : ''}`;
  },
};
