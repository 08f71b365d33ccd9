import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { EnvelopeInput } from '../../shared/envelope.ts';
import { canhgac, canhgacBin } from '../../test/support/cli.ts';
import { createTopics, kafkaBrokers, testKafka, uniqueName } from '../../test/support/services.ts';

const T0 = Date.parse('2025-03-04T02:00:00Z');

function setup(lines: number, stepMs: number) {
  const dir = mkdtempSync(join(tmpdir(), 'drill-cli-'));
  const prefix = `${uniqueName('drill-cli')}.`;
  const config = join(dir, 'config.yml');
  writeFileSync(config, `kafka:\n  brokers: [${kafkaBrokers().join(', ')}]\n  topicPrefix: "${prefix}"\n`);
  const rec = join(dir, 'rec.ndjson');
  const out: string[] = [];
  for (let i = 0; i < lines; i++) {
    const e: EnvelopeInput = {
      v: 1,
      id: `o-${i}`,
      host: 'srv-1',
      source: 'f',
      format: 'auto',
      received: new Date(T0 + i * stepMs).toISOString(),
      line: `line ${i}`,
    };
    out.push(JSON.stringify(e));
  }
  writeFileSync(rec, `${out.join('\n')}\n`);
  return { dir, config, rec, topic: `${prefix}soc.raw` };
}

async function messagesIn(topic: string): Promise<number> {
  const admin = testKafka().admin();
  await admin.connect();
  try {
    const offsets = await admin.fetchTopicOffsets(topic);
    return offsets.reduce((n, p) => n + Number(p.high), 0);
  } finally {
    await admin.disconnect();
  }
}

/** Only the config file says where the services are (empty values leave the file's settings alone). */
const env = () => ({ ...process.env, ELASTICSEARCH_URL: '', KAFKA_BROKERS: '' });

describe('canhgac drill (CLI)', () => {
  it('rejects bad usage with exit status 2 and one line', () => {
    for (const args of [
      ['drill'],
      ['drill', 'fly'],
      ['drill', 'replay', 'x.ndjson'],
      ['drill', 'replay', 'x.ndjson', '--speed', '5000'],
      ['drill', 'record'],
      ['drill', 'score', 's.yml'],
    ]) {
      const r = canhgac(args, undefined, env());
      expect(r.status, args.join(' ')).toBe(2);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
    }
  });

  it('names the file and line of a broken scenario (exit 1)', () => {
    const { dir } = setup(1, 1);
    const file = join(dir, 'bad.yml');
    writeFileSync(file, 'name: x\ntitle: t\nrecording: rec.ndjson\ntrigger: 2025-03-04T02:00:00Z\nexpected:\n  - rule: r\n    within: later\n');
    const r = canhgac(['drill', 'score', file, '--drill-id', 'd'], undefined, { ...env(), ELASTICSEARCH_URL: 'http://127.0.0.1:9' });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(`${file}:7:5: error: field expected.0.within: 'later' is not a duration`);
  });

  it('replays at max speed to the prefixed raw topic and prints the drill id and shift', async () => {
    const { dir, config, rec, topic } = setup(30, 1000);
    const r = canhgac(['drill', 'replay', rec, '--speed', 'max', '--drill-id', 'd-cli', '--config', config], undefined, env());
    expect(r.stderr).toMatch(/^replay: 30 lines sent/);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^drill d-cli: 30 lines sent to .*soc\.raw, time shift 0 ms$/m);
    expect(r.stdout).toContain('--drill-id d-cli --shift 0');
    expect(await messagesIn(topic)).toBe(30);
    // Recorded back: the window is the recording's own (received stays in its timeline), every line marked as the drill's.
    const out = join(dir, 'back.ndjson');
    const rec2 = canhgac(
      ['drill', 'record', '--out', out, '--from', '2025-03-04T02:00:10Z', '--to', '2025-03-04T02:00:20Z', '--hosts', 'srv-1', '--config', config],
      undefined,
      env(),
    );
    expect(rec2.status, rec2.stderr).toBe(0);
    expect(rec2.stdout).toMatch(/^10 envelopes recorded to .*back\.ndjson \(30 read from .*soc\.raw\)$/m);
    const back = readFileSync(out, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { drill: string; line: string });
    expect(back.map((e) => e.line)).toEqual(Array.from({ length: 10 }, (_, i) => `line ${i + 10}`));
    expect(new Set(back.map((e) => e.drill))).toEqual(new Set(['d-cli']));
  });

  it('Ctrl-C stops a replay cleanly and says how far it got', async () => {
    const { config, rec, topic } = setup(40, 500);
    await createTopics(testKafka(), [topic], 1);
    const child = spawn(process.execPath, [canhgacBin, 'drill', 'replay', rec, '--speed', '1', '--drill-id', 'd-int', '--config', config], { env: env() });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    // The plain progress line (not a terminal) shows the replay is under way; stop it a little later.
    await new Promise<void>((resolve) => {
      const check = () => (/replay: \d+ lines sent/.test(stderr) ? resolve() : setTimeout(check, 100));
      check();
    });
    await new Promise((r) => setTimeout(r, 1000));
    child.kill('SIGINT');
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    expect(code).toBe(130);
    const m = /stopped by Ctrl-C at line (\d+) of .*rec\.ndjson \((\d+) of 40 lines sent\); drill d-int: (\d+) lines sent/.exec(stdout);
    expect(m, stdout + stderr).not.toBeNull();
    const sent = Number(m![2]);
    expect(Number(m![1])).toBe(sent);
    expect(sent).toBeGreaterThan(0);
    expect(sent).toBeLessThan(40);
    expect(await messagesIn(topic)).toBe(sent);
  });
});
