/** One `severity_scores` row, as the sink writes it (JSON columns as text). */
export interface ScoreRow {
  scoreId: string;
  eventId: string;
  featureEventId: string;
  patientId: string;
  encounterId: string | null;
  /** RFC 3339 strings; the warehouse stores them as timestamps with time zone. */
  eventTime: string;
  scoredAt: string;
  mode: string;
  probability: number | null;
  band: string;
  news2: number | null;
  news2Band: string | null;
  modelName: string | null;
  modelVersion: string | null;
  /** JSON text of an object: feature name → number | null. */
  features: string;
  /** JSON text of an array of { feature, value, contribution }. */
  topFeatures: string;
  latencyMs: number;
  /** Where the patient was when scored (optional in the score). */
  unit: string | null;
  department: string | null;
  srcCluster: string;
  srcTopic: string;
  srcPartition: number;
  srcOffset: string;
  /** Broker append time of the message, RFC 3339. */
  srcTimestamp: string;
}

/** One `dead_letters` row: a rejected message kept whole, for the audit trail. */
export interface DeadLetterRow {
  deadLetterId: string;
  service: string;
  reason: string;
  error: string;
  /** JSON text of an array of { path, message }. */
  details: string;
  sourceTopic: string;
  sourcePartition: number | null;
  sourceOffset: string | null;
  originalEventId: string | null;
  patientId: string | null;
  originalKey: string | null;
  /** base64 */
  originalBytes: string;
  producedAt: string;
  srcCluster: string;
  srcTopic: string;
  srcPartition: number;
  srcOffset: string;
}

export interface PartitionKey {
  /** `Bus.clusterId()`: offsets are only meaningful within one cluster. */
  cluster: string;
  topic: string;
  partition: number;
}

/**
 * A batch of one partition: its rows and the offset range it covers. `expectedLastOffset`
 * is what the warehouse held for the partition when the batch was cut (-1 for nothing);
 * the write lands only if that is still so, and moves it to `lastOffset`.
 */
export interface LandBatch extends PartitionKey {
  expectedLastOffset: bigint;
  lastOffset: bigint;
  scores: readonly ScoreRow[];
  deadLetters: readonly DeadLetterRow[];
}

export interface LandResult {
  /** Rows actually inserted (rows whose id was already there are skipped). */
  scoresInserted: number;
  deadLettersInserted: number;
}

/** The partition's offset in the warehouse moved on since the batch was cut (another writer, or a retried commit that had landed). */
export class OffsetConflictError extends Error {
  constructor(
    readonly key: PartitionKey,
    readonly expected: bigint,
  ) {
    super(`warehouse offset of ${key.topic}[${key.partition}] is no longer ${expected}`);
    this.name = 'OffsetConflictError';
  }
}

/**
 * Where scores land. Both implementations keep the same tables and give the same
 * guarantee: `land` writes the rows and moves the partition's offset in one
 * transaction, guarded by the offset it expects.
 */
export interface Warehouse {
  readonly kind: 'duckdb' | 'snowflake';
  /** Human-readable target for logs (no secrets). */
  readonly description: string;
  /** Connects, creates and migrates the tables (idempotent, versioned). */
  init(): Promise<void>;
  /** Last offset landed per partition of a topic in a cluster (absent: nothing landed). */
  landedOffsets(cluster: string, topic: string): Promise<Map<number, bigint>>;
  land(batch: LandBatch): Promise<LandResult>;
  /** Cheap round trip for readiness and recovery. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

/** When to drop a partition's superseded offset rows: every `every` landed batches. */
export class CompactionSchedule {
  private readonly counts = new Map<string, number>();
  constructor(private readonly every = 100) {}
  due(key: PartitionKey): boolean {
    const k = `${key.cluster}\u0000${key.topic}\u0000${key.partition}`;
    const n = (this.counts.get(k) ?? 0) + 1;
    this.counts.set(k, n % this.every);
    return n % this.every === 0;
  }
}
