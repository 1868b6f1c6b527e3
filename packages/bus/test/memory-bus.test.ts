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

/**
 * A consumer in group 'slow' whose batches wait until the test releases them, and a producer:
 * two clients of one broker, as two services are.
 */
async function slowConsumer(broker: MemoryBroker, maxBatchRecords?: number) {
  const bus = new MemoryBus({ broker });
  const producer = new MemoryBus({ broker });
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const consumed = { handled: 0 };
  const sub = await bus.subscribe({
    groupId: 'slow',
    topics: ['t'],
    ...(maxBatchRecords === undefined ? {} : { maxBatchRecords }),
    handler: async ({ records }) => {
      await gate;
      consumed.handled += records.length;
    },
  });
  return { bus, producer, release, consumed, sub };
}

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
    const { bus, producer, release, consumed, sub } = await slowConsumer(new MemoryBroker({ defaultPartitions: 1, maxBacklogPerPartition: 100 }), 50);
    await producer.produce('t', Array.from({ length: 150 }, () => ({ key: 'k', value: 'v' })));
    let produced = false;
    const blocked = producer.produce('t', [{ key: 'k', value: 'late' }]).then(() => (produced = true));
    await new Promise((r) => setTimeout(r, 100));
    expect(produced).toBe(false);
    release();
    await blocked;
    await waitFor(() => consumed.handled === 151, 5_000, 'all records');
    await sub.stop();
    await bus.close();
  });

  it('holds producers back by bytes too: a few large records stop them where a count would not', async () => {
    const { bus, producer, release, consumed, sub } = await slowConsumer(new MemoryBroker({ defaultPartitions: 1, maxBacklogPerPartition: 1_000_000, maxBacklogBytesPerPartition: 10_000 }));
    const large = 'x'.repeat(4_000);
    await producer.produce('t', [{ key: 'k', value: large }, { key: 'k', value: large }, { key: 'k', value: large }]);
    let produced = false;
    const blocked = producer.produce('t', [{ key: 'k', value: 'small' }]).then(() => (produced = true));
    await new Promise((r) => setTimeout(r, 100));
    expect(produced).toBe(false); // 3 records, but 12 kB over the 10 kB bound
    release();
    await blocked;
    await waitFor(() => consumed.handled === 4, 5_000, 'all records');
    await sub.stop();
    await bus.close();
  });

  it('drops committed records by bytes too: a few hundred large committed records are not kept', async () => {
    const bus = new MemoryBus({ defaultPartitions: 1 });
    let handled = 0;
    const sub = await bus.subscribe({ groupId: 'g', topics: ['t'], handler: async ({ records }) => void (handled += records.length) });
    // 400 records of 10 kB: 4 MB, far fewer records than a count-only chunk would wait for.
    for (let i = 0; i < 40; i++) await bus.produce('t', Array.from({ length: 10 }, () => ({ key: 'k', value: 'x'.repeat(10_000) })));
    await waitFor(() => handled === 400, 5_000, 'all records');
    await waitFor(() => bus.broker.uncommittedCount('t', 'g') === 0, 5_000, 'all committed');
    const partition = bus.broker.topics.get('t')!.partitions[0]!;
    expect(partition.end).toBe(400);
    expect(partition.records.length).toBeLessThan(50); // a 256 kB chunk is 25 of them
    await sub.stop();
    await bus.close();
  });

  it('never drops records a live group has not committed yet, even before its first commit', async () => {
    const broker = new MemoryBroker({ defaultPartitions: 1 });
    const fast = new MemoryBus({ broker });
    const slow = new MemoryBus({ broker });
    let fastSeen = 0;
    const offsets: number[] = [];
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    // A sink-like group: commits only once its first write lands (here: when released).
    const held = await slow.subscribe({
      groupId: 'sink',
      topics: ['t'],
      autoCommit: false,
      maxBatchRecords: 10,
      handler: async ({ records }) => {
        for (const r of records) offsets.push(Number(r.offset));
        await gate;
      },
    });
    const quick = await fast.subscribe({ groupId: 'dashboard', topics: ['t'], handler: async ({ records }) => void (fastSeen += records.length) });
    // 100 records of 10 kB, far past a trim chunk, that the fast group commits at once.
    for (let i = 0; i < 10; i++) await fast.produce('t', Array.from({ length: 10 }, () => ({ key: 'k', value: 'x'.repeat(10_000) })));
    await waitFor(() => fastSeen === 100, 5_000, 'the fast group');
    release();
    await waitFor(() => offsets.at(-1) === 99, 5_000, 'the slow group at the end');
    expect(offsets.slice(0, 100)).toEqual(Array.from({ length: 100 }, (_, i) => i));
    await quick.stop();
    await held.stop();
    await fast.close();
    await slow.close();
  });

  it('never holds a client back on its own group (a consumer producing to the topic it consumes)', async () => {
    const bus = new MemoryBus({ defaultPartitions: 1, maxBacklogBytesPerPartition: 1_000 });
    const seen: string[] = [];
    const sub = await bus.subscribe({
      groupId: 'self',
      topics: ['t'],
      handler: async ({ records }) => {
        for (const r of records) {
          seen.push(r.value.toString().slice(0, 5));
          // While this batch is uncommitted the partition is over the bound for this group.
          if (r.value.toString().startsWith('first')) await bus.produce('t', [{ key: 'k', value: 'again' }]);
        }
      },
    });
    await bus.produce('t', [{ key: 'k', value: 'first' + 'x'.repeat(2_000) }]);
    await waitFor(() => seen.length === 2, 5_000, 'the record it produced to itself');
    expect(seen).toEqual(['first', 'again']);
    await sub.stop();
    await bus.close();
  });

  it('holds a source (a client consuming nothing: intake) back on the bytes held across topics, never a stage', async () => {
    const broker = new MemoryBroker({ defaultPartitions: 1, maxHeldBytes: 10_000 });
    const { bus, producer, release, consumed, sub } = await slowConsumer(broker);
    // 8 kB on 't' and 4 kB on 'u', both read by live groups and not committed: 12 kB held,
    // each topic far under its per-partition bound (8 MiB) but over 10 kB together.
    const stage = new MemoryBus({ broker });
    let gate!: () => void;
    const held = new Promise<void>((r) => (gate = r));
    const other = await stage.subscribe({ groupId: 'other', topics: ['u'], handler: async () => held });
    await producer.produce('t', [{ key: 'k', value: 'x'.repeat(8_000) }]);
    await stage.produce('u', [{ key: 'k', value: 'y'.repeat(4_000) }]);
    expect(broker.heldBytes()).toBe(12_002); // keys count too
    let produced = false;
    const blocked = producer.produce('t', [{ key: 'k', value: 'small' }]).then(() => (produced = true));
    // A stage (it consumes) is not held back by the total: what it produces from must drain.
    await stage.produce('u', [{ key: 'k', value: 'z' }]);
    await new Promise((r) => setTimeout(r, 100));
    expect(produced).toBe(false);
    release();
    gate();
    await blocked;
    await waitFor(() => consumed.handled === 2, 5_000, 'all records');
    await other.stop();
    await sub.stop();
    await stage.close();
    await bus.close();
  });

  it('keeps a frame written into a larger buffer at its own size, and shares one empty headers object', async () => {
    const bus = new MemoryBus({ defaultPartitions: 1 });
    const writer = Buffer.alloc(64 * 1024);
    writer.write('frame');
    await bus.produce('t', [{ key: 'a', value: writer.subarray(0, 5) }, { key: 'b', value: 'small' }, { key: 'c', value: 'hdr', headers: { h: '1' } }]);
    const [frame, small, withHeaders] = bus.broker.topics.get('t')!.partitions[0]!.records;
    expect(frame!.value.toString()).toBe('frame');
    expect(frame!.value.buffer.byteLength).toBeLessThan(64 * 1024);
    expect(frame!.headers).toBe(small!.headers);
    expect(Object.isFrozen(small!.headers)).toBe(true);
    expect({ ...withHeaders!.headers }).toEqual({ h: '1' });
    await bus.close();
  });

  it('compacts a compacted topic by key as it goes, and readers step over the gaps', async () => {
    const bus = new MemoryBus({ defaultPartitions: 1 });
    await bus.ensureTopics([{ topic: 'state', compacted: true }]);
    for (let round = 0; round < 100; round++) await bus.produce('state', [{ key: 'p1', value: `a${round}` }, { key: 'p2', value: `b${round}` }]);
    const partition = bus.broker.topics.get('state')!.partitions[0]!;
    expect(partition.end).toBe(200);
    expect(partition.records.filter(Boolean).length).toBe(2);
    const seen: string[] = [];
    const sub = await bus.subscribe({ groupId: 'restore', topics: ['state'], handler: async ({ records }) => void seen.push(...records.map((r) => `${r.offset}:${r.value.toString()}`)) });
    await waitFor(() => seen.length === 2, 5_000, 'the latest of each key');
    expect(seen).toEqual(['198:a99', '199:b99']);
    await waitFor(() => bus.broker.uncommittedCount('state', 'restore') === 0, 5_000, 'committed to the end');
    await sub.stop();
    await bus.close();
  });

  it('keeps at most maxRetainedPerPartition records a partition, dropping the oldest 1 % at once when it is reached', async () => {
    // One at a time, each append past the cap copied the whole partition (bench/retained.ts).
    const broker = new MemoryBroker({ defaultPartitions: 1, maxRetainedPerPartition: 1_000 });
    const bus = new MemoryBus({ broker });
    const produce = (from: number, count: number) => bus.produce('t', Array.from({ length: count }, (_, i) => ({ key: 'k', value: `v${from + i}` })));
    await produce(0, 1_000);
    const partition = broker.topics.get('t')!.partitions[0]!;
    expect([partition.base, partition.records.length]).toEqual([0, 1_000]);
    await produce(1_000, 1);
    expect([partition.base, partition.records.length]).toEqual([11, 990]);
    await produce(1_001, 10);
    expect([partition.base, partition.records.length]).toEqual([11, 1_000]);
    // What stays is the newest, at its own offsets.
    expect(partition.read(0, 2).records.map((r) => [r.offset, r.value.toString()])).toEqual([['11', 'v11'], ['12', 'v12']]);
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
