#!/usr/bin/env node
import module from 'node:module';

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
