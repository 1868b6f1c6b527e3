import { MemoryBus } from '@ehr/bus';
import { TOPICS, type RawEvent, type VitalSignEvent } from '@ehr/features';
import { createLogger } from '@ehr/runtime';
import { createProducerService, loadConfig } from '../src/index.js';

export const logger = createLogger({ service: 'producer', level: 'silent' });

/** A heart rate posted through the API at one fixed time: the event the intake tests send. */
export const heartRate = (eventId: string, value = 70, patientId = 'p-1'): VitalSignEvent => ({
  schema: 'vital_sign',
  schemaVersion: 1,
  eventId,
  patientId,
  encounterId: null,
  occurredAt: '2026-01-01T10:00:00Z',
  producedAt: '2026-01-01T10:00:00Z',
  source: 'api',
  payload: { kind: 'heart_rate', value, unit: '/min' },
});

export type Started = Awaited<ReturnType<typeof startProducer>>;

/** A started producer on an in-memory bus (a test's own kind of MemoryBus when given). */
export async function startProducer<B extends MemoryBus = MemoryBus>(env: Record<string, string> = {}, { now, bus = new MemoryBus() as B }: { now?: () => number; bus?: B } = {}) {
  const service = createProducerService({ config: loadConfig(env), logger, bus, ...(now ? { now } : {}) });
  await service.start();
  return { bus, service, stop: async () => (await service.stop(), await service.app.close()) };
}

let groups = 0;

/** Every record on the raw topic so far (key and event), read by a throwaway consumer group. */
export async function drain(bus: MemoryBus, expected: number, timeoutMs = 20_000): Promise<{ key: string; event: RawEvent; partition: number }[]> {
  const got: { key: string; event: RawEvent; partition: number }[] = [];
  const sub = await bus.subscribe({
    groupId: `check-${++groups}`,
    topics: [TOPICS.events],
    handler: async ({ records, partition }) => void got.push(...records.map((r) => ({ key: r.key!, event: JSON.parse(r.value.toString()) as RawEvent, partition }))),
  });
  const deadline = Date.now() + timeoutMs;
  while (got.length < expected && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  await new Promise((r) => setTimeout(r, 50));
  await sub.stop();
  return got;
}
