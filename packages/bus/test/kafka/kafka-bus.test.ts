import { createLogger } from '@ehr/runtime';
import { inject } from 'vitest';
import { KafkaBus } from '../../src/index.js';
import { busContract } from '../contract.js';

const logger = createLogger({ service: 'bus-test', level: 'warn' });

busContract('kafka (real broker)', () => ({
  connect: async (clientId: string) => {
    const bus = new KafkaBus({ brokers: inject('kafkaBrokers').split(','), clientId, logger });
    await bus.connect();
    return bus;
  },
}));

declare module 'vitest' {
  export interface ProvidedContext {
    kafkaBrokers: string;
  }
}
