import { addCategory, addType, int, observer, setFilePath, setHash, setThreat, setUser } from '../ecs.ts';
import { DecodeError, type Decoder } from '../types.ts';
import { field, windowsCommon, windowsEvent } from './windows-event.ts';

/** Microsoft Defender Antivirus events (Microsoft-Windows-Windows Defender/Operational), as exported JSON. */
const EVENTS: Record<number, { action: string; kind: 'malware' | 'update' | 'config' | 'scan'; outcome?: 'success' | 'failure' }> = {
  1006: { action: 'malware-detected', kind: 'malware' },
  1007: { action: 'malware-action-taken', kind: 'malware', outcome: 'success' },
  1008: { action: 'malware-action-failed', kind: 'malware', outcome: 'failure' },
  1015: { action: 'suspicious-behavior-detected', kind: 'malware' },
  1116: { action: 'malware-detected', kind: 'malware' },
  1117: { action: 'malware-action-taken', kind: 'malware', outcome: 'success' },
  1118: { action: 'malware-action-failed', kind: 'malware', outcome: 'failure' },
  1119: { action: 'malware-action-critical-failure', kind: 'malware', outcome: 'failure' },
  1120: { action: 'threat-hash-computed', kind: 'malware' },
  1000: { action: 'scan-started', kind: 'scan' },
  1001: { action: 'scan-finished', kind: 'scan', outcome: 'success' },
  1002: { action: 'scan-stopped', kind: 'scan' },
  1005: { action: 'scan-failed', kind: 'scan', outcome: 'failure' },
  2000: { action: 'signature-updated', kind: 'update', outcome: 'success' },
  2001: { action: 'signature-update-failed', kind: 'update', outcome: 'failure' },
  2002: { action: 'engine-updated', kind: 'update', outcome: 'success' },
  2003: { action: 'engine-update-failed', kind: 'update', outcome: 'failure' },
  2006: { action: 'platform-update-failed', kind: 'update', outcome: 'failure' },
  3002: { action: 'realtime-protection-failed', kind: 'config', outcome: 'failure' },
  5000: { action: 'realtime-protection-enabled', kind: 'config' },
  5001: { action: 'realtime-protection-disabled', kind: 'config' },
  5004: { action: 'realtime-protection-config-changed', kind: 'config' },
  5007: { action: 'configuration-changed', kind: 'config' },
  5008: { action: 'engine-failed', kind: 'config', outcome: 'failure' },
  5010: { action: 'antispyware-disabled', kind: 'config' },
  5012: { action: 'antivirus-disabled', kind: 'config' },
};

export const windowsDefender: Decoder = {
  name: 'windows-defender',
  description: 'Microsoft Defender Antivirus event log records as JSON (1006-1008, 1116-1119, 2001/2003/2006, 3002, 5001-5012)',
  sniff(input) {
    const ev = windowsEvent(input);
    return ev !== undefined && (ev.provider.includes('Defender') || ev.channel.includes('Defender'));
  },
  decode(input, draft) {
    const ev = windowsEvent(input);
    if (!ev) throw new DecodeError('not a Windows event record (no EventID)', 0);
    windowsCommon(ev, input, draft);
    observer(draft, 'Microsoft', 'Defender Antivirus', 'antivirus');
    const known = EVENTS[ev.id];
    draft.event.action = known?.action ?? `event-${ev.id}`;
    if (known?.outcome) draft.event.outcome = known.outcome;
    switch (known?.kind) {
      case 'malware':
        addCategory(draft, 'malware');
        addType(draft, 'info');
        if (ev.id === 1007 || ev.id === 1117) addType(draft, 'denied');
        if (ev.id === 1006 || ev.id === 1116 || ev.id === 1015) draft.event.kind = 'alert';
        break;
      case 'update':
      case 'config':
        addCategory(draft, 'configuration');
        addType(draft, 'change');
        break;
      case 'scan':
        addCategory(draft, 'malware');
        addType(draft, 'info');
        break;
      default:
        addType(draft, 'info');
    }
    setThreat(draft, field(ev, 'Threat Name', 'ThreatName'));
    const path = field(ev, 'Path', 'Threat resource path');
    // Defender writes "file:_C:\x.exe; containerfile:_C:\y.zip": the first resource is the detected file.
    if (path) setFilePath(draft, path.split(';')[0]!.replace(/^[a-z]+:_/i, ''));
    const hashes = field(ev, 'Hashes');
    if (hashes)
      for (const part of hashes.split(';')) {
        const colon = part.indexOf(':');
        if (colon > 0) setHash(draft, part.slice(colon + 1).trim(), part.slice(0, colon).trim().toLowerCase());
      }
    // The user the detection was about; the record's account (AccountName) is the Defender service
    // itself (SYSTEM) on most events, so it only stands in when the detection names nobody.
    const detectionUser = field(ev, 'Detection User', 'User');
    setUser(draft, detectionUser ?? field(ev, 'AccountName'));
    const domain = field(ev, 'Domain');
    if (!detectionUser && draft.user && domain && draft.user.domain === undefined) draft.user.domain = domain;
    // Severity (1 low .. 5 severe), category (Trojan, Tool, ...), the threat's id and the action Defender took.
    const severity = int(field(ev, 'Severity ID'));
    if (severity !== undefined) draft.event.severity = severity;
    const category = field(ev, 'Category Name');
    const threatId = field(ev, 'Threat ID');
    if (draft.threat?.software && (category || threatId))
      Object.assign(draft.threat.software, category ? { type: category } : {}, threatId ? { id: threatId } : {});
    // "%%887" is a message id the exporter did not resolve: no action name to keep.
    const taken = field(ev, 'Action Name')?.replace(/^%%\d+$/, '') || undefined;
    const severityName = field(ev, 'Severity Name');
    if (taken || severityName || category)
      draft.defender = { ...(severityName ? { severity: severityName } : {}), ...(category ? { category } : {}), ...(taken ? { action: taken } : {}) };
    const reason = field(ev, 'Error Description', 'Reason');
    if (reason) draft.event.reason = reason.trim();
  },
};
