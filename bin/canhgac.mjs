#!/usr/bin/env node
import module from 'node:module';

// node:sqlite (the embedded store) and process.execve need Node 24; an older one would fail on an import.
if (Number(process.versions.node.split('.')[0]) < 24) {
  process.stderr.write(`canhgac: needs Node 24 or later, this is ${process.version}; \`npx canhgac\` runs the Node 24 that \`npm ci\` installs\n`);
  process.exit(1);
}

// V8 keeps the code it compiled for dist/ on disk (Node's compile cache, under the temporary folder): a
// restart then loads the application in a fraction of the time it takes to compile it again.
module.enableCompileCache?.();
// Runs the compiled JavaScript under dist/, built by `npm run build` (and by `npm ci`, through prepare).
const [{ guardProcess }, { main }] = await Promise.all([import('../dist/cli/process-guard.js'), import('../dist/cli/main.js')]).catch((err) => {
  if (err?.code !== 'ERR_MODULE_NOT_FOUND') throw err;
  process.stderr.write('canhgac: dist/ is missing or incomplete: run `npm run build` (npm ci runs it)\n');
  process.exit(1);
});
guardProcess(process.argv.slice(2));
process.exitCode = await main(process.argv.slice(2));
