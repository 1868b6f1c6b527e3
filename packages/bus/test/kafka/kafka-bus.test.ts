import type {} from '@ehr/kafka-local/vitest';
import { inject } from 'vitest';
import { KafkaBus } from '../../src/index.js';
import { busContract } from '../contract.js';

busContract('kafka (real broker)', () => ({
  connect: async (clientId, logger) => {
    // A prefix on the wire isolates this run from others on the shared broker (and exercises it).
    const bus = new KafkaBus({ brokers: inject('kafkaBrokers').split(','), clientId, logger, topicPrefix: `bus-test-${process.pid}.` });
    await bus.connect();
    return bus;
  },
}));
