import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { startPipeline } from '../src/index.js';

const dir = mkdtempSync(join(tmpdir(), 'ehr-pipeline-model-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('npm start default model', () => {
  it('trains the default model before the services start when MODEL_PATH has none, prints how to reproduce it, and scoring serves it', async () => {
    const modelPath = join(dir, 'model', 'severity-model.json');
    const lines: string[] = [];
    const sink = new Writable({ write: (_c, _e, done) => done() });
    const env = { PRODUCER_PORT: '0', FEATURE_PORT: '0', SCORING_PORT: '0', SINK_PORT: '0', ALERTING_PORT: '0', DASHBOARD_PORT: '0', MODEL_PATH: modelPath, DUCKDB_PATH: join(dir, 'w.duckdb') };
    const pipeline = await startPipeline({ env, say: (l) => lines.push(l), logDestination: sink, defaultModel: true });
    try {
      expect(existsSync(modelPath)).toBe(true);
      const reproduce = lines.findIndex((l) => /^reproduce it byte for byte .*: SOURCE_DATE_EPOCH=\d+ npm run train -- --synthetic .* --out \S+$/.test(l));
      expect(reproduce).toBeGreaterThan(0);
      expect(lines[0]).toMatch(/^no model at .*: training the default model/);
      expect(reproduce).toBeLessThan(lines.findIndex((l) => l.startsWith('producer ready')));
      const model = (await (await fetch(`${pipeline.urls.scoring}/model`)).json()) as { loaded: boolean; trees: number };
      expect(model).toMatchObject({ loaded: true, trees: 100 });
      // No shipped policy was tuned for a synthetic model: the default stays (and alerting warns).
      expect(lines.some((l) => l.startsWith('alert policy:'))).toBe(false);
      expect(await (await fetch(`${pipeline.urls.alerting}/policy`)).json()).toMatchObject({ name: 'default' });
    } finally {
      await pipeline.stop();
    }
  }, 300_000);

  // What a fresh clone gets with the data beside it: a seeded 3,000 of the 18,000 real stays
  // (about 20 s on 2 cores; see @ehr/training). Absent data skips, saying so.
  const physionet = fileURLToPath(new URL('../../../../shared/data/physionet-2019-sepsis', import.meta.url));
  it.skipIf(!existsSync(physionet))(
    'trains the default model on real ICU stays when PhysioNet data is there, and GET /model names its data and label (skipped without ../shared/data/physionet-2019-sepsis)',
    async () => {
      const modelPath = join(dir, 'real', 'severity-model.json');
      const lines: string[] = [];
      const sink = new Writable({ write: (_c, _e, done) => done() });
      const env = {
        PRODUCER_PORT: '0', FEATURE_PORT: '0', SCORING_PORT: '0', SINK_PORT: '0', ALERTING_PORT: '0', DASHBOARD_PORT: '0', PRODUCER_SOURCE: 'none',
        MODEL_PATH: modelPath, DUCKDB_PATH: join(dir, 'real.duckdb'), PHYSIONET_PATH: physionet,
      };
      const pipeline = await startPipeline({ env, say: (l) => lines.push(l), logDestination: sink, defaultModel: true });
      try {
        expect(lines.join('\n')).toMatch(/default model: trained on real ICU stays found at .*physionet2019_setB_train\.parquet/);
        const model = (await (await fetch(`${pipeline.urls.scoring}/model`)).json()) as { loaded: boolean; realData: boolean; data: { source: string; patients: number }; label: { name: string } };
        expect(model).toMatchObject({ loaded: true, realData: true, data: { source: 'physionet', patients: 3000 }, label: { name: 'SepsisLabel' } });
        // The shipped policy tuned for this very model alerts on it: a change to training that
        // moves the default model's version fails here, until its policy is re-tuned.
        const { version } = (await (await fetch(`${pipeline.urls.scoring}/model`)).json()) as { version: string };
        expect(lines).toContain(`alert policy: default-3000 (tuned for model ${version})`);
        expect(await (await fetch(`${pipeline.urls.alerting}/policy`)).json()).toMatchObject({ name: 'default-3000', tunedFor: { name: 'severity-rf-physionet', version } });
      } finally {
        await pipeline.stop();
      }
    },
    300_000,
  );
});
