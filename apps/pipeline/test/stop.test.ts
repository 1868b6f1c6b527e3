// Ctrl-C loses nothing accepted: a stop closes intake, drains every stage in flow order,
// and what it cannot drain in time is kept on disk and resumed by the next start.
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { DuckDBInstance } from '@duckdb/node-api';
import { generateCohort } from '@ehr/cohort';
import type { RawEvent } from '@ehr/features';
import { afterAll, describe, expect, it } from 'vitest';
import { startPipeline } from '../src/index.js';

const dir = mkdtempSync(join(tmpdir(), 'ehr-pipeline-stop-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const ports = { PRODUCER_PORT: '0', FEATURE_PORT: '0', SCORING_PORT: '0', SINK_PORT: '0', DASHBOARD_PORT: '0' };
const quiet = () => new Writable({ write: (_c, _e, done) => done() });
// No artefacts: every event is valid, new and on time, so each one becomes exactly one score row.
const events: RawEvent[] = generateCohort({ seed: 5, patients: 40, hours: 24, artefactRate: 0 }).events.map((r) => r.event);

async function post(producer: string, batch: RawEvent[]): Promise<void> {
  const r = await fetch(`${producer}/events`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(batch) });
  if (r.status !== 202) throw new Error(`POST /events answered ${r.status}: ${await r.text()}`);
}

async function scoreRows(path: string): Promise<{ rows: number; distinctEvents: number }> {
  const instance = await DuckDBInstance.create(path, { access_mode: 'READ_ONLY' });
  const connection = await instance.connect();
  try {
    const reader = await connection.runAndReadAll('SELECT count(*) AS n, count(DISTINCT event_id) AS d FROM severity_scores');
    const [row] = reader.getRowObjects();
    return { rows: Number(row!.n), distinctEvents: Number(row!.d) };
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}

describe('npm start: stopping loses nothing that was accepted', () => {
  it('Ctrl-C right after a burst: intake closes, each stage drains in flow order, every accepted event lands', async () => {
    const duckdb = join(dir, 'drain.duckdb');
    const spoolDir = join(dir, 'spool-drain');
    const said: string[] = [];
    const env = { ...ports, MODEL_PATH: join(dir, 'no-model.json'), DUCKDB_PATH: duckdb, SINK_FLUSH_MS: '300' };
    const pipeline = await startPipeline({ env, say: (l) => said.push(l), logDestination: quiet(), spoolDir });
    for (let i = 0; i < events.length; i += 1000) await post(pipeline.urls.producer!, events.slice(i, i + 1000));
    // Every request answered 202; stop at once, with most of it still on the in-memory bus.
    const report = await pipeline.stop({ drainTimeoutMs: 120_000, progressEveryMs: 200 });
    expect(report).toMatchObject({ drained: true, kept: { total: 0, path: null } });
    expect(said.some((l) => /^draining (feature|scoring|sink): [\d,]+ records to go/.test(l))).toBe(true);
    expect(await scoreRows(duckdb)).toEqual({ rows: events.length, distinctEvents: events.length });
    expect(existsSync(spoolDir) ? readdirSync(spoolDir) : []).toEqual([]);
  });

  it('a stop that cannot drain in time keeps the rest on disk; the next start resumes it and everything lands once', async () => {
    const duckdb = join(dir, 'spool.duckdb');
    const spoolDir = join(dir, 'spool-resume');
    const env = { ...ports, MODEL_PATH: join(dir, 'no-model.json'), DUCKDB_PATH: duckdb, SINK_FLUSH_MS: '300' };
    const first = await startPipeline({ env, say: () => undefined, logDestination: quiet(), spoolDir });
    for (let i = 0; i < events.length; i += 1000) await post(first.urls.producer!, events.slice(i, i + 1000));
    // A second Ctrl-C writes what has not landed, synchronously, and says how much.
    const forced = first.keepUnlanded();
    expect(forced.total).toBeGreaterThan(0);
    expect(forced.path && existsSync(forced.path)).toBe(true);
    // No time to drain: whatever is not landed when the stages stop is kept.
    const stopped = await first.stop({ drainTimeoutMs: 0 });
    expect(stopped.drained).toBe(false);
    expect(stopped.kept.total).toBeGreaterThan(0);
    const landedBefore = (await scoreRows(duckdb)).rows;
    expect(landedBefore).toBeLessThan(events.length);

    const said: string[] = [];
    const second = await startPipeline({ env, say: (l) => said.push(l), logDestination: quiet(), spoolDir });
    expect(second.resumed.total).toBe(stopped.kept.total);
    expect(said[0]).toMatch(/^resuming [\d,]+ records the last stop kept \(/);
    const report = await second.stop({ drainTimeoutMs: 120_000 });
    expect(report.drained).toBe(true);
    // Every accepted event once: nothing lost, nothing landed twice.
    expect(await scoreRows(duckdb)).toEqual({ rows: events.length, distinctEvents: events.length });
    expect(readdirSync(spoolDir)).toEqual([]);
  });
});
