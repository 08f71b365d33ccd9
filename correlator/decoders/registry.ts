import type { Decoder, DecodeInput } from './types.ts';
import { normalized } from './formats/normalized.ts';
import { windowsDefender } from './formats/windows-defender.ts';
import { windowsFilteringPlatform } from './formats/windows-wfp.ts';
import { windowsEventLog, windowsFirewallPolicy } from './formats/windows-event-log.ts';
import { esetProtect } from './formats/eset.ts';
import { bitdefenderGravityZone } from './formats/bitdefender.ts';
import { sophosCentral } from './formats/sophos-central.ts';
import { m365Defender } from './formats/m365-defender.ts';
import { aristaNgfw } from './formats/arista-ngfw.ts';
import { ciscoSecureEndpoint } from './formats/cisco-secure-endpoint.ts';
import { jsonGeneric } from './formats/json.ts';
import { cef } from './formats/cef.ts';
import { leef } from './formats/leef.ts';
import { fortigate } from './formats/fortigate.ts';
import { ciscoAsa } from './formats/cisco-asa.ts';
import { paloalto } from './formats/paloalto.ts';
import { pfsenseFilterlog } from './formats/pfsense-filterlog.ts';
import { ciscoMeraki } from './formats/cisco-meraki.ts';
import { pfsenseServices } from './formats/pfsense-services.ts';
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
const jsonDecoders: readonly Decoder[] = [
  normalized,
  windowsDefender,
  windowsFilteringPlatform,
  windowsFirewallPolicy,
  esetProtect,
  ciscoSecureEndpoint,
  aristaNgfw,
  bitdefenderGravityZone,
  sophosCentral,
  m365Defender,
  jsonGeneric,
];
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
  ciscoMeraki,
  pfsenseServices,
  kvGeneric,
  syslog,
];
/** Chosen by name only (`format: windows-event`): it dispatches to the Windows decoders above itself. */
export const decoders: readonly Decoder[] = [...jsonDecoders, ...textDecoders, windowsEventLog];

const byName = new Map<string, Decoder>(decoders.map((d) => [d.name, d]));

/** Decoders administrators wrote (rules/decoders/*.yml, see custom/): tried before the built-in ones, swapped whole on reload. */
let custom: readonly Decoder[] = [];
let customByName = new Map<string, Decoder>();

export function useCustomDecoders(list: readonly Decoder[]): void {
  custom = list;
  customByName = new Map(list.map((d) => [d.name, d]));
}

export function customDecoders(): readonly Decoder[] {
  return custom;
}
const ALIASES: Record<string, string> = {
  iptables: 'netfilter',
  nftables: 'netfilter',
  pfsense: 'pfsense-filterlog',
  opnsense: 'pfsense-filterlog',
  filterlog: 'pfsense-filterlog',
  asa: 'cisco-asa',
  ftd: 'cisco-asa',
  'cisco-ftd': 'cisco-asa',
  pfirewall: 'windows-firewall',
  wfp: 'windows-wfp',
  defender: 'windows-defender',
  'palo-alto': 'paloalto',
  panos: 'paloalto',
  sophos: 'sophos-xg',
  srx: 'juniper-srx',
  junos: 'juniper-srx',
  eset: 'eset-protect',
  winlog: 'windows-event',
  'symantec-endpoint': 'symantec',
  sep: 'symantec',
  ecs: 'normalized',
};

/** Names a custom decoder may not take: the built-in decoders' and their aliases. */
export function isBuiltinName(name: string): boolean {
  const key = name.toLowerCase();
  return byName.has(key) || key in ALIASES || key === 'auto';
}

export function decoderByName(name: string): Decoder | undefined {
  const key = name.toLowerCase();
  return customByName.get(key) ?? byName.get(key) ?? byName.get(ALIASES[key] ?? '');
}

/** The first decoder whose signature fits the framed line. */
export function sniff(input: DecodeInput): Decoder | undefined {
  for (const d of custom) if (d.sniff(input)) return d;
  const p = input.payload;
  if (p.charCodeAt(0) === 123) {
    for (const d of jsonDecoders) if (d.sniff(input)) return d;
    return undefined;
  }
  // What the sniffs need is searched for once per line, and only when a sniff that needs it comes up.
  let needs: string | undefined;
  let holds = false;
  for (const d of textDecoders) {
    const n = d.sniffNeeds;
    if (n !== undefined) {
      if (n !== needs) {
        needs = n;
        holds = p.includes(n);
      }
      if (!holds) continue;
    }
    if (d.sniff(input)) return d;
  }
  return undefined;
}
