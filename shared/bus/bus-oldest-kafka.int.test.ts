import { describe } from 'vitest';
import { privateKafka, type PrivateService } from '../../cli/services/manager.ts';
import type { RunningKafka } from '../../cli/services/kafka.ts';
import { OLDEST_KAFKA_VERSION } from '../../cli/services/versions.ts';
import { createLogger } from '../log.ts';
import { KafkaBus } from './kafka.ts';
import { busContract } from './test/contract.ts';

// The services run the newest Kafka; this keeps the oldest supported broker honest, on a broker of its
// own (fetched once into the services cache).
describe(`bus contract (Kafka ${OLDEST_KAFKA_VERSION}, the oldest supported broker)`, () => {
  let broker: PrivateService<RunningKafka> | undefined;
  busContract(
    async () => {
      broker = await privateKafka('bus-oldest', OLDEST_KAFKA_VERSION);
      return new KafkaBus({ brokers: [broker.running.brokers], clientId: 'bus-oldest-test', topicPrefix: '', ssl: false }, createLogger('bus-test'));
    },
    async () => broker?.destroy(),
  );
});
