import { describe, expect, it } from 'vitest';
import { MemoryBroker, MemoryBus, partitionForKey } from '../src/index.js';
import { busContract, waitFor } from './contract.js';

const broker = new MemoryBroker({ defaultPartitions: 3 });

busContract('in-memory', () => ({
  connect: async (_clientId, logger) => {
    const bus = new MemoryBus({ broker, logger });
    await bus.connect();
    return bus;
  },
}));

describe('in-memory bus specifics', () => {
  it('places keys on the partitions Kafka would (murmur2)', async () => {
    const { Partitioners } = await import('kafkajs');
    const kafkaPartitioner = Partitioners.DefaultPartitioner();
    const metadata = Array.from({ length: 6 }, (_, i) => ({ partitionId: i, leader: 0, replicas: [0], isr: [0], partitionErrorCode: 0 }));
    for (let i = 0; i < 200; i++) {
      const key = `patient-${i}-${'x'.repeat(i % 7)}`;
      expect(partitionForKey(key, 6)).toBe(kafkaPartitioner({ topic: 't', partitionMetadata: metadata, message: { key, value: '' } }));
    }
  });

  it('holds producers back when a live group falls far behind, and lets them go as it commits', async () => {
    const bus = new MemoryBus({ defaultPartitions: 1, maxBacklogPerPartition: 100 });
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let handled = 0;
    const sub = await bus.subscribe({
      groupId: 'slow',
      topics: ['t'],
      maxBatchRecords: 50,
      handler: async ({ records }) => {
        await gate;
        handled += records.length;
      },
    });
    await bus.produce('t', Array.from({ length: 150 }, () => ({ key: 'k', value: 'v' })));
    let produced = false;
    const blocked = bus.produce('t', [{ key: 'k', value: 'late' }]).then(() => (produced = true));
    await new Promise((r) => setTimeout(r, 100));
    expect(produced).toBe(false);
    release();
    await blocked;
    await waitFor(() => handled === 151, 5_000, 'all records');
    await sub.stop();
    await bus.close();
  });

  it('begins a new cluster (new id, offsets from 0) for each new broker', async () => {
    const a = new MemoryBus(), b = new MemoryBus();
    expect(await a.clusterId()).not.toBe(await b.clusterId());
  });
});

describe('in-memory broker: what a stop would lose', () => {
  it('lists, per topic and group, the records not committed yet, keys and bytes intact', async () => {
    const broker = new MemoryBroker({ defaultPartitions: 2 });
    const bus = new MemoryBus({ broker });
    await bus.produce('t', Array.from({ length: 10 }, (_, i) => ({ key: `k${i % 3}`, value: `v${i}` })));
    expect(broker.uncommitted('t', 'never-joined').map((r) => r.value.toString()).sort()).toEqual(Array.from({ length: 10 }, (_, i) => `v${i}`).sort());
    let seen = 0;
    const sub = await bus.subscribe({ groupId: 'g', topics: ['t'], autoCommit: false, handler: async ({ records }) => void (seen += records.length) });
    await waitFor(() => seen === 10, 5_000, 'all records');
    const [first] = sub.assignment();
    const firstEnd = broker.topics.get('t')!.partitions[first!.partition]!.end;
    await sub.commit([{ topic: 't', partition: first!.partition, offset: String(firstEnd) }]);
    const left = broker.uncommitted('t', 'g');
    expect(left.length).toBe(10 - firstEnd);
    expect(left.every((r) => r.partition !== first!.partition && r.key !== null)).toBe(true);
    expect(broker.uncommittedCount('t', 'g')).toBe(left.length);
    expect(await bus.groupLag('g', ['t'])).toBe(left.length);
    await sub.stop();
    await bus.close();
  });
});
