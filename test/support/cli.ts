import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));

/** The CLI as the tests spawn it: the current sources through tsx. */
export const canhgacBin = join(here, 'canhgac-sources.mjs');

/** The installed executable, which runs the compiled dist/ (npm run build). */
export const compiledBin = join(here, '..', '..', 'bin', 'canhgac.mjs');

/** Runs the CLI as a user would, and returns its status and output. */
export function canhgac(args: string[], input?: string, env: NodeJS.ProcessEnv = {}) {
  const r = spawnSync(process.execPath, [canhgacBin, ...args], { encoding: 'utf8', input, env: { ...process.env, ...env }, timeout: 60_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}
