import type { BusRecord } from '@ehr/bus';
import { describe, expect, it } from 'vitest';
import { PartitionBuffer, RECORD_OVERHEAD_BYTES, type FlushPolicy } from '../src/partition-buffer.js';

const policy: FlushPolicy = { records: 5, bytes: 10_000, ms: 1_000 };

function records(from: number, to: number, size = 100, key: string | null = 'k'): BusRecord[] {
  return Array.from({ length: to - from + 1 }, (_, i) => ({
    topic: 't',
    partition: 0,
    offset: String(from + i),
    key,
    value: Buffer.alloc(size, 0x61),
    headers: {},
    timestamp: 1_000 + from + i,
  }));
}

describe('PartitionBuffer', () => {
  it('takes records above what it has taken and counts the rest as redeliveries', () => {
    const b = new PartitionBuffer('t', 0, 0);
    expect(b.accept(records(0, 2), 10)).toEqual({ accepted: 3, skipped: 0 });
    expect(b.accept(records(1, 4), 20)).toEqual({ accepted: 2, skipped: 2 });
    expect(b.size).toBe(5);
    expect(b.taken).toBe(4n);
  });

  it('skips everything at or below what the warehouse holds after a reset', () => {
    const b = new PartitionBuffer('t', 0, 0);
    b.reset(9n, 0);
    expect(b.accept(records(0, 12), 5)).toEqual({ accepted: 3, skipped: 10 });
    expect(b.cut(policy)!.records.map((r) => r.offset)).toEqual([10n, 11n, 12n]);
  });

  it('sizes itself in bytes: value, key and a fixed overhead per record', () => {
    const b = new PartitionBuffer('t', 0, 0);
    b.accept(records(0, 1, 300, 'patient-1'), 0);
    expect(b.bytes).toBe(2 * (300 + 'patient-1'.length + RECORD_OVERHEAD_BYTES));
    expect(b.full({ ...policy, bytes: b.bytes })).toBe('bytes');
    expect(b.full({ ...policy, bytes: b.bytes + 1 })).toBeNull();
  });

  it('copies a value that is a view into a larger buffer, and keeps one that owns its memory', () => {
    const response = Buffer.alloc(1024 * 1024, 0x62);
    const slice = response.subarray(4096, 4096 + 500);
    const own = Buffer.from('x'.repeat(500));
    const b = new PartitionBuffer('t', 0, 0);
    b.accept([{ ...records(0, 0)[0]!, value: slice }, { ...records(1, 1)[0]!, value: own }], 0);
    const [kept, owned] = b.cut(policy)!.records;
    expect(kept!.value.equals(slice)).toBe(true);
    expect(kept!.value.buffer).not.toBe(response.buffer);
    expect(kept!.value.buffer.byteLength).toBeLessThan(64 * 1024);
    expect(owned!.value).toBe(own);
  });

  it('is due on count, on bytes, or SINK_FLUSH_MS after its first record, whichever comes first', () => {
    const b = new PartitionBuffer('t', 0, 0);
    expect(b.due(policy, 0)).toBeNull();
    expect(b.dueAt(policy)).toBeNull();
    b.accept(records(0, 0), 100);
    b.accept(records(1, 1), 900);
    expect(b.dueAt(policy)).toBe(1_100);
    expect(b.due(policy, 1_099)).toBeNull();
    expect(b.due(policy, 1_100)).toBe('time');
    b.accept(records(2, 4), 950);
    expect(b.due(policy, 950)).toBe('records');
    expect(b.due({ ...policy, records: 100, bytes: 100 }, 950)).toBe('bytes');
  });

  it('lets the next batch fill while a cut is being written, and counts both as held', () => {
    const b = new PartitionBuffer('t', 0, 0);
    b.accept(records(0, 2), 0);
    const cut = b.cut(policy)!;
    expect(cut.records).toHaveLength(3);
    expect(() => b.cut(policy)).toThrow(/already being written/);
    b.accept(records(3, 4), 500);
    expect([b.size, b.pending]).toEqual([2, 5]);
    expect(b.heldBytes).toBe(cut.bytes + b.bytes);
    // The next batch's age counts from its own first record, not the cut's.
    expect(b.dueAt(policy)).toBe(1_500);
    b.landedUpTo(2n, 600);
    b.finish(cut);
    expect([b.pending, b.landed]).toEqual([2, 2n]);
  });

  it('cuts at the record count or the byte size when the buffer grew past them during a write', () => {
    const b = new PartitionBuffer('t', 0, 0);
    b.accept(records(0, 11), 0);
    expect(b.cut(policy)!.records.map((r) => Number(r.offset))).toEqual([0, 1, 2, 3, 4]);
    expect(b.size).toBe(7);
    const c = new PartitionBuffer('t', 0, 0);
    c.accept(records(0, 11, 100, null), 0);
    // 228 bytes a record: the third reaches 500
    expect(c.cut({ records: 100, bytes: 500 })!.records).toHaveLength(3);
    expect(c.size).toBe(9);
  });

  it('puts a cut that failed back in front of what arrived meanwhile, minus what the warehouse has', () => {
    const b = new PartitionBuffer('t', 0, 0);
    b.accept(records(0, 3), 10);
    const cut = b.cut(policy)!;
    b.accept(records(4, 5), 20);
    b.landedUpTo(1n, 30); // half of it had landed before the outage
    b.restore(cut);
    expect(b.inFlight).toBeNull();
    const again = b.cut({ records: 100, bytes: 1e9 })!;
    expect(again.records.map((r) => Number(r.offset))).toEqual([2, 3, 4, 5]);
    expect(again.since).toBe(10);
  });

  it('never moves the landed offset back, and drops buffered records the warehouse already holds', () => {
    const b = new PartitionBuffer('t', 0, 0);
    b.accept(records(0, 4), 0);
    b.landedUpTo(2n, 5);
    expect(b.size).toBe(2);
    b.landedUpTo(1n, 6);
    expect(b.landed).toBe(2n);
    expect(b.lastProgressAt).toBe(5);
  });

  it('drops what is buffered when the partition is no longer its own', () => {
    const b = new PartitionBuffer('t', 0, 0);
    b.accept(records(0, 4), 0);
    expect(b.drop()).toBe(5);
    expect([b.size, b.bytes, b.since]).toEqual([0, 0, null]);
  });

  it('knows the broker time of its oldest pending record and when it stopped moving', () => {
    const b = new PartitionBuffer('t', 0, 0);
    expect(b.oldestPendingTimestamp()).toBeNull();
    expect(b.stalled(1_000, 10_000)).toBe(false);
    b.accept(records(7, 8), 2_000);
    const cut = b.cut(policy)!;
    b.accept(records(9, 9), 2_500);
    expect(b.oldestPendingTimestamp()).toBe(1_007);
    expect(b.stalled(1_000, 2_900)).toBe(false);
    expect(b.stalled(1_000, 3_001)).toBe(true);
    b.landedUpTo(8n, 3_100);
    b.finish(cut);
    expect(b.oldestPendingTimestamp()).toBe(1_009);
    expect(b.stalled(1_000, 3_200)).toBe(false);
  });
});
