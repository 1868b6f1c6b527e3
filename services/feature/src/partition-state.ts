import { clonePatientState, evictable, stateBytes, type EngineOptions, type PatientState, type PatientStore } from '@ehr/features';
import type { StoredParts } from './changelog-records.js';

/** One input partition's patients, and where in the partition their state stands. */
export class PartitionState {
  /** Offset of the last record applied (null: whatever comes next is the start). */
  lastApplied: bigint | null;
  /** Max event time of accepted events: the clock eviction is judged by. */
  watermark = -Infinity;
  /** Patients changed (or evicted) since the last checkpoint. */
  readonly dirty = new Set<string>();
  eventsSinceCheckpoint = 0;
  eventsSinceEviction = 0;
  lastCheckpointAt = Date.now();

  /**
   * @param states in least recently touched order (a Map keeps insertion order; a touch
   *   moves a patient to the end), so the patient cap evicts from the front.
   * @param stored patients whose state is in parts, so the next version can remove them.
   */
  constructor(
    readonly partition: number,
    readonly states: Map<string, PatientState> = new Map(),
    nextOffset: bigint | null = null,
    readonly stored: Map<string, StoredParts> = new Map(),
    now: number = Date.now(),
  ) {
    this.lastApplied = nextOffset === null ? null : nextOffset - 1n;
    // Never past the wall clock: a state restored from before the future-event bound may hold one.
    for (const s of states.values()) this.watermark = Math.min(now, Math.max(this.watermark, s.maxTime));
  }

  /** A batch's changes, undone by `rollback` if it fails: a failed batch leaves no trace. */
  begin(): PartitionTransaction {
    return new PartitionTransaction(this);
  }

  /** Drops stubs and silent patients (bounded memory); they are dirty so the changelog forgets them too. */
  evict(options: EngineOptions): number {
    const gone = [...evictable(this.states, this.watermark, options)];
    for (const id of gone) {
      this.states.delete(id);
      this.dirty.add(id);
    }
    return gone.length;
  }

  /** Drops the `count` least recently touched patients (the instance's patient cap). */
  evictLeastRecent(count: number): number {
    let n = 0;
    for (const id of this.states.keys()) {
      if (n >= count) break;
      this.states.delete(id);
      this.dirty.add(id);
      n++;
    }
    return n;
  }

  /** Drops the least recently touched patient; returns the bytes it held (the state budget). */
  evictOldest(): number {
    const oldest = this.states.entries().next();
    if (oldest.done) return 0;
    const [id, state] = oldest.value;
    this.states.delete(id);
    this.dirty.add(id);
    return stateBytes(state);
  }

  bytes(): number {
    let total = 0;
    for (const s of this.states.values()) total += stateBytes(s);
    return total;
  }
}

/**
 * A batch's changes. Patients are changed in place, each backed up (copied) on first touch,
 * and put back if the batch fails: the copies are short-lived, while copying every touched
 * patient and replacing the original on commit left the old states behind as long-lived
 * garbage, which made the heap (and the resident memory) grow far past what it held.
 */
export class PartitionTransaction implements PatientStore {
  /** Patients this batch has touched: the partition's own objects (changed in place) or new ones. */
  private readonly touched = new Map<string, PatientState>();
  /** Each touched patient as it was before the batch (null: the partition did not hold it). */
  private readonly backups = new Map<string, PatientState | null>();
  private watermark: number;
  private done = false;

  constructor(private readonly base: PartitionState) {
    this.watermark = base.watermark;
  }

  get(patientId: string): PatientState | undefined {
    let s = this.touched.get(patientId);
    if (!s) {
      const original = this.base.states.get(patientId);
      if (original) {
        this.backups.set(patientId, clonePatientState(original));
        this.touched.set(patientId, (s = original));
      }
    }
    return s;
  }

  set(patientId: string, state: PatientState): void {
    if (!this.backups.has(patientId)) this.backups.set(patientId, this.base.states.has(patientId) ? clonePatientState(this.base.states.get(patientId)!) : null);
    this.touched.set(patientId, state);
  }

  /** An event was accepted; the watermark follows it, but never past the wall clock. */
  accepted(eventTime: number, now: number): void {
    const t = Math.min(eventTime, now);
    if (t > this.watermark) this.watermark = t;
  }

  /** Patients this batch brought in that the partition did not hold. */
  get added(): number {
    let n = 0;
    for (const backup of this.backups.values()) if (backup === null) n++;
    return n;
  }

  commit(lastOffset: bigint, events: number): void {
    this.done = true;
    for (const [id, s] of this.touched) {
      // Re-inserted at the end: the Map's order is least recently touched first.
      this.base.states.delete(id);
      this.base.states.set(id, s);
      this.base.dirty.add(id);
    }
    this.base.watermark = this.watermark;
    this.base.lastApplied = lastOffset;
    this.base.eventsSinceCheckpoint += events;
  }

  /** The batch failed: every patient it touched is as it was before (it will be redelivered). */
  rollback(): void {
    if (this.done) return;
    this.done = true;
    for (const [id, backup] of this.backups) if (backup) this.base.states.set(id, backup);
  }
}
