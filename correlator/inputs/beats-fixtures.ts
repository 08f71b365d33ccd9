import {
  defenderActionFailed,
  defenderActionTaken,
  defenderDetected,
  firewallRuleAdded,
  wfpConnectionBlocked,
  wfpPacketDropped,
} from '../../collector/sources/winlog-fixtures.ts';

/**
 * Test fixtures: documents as Winlogbeat 8's Kafka output writes them (codec json: the event with
 * @metadata, agent, ecs, host, log, event and winlog, event ids as strings), built from the same Windows
 * events as the collector's winlog fixtures.
 */
const MAKERS = [
  defenderDetected,
  wfpPacketDropped,
  defenderActionTaken,
  wfpConnectionBlocked,
  (c: string, i: number) => firewallRuleAdded(i % 2 ? 2097 : 2004, c, i),
  defenderActionFailed,
];

export function winlogbeatDocument(host: string, i: number): Record<string, unknown> {
  const e = MAKERS[i % MAKERS.length]!(host.toUpperCase(), i);
  return {
    '@timestamp': e.TimeCreated,
    '@metadata': { beat: 'winlogbeat', type: '_doc', version: '8.15.3' },
    agent: {
      type: 'winlogbeat',
      version: '8.15.3',
      name: host.split('.')[0],
      id: '3b1f8a52-6a0c-4d7e-9f3b-7c1f0f1d5e21',
      ephemeral_id: '0c9e5a1d-2b7f-4a11-8f6e-4d2b7e9c1a33',
    },
    ecs: { version: '8.0.0' },
    host: {
      name: host,
      hostname: host.split('.')[0],
      architecture: 'x86_64',
      os: { family: 'windows', name: 'Windows Server 2022 Standard', kernel: '10.0.20348.2849', build: '20348.2849', platform: 'windows', type: 'windows' },
      ip: ['10.10.3.15'],
    },
    log: { level: e.Level.toLowerCase() },
    event: { created: e.TimeCreated, code: String(e.EventID), kind: 'event', provider: e.ProviderName },
    message: `Event ${e.EventID} from ${e.ProviderName}`,
    winlog: {
      channel: e.Channel,
      computer_name: host,
      event_id: String(e.EventID),
      provider_name: e.ProviderName,
      record_id: String(1000 + i),
      api: 'wineventlog',
      process: { pid: 3456, thread: { id: 7890 } },
      opcode: 'Info',
      task: '',
      keywords: [e.Channel === 'Security' ? 'Audit Failure' : 'Classic'],
      event_data: e.EventData,
    },
  };
}
