// The pipeline benchmark's report: figures, the ceiling fraction, the plots.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { change, renderReport, writePipelineReport, type PhaseResult, type PipelineBenchResult } from '../src/bench/report.js';
import { perSecond, summarizeLatencies } from '../src/bench/stats.js';

const phase = (throughput: number, latencies: number[]): PhaseResult => ({
  events: 1000,
  rateOffered: 500,
  postSeconds: 2,
  throughputPerSec: throughput,
  seconds: 2,
  latencyMs: summarizeLatencies(latencies),
  toScoreMs: summarizeLatencies(latencies.map((v) => v / 10)),
  toVectorMs: summarizeLatencies(latencies.map((v) => v / 20)),
  vectorToScoreMs: summarizeLatencies(latencies.map((v) => v / 20)),
  scoreToRowMs: summarizeLatencies(latencies.map((v) => v * 0.9)),
  publishedPerSecond: [500, 500],
  landedPerSecond: [400, 600],
  processes: [{ name: 'feature', cpuSeconds: 1, cpuCores: 0.5, rssMeanBytes: 100 * 2 ** 20, rssMaxBytes: 120 * 2 ** 20, samples: 8 }],
});

describe('summarizeLatencies (HDR)', () => {
  it('gives percentiles within the histogram resolution', () => {
    const s = summarizeLatencies(Array.from({ length: 1000 }, (_, i) => i + 1));
    expect(s.count).toBe(1000);
    expect(s.p50).toBeGreaterThanOrEqual(499);
    expect(s.p50).toBeLessThanOrEqual(501);
    expect(s.p99).toBeGreaterThanOrEqual(989);
    expect(s.p99).toBeLessThanOrEqual(991);
    expect(s.max).toBe(1000);
  });

  it('counts events per second', () => {
    expect(perSecond([1000, 1500, 2999, 4000], 1000)).toEqual([2, 1, 0, 1]);
  });
});

/** A bench result of a 2-core test machine, with the phases and topic bytes the test sets. */
function benchResult(parts: Pick<PipelineBenchResult, 'kafkaBytes' | 'saturation' | 'latency'>): PipelineBenchResult {
  return {
    benchmark: 'pipeline',
    at: '2026-11-29T12:00:00.000Z',
    machine: { cpus: 2, cpuModel: 'test', memoryMb: 1000, node: 'v20', loadAverage1m: { before: 1, after: 2 } },
    kafka: { brokers: '127.0.0.1:1', external: false, partitions: 3 },
    config: { events: 1000, latencySeconds: 2, sinkFlushMs: 1000, model: 'm.json', warehouse: 'duckdb' },
    accounting: { published: 2000, scored: 1990, deadLettered: 5, duplicates: 5, problems: 0 },
    readiness: { sink: 200 },
    ...parts,
  };
}

describe('writePipelineReport', () => {
  it('writes the Markdown report with the ceiling of the same run and two SVG plots', () => {
    const dir = mkdtempSync(join(tmpdir(), 'e2e-report-'));
    try {
      const result = benchResult({
        kafkaBytes: { 'ehr.events.v1': 600_000, 'ehr.features.v1': 12_000_000 },
        saturation: phase(1000, [100, 200, 300]),
        latency: phase(500, [50, 60, 70]),
      });
      writeFileSync(join(dir, 'pipeline.json'), JSON.stringify(result));
      writeFileSync(
        join(dir, 'kafka-ceiling.json'),
        JSON.stringify({ at: '2026-11-29T11:59:00.000Z', produce: { messagesPerSec: 20_000, mbPerSec: 20 }, consume: { messagesPerSec: 100_000, mbPerSec: 100 }, config: { messageBytes: 1024, partitions: 3 }, kafka: { brokers: 'x', external: false } }),
      );
      const { summary } = writePipelineReport(dir, { runStartedAt: Date.parse('2026-11-29T11:58:00.000Z') });
      const md = readFileSync(join(dir, 'pipeline.md'), 'utf8');
      expect(summary).toContain('1,000 events/s sustained (5.0 % of the raw Kafka produce ceiling');
      expect(md).toContain('| pipeline events/s as a fraction of raw produce messages/s | **5.0 %** |');
      // 12.6 MB over 2,000 events = 6.3 kB each; at 1,000/s that is 6.3 MB/s of 20 MB/s.
      expect(md).toContain('**31.5 %** (6.3 MB/s)');
      expect(md).toContain('measured in the same `npm run bench`');
      expect(md).toContain('| feature | 0.50 | 100 / 120 |');
      // event → scored, split where the feature service published the vector.
      expect(md).toMatch(/\| ↳ event → vector published \(feature service\) \| [\d,]+ \|/);
      expect(md).toMatch(/\| ↳ vector published → scored \(scoring service\) \| [\d,]+ \|/);
      for (const svg of ['pipeline-latency.svg', 'pipeline-throughput.svg']) expect(readFileSync(join(dir, svg), 'utf8')).toMatch(/^<svg [^>]*>[\s\S]*<polyline[\s\S]*<\/svg>\n$/);

      writePipelineReport(dir, { runStartedAt: Date.parse('2026-11-29T12:30:00.000Z') });
      expect(readFileSync(join(dir, 'pipeline.md'), 'utf8')).toContain('from an earlier run, not this one');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('sets the scale-out run beside the single-instance one, with its accounting and what each replica consumed', () => {
    const base = benchResult({ kafkaBytes: null, saturation: phase(1000, [100]), latency: phase(500, [50]) });
    const scaled = phase(1500, [100]);
    scaled.processes = [{ name: 'feature-2', cpuSeconds: 1, cpuCores: 0.4, rssMeanBytes: 50 * 2 ** 20, rssMaxBytes: 60 * 2 ** 20, samples: 8 }];
    const { markdown, summary } = renderReport(
      {
        ...base,
        scaleOut: {
          partitions: 6,
          replicas: { producer: 1, feature: 2, scoring: 2, sink: 1 },
          accounting: { published: 1000, scored: 990, deadLettered: 6, duplicates: 4, problems: 0 },
          consumedBy: { feature: 600, 'feature-2': 400, scoring: 500, 'scoring-2': 490 },
          saturation: scaled,
        },
      },
      null,
      '',
    );
    expect(markdown).toContain('## Scale-out');
    expect(markdown).toContain('| scaled out | 6 | 1 × producer, 2 × feature, 2 × scoring, 1 × sink | **1,500** | 1,000 published = 990 scored + 6 dead-lettered + 4 duplicates, 0 problems |');
    expect(markdown).toContain('| single instance | 3 | one of each stage | 1,000 | 2,000 published');
    expect(markdown).toContain('Throughput scaled out against single instance: **+50 %: rose**');
    expect(markdown).toContain('| feature-2 | 400 | 0.40 | 50 / 60 |');
    expect(summary).toContain('scaled out (6 partitions, 2 × feature, 2 × scoring): 1,500 events/s (+50 %: rose)');
    expect(renderReport(base, null, '').markdown).not.toContain('## Scale-out');
  });

  it('says whether throughput rose, fell or stayed within the noise', () => {
    expect(change(1000, 1300)).toBe('+30 %: rose');
    expect(change(1000, 980)).toBe('−2 %: about the same (within 5 %)');
    expect(change(1000, 800)).toBe('−20 %: fell');
  });
});
