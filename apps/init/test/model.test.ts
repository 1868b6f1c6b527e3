import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MemoryBus } from '@ehr/bus';
import { createLogger } from '@ehr/runtime';
import { createScoringService, loadConfig } from '@ehr/scoring';
import { describe, expect, it } from 'vitest';
import { prepareDefaultModel } from '../src/index.js';

const SMALL = ['--synthetic', '--seed', '1', '--patients', '60', '--hours', '48', '--trees', '10'];

describe('the model step (compose `model`, npm start, npm run stack)', () => {
  it('trains the default model into an empty model volume, which the scoring service then serves', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'init-model-')), 'volume', 'severity-model.json');
    const lines: string[] = [];
    const ensured = await prepareDefaultModel({ MODEL_PATH: path, SOURCE_DATE_EPOCH: '1767225600' }, (l) => lines.push(l), SMALL);
    expect(ensured.trained).toBe(true);
    expect(lines.join('\n')).toContain('reproduce it byte for byte');
    // A second run keeps what is there.
    expect((await prepareDefaultModel({ MODEL_PATH: path }, () => undefined, SMALL)).trained).toBe(false);

    const service = createScoringService({ config: loadConfig({ MODEL_PATH: path, MODEL_WATCH: 'false' }), logger: createLogger({ service: 'scoring', level: 'silent' }), bus: new MemoryBus() });
    try {
      await service.start();
      expect(service.models.current?.nTrees).toBe(10);
      expect((await service.app.inject('/health/ready')).json().status).toBe('ready');
    } finally {
      await service.stop();
      await service.app.close();
    }
  }, 120_000);
});
