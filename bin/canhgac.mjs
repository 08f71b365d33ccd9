#!/usr/bin/env node
// A reader that stops early (`canhgac users list | head -1`) closes the pipe: that ends the output
// quietly, as for any Unix tool, instead of an unhandled EPIPE with a stack trace.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (err) => {
    if (err.code !== 'EPIPE') throw err;
    process.exit(process.exitCode ?? 0);
  });
}
// What canhgac writes (stores, spools, checkpoints, users, recordings, exports) holds log lines, incidents
// or hashes: readable by its owner only. `services` manages Kafka's and Elasticsearch's folders for
// the system user that runs them, so it keeps the inherited mask.
if (process.argv[2] !== 'services') process.umask(0o077);

// Runs the compiled JavaScript under dist/, built by `npm run build` (and by `npm ci`, through prepare).
const { main } = await import('../dist/cli/main.js').catch((err) => {
  if (err?.code !== 'ERR_MODULE_NOT_FOUND') throw err;
  process.stderr.write('canhgac: dist/ is missing or incomplete: run `npm run build` (npm ci runs it)\n');
  process.exit(1);
});
process.exitCode = await main(process.argv.slice(2));
