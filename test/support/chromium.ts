import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

export interface FoundChromium {
  path: string;
  /** Where it came from, for the one line the tests print. */
  source: string;
}

function onPath(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    const file = join(dir, name);
    try {
      accessSync(file, constants.X_OK);
      return file;
    } catch {
      // not in this folder
    }
  }
  return undefined;
}

let found: Promise<FoundChromium> | undefined;

async function locate(): Promise<FoundChromium> {
  const fromEnv = process.env.CHROMIUM_PATH;
  if (fromEnv) {
    try {
      accessSync(fromEnv, constants.X_OK);
    } catch {
      throw new Error(`CHROMIUM_PATH=${fromEnv} is not an executable file`);
    }
    return { path: fromEnv, source: 'CHROMIUM_PATH' };
  }
  for (const name of ['chromium', 'chromium-browser', 'google-chrome']) {
    const path = onPath(name);
    if (path) return { path, source: `the system's ${name}` };
  }
  // Ships its binary inside the npm package (a dev dependency): unpacked into the temp folder on first use.
  const { default: sparticuz } = await import('@sparticuz/chromium');
  return { path: await sparticuz.executablePath(), source: '@sparticuz/chromium (npm)' };
}

/**
 * The Chromium the browser tests drive, found in this order: CHROMIUM_PATH, the system's chromium,
 * chromium-browser or google-chrome on the PATH, then the one @sparticuz/chromium brings with `npm ci`.
 * Never skips: when none works the test fails saying so. Prints the choice once per test process.
 */
export function findChromium(): Promise<FoundChromium> {
  found ??= locate().then((c) => {
    process.stderr.write(`[browser] ${c.path} (${c.source})\n`);
    return c;
  });
  return found;
}
