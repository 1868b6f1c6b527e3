// A corrected laboratory result through the whole pipeline: the producer's FHIR intake names
// each version's result and when it was made, the feature service keeps the latest version's
// value only, and the warehouse rows show it. Before, a corrected potassium stood beside the
// value it corrected (two readings at one instant, the wrong one still the 24 h maximum).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, describe, expect, it } from 'vitest';
import { startPipeline } from '../src/index.js';

const dir = mkdtempSync(join(tmpdir(), 'ehr-pipeline-fhir-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const ports = { PRODUCER_PORT: '0', FEATURE_PORT: '0', SCORING_PORT: '0', SINK_PORT: '0', ALERTING_PORT: '0', DASHBOARD_PORT: '0' };
const quiet = () => new Writable({ write: (_c, _e, done) => done() });
const minutesAgo = (m: number) => new Date(Date.now() - m * 60_000).toISOString();

const potassium = (status: string, value: number, lastUpdated: string, effective: string) => ({
  resourceType: 'Observation',
  id: 'k-result-17',
  meta: { lastUpdated },
  status,
  category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'laboratory' }] }],
  code: { coding: [{ system: 'http://loinc.org', code: '2823-3' }] },
  subject: { reference: 'Patient/fhir-versions-1' },
  effectiveDateTime: effective,
  valueQuantity: { value, unit: 'mmol/L', system: 'http://unitsofmeasure.org', code: 'mmol/L' },
});

async function rows(path: string): Promise<{ k: number | null; count: number | null; max: number | null }[]> {
  const instance = await DuckDBInstance.create(path, { access_mode: 'READ_ONLY' });
  const connection = await instance.connect();
  try {
    const reader = await connection.runAndReadAll(
      "SELECT CAST(features->>'potassium' AS DOUBLE) AS k, CAST(features->>'potassium_count_24h' AS DOUBLE) AS c, CAST(features->>'potassium_max_24h' AS DOUBLE) AS m FROM severity_scores ORDER BY src_offset",
    );
    return reader.getRowObjects().map((r) => ({ k: r.k as number | null, count: r.c as number | null, max: r.m as number | null }));
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}

describe('npm start: a corrected FHIR result', () => {
  it('replaces the value it corrects in the patient\'s picture and in the warehouse rows', async () => {
    const duckdb = join(dir, 'fhir.duckdb');
    const env = { ...ports, PRODUCER_SOURCE: 'none', MODEL_PATH: join(dir, 'no-model.json'), DUCKDB_PATH: duckdb, SINK_FLUSH_MS: '200' };
    const pipeline = await startPipeline({ env, say: () => undefined, logDestination: quiet() });
    try {
      const effective = minutesAgo(30);
      for (const o of [potassium('final', 6.5, minutesAgo(20), effective), potassium('corrected', 4.1, minutesAgo(5), effective)]) {
        const r = await fetch(`${pipeline.urls.producer}/fhir/Observation`, { method: 'POST', headers: { 'content-type': 'application/fhir+json' }, body: JSON.stringify(o) });
        expect(r.status, await r.text()).toBe(202);
      }
    } finally {
      await pipeline.stop({ drainTimeoutMs: 60_000 });
    }
    const landed = await rows(duckdb);
    expect(landed.length).toBeGreaterThan(0);
    // The last picture holds the corrected value alone: one reading, 4.1, and 6.5 nowhere.
    expect(landed.at(-1)).toEqual({ k: 4.1, count: 1, max: 4.1 });
  }, 120_000);
});
