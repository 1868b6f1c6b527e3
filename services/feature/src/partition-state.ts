import { clonePatientState, evictable, stateBytes, type EngineOptions, type PatientState, type PatientStore } from '@ehr/features';

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

  constructor(
    readonly partition: number,
    readonly states: Map<string, PatientState> = new Map(),
    nextOffset: bigint | null = null,
  ) {
    this.lastApplied = nextOffset === null ? null : nextOffset - 1n;
    for (const s of states.values()) this.watermark = Math.max(this.watermark, s.maxTime);
  }

  /** A batch's view: patients are copied on first touch, so a failed batch leaves no trace. */
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

  bytes(): number {
    let total = 0;
    for (const s of this.states.values()) total += stateBytes(s);
    return total;
  }
}

export class PartitionTransaction implements PatientStore {
  private readonly touched = new Map<string, PatientState>();
  private watermark: number;

  constructor(private readonly base: PartitionState) {
    this.watermark = base.watermark;
  }

  get(patientId: string): PatientState | undefined {
    let s = this.touched.get(patientId);
    if (!s) {
      const original = this.base.states.get(patientId);
      if (original) this.touched.set(patientId, (s = clonePatientState(original)));
    }
    return s;
  }

  set(patientId: string, state: PatientState): void {
    this.touched.set(patientId, state);
  }

  accepted(eventTime: number): void {
    if (eventTime > this.watermark) this.watermark = eventTime;
  }

  commit(lastOffset: bigint, events: number): void {
    for (const [id, s] of this.touched) {
      this.base.states.set(id, s);
      this.base.dirty.add(id);
    }
    this.base.watermark = this.watermark;
    this.base.lastApplied = lastOffset;
    this.base.eventsSinceCheckpoint += events;
  }
}
