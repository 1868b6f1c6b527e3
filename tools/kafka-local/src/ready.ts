// When a fresh broker is ready for tests and benches: it answers, knows itself, and its
// group and producer-id coordinators have loaded.
import { setTimeout as sleep } from 'node:timers/promises';
import { Kafka, logLevel, type Admin } from 'kafkajs';
import { isPortOpen } from './ports.js';

/** Port open first (cheap), then real admin round trips: metadata with this broker in it, a group coordinator. */
export async function waitUntilReady(
  brokers: string,
  port: number,
  deadline: number,
  exited: () => string | undefined,
): Promise<void> {
  let lastError = '';
  const check = () => {
    const reason = exited();
    if (reason !== undefined) throw new Error(reason);
    if (Date.now() > deadline) throw new Error(`did not become ready in time${lastError && ` (last: ${lastError})`}`);
  };
  while (!(await isPortOpen(port))) {
    check();
    await sleep(100);
  }
  const kafka = new Kafka({
    clientId: 'kafka-local-ready',
    brokers: [brokers],
    logLevel: logLevel.NOTHING,
    connectionTimeout: 2_000,
    requestTimeout: 5_000,
    retry: { retries: 0 },
  });
  for (;;) {
    const admin = kafka.admin();
    try {
      await admin.connect();
      await admin.listTopics();
      const cluster = await admin.describeCluster();
      if (cluster.brokers.length > 0) {
        await warmUp(kafka, admin);
        return;
      }
    } catch (error) {
      // not yet: the broker answers before it is unfenced and before the coordinators load
      lastError = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    } finally {
      await admin.disconnect().catch(() => undefined);
    }
    check();
    await sleep(200);
  }
}

/**
 * The first group and the first idempotent producer of a fresh broker are refused while
 * it creates __consumer_offsets and fetches a block of producer ids; trigger both here so
 * tests and benches do not start with "coordinator not available/loading" errors.
 * `admin` must have fetched metadata already (FindCoordinator needs it).
 */
async function warmUp(kafka: Kafka, admin: Admin): Promise<void> {
  await admin.describeGroups(['kafka-local-ready']); // FindCoordinator creates __consumer_offsets
  const producer = kafka.producer({ idempotent: true, retry: { retries: 1, initialRetryTime: 100 } });
  try {
    await producer.connect(); // InitProducerId
  } finally {
    await producer.disconnect().catch(() => undefined);
  }
}
