import { createBus, KafkaBus } from '@ehr/bus';
import { TOPICS } from '@ehr/features';
import type {} from '@ehr/kafka-local/vitest';
import { createLogger } from '@ehr/runtime';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { createDashboardService, loadConfig, type WardSnapshot } from '../../src/index.js';
import { scoreBytes } from '../fixtures.js';

const logger = createLogger({ service: 'dashboard-test', level: 'error' });
const prefix = `dashboard-test-${process.pid}-${Date.now()}.`;

async function until<T>(what: string, probe: () => Promise<T | undefined>, ms = 90_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('dashboard on a real broker', () => {
  const cleanup: (() => Promise<unknown>)[] = [];
  afterAll(async () => {
    for (const c of cleanup.reverse()) await c();
  });

  it('follows the scores topic live: patients appear with their band, and one who rises to high is flagged', async () => {
    const brokers = inject('kafkaBrokers');
    const client = new KafkaBus({ brokers: brokers.split(','), clientId: 'dashboard-test-client', logger, topicPrefix: prefix });
    await client.connect();
    cleanup.push(() => client.close());
    await client.ensureTopics([{ topic: TOPICS.scores, partitions: 3 }]);

    const config = loadConfig({ KAFKA_BROKERS: brokers, KAFKA_TOPIC_PREFIX: prefix, DASHBOARD_SERVICE_URLS: '', DASHBOARD_PUSH_INTERVAL_MS: '50' });
    const service = createDashboardService({ config, logger, bus: createBus(config, { clientId: 'dashboard', logger }) });
    cleanup.push(async () => {
      await service.stop();
      await service.app.close();
    });
    await service.start();
    expect((await service.app.inject('/health/ready')).json().status).toBe('ready');

    const ward = async (): Promise<WardSnapshot> => (await service.app.inject('/api/ward')).json<WardSnapshot>();
    const now = Date.now();
    const patients = ['p-a', 'p-b', 'p-c'];
    // The dashboard follows the topic from its end: keep sending the opening scores until
    // its consumer has joined and sees them.
    await until('the opening scores', async () => {
      await client.produce(TOPICS.scores, patients.map((p, i) => ({ key: p, value: scoreBytes({ patientId: p, t: now + i, band: 'low', unit: 'ward-a' }) })));
      const w = await ward();
      return patients.every((p) => w.patients.some((x) => x.id === p)) ? w : undefined;
    });

    await client.produce(TOPICS.scores, [{ key: 'p-c', value: scoreBytes({ patientId: 'p-c', t: now + 60_000, band: 'high', unit: 'ward-a' }) }]);
    const after = await until('p-c in high', async () => {
      const w = await ward();
      return w.patients.find((x) => x.id === 'p-c')?.band === 'high' ? w : undefined;
    });
    // The page sorts; the ward API reports each patient's band and the band-rise alert.
    const riser = after.patients.find((x) => x.id === 'p-c')!;
    expect(riser.alert).toMatchObject({ to: 'high' });
    expect(after.patients.filter((x) => patients.includes(x.id)).map((x) => x.band).sort()).toEqual(['high', 'low', 'low']);
  });
});
