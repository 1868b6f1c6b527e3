// What a member keeps from a read of the state changelog: its own partitions only. A reread
// mid-run (a partition that moved on elsewhere) reads every partition's patients; the other
// members' stay theirs, not held here until the next rebalance.
import { MemoryBus, partitionForKey, RecordIsolation, type BusRecord, type Subscription } from '@ehr/bus';
import { TOPICS } from '@ehr/features';
import { createLogger, createMetricsRegistry } from '@ehr/runtime';
import { describe, expect, it } from 'vitest';
import { loadConfig, processorOptions } from '../src/config.js';
import { createFeatureProcessor } from '../src/processor.js';
import { cohortFixture } from './fixtures/stream.js';

const PARTITIONS = 3;
const logger = createLogger({ service: 'feature', level: 'silent' });
const context = { heartbeat: () => Promise.resolve() };

function processorOn(bus: MemoryBus) {
  const config = loadConfig({ KAFKA_TOPIC_PARTITIONS: String(PARTITIONS), FEATURE_STATE_CHANGELOG: 'on' });
  return createFeatureProcessor({
    bus,
    logger,
    metrics: createMetricsRegistry('feature', { defaultMetrics: false }),
    options: { ...processorOptions(config, true), checkpointIntervalMs: 1e12, checkpointMaxEvents: 25 },
    isolation: new RecordIsolation({ maxAttempts: 3, logger }),
  });
}

/** A consumer group member that owns `partitions` of the events topic. */
const memberOf = (partitions: number[]) => ({ assignment: () => partitions.map((partition) => ({ topic: TOPICS.events, partition })) }) as unknown as Subscription;

describe('feature state read back from the changelog', () => {
  it("holds only this member's partitions after a reread for a partition that moved on elsewhere", async () => {
    const bus = new MemoryBus({ defaultPartitions: PARTITIONS });
    await bus.ensureTopics([{ topic: TOPICS.featureState, partitions: PARTITIONS, compacted: true }]);
    // Member A processes every partition and checkpoints it to the changelog.
    const a = processorOn(bus);
    await a.restoreAtStart();
    const byPartition: BusRecord[][] = Array.from({ length: PARTITIONS }, () => []);
    for (const r of cohortFixture({ seed: 11, patients: 12, hours: 6 }).records) {
      const p = partitionForKey(r.key, PARTITIONS);
      const value = typeof r.value === 'string' ? Buffer.from(r.value) : r.value;
      byPartition[p]!.push({ topic: TOPICS.events, partition: p, offset: String(byPartition[p]!.length), key: r.key, value, headers: {}, timestamp: 0 });
    }
    for (let p = 0; p < PARTITIONS; p++) await a.handle({ topic: TOPICS.events, partition: p, records: byPartition[p]!, highWatermark: String(byPartition[p]!.length) }, context);
    await a.checkpointAll();

    // Member B owns partition 0 alone. Its first batch there comes from far past what the
    // changelog holds (another member moved the partition on): B reads the changelog again.
    const b = processorOn(bus);
    await b.restoreAtStart(); // before it has joined the group: it holds every partition, not knowing its own yet
    expect(b.pooled().sort()).toEqual([0, 1, 2]);
    b.attach(memberOf([0]));
    const late = byPartition[0]!.at(-1)!;
    await b.handle({ topic: TOPICS.events, partition: 0, records: [{ ...late, offset: String(byPartition[0]!.length + 100) }], highWatermark: '0' }, context);
    expect([...b.partitions.keys()]).toEqual([0]);
    expect(b.pooled()).toEqual([]);
    await bus.close();
  });

  it('never checkpoints a partition that moved to another member: its idle timer would write older state after the new owner\'s', async () => {
    const bus = new MemoryBus({ defaultPartitions: PARTITIONS });
    await bus.ensureTopics([{ topic: TOPICS.featureState, partitions: PARTITIONS, compacted: true }]);
    const config = loadConfig({ KAFKA_TOPIC_PARTITIONS: String(PARTITIONS), FEATURE_STATE_CHANGELOG: 'on' });
    const a = createFeatureProcessor({
      bus,
      logger,
      metrics: createMetricsRegistry('feature', { defaultMetrics: false }),
      options: { ...processorOptions(config, true), checkpointIntervalMs: 50, checkpointMaxEvents: 1e9 },
      isolation: new RecordIsolation({ maxAttempts: 3, logger }),
    });
    await a.restoreAtStart();
    let owned = [0, 1, 2];
    a.attach({ assignment: () => owned.map((partition) => ({ topic: TOPICS.events, partition })), commit: async () => undefined } as unknown as Subscription);
    const records = cohortFixture({ seed: 12, patients: 12, hours: 2 })
      .records.filter((r) => partitionForKey(r.key, PARTITIONS) === 1)
      .slice(0, 5)
      .map((r, i): BusRecord => ({ topic: TOPICS.events, partition: 1, offset: String(i), key: r.key, value: typeof r.value === 'string' ? Buffer.from(r.value) : r.value, headers: {}, timestamp: 0 }));
    await a.handle({ topic: TOPICS.events, partition: 1, records, highWatermark: '5' }, context);
    expect([...a.partitions.keys()]).toEqual([1]);
    // A rebalance gives partition 1 to another member, and no batch comes to this one after it.
    owned = [0, 2];
    const written: string[] = [];
    const reader = await bus.subscribe({ groupId: 'changelog-reader', topics: [TOPICS.featureState], fromBeginning: true, handler: async (b) => void written.push(...b.records.map((r) => r.key ?? '')) });
    a.startIdleCheckpoints();
    await new Promise((r) => setTimeout(r, 400));
    a.stopIdleCheckpoints();
    await reader.stop();
    // Nothing but the restore's own markers: no offset record, no patient's state.
    expect(written.filter((k) => !k.startsWith('#marker/'))).toEqual([]);
    expect([...a.partitions.keys()]).toEqual([]);
    await bus.close();
  });
});
