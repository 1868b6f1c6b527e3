import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FEATURE_NAMES } from '@ehr/features';
import { auroc, readTrainingCsv } from '@ehr/model';
import { describe, expect, it } from 'vitest';
import { tempDir } from './helpers.js';

const dir = tempDir('bench');
const cli = fileURLToPath(new URL('../dist/cli/bench-train.js', import.meta.url));

describe('npm run bench:train', () => {
  it('writes train.csv / test.csv of real feature rows (first n columns, label last), predictions.csv, and ends with the bare JSON line', async () => {
    const out = join(dir, 'set');
    const stdout = execFileSync(process.execPath, [cli, '--rows', '1500', '--features', '20', '--trees', '10', '--out', out], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    const lines = stdout.trimEnd().split('\n');
    const last = JSON.parse(lines.at(-1)!) as Record<string, number>;
    expect(Object.keys(last)).toEqual(['rows', 'features', 'trees', 'trainSeconds', 'auroc', 'auprc']);
    expect(last).toMatchObject({ rows: 1500, features: 20, trees: 10 });
    expect(last.auroc).toBeGreaterThan(0.5);

    const header = readFileSync(join(out, 'train.csv'), 'utf8').split('\n', 1)[0]!.split(',');
    expect(header).toEqual([...FEATURE_NAMES.slice(0, 20), 'label']);
    const train = await readTrainingCsv(join(out, 'train.csv'));
    const test = await readTrainingCsv(join(out, 'test.csv'));
    expect(train.X.rows).toBe(1500);
    expect(test.X.rows).toBe(375);
    expect(new Set(test.y)).toEqual(new Set([0, 1]));
    const predictions = readFileSync(join(out, 'predictions.csv'), 'utf8').trimEnd().split('\n').map(Number);
    expect(predictions).toHaveLength(375);
    for (const p of predictions) expect(p >= 0 && p <= 1).toBe(true);
    expect(Math.round(auroc(test.y, predictions) * 10000) / 10000).toBe(last.auroc);
  }, 120_000);
});
