// Reads what the sink landed, straight from the DuckDB file: the sink's own file, or the
// file under the Snowflake test server (where each Snowflake schema is a DuckDB schema).
// Open it only when no other process holds it (after the sink, or the test server, stopped).
import { DuckDBInstance } from '@duckdb/node-api';
import type { DeadLetterRowLite, ScoreRowLite } from './accounting.js';

export interface WarehouseScore extends ScoreRowLite {
  patientId: string;
  encounterId: string | null;
  /** Epoch ms. */
  ingestedAt: number;
  scoredAt: number;
  srcTopic: string;
  srcPartition: number;
  srcOffset: string;
  /** `model` or `news2_only`. */
  mode: string | null;
}

export interface WarehouseDeadLetter extends DeadLetterRowLite {
  ingestedAt: number;
}

export interface WarehouseContents {
  scores: WarehouseScore[];
  deadLetters: WarehouseDeadLetter[];
  /** sink_offsets rows: `topic/partition` → last offset. */
  offsets: Map<string, bigint>;
}

const str = (v: unknown): string | null => (v === null || v === undefined ? null : typeof v === 'string' ? v : JSON.stringify(v));
// The test server keeps Snowflake's upper-case column names: alias every column in lower case.
const named = (...columns: string[]) => columns.map((c) => `${c} AS "${c}"`).join(', ');
const ms = (v: unknown): number => (v === null || v === undefined ? Number.NaN : Number(v) / 1000);

/** Every score, dead letter and offset row in the file (read-only). */
export async function readWarehouse(path: string): Promise<WarehouseContents> {
  const instance = await DuckDBInstance.create(path, { access_mode: 'READ_ONLY' });
  const connection = await instance.connect();
  try {
    const schemaOf = async (table: string): Promise<string> => {
      const reader = await connection.runAndReadAll(`SELECT table_schema FROM information_schema.tables WHERE lower(table_name) = '${table}' ORDER BY table_schema`);
      const row = reader.getRows()[0];
      if (!row) throw new Error(`${path} has no table ${table}: did the sink ever start on it?`);
      return `"${String(row[0])}"`;
    };
    const rows = async (sql: string) => (await connection.runAndReadAll(sql)).getRowObjects();
    const scoresSchema = await schemaOf('severity_scores');
    const scores = (
      await rows(
        `SELECT ${named('score_id', 'event_id', 'feature_event_id', 'patient_id', 'encounter_id', 'src_topic', 'src_partition', 'scoring_mode')}, epoch_us(ingested_at) AS "ingested_us", ` +
          `epoch_us(scored_at) AS "scored_us", CAST(src_offset AS VARCHAR) AS "src_offset" FROM ${scoresSchema}.severity_scores`,
      )
    ).map(
      (r): WarehouseScore => ({
        scoreId: String(r.score_id),
        eventId: String(r.event_id),
        featureEventId: str(r.feature_event_id),
        patientId: String(r.patient_id),
        encounterId: str(r.encounter_id),
        ingestedAt: ms(r.ingested_us),
        scoredAt: ms(r.scored_us),
        srcTopic: String(r.src_topic),
        srcPartition: Number(r.src_partition),
        srcOffset: String(r.src_offset),
        mode: str(r.scoring_mode),
      }),
    );
    const lettersSchema = await schemaOf('dead_letters');
    const deadLetters = (
      await rows(
        `SELECT ${named('dead_letter_id', 'service', 'reason', 'source_topic', 'source_partition', 'original_event_id', 'original_bytes')}, ` +
          `CAST(source_offset AS VARCHAR) AS "source_offset", epoch_us(ingested_at) AS "ingested_us" FROM ${lettersSchema}.dead_letters`,
      )
    ).map(
      (r): WarehouseDeadLetter => ({
        deadLetterId: String(r.dead_letter_id),
        service: String(r.service),
        reason: String(r.reason),
        sourceTopic: str(r.source_topic),
        sourcePartition: r.source_partition === null ? null : Number(r.source_partition),
        sourceOffset: str(r.source_offset),
        originalEventId: str(r.original_event_id),
        originalBytes: str(r.original_bytes),
        ingestedAt: ms(r.ingested_us),
      }),
    );
    const offsetsSchema = await schemaOf('sink_offsets');
    const offsets = new Map<string, bigint>();
    for (const r of await rows(`SELECT ${named('topic', 'partition_id')}, CAST(last_offset AS VARCHAR) AS "last_offset" FROM ${offsetsSchema}.sink_offsets`)) {
      offsets.set(`${String(r.topic)}/${String(r.partition_id)}`, BigInt(String(r.last_offset)));
    }
    return { scores, deadLetters, offsets };
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}

/**
 * The feature values each score was computed from, by vector id (feature_event_id): to
 * compare with what the batch API builds from the same events. Read apart from
 * readWarehouse because the bench's warehouses hold tens of thousands of these.
 */
export async function readScoreFeatures(path: string): Promise<Map<string, Record<string, number | null>>> {
  const instance = await DuckDBInstance.create(path, { access_mode: 'READ_ONLY' });
  const connection = await instance.connect();
  try {
    const schema = (await connection.runAndReadAll(`SELECT table_schema FROM information_schema.tables WHERE lower(table_name) = 'severity_scores' ORDER BY table_schema`)).getRows()[0]?.[0];
    if (schema === undefined) throw new Error(`${path} has no table severity_scores`);
    const reader = await connection.runAndReadAll(`SELECT feature_event_id, CAST(features AS VARCHAR) AS features FROM "${String(schema)}".severity_scores`);
    const out = new Map<string, Record<string, number | null>>();
    for (const r of reader.getRowObjects()) out.set(String(r.feature_event_id), JSON.parse(String(r.features)) as Record<string, number | null>);
    return out;
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}
