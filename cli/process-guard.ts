import { execWithAllocatorSettings } from './start/allocator.ts';

/**
 * What the executable sets up before a command runs, shared by the bin (dist/) and the tests' runner of
 * the sources, so that both behave alike.
 */
export function guardProcess(argv: string[]): void {
  execWithAllocatorSettings(argv);
  // A reader that stops early (`canhgac users list | head -1`) closes the pipe: that ends the output
  // quietly, as for any Unix tool, instead of an unhandled EPIPE with a stack trace.
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code !== 'EPIPE') throw err;
      process.exit(process.exitCode ?? 0);
    });
  }
  // What canhgac writes (stores, spools, checkpoints, users, recordings, exports) holds log lines, incidents
  // or hashes: readable by its owner only. `services` manages Kafka's and Elasticsearch's folders for
  // the system user that runs them, so it keeps the inherited mask.
  if (argv[0] !== 'services') process.umask(0o077);
}
