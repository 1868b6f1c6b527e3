import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { startPipeline } from '../src/index.js';

const dir = mkdtempSync(join(tmpdir(), 'ehr-pipeline-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const ports = { PRODUCER_PORT: '0', FEATURE_PORT: '0', SCORING_PORT: '0', SINK_PORT: '0', ALERTING_PORT: '0', DASHBOARD_PORT: '0' };

async function readiness(url: string) {
  const r = await fetch(`${url}/health/ready`);
  return { status: r.status, body: (await r.json()) as { status: string } };
}

describe('npm start pipeline', () => {
  it('starts the services and the dashboard, each ready (scoring degraded without a model), and stops cleanly', async () => {
    const lines: string[] = [];
    const sink = new Writable({ write: (_c, _e, done) => done() });
    const env = { ...ports, MODEL_PATH: join(dir, 'no-model.json'), DUCKDB_PATH: join(dir, 'a.duckdb') };
    const pipeline = await startPipeline({ env, say: (l) => lines.push(l), logDestination: sink });
    try {
      expect(lines.map((l) => l.split(':')[0])).toEqual(['producer ready', 'feature ready', 'scoring ready', 'sink ready', 'alerting ready', 'dashboard']);
      for (const line of lines.slice(0, 5)) expect(line).toMatch(/^\w+ ready: http:\/\/127\.0\.0\.1:\d+\/health\/ready$/);
      expect(lines[5]).toMatch(/^dashboard: http:\/\/127\.0\.0\.1:\d+\/$/);
      for (const [name, url] of Object.entries(pipeline.urls)) {
        const { status, body } = await readiness(url);
        expect(status, name).toBe(200);
        // Without a model scoring serves NEWS2 alone and says so.
        expect(body.status, name).toBe(name === 'scoring' ? 'degraded' : 'ready');
      }
      // On the in-memory bus intake waits for the stages up to 10 s before a 503 (EMBEDDED_DEFAULTS).
      const intake = (await readiness(pipeline.urls.producer!)).body as unknown as { dependencies: Record<string, { detail?: string }> };
      expect(intake.dependencies.intake?.detail).toBe('produce deadline 10000 ms');
    } finally {
      await pipeline.stop();
    }
  });

  it('streams the synthetic ward through to the warehouse, says when the first score lands, and prints a live summary', async () => {
    const summaries: string[] = [];
    const firsts: string[] = [];
    const sink = new Writable({ write: (_c, _e, done) => done() });
    const env = { ...ports, PRODUCER_SOURCE: 'synthetic', PRODUCER_RATE: '200', MODEL_PATH: join(dir, 'no-model.json'), DUCKDB_PATH: join(dir, 'b.duckdb'), SINK_FLUSH_MS: '200' };
    const pipeline = await startPipeline({ env, say: () => undefined, logDestination: sink, summary: { intervalMs: 300, show: (l) => summaries.push(l), onFirstScore: (l) => firsts.push(l) } });
    try {
      const deadline = Date.now() + 60_000;
      const landed = () => summaries.some((l) => /warehouse [1-9][\d,]* rows/.test(l) && /events\/s [1-9]/.test(l));
      while (!landed() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
      expect(summaries.at(-1)).toMatch(/^events\/s \d+\.\d · patients \d+ · low \d+ · medium \d+ · high \d+ · scores [\d,]+ · warehouse [\d,]+ rows$/);
      expect(landed()).toBe(true);
      // Once, without the patient's id (no model here: NEWS2 only).
      expect(firsts).toHaveLength(1);
      expect(firsts[0]).toMatch(/^first score \d+\.\d s after the services started: band (low|medium|high) · NEWS2 only · NEWS2 (\d+|–)$/);
    } finally {
      await pipeline.stop();
    }
  }, 120_000);
});
