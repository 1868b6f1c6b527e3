// Types for `inject('kafkaBrokers')` in any workspace's test/kafka files. A test file
// (or a setup file) pulls them in with:
//   import type {} from '@ehr/kafka-local/vitest';
// The value is provided by @ehr/kafka-local's vitest global setup (see vitest.shared.ts).
// The import makes 'vitest' resolvable for the augmentation below (TS2664 without it).
import type {} from 'vitest';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Bootstrap address of the run's broker, e.g. `127.0.0.1:40123`. */
    kafkaBrokers: string;
  }
}
