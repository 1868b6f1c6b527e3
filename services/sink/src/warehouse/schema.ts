// The sink's tables, in both dialects. Same names, same columns; Snowflake gets VARIANT
// where DuckDB gets JSON. The DDL is versioned: `sink_schema_migrations` records which
// steps ran, and every step is idempotent, so starting twice (or two sinks at once) is safe.
import { FEATURES_JSON_MAX_LENGTH, featuresJson } from './features-json.js';
import type { AlertRow, DeadLetterRow, ScoreRow } from './types.js';

export type Dialect = 'duckdb' | 'snowflake';

type Logical = 'text' | 'timestamp' | 'double' | 'int' | 'bigint' | 'json';

export interface Column<R> {
  name: string;
  type: Logical;
  notNull?: boolean;
  /**
   * Longest text (characters; for JSON, of its text) the sink writes into the column. The
   * sink checks it before writing (see bounds.ts): a row over it is quarantined, never
   * offered to the warehouse.
   */
  maxLength?: number;
  /**
   * True when the row's value is known to fit without building it (a frame's features text,
   * bounded by the catalogue, is built only when the row lands).
   */
  fits?: (row: R) => boolean;
  /** The value the sink binds, as text (null for SQL NULL). */
  value: (row: R) => string | null;
}

const physical: Record<Dialect, Record<Logical, string>> = {
  duckdb: { text: 'VARCHAR', timestamp: 'TIMESTAMPTZ', double: 'DOUBLE', int: 'INTEGER', bigint: 'BIGINT', json: 'JSON' },
  snowflake: { text: 'VARCHAR', timestamp: 'TIMESTAMP_TZ', double: 'FLOAT', int: 'NUMBER(10,0)', bigint: 'NUMBER(20,0)', json: 'VARIANT' },
};

const num = (n: number | null) => (n === null ? null : String(n));

/** A score's features text (the JSON of before could carry any record). */
const FEATURES_MAX_LENGTH = 1024 * 1024;
if (FEATURES_JSON_MAX_LENGTH > FEATURES_MAX_LENGTH) throw new Error(`a frame's features text can be ${FEATURES_JSON_MAX_LENGTH} characters, over the column's ${FEATURES_MAX_LENGTH}`);

/** A score row's `features` as the column's text. */
const featuresText = (features: string | Float64Array): string => (typeof features === 'string' ? features : featuresJson(features));

/** Ids, names and labels: generous for what the contracts allow (ids ≤ 128, patient ids ≤ 64). */
const ID = 256;
const LABEL = 64;

/** The columns the sink writes to `severity_scores` (plus `ingested_at`, set by the warehouse). */
export const SCORE_COLUMNS: readonly Column<ScoreRow>[] = [
  { name: 'score_id', type: 'text', notNull: true, maxLength: ID, value: (r) => r.scoreId },
  { name: 'event_id', type: 'text', notNull: true, maxLength: ID, value: (r) => r.eventId },
  { name: 'feature_event_id', type: 'text', maxLength: ID, value: (r) => r.featureEventId },
  { name: 'patient_id', type: 'text', notNull: true, maxLength: ID, value: (r) => r.patientId },
  { name: 'encounter_id', type: 'text', maxLength: ID, value: (r) => r.encounterId },
  { name: 'event_time', type: 'timestamp', notNull: true, value: (r) => r.eventTime },
  { name: 'scored_at', type: 'timestamp', notNull: true, value: (r) => r.scoredAt },
  { name: 'scoring_mode', type: 'text', maxLength: LABEL, value: (r) => r.mode },
  { name: 'probability', type: 'double', value: (r) => num(r.probability) },
  { name: 'band', type: 'text', notNull: true, maxLength: LABEL, value: (r) => r.band },
  { name: 'news2', type: 'int', value: (r) => num(r.news2) },
  { name: 'news2_band', type: 'text', maxLength: LABEL, value: (r) => r.news2Band },
  { name: 'model_name', type: 'text', maxLength: ID, value: (r) => r.modelName },
  { name: 'model_version', type: 'text', maxLength: ID, value: (r) => r.modelVersion },
  { name: 'features', type: 'json', maxLength: FEATURES_MAX_LENGTH, fits: (r) => typeof r.features !== 'string', value: (r) => featuresText(r.features) },
  { name: 'top_features', type: 'json', maxLength: 64 * 1024, value: (r) => r.topFeatures },
  { name: 'latency_ms', type: 'double', value: (r) => num(r.latencyMs) },
  { name: 'unit', type: 'text', maxLength: ID, value: (r) => r.unit },
  { name: 'department', type: 'text', maxLength: ID, value: (r) => r.department },
  { name: 'src_cluster', type: 'text', notNull: true, maxLength: ID, value: (r) => r.srcCluster },
  { name: 'src_topic', type: 'text', notNull: true, maxLength: ID, value: (r) => r.srcTopic },
  { name: 'src_partition', type: 'int', notNull: true, value: (r) => String(r.srcPartition) },
  { name: 'src_offset', type: 'bigint', notNull: true, value: (r) => r.srcOffset },
  { name: 'src_timestamp', type: 'timestamp', value: (r) => r.srcTimestamp },
  // Since v6: which rule set the band (the model, or NEWS2's response tier as its floor) and why.
  { name: 'band_source', type: 'text', maxLength: LABEL, value: (r) => r.bandSource },
  { name: 'band_reason', type: 'text', maxLength: 1024, value: (r) => r.bandReason },
];

/** Columns added to severity_scores after step 1, each by its own step (step 1 never changes). */
const SCORE_COLUMNS_SINCE: ReadonlyMap<string, number> = new Map([
  ['band_source', 6],
  ['band_reason', 6],
]);
const scoreColumnsOf = (version: number) => SCORE_COLUMNS.filter((c) => (SCORE_COLUMNS_SINCE.get(c.name) ?? 1) === version);

export const DEAD_LETTER_COLUMNS: readonly Column<DeadLetterRow>[] = [
  { name: 'dead_letter_id', type: 'text', notNull: true, maxLength: ID, value: (r) => r.deadLetterId },
  { name: 'service', type: 'text', notNull: true, maxLength: LABEL, value: (r) => r.service },
  { name: 'reason', type: 'text', notNull: true, maxLength: LABEL, value: (r) => r.reason },
  { name: 'error', type: 'text', maxLength: 16 * 1024, value: (r) => r.error },
  { name: 'details', type: 'json', maxLength: 64 * 1024, value: (r) => r.details },
  { name: 'source_topic', type: 'text', maxLength: ID, value: (r) => r.sourceTopic },
  { name: 'source_partition', type: 'int', value: (r) => num(r.sourcePartition) },
  { name: 'source_offset', type: 'bigint', value: (r) => r.sourceOffset },
  { name: 'original_event_id', type: 'text', maxLength: ID, value: (r) => r.originalEventId },
  { name: 'patient_id', type: 'text', maxLength: ID, value: (r) => r.patientId },
  { name: 'original_key', type: 'text', maxLength: 4 * 1024, value: (r) => r.originalKey },
  // base64 of at most DEAD_LETTER_MAX_ORIGINAL_BYTES (256 KiB) is 342 KiB of text
  { name: 'original_bytes', type: 'text', maxLength: 512 * 1024, value: (r) => r.originalBytes },
  { name: 'produced_at', type: 'timestamp', notNull: true, value: (r) => r.producedAt },
  { name: 'src_cluster', type: 'text', notNull: true, maxLength: ID, value: (r) => r.srcCluster },
  { name: 'src_topic', type: 'text', notNull: true, maxLength: ID, value: (r) => r.srcTopic },
  { name: 'src_partition', type: 'int', notNull: true, value: (r) => String(r.srcPartition) },
  { name: 'src_offset', type: 'bigint', notNull: true, value: (r) => r.srcOffset },
];

/** Since v7: one row per alert event (`alert_event.v1`), the event id its key. */
export const ALERT_COLUMNS: readonly Column<AlertRow>[] = [
  { name: 'event_id', type: 'text', notNull: true, maxLength: ID, value: (r) => r.eventId },
  { name: 'alert_id', type: 'text', notNull: true, maxLength: ID, value: (r) => r.alertId },
  { name: 'patient_id', type: 'text', notNull: true, maxLength: ID, value: (r) => r.patientId },
  { name: 'encounter_id', type: 'text', maxLength: ID, value: (r) => r.encounterId },
  { name: 'occurred_at', type: 'timestamp', notNull: true, value: (r) => r.occurredAt },
  { name: 'produced_at', type: 'timestamp', notNull: true, value: (r) => r.producedAt },
  { name: 'type', type: 'text', notNull: true, maxLength: LABEL, value: (r) => r.type },
  { name: 'kind', type: 'text', notNull: true, maxLength: LABEL, value: (r) => r.kind },
  { name: 'severity', type: 'text', notNull: true, maxLength: LABEL, value: (r) => r.severity },
  { name: 'status', type: 'text', notNull: true, maxLength: LABEL, value: (r) => r.status },
  { name: 'unit', type: 'text', maxLength: ID, value: (r) => r.unit },
  { name: 'raised_at', type: 'timestamp', notNull: true, value: (r) => r.raisedAt },
  { name: 'escalate_at', type: 'timestamp', value: (r) => r.escalateAt },
  { name: 'score_id', type: 'text', maxLength: ID, value: (r) => r.scoreId },
  { name: 'probability', type: 'double', value: (r) => num(r.probability) },
  { name: 'news2', type: 'int', value: (r) => num(r.news2) },
  { name: 'reason', type: 'text', maxLength: 1024, value: (r) => r.reason },
  { name: 'supersedes', type: 'text', maxLength: ID, value: (r) => r.supersedes },
  { name: 'dismiss_reason', type: 'text', maxLength: LABEL, value: (r) => r.dismissReason },
  { name: 'resolve_reason', type: 'text', maxLength: LABEL, value: (r) => r.resolveReason },
  { name: 'actor', type: 'text', maxLength: LABEL, value: (r) => r.actor },
  { name: 'seconds_to_acknowledge', type: 'double', value: (r) => num(r.secondsToAcknowledge) },
  { name: 'policy_name', type: 'text', notNull: true, maxLength: LABEL, value: (r) => r.policyName },
  { name: 'policy_version', type: 'text', notNull: true, maxLength: LABEL, value: (r) => r.policyVersion },
  { name: 'overdue_last_observation_at', type: 'timestamp', value: (r) => r.overdueLastObservationAt },
  { name: 'overdue_due_at', type: 'timestamp', value: (r) => r.overdueDueAt },
  { name: 'overdue_interval_hours', type: 'double', value: (r) => num(r.overdueIntervalHours) },
  { name: 'src_cluster', type: 'text', notNull: true, maxLength: ID, value: (r) => r.srcCluster },
  { name: 'src_topic', type: 'text', notNull: true, maxLength: ID, value: (r) => r.srcTopic },
  { name: 'src_partition', type: 'int', notNull: true, value: (r) => String(r.srcPartition) },
  { name: 'src_offset', type: 'bigint', notNull: true, value: (r) => r.srcOffset },
  { name: 'src_timestamp', type: 'timestamp', value: (r) => r.srcTimestamp },
];

/**
 * One row per alert from its events: when it was raised, acknowledged (how fast, by whom),
 * escalated, and how it closed. The share acknowledged is the mean of `acknowledged` over
 * closed alerts (the alerting service's `ehr_alerting_acknowledged_ratio`, over all time).
 * Plain MAX(CASE …) so that both dialects read it the same way.
 */
const alertOutcomesView = () => {
  const at = (type: string) => `MAX(CASE WHEN type = '${type}' THEN occurred_at END)`;
  return (
    `CREATE OR REPLACE VIEW ${TABLES.alertOutcomes} AS SELECT alert_id, MAX(patient_id) AS patient_id, MAX(encounter_id) AS encounter_id, ` +
    `MAX(unit) AS unit, MAX(kind) AS kind, MAX(severity) AS severity, MAX(policy_name) AS policy_name, MAX(policy_version) AS policy_version, ` +
    `MIN(raised_at) AS raised_at, ${at('acknowledged')} AS acknowledged_at, MAX(seconds_to_acknowledge) AS seconds_to_acknowledge, ` +
    `MAX(CASE WHEN type = 'acknowledged' THEN actor END) AS acknowledged_by, ${at('escalated')} AS escalated_at, ` +
    `MAX(CASE WHEN type = 'acknowledged' THEN 1 ELSE 0 END) AS acknowledged, MAX(CASE WHEN type = 'escalated' THEN 1 ELSE 0 END) AS escalated, ` +
    `MAX(CASE WHEN type IN ('dismissed', 'resolved') THEN type END) AS closed_as, MAX(CASE WHEN type IN ('dismissed', 'resolved') THEN occurred_at END) AS closed_at, ` +
    `MAX(dismiss_reason) AS dismiss_reason, MAX(CASE WHEN type = 'dismissed' THEN actor END) AS dismissed_by, MAX(resolve_reason) AS resolve_reason ` +
    `FROM ${TABLES.alerts} GROUP BY alert_id`
  );
};

export const TABLES = {
  scores: 'severity_scores',
  deadLetters: 'dead_letters',
  /** v1–v2: one row per partition (a table); v3: a view over the log; since v4: a view over sink_partitions. */
  offsets: 'sink_offsets',
  /** v3: append-only, one row per landed batch, whose MAX was the offset. Copied into sink_batches and dropped by v4. */
  legacyOffsetLog: 'sink_offset_log',
  /** Since v4: the offset log, one row per landed batch (its first and last offset), for the audit trail. */
  offsetLog: 'sink_batches',
  /** Since v4: one row per partition, the guard every batch transaction updates. */
  partitions: 'sink_partitions',
  migrations: 'sink_schema_migrations',
  latestView: 'severity_scores_latest',
  /** Since v7: one row per alert event. */
  alerts: 'alerts',
  /** Since v7: one row per alert (raised, acknowledged, escalated, closed). */
  alertOutcomes: 'alert_outcomes',
  /**
   * Since v8: a challenger's scores (CHALLENGER_MODEL_PATH), the columns of severity_scores,
   * in a table of their own so that no query of the served scores (nor the latest view)
   * can count them by accident.
   */
  shadowScores: 'shadow_scores',
  /** Since v8: each shadow score beside the served score of the same feature vector. */
  shadowComparison: 'shadow_comparison',
} as const;

function tableDdl<R>(dialect: Dialect, table: string, columns: readonly Column<R>[], cluster?: string): string {
  const t = physical[dialect];
  const defs = columns.map((c) => `${c.name} ${t[c.type]}${c.notNull ? ' NOT NULL' : ''}`);
  defs.push(`ingested_at ${t.timestamp} NOT NULL DEFAULT CURRENT_TIMESTAMP`);
  const clusterBy = dialect === 'snowflake' && cluster ? ` CLUSTER BY (${cluster})` : '';
  return `CREATE TABLE IF NOT EXISTS ${table} (${defs.join(', ')})${clusterBy}`;
}

export interface Migration {
  version: number;
  description: string;
  statements: (dialect: Dialect) => string[];
}

const partitionKey = (alias: string, other: string) =>
  `${alias}.cluster_id = ${other}.cluster_id AND ${alias}.topic = ${other}.topic AND ${alias}.partition_id = ${other}.partition_id`;

/** Append only: a released step never changes; a new column is a new step. */
export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    description: 'severity_scores, dead_letters, sink_offsets',
    statements: (d) => {
      const t = physical[d];
      return [
        tableDdl(d, TABLES.scores, scoreColumnsOf(1), 'TO_DATE(event_time)'),
        tableDdl(d, TABLES.deadLetters, DEAD_LETTER_COLUMNS, 'TO_DATE(produced_at)'),
        `CREATE TABLE IF NOT EXISTS ${TABLES.offsets} (cluster_id ${t.text} NOT NULL, topic ${t.text} NOT NULL, partition_id ${t.int} NOT NULL, ` +
          `last_offset ${t.bigint} NOT NULL, updated_at ${t.timestamp} NOT NULL DEFAULT CURRENT_TIMESTAMP, PRIMARY KEY (cluster_id, topic, partition_id))`,
      ];
    },
  },
  {
    version: 2,
    description: 'severity_scores_latest: the latest score of every patient',
    statements: () => [
      `CREATE OR REPLACE VIEW ${TABLES.latestView} AS SELECT * FROM ${TABLES.scores} ` +
        `QUALIFY ROW_NUMBER() OVER (PARTITION BY patient_id ORDER BY event_time DESC, scored_at DESC, score_id DESC) = 1`,
    ],
  },
  {
    version: 3,
    description: 'sink_offset_log: append-only batch offsets (no row locks a crashed writer could leave behind); sink_offsets becomes a view',
    statements: (d) => {
      const t = physical[d];
      return [
        `CREATE TABLE IF NOT EXISTS ${TABLES.legacyOffsetLog} (cluster_id ${t.text} NOT NULL, topic ${t.text} NOT NULL, partition_id ${t.int} NOT NULL, ` +
          `last_offset ${t.bigint} NOT NULL, records ${t.int} NOT NULL, committed_at ${t.timestamp} NOT NULL DEFAULT CURRENT_TIMESTAMP)`,
        `INSERT INTO ${TABLES.legacyOffsetLog} (cluster_id, topic, partition_id, last_offset, records, committed_at) ` +
          `SELECT cluster_id, topic, partition_id, last_offset, 0, updated_at FROM ${TABLES.offsets}`,
        `DROP TABLE IF EXISTS ${TABLES.offsets}`,
        `CREATE OR REPLACE VIEW ${TABLES.offsets} AS SELECT cluster_id, topic, partition_id, MAX(last_offset) AS last_offset, MAX(committed_at) AS updated_at ` +
          `FROM ${TABLES.legacyOffsetLog} GROUP BY cluster_id, topic, partition_id`,
      ];
    },
  },
  {
    version: 4,
    description:
      'sink_partitions: one row per partition, moved by a guarded UPDATE inside each batch transaction (safe with several sinks); sink_batches: the offset log with each batch range',
    statements: (d) => {
      const t = physical[d];
      return [
        `CREATE TABLE IF NOT EXISTS ${TABLES.partitions} (cluster_id ${t.text} NOT NULL, topic ${t.text} NOT NULL, partition_id ${t.int} NOT NULL, ` +
          `last_offset ${t.bigint} NOT NULL, batches ${t.bigint} NOT NULL DEFAULT 0, updated_at ${t.timestamp} NOT NULL DEFAULT CURRENT_TIMESTAMP, ` +
          `PRIMARY KEY (cluster_id, topic, partition_id))`,
        // Idempotent: a step interrupted after this (DDL commits on its own in Snowflake) runs again harmlessly.
        `INSERT INTO ${TABLES.partitions} (cluster_id, topic, partition_id, last_offset, batches, updated_at) ` +
          `SELECT l.cluster_id, l.topic, l.partition_id, l.last_offset, l.batches, l.updated_at FROM (` +
          `SELECT cluster_id, topic, partition_id, MAX(last_offset) AS last_offset, COUNT(*) AS batches, MAX(committed_at) AS updated_at ` +
          `FROM ${TABLES.legacyOffsetLog} GROUP BY cluster_id, topic, partition_id) l ` +
          `WHERE NOT EXISTS (SELECT 1 FROM ${TABLES.partitions} p WHERE ${partitionKey('p', 'l')})`,
        // A new table rather than a column added to the old log: DuckDB (1.5) cannot replay an
        // ALTER TABLE of a table with a CURRENT_TIMESTAMP default from its WAL, so a crash
        // before the next checkpoint would leave a file that no longer opens.
        `CREATE TABLE IF NOT EXISTS ${TABLES.offsetLog} (cluster_id ${t.text} NOT NULL, topic ${t.text} NOT NULL, partition_id ${t.int} NOT NULL, ` +
          `first_offset ${t.bigint}, last_offset ${t.bigint} NOT NULL, records ${t.int} NOT NULL, committed_at ${t.timestamp} NOT NULL DEFAULT CURRENT_TIMESTAMP)`,
        `INSERT INTO ${TABLES.offsetLog} (cluster_id, topic, partition_id, last_offset, records, committed_at) ` +
          `SELECT l.cluster_id, l.topic, l.partition_id, l.last_offset, l.records, l.committed_at FROM ${TABLES.legacyOffsetLog} l ` +
          `WHERE NOT EXISTS (SELECT 1 FROM ${TABLES.offsetLog} b WHERE ${partitionKey('b', 'l')} AND b.last_offset = l.last_offset)`,
        `CREATE OR REPLACE VIEW ${TABLES.offsets} AS SELECT cluster_id, topic, partition_id, last_offset, updated_at FROM ${TABLES.partitions} WHERE last_offset >= 0`,
      ];
    },
  },
  {
    // A step of its own: step 4 reads the old log, so it must be there if step 4 runs again
    // (in Snowflake every DDL commits on its own, so a step can be interrupted half-way).
    version: 5,
    description: 'drop sink_offset_log (copied into sink_partitions and sink_batches by step 4)',
    statements: () => [`DROP TABLE IF EXISTS ${TABLES.legacyOffsetLog}`],
  },
  {
    version: 6,
    description: 'severity_scores.band_source and band_reason: which rule set the band (model, or NEWS2 as its floor) and why',
    statements: (d) => [
      ...scoreColumnsOf(6).map((c) => `ALTER TABLE ${TABLES.scores} ADD COLUMN IF NOT EXISTS ${c.name} ${physical[d][c.type]}`),
      // Snowflake binds a view's `*` when it is created: make it again so it shows the new columns.
      `CREATE OR REPLACE VIEW ${TABLES.latestView} AS SELECT * FROM ${TABLES.scores} ` +
        `QUALIFY ROW_NUMBER() OVER (PARTITION BY patient_id ORDER BY event_time DESC, scored_at DESC, score_id DESC) = 1`,
    ],
  },
  {
    version: 7,
    description: 'alerts: one row per alert event (ehr.alerts.v1); alert_outcomes: one row per alert, with time to acknowledge and how it closed',
    statements: (d) => [tableDdl(d, TABLES.alerts, ALERT_COLUMNS, 'TO_DATE(occurred_at)'), alertOutcomesView()],
  },
  {
    version: 8,
    description: 'shadow_scores: a silent challenger model scores beside the served one, marked shadow by its table; shadow_comparison: each beside the served score',
    statements: (d) => [
      tableDdl(d, TABLES.shadowScores, SCORE_COLUMNS, 'TO_DATE(event_time)'),
      `CREATE OR REPLACE VIEW ${TABLES.shadowComparison} AS SELECT s.feature_event_id, s.patient_id, s.event_time, s.unit, ` +
        `v.model_name AS served_model_name, v.model_version AS served_model_version, v.probability AS served_probability, v.band AS served_band, ` +
        `s.model_name AS shadow_model_name, s.model_version AS shadow_model_version, s.probability AS shadow_probability, s.band AS shadow_band, ` +
        `s.news2, s.news2_band, s.score_id AS shadow_score_id, v.score_id AS served_score_id ` +
        `FROM ${TABLES.shadowScores} s LEFT JOIN ${TABLES.scores} v ON v.feature_event_id = s.feature_event_id AND v.event_time = s.event_time`,
    ],
  },
];

export const LATEST_SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1]!.version;

export const migrationsTableDdl = (d: Dialect): string =>
  `CREATE TABLE IF NOT EXISTS ${TABLES.migrations} (version ${physical[d].int} NOT NULL, description ${physical[d].text}, applied_at ${physical[d].timestamp} NOT NULL DEFAULT CURRENT_TIMESTAMP)`;

/** SQL expression turning a bound text value into the column's type. */
function fromText(dialect: Dialect, type: Logical, expr: string): string {
  switch (type) {
    case 'text':
      return expr;
    case 'timestamp':
      return dialect === 'snowflake' ? `TO_TIMESTAMP_TZ(${expr})` : `CAST(${expr} AS TIMESTAMPTZ)`;
    case 'json':
      return dialect === 'snowflake' ? `PARSE_JSON(${expr})` : `CAST(${expr} AS JSON)`;
    default:
      return `CAST(${expr} AS ${physical[dialect][type]})`;
  }
}

/**
 * The INSERT that lands a batch: typed from text, and skipping ids already in the table
 * (an upstream re-emission of the same score lands once). `timeColumn`, when given, is
 * matched too, so the warehouse prunes by it (Snowflake clusters scores by its date); dead
 * letters are matched by their id alone (their only time is when they were produced, which
 * differs between two deliveries of the same dead letter).
 *
 * Snowflake: one statement with array binds, `SELECT ?, PARSE_JSON(?) …` (PARSE_JSON is
 * not allowed in a VALUES clause there). DuckDB: from a staging table the appender filled.
 */
export function insertSql<R>(
  dialect: Dialect,
  table: string,
  columns: readonly Column<R>[],
  idColumn: string,
  timeColumn: string | null,
  /** Staging table to read from, or null for bind placeholders. */
  source: string | null,
): string {
  const names = columns.map((c) => c.name).join(', ');
  const typed =
    source === null
      ? columns.map((c) => `${fromText(dialect, c.type, '?')} AS ${c.name}`).join(', ')
      : columns.map((c) => `${fromText(dialect, c.type, c.name)} AS ${c.name}`).join(', ');
  const from = source === null ? `(SELECT ${typed}) s` : `(SELECT ${typed} FROM ${source}) s`;
  // From a staging table (DuckDB) with a time column: the table is searched only between the
  // batch's own earliest and latest time, bound as two constants (stagedTimeRangeSql), which
  // DuckDB checks against each row group's min/max and skips the rest. Unbounded, every batch
  // read the ids of the whole table: a 500-row landing at 3 million rows took 85 ms (median)
  // against 19 bounded (bench/dedupe.ts; README, "Skipping re-emitted scores"), and a sink at
  // 2,000 scores/s adds 7 million rows an hour.
  const window = source !== null && timeColumn ? `t.${timeColumn} BETWEEN ? AND ? AND ` : '';
  const match = `${window}t.${idColumn} = s.${idColumn}${timeColumn ? ` AND t.${timeColumn} = s.${timeColumn}` : ''}`;
  return (
    `INSERT INTO ${table} (${names}, ingested_at) SELECT ${columns.map((c) => `s.${c.name}`).join(', ')}, CURRENT_TIMESTAMP FROM ${from} ` +
    `WHERE NOT EXISTS (SELECT 1 FROM ${table} t WHERE ${match})`
  );
}

/** The column a score is matched on besides its id: a re-emitted score carries the same. */
export const SCORE_TIME_COLUMN = 'event_time';

/**
 * The earliest and latest time of a staging table's rows, typed as the table's column: the
 * two binds of insertSql's window (DuckDB). A time that does not cast fails here, as a data
 * error, the way the INSERT would.
 */
export const stagedTimeRangeSql = (stage: string, column: string) =>
  `SELECT MIN(CAST(${column} AS TIMESTAMPTZ)), MAX(CAST(${column} AS TIMESTAMPTZ)) FROM ${stage}`;

export const scoresInsertSql = (d: Dialect, source: string | null) => insertSql(d, TABLES.scores, SCORE_COLUMNS, 'score_id', SCORE_TIME_COLUMN, source);
// Matched by event id alone: the alerting service makes it the idempotency key (each type
// happens at most once per alert), whatever time a republished copy carries.
export const alertsInsertSql = (d: Dialect, source: string | null) => insertSql(d, TABLES.alerts, ALERT_COLUMNS, 'event_id', null, source);
export const shadowScoresInsertSql = (d: Dialect, source: string | null) => insertSql(d, TABLES.shadowScores, SCORE_COLUMNS, 'score_id', SCORE_TIME_COLUMN, source);
export const deadLettersInsertSql = (d: Dialect, source: string | null) => insertSql(d, TABLES.deadLetters, DEAD_LETTER_COLUMNS, 'dead_letter_id', null, source);

export interface GuardBinds {
  cluster: string;
  topic: string;
  partition: number;
  firstOffset: bigint;
  lastOffset: bigint;
  expectedLastOffset: bigint;
  records: number;
}

/**
 * Makes sure the partition has its row (autocommit, before the first batch). A MERGE, so
 * that two sinks claiming a new partition at once serialize on it. Binds: cluster, topic,
 * partition.
 */
export const claimPartitionSql = (d: Dialect) =>
  `MERGE INTO ${TABLES.partitions} t USING (SELECT ? AS cluster_id, ? AS topic, CAST(? AS ${physical[d].int}) AS partition_id) s ` +
  `ON ${partitionKey('t', 's')} ` +
  `WHEN NOT MATCHED THEN INSERT (cluster_id, topic, partition_id, last_offset, batches, updated_at) VALUES (s.cluster_id, s.topic, s.partition_id, -1, 0, CURRENT_TIMESTAMP)`;

export const claimPartitionBinds = (b: Pick<GuardBinds, 'cluster' | 'topic' | 'partition'>) => [b.cluster, b.topic, String(b.partition)];

/**
 * The guard, the last statement of every batch transaction: moves the partition's row from
 * the offset the batch was cut from to the batch's last offset, and must update it (0 rows:
 * another writer got there first; the transaction is rolled back). Two writers of one
 * partition cannot both pass: Snowflake serializes UPDATEs of a table (the second waits,
 * then finds the offset moved), DuckDB refuses the second as a write conflict. Being last,
 * it holds that lock for one round trip only. Binds: last offset, cluster, topic,
 * partition, expected offset.
 */
export const guardSql = (d: Dialect) =>
  `UPDATE ${TABLES.partitions} SET last_offset = CAST(? AS ${physical[d].bigint}), batches = batches + 1, updated_at = CURRENT_TIMESTAMP ` +
  `WHERE cluster_id = ? AND topic = ? AND partition_id = CAST(? AS ${physical[d].int}) AND last_offset = CAST(? AS ${physical[d].bigint})`;

export const guardBinds = (b: GuardBinds) => [String(b.lastOffset), b.cluster, b.topic, String(b.partition), String(b.expectedLastOffset)];

/** The batch's line in the offset log (audit: which range landed when). */
export const logBatchSql = (d: Dialect) =>
  `INSERT INTO ${TABLES.offsetLog} (cluster_id, topic, partition_id, first_offset, last_offset, records, committed_at) ` +
  `SELECT ?, ?, CAST(? AS ${physical[d].int}), CAST(? AS ${physical[d].bigint}), CAST(? AS ${physical[d].bigint}), CAST(? AS ${physical[d].int}), CURRENT_TIMESTAMP`;

export const logBatchBinds = (b: GuardBinds) => [b.cluster, b.topic, String(b.partition), String(b.firstOffset), String(b.lastOffset), String(b.records)];

export const landedOffsetsSql = `SELECT partition_id, MAX(last_offset) AS last_offset FROM ${TABLES.partitions} WHERE cluster_id = ? AND topic = ? AND last_offset >= 0 GROUP BY partition_id`;

/** Keeps the log short: drops a partition's rows below its latest (autocommit, after a landed batch). */
export const compactOffsetsSql = (d: Dialect) =>
  `DELETE FROM ${TABLES.offsetLog} WHERE cluster_id = ? AND topic = ? AND partition_id = CAST(? AS ${physical[d].int}) AND last_offset < CAST(? AS ${physical[d].bigint})`;

export const bindRow = <R>(columns: readonly Column<R>[], row: R): (string | null)[] => columns.map((c) => c.value(row));
