import { MemoryBus } from '@ehr/bus';
import { TOPICS, type RawEvent } from '@ehr/features';
import { createLogger } from '@ehr/runtime';
import { createProducerService, loadConfig } from '../src/index.js';

export const logger = createLogger({ service: 'producer', level: 'silent' });

export type Started = Awaited<ReturnType<typeof startProducer>>;

export async function startProducer(env: Record<string, string> = {}, now?: () => number) {
  const bus = new MemoryBus();
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
