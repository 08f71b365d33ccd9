import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { canhgacBin, canhgac } from '../support/cli.ts';

/** Runs `canhgac ARGS | head -1` in a shell, with the pipeline's status being canhgac's. */
function firstLine(args: string) {
  const r = spawnSync('bash', ['-o', 'pipefail', '-c', `"${process.execPath}" "${canhgacBin}" ${args} | head -1`], { encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('the executable', () => {
  it('stops quietly when its reader closes the pipe early (no EPIPE stack trace)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'canhgac-epipe-'));
    const file = join(dir, 'users.json');
    for (let i = 0; i < 3; i++)
      expect(canhgac(['users', 'add', `user${i}`, '--role', 'viewer', '--file', file], undefined, { CANHGAC_PASSWORD: 'long enough password' }).status).toBe(0);
    // Enough output that the pipe is closed while canhgac still writes.
    const lines = Array.from(
      { length: 20_000 },
      (_, i) =>
        `<13>Nov 26 08:00:${String(i % 60).padStart(2, '0')} fw01 kernel: [UFW BLOCK] IN=eth0 SRC=203.0.113.${i % 250} DST=10.0.0.5 PROTO=TCP SPT=4${i % 1000} DPT=22`,
    ).join('\n');
    const raw = join(dir, 'ufw.log');
    spawnSync('bash', ['-c', `cat > "${raw}"`], { input: lines });
    for (const args of [`users list --file "${file}"`, `decode --format netfilter "${raw}"`, '--help']) {
      const r = firstLine(args);
      expect(r.stderr, args).toBe('');
      expect(r.status, args).toBe(0);
      expect(r.stdout.split('\n').filter(Boolean), args).toHaveLength(1);
    }
  });

  it('canhgac start keeps its store, users and spool readable by its owner only', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'canhgac-modes-'));
    const env: NodeJS.ProcessEnv = { ...process.env, CANHGAC_ADMIN_PASSWORD: 'modes-test-password' };
    delete env.KAFKA_BROKERS;
    delete env.ELASTICSEARCH_URL;
    const child = spawn(process.execPath, [canhgacBin, 'start', '--port', '0', '--data', join(dir, 'data'), '--no-demo'], {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    const base = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no console address within 30 s\n${out}`)), 30_000);
      child.stdout!.on('data', () => {
        const m = /console\s+(http:\/\/\S+?)\/?\s/.exec(out);
        if (m) {
          clearTimeout(timer);
          resolve(m[1]!);
        }
      });
    });
    // A login writes the audit, so the store has written files of each kind.
    const res = await fetch(`${base}/api/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'admin', password: 'wrong' }),
    });
    expect(res.status).toBe(401);
    await new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.kill('SIGTERM');
    });
    const files = (readdirSync(join(dir, 'data'), { recursive: true, encoding: 'utf8' }) as string[]).map((f) => join(dir, 'data', f));
    expect(files.some((f) => f.endsWith('users.json'))).toBe(true);
    expect(files.some((f) => f.includes('store'))).toBe(true);
    for (const f of files) {
      const mode = statSync(f).mode & 0o777;
      expect(mode & 0o077, `${f} has mode ${mode.toString(8)}`).toBe(0);
    }
  });
});
