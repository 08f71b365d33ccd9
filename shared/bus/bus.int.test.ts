import { describe } from 'vitest';
import { createLogger } from '../log.ts';
import { kafkaBrokers } from '../../test/support/services.ts';
import { KafkaBus } from './kafka.ts';
import { MemoryBus } from './memory.ts';
import { busContract } from './test/contract.ts';
import type { Bus } from './types.ts';

const backends: [string, () => Promise<Bus>][] = [
  ['memory', async () => new MemoryBus(3)],
  ['kafka', async () => new KafkaBus({ brokers: kafkaBrokers(), clientId: 'bus-test', topicPrefix: '', ssl: false }, createLogger('bus-test'))],
];

describe.each(backends)('bus contract (%s)', (_name, make) => busContract(make));
