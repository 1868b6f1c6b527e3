import { MemoryBus } from '@ehr/bus';
import { decodeDeadLetter, TOPICS, type DeadLetter } from '@ehr/features';
import { createLogger } from '@ehr/runtime';
import { afterEach, describe, expect, it } from 'vitest';
import { createScoringService, loadConfig } from '../src/index.js';

const logger = createLogger({ service: 'scoring', level: 'silent' });

describe('scoring service', () => {
  const running: { stop(): Promise<void>; app: { close(): Promise<unknown> } }[] = [];
  afterEach(async () => {
    for (const s of running.splice(0)) {
      await s.stop();
      await s.app.close();
    }
  });

  it('answers health, readiness and metrics, and is ready only once consuming', async () => {
    const service = createScoringService({ config: loadConfig({}), logger, bus: new MemoryBus() });
    running.push(service);
    expect((await service.app.inject('/health/live')).statusCode).toBe(200);
    const before = await service.app.inject('/health/ready');
    expect([before.statusCode, before.json().status]).toEqual([503, 'not_ready']);
    await service.start();
    const after = await service.app.inject('/health/ready');
    expect([after.statusCode, after.json().status]).toEqual([200, 'ready']);
    const metrics = await service.app.inject('/metrics');
    expect(metrics.body).toContain('ehr_scoring_events_total');
  });

  it('dead-letters what it cannot read, with the reason and the original bytes', async () => {
    const bus = new MemoryBus();
    const service = createScoringService({ config: loadConfig({}), logger, bus });
    running.push(service);
    await service.start();
    const letters: DeadLetter[] = [];
    const sub = await bus.subscribe({
      groupId: 'audit',
      topics: [TOPICS.deadLetter],
      handler: async ({ records }) => {
        for (const r of records) {
          const d = decodeDeadLetter(r.value);
          if (d.ok) letters.push(d.value);
        }
      },
    });
    const garbage = Buffer.from('{"schema":"x",');
    await bus.produce(TOPICS.features, [{ key: 'p1', value: garbage }]);
    const deadline = Date.now() + 5000;
    while (letters.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    await sub.stop();
    expect(letters).toHaveLength(1);
    expect(letters[0]).toMatchObject({ reason: 'unparseable', service: 'scoring', sourceTopic: TOPICS.features, sourceOffset: '0' });
    expect(Buffer.from(letters[0]!.originalBytes, 'base64')).toEqual(garbage);
  });
});
