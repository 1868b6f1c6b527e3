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
  bandSource: string | null;
  bandReason: string | null;
  news2: number | null;
  news2Band: string | null;
  modelName: string | null;
  modelVersion: string | null;
  /**
   * JSON text of an object: feature name → number | null; or a frame's catalogue-ordered
   * values, written as that text only when the row lands (schema.ts, `featuresText`).
   */
  features: string | Float64Array;
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

/**
 * One `alerts` row: one alert event (`alert_event.v1` on ehr.alerts.v1), keyed by its event id
 * (deterministic from the alert and the event type, so a republished event is the same id).
 */
export interface AlertRow {
  eventId: string;
  alertId: string;
  patientId: string;
  encounterId: string | null;
  /** RFC 3339: when the transition happened (the envelope's occurredAt). */
  occurredAt: string;
  producedAt: string;
  /** raised, acknowledged, dismissed, escalated, resolved. */
  type: string;
  kind: string;
  severity: string;
  status: string;
  unit: string | null;
  raisedAt: string;
  escalateAt: string | null;
  scoreId: string | null;
  probability: number | null;
  news2: number | null;
  reason: string;
  supersedes: string | null;
  dismissReason: string | null;
  resolveReason: string | null;
  actor: string | null;
  secondsToAcknowledge: number | null;
  policyName: string;
  policyVersion: string;
  overdueLastObservationAt: string | null;
  overdueDueAt: string | null;
  overdueIntervalHours: number | null;
  srcCluster: string;
  srcTopic: string;
  srcPartition: number;
  srcOffset: string;
  srcTimestamp: string;
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
  /** First and last offset the batch covers (records without a row included). */
  firstOffset: bigint;
  lastOffset: bigint;
  /** Records covered: rows, plus records that were dead-lettered or skipped. */
  records: number;
  scores: readonly ScoreRow[];
  /** A challenger's scores (ehr.shadow-scores.v1): the same row, into shadow_scores, never severity_scores. */
  shadowScores?: readonly ScoreRow[];
  deadLetters: readonly DeadLetterRow[];
  /** Alert events (a batch of ehr.alerts.v1); absent in batches of the other topics. */
  alerts?: readonly AlertRow[];
}

export interface LandResult {
  /** Rows actually inserted (rows whose id was already there are skipped). */
  scoresInserted: number;
  deadLettersInserted: number;
  alertsInserted: number;
  /** Present when the batch carried shadow scores. */
  shadowScoresInserted?: number;
}

/**
 * The partition's offset in the warehouse moved on since the batch was cut (another writer,
 * or a retried commit that had landed), or another writer holds the partition's row right
 * now. Nothing was written; re-read the warehouse offset and try again.
 */
export class OffsetConflictError extends Error {
  constructor(
    readonly key: PartitionKey,
    readonly expected: bigint,
    detail?: string,
  ) {
    super(`warehouse offset of ${key.topic}[${key.partition}] is no longer ${expected}${detail ? ` (${detail})` : ''}`);
    this.name = 'OffsetConflictError';
  }
}

/**
 * The warehouse refused the data itself (a cast, a constraint, a size): the same rows would
 * fail again, so retrying is pointless; nothing was written. The sink splits the batch to
 * find the row and quarantines it. Any other failure is an outage (retry as it is).
 */
export class WarehouseDataError extends Error {
  constructor(
    message: string,
    readonly code?: string,
  ) {
    super(message);
    this.name = 'WarehouseDataError';
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
  /**
   * Lands the rows and moves the partition's offset in one transaction, guarded by the
   * expected offset. Throws `OffsetConflictError` (guard failed, nothing written),
   * `WarehouseDataError` (the data was refused, nothing written), or anything else for an
   * outage (the commit may or may not have happened: re-read the offsets).
   */
  land(batch: LandBatch): Promise<LandResult>;
  /** Cheap round trip for readiness and recovery. */
  ping(): Promise<void>;
  /**
   * Read-only helper for tests, benchmarks and tools: one statement (SQL both dialects
   * accept), rows with lower-case column names and every value as text.
   */
  read(sql: string, params?: readonly (string | number | null)[]): Promise<Record<string, string | null>[]>;
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
