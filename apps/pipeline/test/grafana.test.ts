// docs/grafana/ehr-pipeline.json queries only metrics the services really expose.
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { startPipeline } from '../src/index.js';

const dashboardFile = new URL('../../../docs/grafana/ehr-pipeline.json', import.meta.url);

/** Every sample name a /metrics text can have: histograms and summaries expand to their series. */
function exposedNames(text: string): Set<string> {
  const names = new Set<string>();
  for (const m of text.matchAll(/^# TYPE (\S+) (\w+)$/gm)) {
    const [, name, type] = m as unknown as [string, string, string];
    names.add(name);
    if (type === 'histogram') for (const s of ['_bucket', '_sum', '_count']) names.add(name + s);
    if (type === 'summary') for (const s of ['_sum', '_count']) names.add(name + s);
  }
  return names;
}

describe('the Grafana dashboard', () => {
  it('queries only metrics that some service exposes, with Node defaults under their standard names', async () => {
    const dashboard = JSON.parse(readFileSync(dashboardFile, 'utf8')) as { panels: { title: string; targets: { expr: string }[] }[] };
    const queried = new Set(dashboard.panels.flatMap((p) => p.targets.flatMap((t) => t.expr.match(/\b(ehr|process|nodejs)_[a-z0-9_]+/g) ?? [])));
    expect(queried.size).toBeGreaterThan(15);

    const dir = mkdtempSync(join(tmpdir(), 'grafana-'));
    const env = { PRODUCER_PORT: '0', FEATURE_PORT: '0', SCORING_PORT: '0', SINK_PORT: '0', ALERTING_PORT: '0', DASHBOARD_PORT: '0', PRODUCER_SOURCE: 'none', MODEL_PATH: join(dir, 'none.json'), DUCKDB_PATH: join(dir, 'w.duckdb') };
    const pipeline = await startPipeline({ env, say: () => undefined, logDestination: new Writable({ write: (_c, _e, done) => done() }) });
    try {
      const exposed = new Set<string>();
      for (const url of Object.values(pipeline.urls)) for (const n of exposedNames(await (await fetch(`${url}/metrics`)).text())) exposed.add(n);
      expect([...queried].filter((name) => !exposed.has(name))).toEqual([]);
      // Stock Node.js dashboards look for these names, unprefixed.
      expect(exposed.has('process_cpu_seconds_total')).toBe(true);
      expect(exposed.has('ehr_process_cpu_seconds_total')).toBe(false);
    } finally {
      await pipeline.stop();
    }
  }, 120_000);
});
