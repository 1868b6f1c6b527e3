// The bus contract: what every service relies on, run against the in-memory bus and a
// real Kafka broker alike so that the two cannot drift.
import { afterEach, describe, expect, it } from 'vitest';
import { Writable } from 'node:stream';
import { createLogger, createMetricsRegistry, type Logger } from '@ehr/runtime';
import { PartitionProgress, RecordIsolation, restoreChangelog, type Bus, type BusRecord, type Subscription } from '../src/index.js';

export interface BusHarness {
  /** A connected bus client logging to `logger`; the suite closes it. */
  connect(clientId: string, logger: Logger): Promise<Bus>;
}

/** A pino logger at `warn` whose records land in `lines`. */
function capturingLogger(lines: Record<string, unknown>[]): Logger {
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split('\n')) if (line) lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  return createLogger({ service: 'bus-contract', level: 'warn', destination });
}

let counter = 0;
const unique = (what: string) => `contract.${what}.${process.pid}.${Date.now()}.${counter++}`;

export async function waitFor(predicate: () => boolean, timeoutMs = 60_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

function deferred<T = void>() {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  promise.catch(() => undefined);
  return { promise, resolve, reject };
}

const text = (r: BusRecord) => r.value.toString();

export function busContract(name: string, harness: () => BusHarness): void {
  describe(`bus contract: ${name}`, () => {
    const open: Bus[] = [];
    const subs: Subscription[] = [];
    const logged: Record<string, unknown>[] = [];
    const connect = async (id: string) => {
      const bus = await harness().connect(id, capturingLogger(logged));
      open.push(bus);
      return bus;
    };
    afterEach(async () => {
      await Promise.all(subs.splice(0).map((s) => s.stop()));
      await Promise.all(open.splice(0).map((b) => b.close()));
    });

    it('keeps each key in order, on one partition, across partitions', async () => {
      const bus = await connect('order');
      const topic = unique('order');
      await bus.ensureTopics([{ topic, partitions: 4 }]);
      const keys = Array.from({ length: 20 }, (_, i) => `patient-${i}`);
      for (let round = 0; round < 5; round++) {
        await bus.produce(
          topic,
          Array.from({ length: 10 }, (_, j) => keys.map((key) => ({ key, value: `${key}:${round * 10 + j}` }))).flat(),
        );
      }
      const seen = new Map<string, { seq: number[]; partitions: Set<number> }>();
      let total = 0;
      subs.push(
        await bus.subscribe({
          groupId: unique('g'),
          topics: [topic],
          handler: async ({ records }) => {
            for (const r of records) {
              const entry = seen.get(r.key!) ?? { seq: [], partitions: new Set<number>() };
              entry.seq.push(Number(text(r).split(':')[1]));
              entry.partitions.add(r.partition);
              seen.set(r.key!, entry);
              total++;
            }
          },
        }),
      );
      await waitFor(() => total >= 1000, 60_000, '1000 records');
      const usedPartitions = new Set<number>();
      for (const key of keys) {
        const entry = seen.get(key)!;
        expect(entry.seq).toEqual(Array.from({ length: 50 }, (_, i) => i));
        expect(entry.partitions.size).toBe(1);
        usedPartitions.add([...entry.partitions][0]!);
      }
      expect(usedPartitions.size).toBeGreaterThan(1);
    });

    it('redelivers what a consumer had not committed when it died to the next group member', async () => {
      const bus = await connect('redeliver');
      const topic = unique('redeliver');
      const groupId = unique('g');
      await bus.ensureTopics([{ topic, partitions: 2 }]);
      await bus.produce(topic, Array.from({ length: 10 }, (_, i) => ({ key: `k${i}`, value: `m${i}` })));

      const gate = deferred();
      const firstBatch = deferred();
      const seenByDying: string[] = [];
      const dying = await bus.subscribe({
        groupId,
        topics: [topic],
        handler: async ({ records }) => {
          seenByDying.push(...records.map(text));
          firstBatch.resolve();
          await gate.promise; // the process dies here, before its commit
        },
      });
      await firstBatch.promise;
      const stopping = dying.stop();
      gate.reject(new Error('process died'));
      await stopping;

      const seenByNext: string[] = [];
      const bus2 = await connect('redeliver-2');
      subs.push(await bus2.subscribe({ groupId, topics: [topic], handler: async ({ records }) => void seenByNext.push(...records.map(text)) }));
      await waitFor(() => seenByNext.length >= 10, 60_000, 'redelivery');
      expect(seenByDying.length).toBeGreaterThan(0);
      for (const m of seenByDying) expect(seenByNext).toContain(m);
      expect(new Set(seenByNext).size).toBe(10);
    });

    it('stops handing over records while paused and catches up on resume', async () => {
      const bus = await connect('pause');
      const topic = unique('pause');
      await bus.ensureTopics([{ topic, partitions: 2 }]);
      let received = 0;
      const sub = await bus.subscribe({ groupId: unique('g'), topics: [topic], handler: async ({ records }) => void (received += records.length) });
      subs.push(sub);
      await bus.produce(topic, Array.from({ length: 10 }, (_, i) => ({ key: `k${i}`, value: 'before' })));
      await waitFor(() => received === 10, 60_000, 'first records');

      sub.pause();
      expect(sub.paused).toBe(true);
      await new Promise((r) => setTimeout(r, 500)); // a fetch already in flight may still land
      const atPause = received;
      await bus.produce(topic, Array.from({ length: 10 }, (_, i) => ({ key: `k${i}`, value: 'during' })));
      await new Promise((r) => setTimeout(r, 1500));
      expect(received).toBe(atPause);

      sub.resume();
      await waitFor(() => received === 20, 60_000, 'records after resume');
    });

    it('round-trips a 10,000-message batch, each message once', async () => {
      const bus = await connect('bulk');
      const topic = unique('bulk');
      await bus.ensureTopics([{ topic, partitions: 3 }]);
      const payload = 'x'.repeat(200);
      await bus.produce(topic, Array.from({ length: 10_000 }, (_, i) => ({ key: `p${i % 300}`, value: `${i}|${payload}` })));
      const ids = new Set<number>();
      let count = 0;
      subs.push(
        await bus.subscribe({
          groupId: unique('g'),
          topics: [topic],
          handler: async ({ records }) => {
            for (const r of records) ids.add(Number(text(r).split('|')[0]));
            count += records.length;
          },
        }),
      );
      await waitFor(() => count >= 10_000, 120_000, '10,000 records');
      await new Promise((r) => setTimeout(r, 300));
      expect(count).toBe(10_000);
      expect(ids.size).toBe(10_000);
    });

    it('accepts a produce call larger than the broker takes in one request (3 MiB to one partition)', async () => {
      const bus = await connect('large');
      const topic = unique('large');
      await bus.ensureTopics([{ topic, partitions: 1 }]);
      const kib = 'k'.repeat(1024);
      await bus.produce(topic, Array.from({ length: 3000 }, (_, i) => ({ key: 'one-patient', value: `${i}|${kib}` })));
      const seen: number[] = [];
      subs.push(
        await bus.subscribe({ groupId: unique('g'), topics: [topic], handler: async ({ records }) => void seen.push(...records.map((r) => Number(text(r).split('|')[0]))) }),
      );
      await waitFor(() => seen.length >= 3000, 120_000, '3000 large records');
      expect(seen).toEqual(Array.from({ length: 3000 }, (_, i) => i));
    });

    it('redelivers a failed batch after a backoff, in order', async () => {
      const bus = await connect('retry');
      const topic = unique('retry');
      await bus.ensureTopics([{ topic, partitions: 1 }]);
      await bus.produce(topic, Array.from({ length: 5 }, (_, i) => ({ key: 'same', value: `m${i}` })));
      const seen: string[] = [];
      let failed = false;
      subs.push(
        await bus.subscribe({
          groupId: unique('g'),
          topics: [topic],
          retry: { initialMs: 50, maxMs: 200 },
          handler: async ({ records }) => {
            if (!failed) {
              failed = true;
              throw new Error('warehouse unavailable');
            }
            seen.push(...records.map(text));
          },
        }),
      );
      await waitFor(() => seen.length >= 5, 60_000, 'redelivered records');
      expect(seen).toEqual(['m0', 'm1', 'm2', 'm3', 'm4']);
      // Both buses say so in the same words: a failing handler is never silent.
      const line = logged.find((l) => l.msg === 'batch failed; will redeliver' && l.topic === topic);
      expect(line).toMatchObject({ level: 'warn', partition: 0, offset: '0', failures: 1, err: { message: 'warehouse unavailable' } });
      expect(line?.retryInMs).toEqual(expect.any(Number));
    });

    it('isolates a record that throws: redelivered up to maxAttempts, then dead-lettered, and the partition moves on', async () => {
      const bus = await connect('poison');
      const topic = unique('poison');
      const deadLetters = unique('poison-dl');
      await bus.ensureTopics([{ topic, partitions: 1 }, { topic: deadLetters, partitions: 1 }]);
      // Three poison records in a row between good ones: each costs its own few retries, no more.
      const values = ['ok-0', 'ok-1', 'poison-a', 'poison-b', 'poison-c', 'ok-2', 'ok-3'];
      await bus.produce(topic, values.map((value) => ({ key: 'same', value })));
      const logger = capturingLogger(logged);
      const isolation = new RecordIsolation({ maxAttempts: 3, retry: { initialMs: 20, maxMs: 100 }, logger });
      const processed: string[] = [];
      const attempts = new Map<string, number>();
      subs.push(
        await bus.subscribe({
          groupId: unique('g'),
          topics: [topic],
          // A partition-level backoff this long would fail the test if record failures used it.
          retry: { initialMs: 20_000, maxMs: 20_000 },
          handler: async ({ records }) => {
            const done: string[] = [];
            const letters: { key: string; value: string }[] = [];
            for (const r of records) {
              const verdict = isolation.verdict(r);
              if (verdict.isolate) {
                letters.push({ key: 'dl', value: JSON.stringify({ offset: r.offset, bytes: r.value.toString('base64'), error: verdict.error, attempts: verdict.attempts }) });
                continue;
              }
              isolation.run(r, () => {
                attempts.set(text(r), (attempts.get(text(r)) ?? 0) + 1);
                if (text(r).startsWith('poison')) throw new TypeError(`cannot read ${text(r)}`);
                done.push(text(r));
              });
            }
            await bus.produce(deadLetters, letters);
            processed.push(...done);
            isolation.settled(records);
          },
        }),
      );
      const letters: { offset: string; bytes: string; error: string; attempts: number }[] = [];
      subs.push(await bus.subscribe({ groupId: unique('g'), topics: [deadLetters], handler: async ({ records }) => void letters.push(...records.map((r) => JSON.parse(text(r)) as (typeof letters)[number])) }));
      await waitFor(() => processed.includes('ok-3') && letters.length === 3, 30_000, 'the records after the poison');
      expect(letters.map((l) => [l.offset, Buffer.from(l.bytes, 'base64').toString(), l.attempts])).toEqual([
        ['2', 'poison-a', 3],
        ['3', 'poison-b', 3],
        ['4', 'poison-c', 3],
      ]);
      expect(letters[0]!.error).toContain('cannot read poison-a');
      expect([...attempts].filter(([v]) => v.startsWith('poison'))).toEqual([['poison-a', 3], ['poison-b', 3], ['poison-c', 3]]);
      // The good records before the poison were redelivered with it (at-least-once), each processed in order.
      expect([...new Set(processed)]).toEqual(['ok-0', 'ok-1', 'ok-2', 'ok-3']);
      expect(processed.filter((v) => v === 'ok-3')).toHaveLength(1);
    });

    it('reports a partition that makes no progress, naming it, with the age of its oldest record', async () => {
      const bus = await connect('stall');
      const topic = unique('stall');
      await bus.ensureTopics([{ topic, partitions: 2 }]);
      const metrics = createMetricsRegistry('bus-contract', { defaultMetrics: false });
      const progress = new PartitionProgress({ stallAfterMs: 300, metrics });
      let healthy = 0;
      let failing = true;
      const stuckKey = 'stuck-patient';
      const sub = await bus.subscribe({
        groupId: unique('g'),
        topics: [topic],
        retry: { initialMs: 50, maxMs: 100 },
        handler: progress.wrap(async ({ records }) => {
          if (failing && records.some((r) => r.key === stuckKey)) throw new Error('warehouse unavailable');
          healthy += records.length;
        }),
      });
      subs.push(sub);
      progress.attach(sub);
      const others = Array.from({ length: 40 }, (_, i) => `other-${i}`);
      await bus.produce(topic, [{ key: stuckKey, value: 'x' }, ...others.map((key) => ({ key, value: 'y' }))]);
      await waitFor(() => progress.status().state === 'degraded', 30_000, 'the stall to show');
      const status = progress.status();
      const stuckPartition = progress.stalled()[0]!.partition;
      expect(status.detail).toContain(`${topic}[${stuckPartition}] no progress for`);
      expect(progress.stalled()).toHaveLength(1);
      const text = await metrics.metrics();
      const age = new RegExp(`ehr_consumer_oldest_unprocessed_age_seconds\\{[^}]*topic="${topic.replace(/\./g, '\\.')}",partition="${stuckPartition}"[^}]*\\} ([\\d.]+)`).exec(text);
      expect(Number(age?.[1])).toBeGreaterThan(0);
      failing = false;
      await waitFor(() => progress.status().state === 'up', 30_000, 'the partition to recover');
      expect(healthy).toBe(41);
    });

    it('starts a partition where the consumer says (resumeAt), skipping what it already has', async () => {
      const bus = await connect('resume');
      const topic = unique('resume');
      await bus.ensureTopics([{ topic, partitions: 1 }]);
      await bus.produce(topic, Array.from({ length: 10 }, (_, i) => ({ key: 'same', value: `m${i}` })));
      const offsets: string[] = [];
      subs.push(
        await bus.subscribe({
          groupId: unique('g'),
          topics: [topic],
          onPartitionStart: async () => ({ resumeAt: '6' }),
          handler: async ({ records }) => void offsets.push(...records.map((r) => r.offset)),
        }),
      );
      await waitFor(() => offsets.length >= 4, 60_000, 'records from offset 6');
      await new Promise((r) => setTimeout(r, 300));
      expect(offsets).toEqual(['6', '7', '8', '9']);
    });

    it('with autoCommit off, commits only what the consumer commits', async () => {
      const bus = await connect('manual');
      const topic = unique('manual');
      const groupId = unique('g');
      await bus.ensureTopics([{ topic, partitions: 1 }]);
      await bus.produce(topic, Array.from({ length: 6 }, (_, i) => ({ key: 'same', value: `m${i}` })));

      const run = async (commitThrough: number | null) => {
        const seen: BusRecord[] = [];
        const sub = await bus.subscribe({ groupId, topics: [topic], autoCommit: false, handler: async ({ records }) => void seen.push(...records) });
        await waitFor(() => seen.length > 0 && Number(seen[seen.length - 1]!.offset) === 5, 60_000, 'all records');
        if (commitThrough !== null) await sub.commit([{ topic, partition: 0, offset: String(commitThrough + 1) }]);
        await sub.stop();
        return seen.map(text);
      };
      expect(await bus.groupLag(groupId, [topic])).toBe(6);
      expect(await run(null)).toEqual(['m0', 'm1', 'm2', 'm3', 'm4', 'm5']);
      expect(await run(3)).toEqual(['m0', 'm1', 'm2', 'm3', 'm4', 'm5']);
      // What a launcher waits on before it stops the next stage: records not committed yet.
      expect(await bus.groupLag(groupId, [topic])).toBe(2);
      expect(await run(null)).toEqual(['m4', 'm5']);
    });

    it('lets several clients create the same topics at once (services starting side by side)', async () => {
      const buses = await Promise.all([1, 2, 3, 4].map((i) => connect(`race-${i}`)));
      const topics = [unique('race-a'), unique('race-b'), unique('race-c')].map((topic) => ({ topic, partitions: 3 }));
      await Promise.all(buses.map((b) => b.ensureTopics(topics)));
      await buses[0]!.produce(topics[0]!.topic, [{ key: 'k', value: 'v' }]);
    });

    it('restores a compacted changelog: the latest record per key, up to its own markers, empty partitions included', async () => {
      const bus = await connect('restore');
      const topic = unique('restore');
      await bus.ensureTopics([{ topic, partitions: 4 }]);
      await bus.produce(topic, [
        { key: 'a', value: 'a1' },
        { key: 'b', value: 'b1' },
        { key: 'a', value: 'a2' },
        { key: 'b', value: '' }, // a tombstone stays: what it means is the caller's
      ]);
      const options = { bus, topic, partitions: 4, markerPrefix: '#m/', groupPrefix: unique('g'), timeoutMs: 60_000, what: 'test state' };
      const first = await restoreChangelog(options);
      expect(new Map([...first].map(([k, r]) => [k, text(r)]))).toEqual(new Map([['a', 'a2'], ['b', '']]));
      // A second reader passes over the first one's markers.
      await bus.produce(topic, [{ key: 'c', value: 'c1' }]);
      expect([...(await restoreChangelog(options)).keys()].sort()).toEqual(['a', 'b', 'c']);
      // A topic with fewer partitions than said never answers every marker: a clear error, not a hang.
      await expect(restoreChangelog({ ...options, partitions: 5, timeoutMs: 1500 })).rejects.toThrow(`test state restore from ${topic} timed out after 1500 ms`);
    });

    it('reports a cluster id and its own health', async () => {
      const bus = await connect('health');
      expect(await bus.clusterId()).toMatch(/\S+/);
      expect(bus.status().state).toBe('up');
    });
  });
}
