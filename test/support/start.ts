import { spawn, type ChildProcess } from 'node:child_process';
import { expect } from 'vitest';
import { canhgacBin } from './cli.ts';

export const PASSWORD = 'start-test-password-1';

export interface Started {
  child: ChildProcess;
  base: string;
  stdout: () => string;
  stderr: () => string;
}

/** `canhgac start` as a user runs it, with neither Kafka nor Elasticsearch in its environment. */
export function start(dataDir: string, extra: string[] = [], services: { KAFKA_BROKERS?: string; ELASTICSEARCH_URL?: string } = {}): Promise<Started> {
  const env: NodeJS.ProcessEnv = { ...process.env, CANHGAC_ADMIN_PASSWORD: PASSWORD };
  delete env.KAFKA_BROKERS;
  delete env.ELASTICSEARCH_URL;
  Object.assign(env, services);
  const child = spawn(process.execPath, [canhgacBin, 'start', '--port', '0', '--data', dataDir, ...extra], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no console address within 30 s\n${out}\n${err}`)), 30_000);
    const check = () => {
      const m = /console\s+(https?:\/\/\S+?)\/?\s/.exec(out);
      if (!m) return;
      clearTimeout(timer);
      child.stdout!.off('data', check);
      resolve({ child, base: m[1]!, stdout: () => out, stderr: () => err });
    };
    child.stdout!.on('data', check);
    child.once('exit', (code) => reject(new Error(`canhgac start exited with ${code}\n${out}\n${err}`)));
  });
}

export function stop(s: Started): Promise<number | null> {
  return new Promise((resolve) => {
    s.child.once('exit', (code) => resolve(code));
    s.child.kill('SIGTERM');
  });
}

export async function login(base: string): Promise<string> {
  const res = await fetch(`${base}/api/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: 'admin', password: PASSWORD }),
  });
  expect(res.status).toBe(200);
  const cookie = res.headers.get('set-cookie');
  expect(cookie).toBeTruthy();
  return cookie!.split(';')[0]!;
}
