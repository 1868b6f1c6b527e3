// globalSetup of every workspace's `kafka` vitest project (vitest.shared.ts). Uses
// $KAFKA_BROKERS when set (npm test starts one broker for the whole run); otherwise
// starts a broker of its own for this vitest run and stops it in teardown.
import type { TestProject } from 'vitest/node';
import { startKafkaBroker, type KafkaBroker } from './broker.js';
import { ensureJars } from './jars.js';
import './vitest.js';

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  let broker: KafkaBroker | undefined;
  let brokers = process.env.KAFKA_BROKERS?.trim();
  if (!brokers) {
    try {
      ensureJars();
      broker = await startKafkaBroker();
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      throw new Error(
        `test/kafka needs a Kafka broker: set KAFKA_BROKERS=host:port, or install Java 17+ and Maven ` +
          `so @ehr/kafka-local can start one (npm run kafka:jars, then npm test).\n${reason}`,
      );
    }
    brokers = broker.brokers;
    process.stderr.write(`kafka-local: started broker ${brokers} for this run (pid ${broker.pid}, log ${broker.logFile})\n`);
  }
  project.provide('kafkaBrokers', brokers);
  process.env.KAFKA_BROKERS = brokers;
  return async () => {
    await broker?.stop();
  };
}
