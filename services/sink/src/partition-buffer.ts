// One partition's records between the bus and the warehouse: what is buffered, what is
// being written (the cut), and which offsets the warehouse holds. Pure bookkeeping: no
// timers, no I/O, so that every rule here is tested on its own.
import type { BusRecord } from '@ehr/bus';

export interface FlushPolicy {
  /** Flush a partition at this many buffered records… */
  records: number;
  /** …or this many buffered bytes… */
  bytes: number;
  /** …or this long after its first buffered record, whichever comes first. */
  ms: number;
}

export type FlushTrigger = 'records' | 'bytes' | 'time' | 'retry' | 'shutdown';

/** A consumed record as the sink keeps it until it lands: its position and its bytes, nothing decoded. */
export interface BufferedRecord {
  offset: bigint;
  /** Broker append time, epoch ms (end-to-end delay, age of the oldest record). */
  timestamp: number;
  key: string | null;
  value: Buffer;
  /** When the sink took it in (wall clock, ms): the flush age counts from the first one. */
  at: number;
}

/** The records of one warehouse write, taken out of the buffer so that the next batch can fill meanwhile. */
export interface Cut {
  records: BufferedRecord[];
  bytes: number;
  /** When the oldest of them was taken in (wall clock, ms). */
  since: number;
}

/** Bytes a buffered record costs besides its value (the object, its key, the array slot). */
export const RECORD_OVERHEAD_BYTES = 128;

/**
 * The bus hands over views into larger buffers (kafkajs decodes a whole fetch response of
 * up to megabytes into slices of it): keeping a slice would keep the whole response alive.
 * Such a value is copied, so a buffered record costs its own size; a value that owns its
 * memory (the in-memory bus's) is kept as it is, never copied.
 */
function own(value: Buffer): Buffer {
  return value.buffer.byteLength > 2 * value.length + 16 * 1024 ? Buffer.from(value) : value;
}

const sizeOf = (r: BufferedRecord) => r.value.length + (r.key?.length ?? 0) + RECORD_OVERHEAD_BYTES;

export class PartitionBuffer {
  /** Last offset the warehouse holds for this partition (-1: none). */
  landed = -1n;
  /** Highest offset taken in (buffered, being written, or landed): anything at or below is a redelivery. */
  taken = -1n;
  private records: BufferedRecord[] = [];
  /** Bytes buffered (not counting the cut being written). */
  bytes = 0;
  /** The records being written right now, if any. */
  inFlight: Cut | null = null;
  /** When this partition last moved forward in the warehouse (or started), wall clock ms. */
  lastProgressAt: number;

  constructor(
    readonly topic: string,
    readonly partition: number,
    now: number,
  ) {
    this.lastProgressAt = now;
  }

  get size(): number {
    return this.records.length;
  }

  /** When the oldest buffered record was taken in (wall clock, ms), null when empty. */
  get since(): number | null {
    return this.records[0]?.at ?? null;
  }

  /** Records not yet in the warehouse: buffered plus being written. */
  get pending(): number {
    return this.records.length + (this.inFlight?.records.length ?? 0);
  }

  /** Bytes held: buffered plus being written. */
  get heldBytes(): number {
    return this.bytes + (this.inFlight?.bytes ?? 0);
  }

  /** Takes the records above `taken` (in offset order); the others are redeliveries. */
  accept(records: readonly BusRecord[], now: number): { accepted: number; skipped: number } {
    let accepted = 0;
    for (const r of records) {
      const offset = BigInt(r.offset);
      if (offset <= this.taken) continue;
      const kept: BufferedRecord = { offset, timestamp: r.timestamp, key: r.key, value: own(r.value), at: now };
      this.records.push(kept);
      this.bytes += sizeOf(kept);
      this.taken = offset;
      accepted++;
    }
    return { accepted, skipped: records.length - accepted };
  }

  /** Count or size reached: flush now. */
  full(policy: FlushPolicy): 'records' | 'bytes' | null {
    if (this.records.length >= policy.records) return 'records';
    if (this.records.length > 0 && this.bytes >= policy.bytes) return 'bytes';
    return null;
  }

  /** When the buffer is due by age (its first record + `policy.ms`), or null when empty. */
  dueAt(policy: FlushPolicy): number | null {
    return this.since === null ? null : this.since + policy.ms;
  }

  /** Whichever threshold is reached first, or null. */
  due(policy: FlushPolicy, now: number): FlushTrigger | null {
    const full = this.full(policy);
    if (full) return full;
    const at = this.dueAt(policy);
    return at !== null && now >= at ? 'time' : null;
  }

  /**
   * Takes the buffered records out as one write, up to the record count or the byte size
   * (a buffer that grew past them while the previous write ran is cut where they are
   * reached; the rest is the next write).
   */
  cut(policy: Pick<FlushPolicy, 'records' | 'bytes'>): Cut | null {
    if (this.inFlight) throw new Error(`partition ${this.topic}[${this.partition}] is already being written`);
    if (this.records.length === 0) return null;
    let n = 0;
    let bytes = 0;
    while (n < this.records.length && n < policy.records && bytes < policy.bytes) bytes += sizeOf(this.records[n++]!);
    const records = this.records.splice(0, n);
    const cut: Cut = { records, bytes, since: records[0]!.at };
    this.bytes -= bytes;
    this.inFlight = cut;
    return cut;
  }

  /** The write of the cut finished (landed, or dropped): it no longer holds memory. */
  finish(cut: Cut): void {
    if (this.inFlight === cut) this.inFlight = null;
  }

  /** A cut that did not land goes back in front of what arrived meanwhile: nothing lost, order kept. */
  restore(cut: Cut): void {
    this.finish(cut);
    const back = cut.records.filter((r) => r.offset > this.landed);
    if (back.length === 0) return;
    this.records = back.concat(this.records);
    for (const r of back) this.bytes += sizeOf(r);
  }

  /** The warehouse holds everything up to `offset`: drops what is at or below it (never moves back). */
  landedUpTo(offset: bigint, now: number): void {
    if (offset > this.landed) {
      this.landed = offset;
      this.lastProgressAt = now;
    }
    if (this.landed > this.taken) this.taken = this.landed;
    if (this.records.length > 0 && this.records[0]!.offset <= this.landed) {
      const before = this.records.length;
      this.records = this.records.filter((r) => r.offset > this.landed);
      if (this.records.length !== before) this.bytes = this.records.reduce((n, r) => n + sizeOf(r), 0);
    }
  }

  /**
   * (Re)assigned: the bus delivers again from what the warehouse holds, so nothing
   * buffered survives, and `landed` is whatever the warehouse says now (it may have moved
   * back: another cluster's offsets, or a new in-memory run).
   */
  reset(landed: bigint, now: number): void {
    this.records = [];
    this.bytes = 0;
    this.landed = landed;
    this.taken = landed;
    this.lastProgressAt = now;
  }

  /** No longer ours (revoked): forget what is buffered; its next owner reads it again. Returns how many records. */
  drop(): number {
    const n = this.records.length;
    this.records = [];
    this.bytes = 0;
    return n;
  }

  /** Broker time of the oldest record not yet in the warehouse, or null when there is none. */
  oldestPendingTimestamp(): number | null {
    const first = this.inFlight?.records[0] ?? this.records[0];
    return first ? first.timestamp : null;
  }

  /** When the oldest pending record was taken in (wall clock), or null. */
  pendingSince(): number | null {
    return this.inFlight?.since ?? this.since;
  }

  /** No progress for longer than `stallMs` while records wait. */
  stalled(stallMs: number, now: number): boolean {
    const since = this.pendingSince();
    return since !== null && now - Math.max(since, this.lastProgressAt) > stallMs;
  }
}
