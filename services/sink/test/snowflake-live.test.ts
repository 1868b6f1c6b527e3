// Opt-in: the same warehouse contract against a live Snowflake account. Runs only when
// SNOWFLAKE_ACCOUNT, SNOWFLAKE_DATABASE and credentials are set (and SNOWFLAKE_ACCESS_URL
// is not, which would be the test server). It works in a scratch schema that it creates
// and drops: SINK_TEST_<pid>_<time>. See README.md, "Live Snowflake test".
import { TOPICS } from '@ehr/features';
import { createLogger } from '@ehr/runtime';
import { describe, expect, it } from 'vitest';
import { createWarehouse, loadConfig, OffsetConflictError, scoreRow, type LandBatch, type SnowflakeWarehouse } from '../src/index.js';
import { makeScore } from './helpers.js';

const env = process.env;
const live = Boolean(
  env.SNOWFLAKE_ACCOUNT && env.SNOWFLAKE_DATABASE && !env.SNOWFLAKE_ACCESS_URL && (env.SNOWFLAKE_PASSWORD || env.SNOWFLAKE_PRIVATE_KEY_PATH || env.SNOWFLAKE_TOKEN),
);
const logger = createLogger({ service: 'sink-live-test', level: 'warn' });

function batch(from: number, to: number, expected: bigint): LandBatch {
  const scores = [];
  for (let i = from; i <= to; i++) {
    const event = makeScore(i, { run: 'live' });
    scores.push(scoreRow('live-test', { topic: TOPICS.scores, partition: 0, offset: String(i), key: null, value: Buffer.alloc(0), headers: {}, timestamp: Date.now() }, event));
  }
  return { cluster: 'live-test', topic: TOPICS.scores, partition: 0, expectedLastOffset: expected, lastOffset: BigInt(to), scores, deadLetters: [] };
}

describe.skipIf(!live)('sink → live Snowflake (opt-in)', () => {
  it('migrates, lands batches exactly once guarded by the offset, and reads back typed and VARIANT columns', { timeout: 300_000 }, async () => {
    const base = loadConfig({ ...env, SINK_WAREHOUSE: 'snowflake' });
    const admin = createWarehouse(base, logger, process.cwd()) as SnowflakeWarehouse;
    const schema = `SINK_TEST_${process.pid}_${Date.now()}`;
    await admin.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
    const w = createWarehouse({ ...base, SNOWFLAKE_SCHEMA: schema }, logger, process.cwd()) as SnowflakeWarehouse;
    try {
      await w.init();
      await w.init();
      expect(await w.land(batch(0, 1999, -1n))).toEqual({ scoresInserted: 2000, deadLettersInserted: 0 });
      await expect(w.land(batch(0, 1999, -1n))).rejects.toBeInstanceOf(OffsetConflictError);
      expect(await w.land({ ...batch(0, 99, 1999n), lastOffset: 2099n })).toEqual({ scoresInserted: 0, deadLettersInserted: 0 });
      expect((await w.landedOffsets('live-test', TOPICS.scores)).get(0)).toBe(2099n);
      const expected = makeScore(7, { run: 'live' });
      const rows = await w.query(
        `SELECT COUNT(*) AS n, COUNT(DISTINCT score_id) AS ids, MAX(IFF(score_id = ?, features:heart_rate::NUMBER, NULL)) AS hr FROM severity_scores`,
        [expected.payload.scoreId],
      );
      expect(rows[0]!.map(String)).toEqual(['2000', '2000', String(expected.payload.features.heart_rate)]);
      const latest = await w.query('SELECT COUNT(*) FROM severity_scores_latest');
      expect(String(latest[0]![0])).toBe('50');
    } finally {
      await w.close();
      await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      await admin.close();
    }
  });
});
