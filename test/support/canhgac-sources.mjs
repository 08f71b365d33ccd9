// The CLI from its TypeScript sources (through tsx), for tests: they check the code as it is now, without
// waiting for a build of dist/. The compiled bin is checked by test/cli/dist.int.test.ts.
import { register } from 'tsx/esm/api';

register();
const { guardProcess } = await import('../../cli/process-guard.ts');
const { main } = await import('../../cli/main.ts');
guardProcess(process.argv.slice(2));
process.exitCode = await main(process.argv.slice(2));
