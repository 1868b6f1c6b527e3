// `npm start` starts from what a user may leave behind: an empty variable, a damaged spool.
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { TOPICS } from '@ehr/features';
import { afterAll, describe, expect, it } from 'vitest';
import { startPipeline } from '../src/index.js';

const dir = mkdtempSync(join(tmpdir(), 'ehr-pipeline-start-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const ports = { PRODUCER_PORT: '0', FEATURE_PORT: '0', SCORING_PORT: '0', SINK_PORT: '0', ALERTING_PORT: '0', DASHBOARD_PORT: '0' };
const env = (name: string) => ({ ...ports, PRODUCER_SOURCE: 'none', MODEL_PATH: join(dir, 'no-model.json'), DUCKDB_PATH: join(dir, `${name}.duckdb`) });

/** The services' JSON log lines. */
function logLines() {
  const lines: { level: string }[] = [];
  const destination = new Writable({
    write: (chunk: Buffer, _e, done) => {
      for (const l of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(l) as { level: string });
      done();
    },
  });
  return { lines, destination };
}

describe('npm start starts', () => {
  it('with LOG_LEVEL= (empty), at the default level, warn', async () => {
    const logs = logLines();
    const pipeline = await startPipeline({ env: { ...env('log-level'), LOG_LEVEL: '' }, say: () => undefined, logDestination: logs.destination, spoolDir: join(dir, 'spool-log-level') });
    try {
      expect(Object.keys(pipeline.urls)).toHaveLength(6);
    } finally {
      await pipeline.stop();
    }
    expect(logs.lines.filter((l) => !['warn', 'error', 'fatal'].includes(l.level))).toEqual([]);
  });

  it('with a damaged spool: resumes what is readable, moves the file aside and reports it', async () => {
    const spoolDir = join(dir, 'spool-damaged');
    mkdirSync(spoolDir, { recursive: true });
    const record = JSON.stringify({ topic: TOPICS.events, key: 'p1', value: Buffer.from('{}').toString('base64'), headers: {} });
    writeFileSync(join(spoolDir, 'pipeline-spool.jsonl.gz'), gzipSync(`${record}\n{"topic":"ehr.ev`));
    const said: string[] = [];
    const pipeline = await startPipeline({ env: env('damaged'), say: (l) => said.push(l), logDestination: logLines().destination, spoolDir });
    try {
      expect(said[0]).toMatch(/^resuming 1 records the last stop kept/);
      expect(pipeline.resumed).toMatchObject({ total: 1, damaged: [{ kept: 1, unreadable: 1, problems: [expect.stringMatching(/pipeline-spool\.jsonl\.gz:2: not JSON/)] }] });
      expect(readdirSync(spoolDir)).toContainEqual(expect.stringMatching(/^pipeline-spool\.jsonl\.gz\.bad-\d+$/));
    } finally {
      await pipeline.stop();
    }
  });
});
