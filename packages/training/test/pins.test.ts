// Pinned outputs of every pipeline: the same data and seed must give the same artifact
// (content hash) and the same figures, whichever way the pipelines are put together. A
// deliberate change of the features, the forest or the evaluation moves these: run
// `UPDATE_PINS=1 npx vitest run test/pins.test.ts` and commit the new test/pins.json.
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildDataset, crossValidate, evaluateModel, evaluateOnData, parseTrainArgs, trainModel, trainOnPhysioNet, type Dataset, type TrainCommand } from '../src/index.js';
import { SMALL_ARGS, tempDir, writeFakePhysioNet } from './helpers.js';

const dir = tempDir('pins');
const PINS = new URL('./pins.json', import.meta.url);
const pinned = JSON.parse(readFileSync(PINS, 'utf8')) as Record<string, string>;
const seen: Record<string, string> = {};
const createdAt = '2026-01-01T00:00:00.000Z';

/** A digest of figures, without the wall-clock seconds that differ between runs. */
function digest(value: unknown): string {
  const strip = (v: unknown): unknown =>
    Array.isArray(v) ? v.map(strip) : v !== null && typeof v === 'object' ? Object.fromEntries(Object.entries(v).filter(([k]) => k !== 'seconds').map(([k, x]) => [k, strip(x)])) : v;
  return createHash('sha256').update(JSON.stringify(strip(value))).digest('hex').slice(0, 16);
}

function pin(name: string, value: string): void {
  seen[name] = value;
  if (process.env.UPDATE_PINS !== '1') expect(value, name).toBe(pinned[name]);
}

afterAll(() => {
  if (process.env.UPDATE_PINS === '1') writeFileSync(PINS, JSON.stringify(seen, null, 1) + '\n');
});

/** The options `npm run train -- <args>` gives in `mode`. */
function command<M extends TrainCommand['mode']>(mode: M, args: string[]): Extract<TrainCommand, { mode: M; options: unknown }>['options'] {
  const c: TrainCommand = parseTrainArgs(args);
  if (c.mode !== mode || !('options' in c)) throw new Error(`expected ${mode}, got ${c.mode}`);
  return c.options as never;
}

describe('pinned outputs: same data and seed, same artifact and figures', () => {
  let data: Dataset;
  beforeAll(async () => {
    data = await buildDataset(command('train', SMALL_ARGS).source);
  }, 60_000);

  it('synthetic cohort: artifact, test evaluation; external evaluation of it; cross-validation', async () => {
    const trained = await trainModel({ ...command('train', [...SMALL_ARGS, '--out', join(dir, 'syn', 'model.json')]), dataset: data, createdAt });
    pin('synthetic.contentHash', trained.artifact.contentHash);
    pin('synthetic.evaluation', digest(trained.evaluation));
    const external = await evaluateModel({ ...command('evaluate', [...SMALL_ARGS, '--evaluate', trained.modelPath, '--report', join(dir, 'syn', 'eval.html')]), dataset: data });
    pin('synthetic.evaluate', digest(external.evaluation));
    const cv = await crossValidate({ ...command('cross-validate', [...SMALL_ARGS, '--folds', '3', '--report', join(dir, 'cv.html')]), dataset: data });
    pin('synthetic.crossValidation', digest({ folds: cv.folds, evaluation: cv.evaluation }));
  }, 120_000);

  it('PhysioNet-format stays: artifact (alarm, bands, seen patients), clinical evaluation, evaluation JSON; npm run evaluate on the rest', async () => {
    const psv = join(dir, 'psv');
    await writeFakePhysioNet(psv, 120, 7);
    const r = await trainOnPhysioNet({ path: psv, out: join(dir, 'physionet', 'model.json'), seed: 3, forest: { nTrees: 20, workers: 1 }, bootstrap: 20, createdAt });
    pin('physionet.contentHash', r.artifact.contentHash);
    pin('physionet.evaluation', digest(r.evaluation));
    const json = JSON.parse(readFileSync(r.jsonPath!, 'utf8')) as { timings: unknown; evaluation: unknown };
    pin('physionet.json', digest({ ...json, timings: null }));
    const e = await evaluateOnData({ model: r.modelPath, data: psv, bootstrap: 10 });
    pin('physionet.evaluateOnData', digest(e.evaluation));
  }, 120_000);
});
