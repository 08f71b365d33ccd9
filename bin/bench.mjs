#!/usr/bin/env node
import { register } from 'tsx/esm/api';

register();
const { runBench } = await import('../test/bench/main.ts');
process.exitCode = await runBench(process.argv.slice(2));
