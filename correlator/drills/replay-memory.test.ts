import { spawnSync } from 'node:child_process';
import { createWriteStream, mkdtempSync, statSync, writeFileSync } from 'node:fs';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';

/** Writes `n` envelopes of ~300 bytes without holding them in memory. */
async function bigRecording(dir: string, n: number): Promise<string> {
  const file = join(dir, 'big.ndjson');
  const out = createWriteStream(file);
  const t0 = Date.parse('2025-03-04T02:00:00Z');
  for (let i = 0; i < n; i++) {
    const line = `{"v":1,"kind":"line","id":"o-${i}","host":"srv-${i % 50}","source":"/var/log/kern.log","format":"auto","received":"${new Date(t0 + i * 10).toISOString()}","line":"<4>Mar  4 09:00:00 srv-${i % 50} kernel: IPTABLES-DROP: IN=eth0 OUT= SRC=203.0.113.${i % 250} DST=10.20.1.11 LEN=60 PROTO=TCP SPT=${40000 + (i % 20000)} DPT=22 n=${i}"}\n`;
    if (!out.write(line)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'close');
  return file;
}

const replayModule = pathToFileURL(join(import.meta.dirname, 'replay.ts')).href;

describe('drill replay memory', () => {
  it('replays a recording bigger than the heap it is allowed', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'replay-big-'));
    const n = 150_000;
    const file = await bigRecording(dir, n);
    const heapMb = 30;
    // Loading the file whole would need more than the whole heap for its text alone.
    expect(statSync(file).size).toBeGreaterThan(heapMb * 1024 * 1024 * 1.3);
    const script = join(dir, 'run.mjs');
    writeFileSync(
      script,
      `const { replayRecording } = await import(${JSON.stringify(replayModule)});
let count = 0;
const producer = { send: async (_t, ms) => void (count += ms.length), close: async () => undefined };
const r = await replayRecording({ file: ${JSON.stringify(file)}, producer, topic: 'soc.raw', speed: 'max', drillId: 'd-big' });
process.stdout.write(JSON.stringify({ sent: r.sent, count }));
`,
    );
    const res = spawnSync(process.execPath, [`--max-old-space-size=${heapMb}`, '--import', 'tsx', script], {
      cwd: join(import.meta.dirname, '..', '..'),
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(res.stderr).toBe('');
    expect(JSON.parse(res.stdout)).toEqual({ sent: n, count: n });
  });
});
