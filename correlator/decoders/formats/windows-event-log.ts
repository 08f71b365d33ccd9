import { addCategory, addType, observer } from '../ecs.ts';
import { DecodeError, type Decoder } from '../types.ts';
import { jsonGeneric } from './json.ts';
import { windowsDefender } from './windows-defender.ts';
import { field, windowsCommon, windowsEvent } from './windows-event.ts';
import { windowsFilteringPlatform } from './windows-wfp.ts';

/** Windows Firewall With Advanced Security policy events (its Firewall channel); newer builds log 2097-2099/2052/2059. */
const FIREWALL_POLICY: Record<number, string> = {
  2002: 'settings-changed',
  2003: 'settings-changed',
  2004: 'rule-added',
  2097: 'rule-added',
  2005: 'rule-modified',
  2099: 'rule-modified',
  2006: 'rule-deleted',
  2052: 'rule-deleted',
  2033: 'all-rules-deleted',
  2059: 'all-rules-deleted',
};

/** Firewall policy changes: who changed which rule, so that layer-3 rules can flag an unexplained change. */
export const windowsFirewallPolicy: Decoder = {
  name: 'windows-firewall-policy',
  description: 'Windows Firewall With Advanced Security policy changes (rules added, modified, deleted; profile settings) as event log JSON',
  sniff(input) {
    const ev = windowsEvent(input);
    return ev !== undefined && /Windows Firewall With Advanced Security/i.test(ev.channel || ev.provider);
  },
  decode(input, draft) {
    const ev = windowsEvent(input);
    if (!ev) throw new DecodeError('not a Windows event record (no EventID)', 0);
    windowsCommon(ev, input, draft);
    observer(draft, 'Microsoft', 'Windows Firewall', 'firewall');
    draft.event.action = FIREWALL_POLICY[ev.id] ?? `event-${ev.id}`;
    addCategory(draft, 'configuration');
    addType(draft, FIREWALL_POLICY[ev.id] ? 'change' : 'info');
    const rule = field(ev, 'RuleName');
    if (rule) draft.rule = { name: rule };
    const app = field(ev, 'ModifyingApplication');
    if (app) draft.process = { executable: app };
    const user = field(ev, 'ModifyingUser');
    if (user) draft.user = { name: user };
  },
};

const BY_SPECIFICITY: readonly Decoder[] = [windowsDefender, windowsFilteringPlatform, windowsFirewallPolicy];

/**
 * `format: windows-event` (what the collector's winlog source tags): any Windows event log record as JSON,
 * handed to the decoder of its channel (Defender, WFP, firewall policy) or, for other channels, the
 * generic JSON decoder; the event's module and dataset name the decoder that read it.
 */
export const windowsEventLog: Decoder = {
  name: 'windows-event',
  description:
    'any Windows event log record as JSON (collector winlog source, NXLog, Winlogbeat): Defender, WFP and firewall policy events by their decoders, others as generic JSON',
  sniff: (input) => windowsEvent(input) !== undefined,
  decode(input, draft) {
    if (!windowsEvent(input)) throw new DecodeError('not a Windows event record (no EventID)', 0);
    const inner = BY_SPECIFICITY.find((d) => d.sniff(input)) ?? jsonGeneric;
    inner.decode(input, draft);
    draft.event.dataset ??= inner.name;
    (draft.event as Record<string, unknown>).module ??= inner.name;
  },
};
