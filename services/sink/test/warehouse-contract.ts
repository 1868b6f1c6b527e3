// The warehouse contract: what the sink relies on from a warehouse, run against DuckDB and
// against the Snowflake test server through the real snowflake-sdk, so that the two cannot
// drift (the model is packages/bus/test/contract.ts).
import { TOPICS } from '@ehr/features';
import { afterEach, describe, expect, it } from 'vitest';
import { deadLetterRow, LATEST_SCHEMA_VERSION, OffsetConflictError, WarehouseDataError, type LandBatch, type Warehouse } from '../src/index.js';
import { alertBatch, featureDeadLetter, makeScore, scoreBatch } from './helpers.js';

export interface OpenWarehouse {
  warehouse: Warehouse;
  /** Another writer on the same database: a second sink. */
  another: () => Promise<Warehouse>;
  /** Makes the warehouse unreachable (a server down, a file gone); absent where a test cannot (a live account). */
  outage?: () => Promise<void>;
  /** Holds the next COMMIT until released, so that two writers' transactions overlap exactly; absent where writes cannot overlap. */
  holdNextCommit?: () => { reached: Promise<void>; release(): void };
}

export interface WarehouseHarness {
  /** A fresh, initialised warehouse. `strictNews2`: `severity_scores.news2` was created as a 1-digit number, as a DBA might. */
  open(options?: { strictNews2?: boolean }): Promise<OpenWarehouse>;
  /** SQL for a number inside a JSON/VARIANT column, in the dialect. */
  jsonNumber(column: string, key: string): string;
  /** SQL for the first element's `key` of a JSON/VARIANT array column, as text. */
  jsonFirstText(column: string, key: string): string;
}

/** The columns the architecture names (add columns as needed; rename none of these). */
const ARCHITECTURE_COLUMNS = [
  'score_id', 'event_id', 'patient_id', 'encounter_id', 'event_time', 'scored_at', 'probability', 'band', 'news2', 'news2_band',
  'model_version', 'features', 'top_features', 'latency_ms', 'src_topic', 'src_partition', 'src_offset', 'ingested_at',
];

/** What issue 19 asks of the alerts table: the alert, patient, unit, kind, transition, band, probability, NEWS2, times, acknowledgement. */
const ALERT_TABLE_COLUMNS = [
  'event_id', 'alert_id', 'patient_id', 'encounter_id', 'unit', 'kind', 'type', 'status', 'severity', 'probability', 'news2', 'occurred_at', 'raised_at',
  'escalate_at', 'dismiss_reason', 'resolve_reason', 'actor', 'seconds_to_acknowledge', 'reason', 'policy_name', 'policy_version', 'src_topic', 'src_partition', 'src_offset', 'ingested_at',
];
/** The challenger's score of the same vector as makeScore(i): another model, another id, another probability. */
function shadowScore(i: number, options?: { run?: string }) {
  const served = makeScore(i, options);
  const scoreId = `shadow-${served.payload.scoreId}`;
  return { ...served, eventId: scoreId, payload: { ...served.payload, scoreId, probability: (served.payload.probability ?? 0) / 2, model: { name: 'challenger', version: '2.0.0' } } };
}

const count = async (w: Warehouse, sql: string, params: (string | number)[] = []) => Number((await w.read(sql, params))[0]!.n);

function deadLetterBatch(from: number, to: number, expected: bigint, producedAt: string): LandBatch {
  const deadLetters = [];
  for (let i = from; i <= to; i++) {
    deadLetters.push(
      deadLetterRow('cluster-a', { topic: TOPICS.deadLetter, partition: 0, offset: String(i), timestamp: 0 }, featureDeadLetter({ eventId: `dl-${i % 3}`, producedAt, sourceOffset: String(i % 3) })),
    );
  }
  return { cluster: 'cluster-a', topic: TOPICS.deadLetter, partition: 0, expectedLastOffset: expected, firstOffset: BigInt(from), lastOffset: BigInt(to), records: to - from + 1, scores: [], deadLetters };
}

export function warehouseContract(name: string, harness: () => WarehouseHarness): void {
  describe(`warehouse contract: ${name}`, () => {
    const opened: Warehouse[] = [];
    afterEach(async () => {
      for (const w of opened.splice(0).reverse()) await w.close().catch(() => undefined);
    });
    const open = async (options?: { strictNews2?: boolean }) => {
      const o = await harness().open(options);
      opened.push(o.warehouse);
      return o;
    };
    const landed = async (w: Warehouse) => (await w.landedOffsets('cluster-a', TOPICS.scores)).get(0);

    it('migrates idempotently, records its schema version, and has every column the architecture names', async () => {
      const { warehouse: w, another } = await open();
      const second = await another();
      opened.push(second);
      await second.init();
      await w.init();
      expect(await w.read('SELECT MAX(version) AS v, COUNT(*) AS n FROM sink_schema_migrations')).toEqual([{ v: String(LATEST_SCHEMA_VERSION), n: String(LATEST_SCHEMA_VERSION) }]);
      // A missing column fails the statement.
      expect(await w.read(`SELECT ${ARCHITECTURE_COLUMNS.join(', ')} FROM severity_scores WHERE 1 = 0`)).toEqual([]);
      expect(await w.read('SELECT cluster_id, topic, partition_id, first_offset, last_offset, records, committed_at FROM sink_batches WHERE 1 = 0')).toEqual([]);
      expect(await w.read(`SELECT ${ALERT_TABLE_COLUMNS.join(', ')} FROM alerts WHERE 1 = 0`)).toEqual([]);
      expect(await w.read('SELECT alert_id, raised_at, acknowledged_at, seconds_to_acknowledge, acknowledged_by, acknowledged, escalated, closed_as, dismiss_reason FROM alert_outcomes WHERE 1 = 0')).toEqual([]);
    });

    it('lands a batch, its offset and its line in the offset log together, and refuses a batch cut from a stale offset without writing anything', async () => {
      const { warehouse: w } = await open();
      expect(await w.land(scoreBatch(0, 9, -1n))).toEqual({ scoresInserted: 10, deadLettersInserted: 0, alertsInserted: 0 });
      expect(await landed(w)).toBe(9n);
      // The same batch again (a retried commit that had landed), and one overlapping it: refused.
      await expect(w.land(scoreBatch(0, 9, -1n, { run: 'other' }))).rejects.toBeInstanceOf(OffsetConflictError);
      await expect(w.land(scoreBatch(5, 12, 4n, { run: 'other' }))).rejects.toBeInstanceOf(OffsetConflictError);
      expect(await count(w, 'SELECT COUNT(*) AS n FROM severity_scores')).toBe(10);
      expect(await w.land(scoreBatch(10, 14, 9n))).toEqual({ scoresInserted: 5, deadLettersInserted: 0, alertsInserted: 0 });
      expect(await w.read('SELECT first_offset AS f, last_offset AS l, records AS r FROM sink_batches ORDER BY last_offset')).toEqual([
        { f: '0', l: '9', r: '10' },
        { f: '10', l: '14', r: '5' },
      ]);
      expect(await w.read("SELECT partition_id AS p, last_offset AS o FROM sink_offsets WHERE cluster_id = 'cluster-a'")).toEqual([{ p: '0', o: '14' }]);
      // Another cluster (a new in-memory bus) has its own offsets.
      expect((await w.landedOffsets('cluster-b', TOPICS.scores)).size).toBe(0);
      expect(await count(w, 'SELECT COUNT(DISTINCT src_offset) AS n FROM severity_scores')).toBe(15);
    });

    it('keeps one row per score id when the same score comes again at later offsets (an upstream re-emission)', async () => {
      const { warehouse: w } = await open();
      await w.land(scoreBatch(0, 4, -1n));
      const again = scoreBatch(0, 4, 4n);
      expect(await w.land({ ...again, firstOffset: 5n, lastOffset: 9n })).toEqual({ scoresInserted: 0, deadLettersInserted: 0, alertsInserted: 0 });
      expect(await landed(w)).toBe(9n);
      expect(await count(w, 'SELECT COUNT(*) AS n FROM severity_scores')).toBe(5);
    });

    it('skips a re-emitted score at the earliest and at the latest time of a batch, and lands the new scores between them', async () => {
      const { warehouse: w } = await open();
      await w.land(scoreBatch(0, 9, -1n));
      // The first and last of the earlier scores again (ids and times as before), around four
      // new scores (another run: other ids) at times in between.
      const again = scoreBatch(0, 9, 9n);
      const fresh = scoreBatch(3, 6, 9n, { run: 'r2' });
      const batch = { ...again, scores: [again.scores[0]!, ...fresh.scores, again.scores[9]!], firstOffset: 10n, lastOffset: 15n, records: 6 };
      expect(await w.land(batch)).toEqual({ scoresInserted: 4, deadLettersInserted: 0, alertsInserted: 0 });
      expect(await count(w, 'SELECT COUNT(*) AS n FROM severity_scores')).toBe(14);
      expect(await count(w, 'SELECT COUNT(DISTINCT score_id) AS n FROM severity_scores')).toBe(14);
    });

    it("lands a challenger's shadow scores in shadow_scores only, exactly once like scores, beside the served score in shadow_comparison", async () => {
      const { warehouse: w } = await open();
      const shadowBatch = (from: number, to: number, expected: bigint): LandBatch => {
        const { scores, ...rest } = scoreBatch(from, to, expected, { topic: TOPICS.shadowScores, score: shadowScore });
        return { ...rest, scores: [], shadowScores: scores };
      };
      await w.land(scoreBatch(0, 4, -1n));
      expect(await w.land(shadowBatch(0, 4, -1n))).toEqual({ scoresInserted: 0, deadLettersInserted: 0, alertsInserted: 0, shadowScoresInserted: 5 });
      // Its own offsets, per topic: the served scores' offsets did not move.
      expect((await w.landedOffsets('cluster-a', TOPICS.shadowScores)).get(0)).toBe(4n);
      expect(await landed(w)).toBe(4n);
      // A batch cut from a stale offset writes nothing; a re-emission of the same shadow score lands once.
      await expect(w.land(shadowBatch(0, 4, -1n))).rejects.toBeInstanceOf(OffsetConflictError);
      expect(await w.land({ ...shadowBatch(0, 4, 4n), firstOffset: 5n, lastOffset: 9n })).toEqual({ scoresInserted: 0, deadLettersInserted: 0, alertsInserted: 0, shadowScoresInserted: 0 });
      expect(await count(w, 'SELECT COUNT(*) AS n FROM shadow_scores')).toBe(5);
      // Never among the served scores, nor in the latest-score view the ward's queries read.
      expect(await count(w, 'SELECT COUNT(*) AS n FROM severity_scores')).toBe(5);
      expect(await count(w, "SELECT COUNT(*) AS n FROM severity_scores WHERE model_name = 'challenger'")).toBe(0);
      expect(await count(w, "SELECT COUNT(*) AS n FROM severity_scores_latest WHERE model_name = 'challenger'")).toBe(0);
      expect(await w.read(`SELECT ${ARCHITECTURE_COLUMNS.join(', ')}, band_source, band_reason FROM shadow_scores WHERE 1 = 0`)).toEqual([]);
      const served = makeScore(2);
      const side = await w.read('SELECT served_model_name AS a, shadow_model_name AS b, served_probability AS p, shadow_probability AS q FROM shadow_comparison WHERE feature_event_id = ?', [
        served.payload.featureEventId,
      ]);
      expect(side.map((r) => [r.a, r.b, Number(r.p), Number(r.q)])).toEqual([['severity-rf', 'challenger', served.payload.probability, shadowScore(2).payload.probability]]);
      expect(await count(w, 'SELECT COUNT(*) AS n FROM shadow_comparison')).toBe(5);
    });

    it('lands a dead letter once, by its id alone, whatever its produced_at says', async () => {
      const { warehouse: w } = await open();
      expect(await w.land(deadLetterBatch(0, 2, -1n, '2025-01-01T00:00:00.000Z'))).toEqual({ scoresInserted: 0, deadLettersInserted: 3, alertsInserted: 0 });
      // Redelivered dead letters, produced again later (the wall clock moved on): same ids.
      expect(await w.land(deadLetterBatch(3, 5, 2n, '2025-01-01T00:07:00.000Z'))).toEqual({ scoresInserted: 0, deadLettersInserted: 0, alertsInserted: 0 });
      expect(await w.read('SELECT dead_letter_id AS id FROM dead_letters ORDER BY dead_letter_id')).toEqual([{ id: 'dl-0' }, { id: 'dl-1' }, { id: 'dl-2' }]);
    });

    it('lands alert events exactly once by offset: a stale batch is refused whatever its ids, and a re-emitted event id lands once', async () => {
      const { warehouse: w } = await open();
      const alertsAt = async () => (await w.landedOffsets('cluster-a', TOPICS.alerts)).get(0);
      expect(await w.land(alertBatch(0, 8, -1n))).toEqual({ scoresInserted: 0, deadLettersInserted: 0, alertsInserted: 9 });
      expect(await alertsAt()).toBe(8n);
      // Another run's events (other ids) at positions already landed: refused by the offset, not by the ids.
      await expect(w.land(alertBatch(0, 8, -1n, { run: 'other' }))).rejects.toBeInstanceOf(OffsetConflictError);
      await expect(w.land(alertBatch(6, 11, 5n, { run: 'other' }))).rejects.toBeInstanceOf(OffsetConflictError);
      expect(await count(w, 'SELECT COUNT(*) AS n FROM alerts')).toBe(9);
      // The same events re-emitted at later offsets (the alerting service republishing a batch): the offset moves, no row doubles.
      const again = alertBatch(0, 8, 8n);
      expect(await w.land({ ...again, firstOffset: 9n, lastOffset: 17n })).toEqual({ scoresInserted: 0, deadLettersInserted: 0, alertsInserted: 0 });
      expect(await alertsAt()).toBe(17n);
      expect(await count(w, 'SELECT COUNT(*) AS n FROM alerts')).toBe(9);
      // Scores and alerts keep separate offsets.
      expect((await w.landedOffsets('cluster-a', TOPICS.scores)).size).toBe(0);
    });

    it('stores each alert transition with its acknowledgement, and one row per alert with the share acknowledged', async () => {
      const { warehouse: w } = await open();
      // Alerts 0..3: each raised, acknowledged after n + 1 s by nurse-17, then dismissed; alert 4 only raised.
      await w.land(alertBatch(0, 12, -1n));
      const [ack] = await w.read("SELECT type, status, severity, unit, probability, news2, actor, seconds_to_acknowledge AS s, occurred_at FROM alerts WHERE type = 'acknowledged' AND src_offset = 4");
      expect(ack).toMatchObject({ type: 'acknowledged', status: 'acknowledged', severity: 'medium', unit: 'ward-1', news2: '6', actor: 'nurse-17' });
      expect(Number(ack!.s)).toBe(2);
      expect(Number(ack!.probability)).toBe(0.5);
      expect(await w.read("SELECT dismiss_reason AS r FROM alerts WHERE type = 'dismissed' ORDER BY src_offset")).toEqual(Array.from({ length: 4 }, () => ({ r: 'already_managed' })));
      const outcomes = await w.read('SELECT acknowledged, escalated, closed_as, acknowledged_by, seconds_to_acknowledge AS s FROM alert_outcomes ORDER BY raised_at');
      expect(outcomes.map(({ s: _s, ...rest }) => rest)).toEqual([
        ...[1, 2, 3, 4].map(() => ({ acknowledged: '1', escalated: '0', closed_as: 'dismissed', acknowledged_by: 'nurse-17' })),
        { acknowledged: '0', escalated: '0', closed_as: null, acknowledged_by: null },
      ]);
      expect(outcomes.slice(0, 4).map((o) => Number(o.s))).toEqual([1, 2, 3, 4]);
      // (A NULL number reads as the text "NULL" through snowflake-sdk's fetchAsString: asked in SQL instead.)
      expect(await count(w, 'SELECT COUNT(*) AS n FROM alert_outcomes WHERE seconds_to_acknowledge IS NULL')).toBe(1);
      // The share acknowledged, over closed alerts (the README's query).
      const [share] = await w.read('SELECT AVG(acknowledged) AS share, COUNT(*) AS closed FROM alert_outcomes WHERE closed_at IS NOT NULL');
      expect(Number(share!.share)).toBe(1);
      expect(share!.closed).toBe('4');
    });

    it('stores typed columns and JSON analysts can query, and a latest-score-per-patient view', async () => {
      const { warehouse: w } = await open();
      await w.land(scoreBatch(0, 99, -1n));
      const expected = makeScore(7);
      const [row] = await w.read(
        `SELECT probability, news2, band, ${harness().jsonNumber('features', 'heart_rate')} AS hr, ${harness().jsonFirstText('top_features', 'feature')} AS top, unit, band_source, band_reason FROM severity_scores WHERE score_id = ?`,
        [expected.payload.scoreId],
      );
      expect(Number(row!.probability)).toBe(expected.payload.probability);
      expect(row).toMatchObject({ news2: String(expected.payload.news2), band: expected.payload.band, top: 'heart_rate', unit: 'ward-3' });
      // Which rule set the band, and why (since schema v6; the latest view shows them too).
      expect(row).toMatchObject({ band_source: 'model', band_reason: expected.payload.bandReason });
      expect(await w.read("SELECT band_source FROM severity_scores_latest WHERE patient_id = 'p3'")).toEqual([{ band_source: 'model' }]);
      expect(Number(row!.hr)).toBe(expected.payload.features.heart_rate);
      expect(await count(w, 'SELECT COUNT(*) AS n FROM severity_scores_latest')).toBe(50);
      expect(await w.read("SELECT src_offset AS o FROM severity_scores_latest WHERE patient_id = 'p3'")).toEqual([{ o: '53' }]);
    });

    it('refuses a score whose event time it cannot read as data (a WarehouseDataError, never an outage to retry), and lands the batch without it', async () => {
      const { warehouse: w } = await open();
      await w.land(scoreBatch(0, 4, -1n));
      // The time is what bounds the re-emission lookup (DuckDB) as well as a column.
      for (const eventTime of ['not a time', '2026-13-45T99:99:99Z']) {
        const bad = scoreBatch(5, 9, 4n);
        bad.scores[2]!.eventTime = eventTime;
        const err = await w.land(bad).then(
          () => null,
          (e: unknown) => e,
        );
        expect(err).toBeInstanceOf(WarehouseDataError);
        expect(await landed(w)).toBe(4n);
      }
      const good = scoreBatch(5, 9, 4n);
      expect(await w.land({ ...good, scores: good.scores.filter((_, i) => i !== 2) })).toEqual({ scoresInserted: 4, deadLettersInserted: 0, alertsInserted: 0 });
      expect(await count(w, 'SELECT COUNT(*) AS n FROM severity_scores')).toBe(9);
    });

    it('says so when it refuses the data itself (a cast): a WarehouseDataError, nothing written, the offset where it was', async () => {
      const { warehouse: w } = await open({ strictNews2: true });
      // news2 of the test scores runs 0..11: the 1-digit column refuses 10 and 11.
      const small = (i: number, o?: { run?: string }) => {
        const s = makeScore(i, o);
        s.payload.news2 = i % 10;
        return s;
      };
      expect(await w.land(scoreBatch(0, 9, -1n, { score: small }))).toEqual({ scoresInserted: 10, deadLettersInserted: 0, alertsInserted: 0 });
      const refused = scoreBatch(10, 19, 9n, { score: small });
      refused.scores[4]!.news2 = 12;
      const err = await w.land(refused).then(
        () => null,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(WarehouseDataError);
      expect(await landed(w)).toBe(9n);
      expect(await count(w, 'SELECT COUNT(*) AS n FROM severity_scores')).toBe(10);
      expect(await count(w, 'SELECT COUNT(*) AS n FROM sink_batches')).toBe(1);
      // The connection is fine afterwards.
      expect(await w.land(scoreBatch(10, 19, 9n, { score: small }))).toEqual({ scoresInserted: 10, deadLettersInserted: 0, alertsInserted: 0 });
    });

    it('an outage is neither refused data nor a conflict', async (ctx) => {
      const { warehouse: w, outage } = await open();
      if (!outage) {
        ctx.skip();
        return;
      }
      await w.land(scoreBatch(0, 0, -1n));
      await outage();
      const err = await w.land(scoreBatch(1, 1, 0n)).then(
        () => null,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(Error);
      expect(err).not.toBeInstanceOf(WarehouseDataError);
      expect(err).not.toBeInstanceOf(OffsetConflictError);
    });

    it('two writers of one partition from the same offset: exactly one lands, the other gets a conflict', async () => {
      const { warehouse: a, another } = await open();
      const b = await another();
      opened.push(b);
      for (const [expected, from, to] of [
        [-1n, 0, 9],
        [9n, 10, 19],
      ] as const) {
        // Different score ids per writer: an id check could not hide a double landing.
        const results = await Promise.allSettled([a.land(scoreBatch(from, to, expected, { run: 'writer-a' })), b.land(scoreBatch(from, to, expected, { run: 'writer-b' }))]);
        expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
        const lost = results.find((r) => r.status === 'rejected');
        expect(lost?.reason).toBeInstanceOf(OffsetConflictError);
      }
      expect(await count(a, 'SELECT COUNT(*) AS n FROM severity_scores')).toBe(20);
      expect(await count(a, 'SELECT COUNT(DISTINCT src_offset) AS n FROM severity_scores')).toBe(20);
      expect(await a.read('SELECT first_offset AS f, last_offset AS l FROM sink_batches ORDER BY first_offset')).toEqual([
        { f: '0', l: '9' },
        { f: '10', l: '19' },
      ]);
    });

    it('a writer whose transaction overlaps another one exactly (both past their inserts before either commits) cannot land too', async (ctx) => {
      const o = await open();
      if (!o.holdNextCommit) {
        ctx.skip(); // one connection serializes every write: two transactions never overlap here
        return;
      }
      const b = await o.another();
      opened.push(b);
      await o.warehouse.land(scoreBatch(0, 4, -1n));
      const held = o.holdNextCommit();
      const first = o.warehouse.land(scoreBatch(5, 9, 4n, { run: 'writer-a' }));
      await held.reached; // writer a: rows inserted, offset moved, COMMIT not yet run
      const second = await b.land(scoreBatch(5, 9, 4n, { run: 'writer-b' })).then(
        () => 'landed',
        (e: unknown) => e,
      );
      held.release();
      await first;
      expect(second).toBeInstanceOf(OffsetConflictError);
      expect(await count(b, 'SELECT COUNT(*) AS n FROM severity_scores')).toBe(10);
      expect(await count(b, 'SELECT COUNT(DISTINCT src_offset) AS n FROM severity_scores')).toBe(10);
      expect((await b.landedOffsets('cluster-a', TOPICS.scores)).get(0)).toBe(9n);
    });
  });
}
