import type { Decoder, DecodeInput } from './types.ts';
import { normalized } from './formats/normalized.ts';
import { windowsDefender } from './formats/windows-defender.ts';
import { windowsFilteringPlatform } from './formats/windows-wfp.ts';
import { windowsEventLog, windowsFirewallPolicy } from './formats/windows-event-log.ts';
import { esetProtect } from './formats/eset.ts';
import { jsonGeneric } from './formats/json.ts';
import { cef } from './formats/cef.ts';
import { leef } from './formats/leef.ts';
import { fortigate } from './formats/fortigate.ts';
import { ciscoAsa } from './formats/cisco-asa.ts';
import { paloalto } from './formats/paloalto.ts';
import { pfsenseFilterlog } from './formats/pfsense-filterlog.ts';
import { netfilter } from './formats/netfilter.ts';
import { sophosXg } from './formats/sophos-xg.ts';
import { sophosUtm } from './formats/sophos-utm.ts';
import { sonicwall } from './formats/sonicwall.ts';
import { checkpoint } from './formats/checkpoint.ts';
import { juniperSrx } from './formats/juniper-srx.ts';
import { windowsFirewall } from './formats/windows-firewall.ts';
import { clamav } from './formats/clamav.ts';
import { kaspersky } from './formats/kaspersky.ts';
import { symantec } from './formats/symantec.ts';
import { kvGeneric } from './formats/kv.ts';
import { syslog } from './formats/syslog.ts';

/**
 * Sniffing order: the most specific signatures first; plain syslog framing is the last resort. A payload
 * starting with '{' is for the JSON decoders alone (the generic one takes any object); the others never
 * sniff one, so each line runs only its own group's sniffers.
 */
const jsonDecoders: readonly Decoder[] = [normalized, windowsDefender, windowsFilteringPlatform, windowsFirewallPolicy, esetProtect, jsonGeneric];
const textDecoders: readonly Decoder[] = [
  cef,
  leef,
  fortigate,
  ciscoAsa,
  paloalto,
  pfsenseFilterlog,
  netfilter,
  sophosXg,
  sophosUtm,
  sonicwall,
  checkpoint,
  juniperSrx,
  windowsFirewall,
  clamav,
  kaspersky,
  symantec,
  kvGeneric,
  syslog,
];
/** Chosen by name only (`format: windows-event`): it dispatches to the Windows decoders above itself. */
export const decoders: readonly Decoder[] = [...jsonDecoders, ...textDecoders, windowsEventLog];

const byName = new Map<string, Decoder>(decoders.map((d) => [d.name, d]));
const ALIASES: Record<string, string> = {
  iptables: 'netfilter', nftables: 'netfilter', pfsense: 'pfsense-filterlog', opnsense: 'pfsense-filterlog', filterlog: 'pfsense-filterlog',
  asa: 'cisco-asa', ftd: 'cisco-asa', 'cisco-ftd': 'cisco-asa', pfirewall: 'windows-firewall', wfp: 'windows-wfp',
  defender: 'windows-defender', 'palo-alto': 'paloalto', panos: 'paloalto', sophos: 'sophos-xg', srx: 'juniper-srx', junos: 'juniper-srx',
  eset: 'eset-protect', winlog: 'windows-event', 'symantec-endpoint': 'symantec', sep: 'symantec', ecs: 'normalized',
};

export function decoderByName(name: string): Decoder | undefined {
  const key = name.toLowerCase();
  return byName.get(key) ?? byName.get(ALIASES[key] ?? '');
}

/** The first decoder whose signature fits the framed line. */
export function sniff(input: DecodeInput): Decoder | undefined {
  for (const d of input.payload.charCodeAt(0) === 123 ? jsonDecoders : textDecoders) if (d.sniff(input)) return d;
  return undefined;
}
