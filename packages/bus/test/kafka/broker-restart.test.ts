import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePorts, startKafkaBroker, type KafkaBroker } from '@ehr/kafka-local';
import { createLogger } from '@ehr/runtime';
import { afterAll, describe, expect, it } from 'vitest';
import { KafkaBus } from '../../src/index.js';
import { waitFor } from '../contract.js';

const logger = createLogger({ service: 'bus-test', level: 'silent' });

// Its own broker, because this test stops it: a consumer whose group coordinator vanishes
// crashes in kafkajs without restarting itself; the subscription must come back on its own.
describe('kafka bus across a broker restart', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'bus-broker-'));
  let broker: KafkaBroker | null = null;
  afterAll(async () => {
    await broker?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('keeps consuming after the broker has been away', async () => {
    const [port, controllerPort] = await freePorts(2);
    broker = await startKafkaBroker({ port: port!, controllerPort: controllerPort!, dataDir });
    const bus = new KafkaBus({ brokers: [broker.brokers], clientId: 'restart', logger, requestTimeoutMs: 5_000 });
    await bus.connect();
    await bus.ensureTopics([{ topic: 'restart.t', partitions: 2 }]);
    const seen = new Set<string>();
    const sub = await bus.subscribe({ groupId: 'restart-g', topics: ['restart.t'], handler: async ({ records }) => void records.forEach((r) => seen.add(r.value.toString())) });
    await bus.produce('restart.t', Array.from({ length: 20 }, (_, i) => ({ key: `k${i}`, value: `before-${i}` })));
    await waitFor(() => seen.size === 20, 60_000, 'records before the restart');

    await broker.stop();
    await new Promise((r) => setTimeout(r, 8_000)); // long enough for the consumer to give up
    broker = await startKafkaBroker({ port: port!, controllerPort: controllerPort!, dataDir });

    await bus.produce('restart.t', Array.from({ length: 20 }, (_, i) => ({ key: `k${i}`, value: `after-${i}` })));
    await waitFor(() => seen.size === 40, 120_000, 'records after the restart');
    expect(bus.status().state).toBe('up');
    await sub.stop();
    await bus.close();
  });
});
