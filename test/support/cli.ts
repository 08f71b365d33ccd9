import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const canhgacBin = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'bin', 'canhgac.mjs');

/** Runs the real executable as a user would, and returns its status and output. */
export function canhgac(args: string[], input?: string, env: NodeJS.ProcessEnv = {}) {
  const r = spawnSync(process.execPath, [canhgacBin, ...args], { encoding: 'utf8', input, env: { ...process.env, ...env }, timeout: 60_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}
