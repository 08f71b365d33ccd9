import { addCategory, addType, observer, present, setDestination, setHash, setSource, setThreat, setUser } from '../ecs.ts';
import { iso } from '../time.ts';
import { DecodeError, type Decoder, type Draft } from '../types.ts';
import { jsonObject, str } from './json-payload.ts';

/**
 * Microsoft 365 Defender advanced-hunting events as its streaming API sends them (to Event Hubs or storage):
 * `{"category": "AdvancedHunting-<Table>", "properties": {...}}`, the properties being the table's documented
 * columns. The columns keep one meaning across tables (DeviceName, ActionType, AccountName, FileName,
 * FolderPath, SHA256, LocalIP/RemoteIP, IPAddress), so one mapping reads them all; the table decides the
 * category and, for network events, which end is the source.
 */
const CATEGORY: Record<string, string[]> = {
  AlertInfo: ['threat'],
  AlertEvidence: ['threat'],
  DeviceProcessEvents: ['process'],
  DeviceImageLoadEvents: ['process'],
  DeviceRegistryEvents: ['process'],
  CloudProcessEvents: ['process'],
  DeviceFileEvents: ['file'],
  DeviceNetworkEvents: ['network'],
  DeviceLogonEvents: ['authentication'],
  IdentityLogonEvents: ['authentication'],
  DeviceEvents: ['host'],
  DeviceInfo: ['host'],
  DeviceNetworkInfo: ['host'],
  EmailEvents: ['email'],
  EmailAttachmentInfo: ['email', 'file'],
  EmailUrlInfo: ['email'],
  EmailPostDeliveryEvents: ['email'],
  IdentityInfo: ['iam'],
  CloudAppEvents: ['network'],
};

/** Network actions where the remote end opened the connection (the device only accepted or listened). */
const INBOUND = new Set(['InboundConnectionAccepted', 'InboundConnectionAttempt', 'ListeningConnectionCreated', 'InboundInternetScanInspected']);

/** AdditionalFields, a JSON object or its text; its `direction` ("In"/"Out") says who opened an inspected connection. */
function additional(v: unknown): Record<string, unknown> {
  if (typeof v === 'string' && v.startsWith('{')) {
    try {
      v = JSON.parse(v);
    } catch {
      return {};
    }
  }
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
}

function numberOrText(v: unknown): string | undefined {
  return present(str(v));
}

export const m365Defender: Decoder = {
  name: 'm365-defender',
  description: 'Microsoft 365 Defender advanced-hunting streaming events (device, identity, email, alert tables)',
  sniff(input) {
    const x = jsonObject(input);
    return (
      x !== undefined &&
      typeof x.category === 'string' &&
      x.category.startsWith('AdvancedHunting-') &&
      typeof x.properties === 'object' &&
      x.properties !== null
    );
  },
  decode(input, draft) {
    const x = jsonObject(input);
    const p = x?.properties as Record<string, unknown> | undefined;
    if (!x || !p || typeof x.category !== 'string') throw new DecodeError('not an advanced-hunting event', 0);
    const table = x.category.slice('AdvancedHunting-'.length);
    observer(draft, 'Microsoft', '365 Defender', 'antivirus');
    (draft.event as Record<string, unknown>).provider = table;
    const when = str(p.Timestamp) ?? str(x.time);
    if (when) draft['@timestamp'] = iso(Date.parse(when));
    addCategory(draft, ...(CATEGORY[table] ?? []));
    if (table.startsWith('Alert')) {
      addType(draft, 'indicator');
      draft.event.kind = 'alert';
    } else addType(draft, 'info');
    const action = present(str(p.ActionType)) ?? present(str(p.DeliveryAction)) ?? present(str(p.Action));
    if (action) draft.event.action = action;
    const device = present(str(p.DeviceName));
    if (device) draft.host = { name: device };
    setUser(draft, str(p.AccountName) ?? str(p.InitiatingProcessAccountName) ?? str(p.RequestAccountName));
    const domain = present(str(p.AccountDomain)) ?? present(str(p.InitiatingProcessAccountDomain));
    if (draft.user && domain && draft.user.domain === undefined) draft.user.domain = domain;

    if (table === 'DeviceNetworkEvents') {
      const dir = str(additional(p.AdditionalFields).direction);
      const inbound = dir === 'In' || (dir !== 'Out' && INBOUND.has(str(p.ActionType) ?? ''));
      const [src, dst] = inbound ? ['Remote', 'Local'] : ['Local', 'Remote'];
      setSource(draft, str(p[`${src}IP`]), numberOrText(p[`${src}Port`]));
      setDestination(draft, str(p[`${dst}IP`]), numberOrText(p[`${dst}Port`]));
      const proto = str(p.Protocol);
      if (proto && proto !== 'Unknown') (draft.network ??= {}).transport = proto.toLowerCase().replace(/v[46]$/, '');
      (draft.network ??= {}).direction = inbound ? 'inbound' : 'outbound';
    } else if (table === 'DeviceLogonEvents') {
      // The account logs on to the device from RemoteIP: the remote end is the source.
      setSource(draft, str(p.RemoteIP), numberOrText(p.RemotePort));
    } else {
      setSource(draft, str(p.IPAddress) ?? str(p.SenderIPv4) ?? str(p.SenderIPv6) ?? str(p.LocalIP), numberOrText(p.Port) ?? numberOrText(p.LocalPort));
      setDestination(draft, str(p.DestinationIPAddress) ?? str(p.RemoteIP), numberOrText(p.DestinationPort) ?? numberOrText(p.RemotePort));
    }
    if (table === 'DeviceLogonEvents' || table === 'IdentityLogonEvents') {
      const a = str(p.ActionType) ?? '';
      if (a.endsWith('Success')) draft.event.outcome = 'success';
      else if (a.endsWith('Failed') || a.endsWith('Failure')) draft.event.outcome = 'failure';
    }
    if (table === 'DeviceEvents' && str(p.ActionType) === 'AntivirusDetection') {
      // Defender Antivirus found malware on the device: the threat is in AdditionalFields (ThreatName).
      addCategory(draft, 'malware');
      draft.event.kind = 'alert';
      setThreat(draft, str(additional(p.AdditionalFields).ThreatName));
    }
    if (table === 'EmailEvents') {
      const d = str(p.DeliveryAction);
      addType(draft, d === 'Delivered' || d === 'Junked' ? 'allowed' : d === 'Blocked' || d === 'Replaced' ? 'denied' : undefined);
    }

    const name = present(str(p.FileName));
    const folder = present(str(p.FolderPath));
    if (name || folder) {
      const file = (draft.file ??= {});
      if (name) file.name = name;
      // FolderPath holds the file's full path in the device tables (the folder alone in a few others).
      if (folder) file.path = name && !folder.endsWith(name) ? `${folder}${folder.includes('\\') ? '\\' : '/'}${name}` : folder;
    }
    setHash(draft, str(p.SHA256), 'sha256');
    setHash(draft, str(p.SHA1), 'sha1');
    setHash(draft, str(p.MD5), 'md5');
    const title = present(str(p.Title));
    if (title) draft.rule = { name: title };
    draft.message = title ?? action ?? table;
    setFromSeverity(draft, str(p.Severity));
  },
};

function setFromSeverity(draft: Draft, severity: string | undefined): void {
  const s = { Informational: 1, Low: 2, Medium: 3, High: 4 }[severity ?? ''];
  if (s !== undefined) draft.event.severity = s;
}
