import { describe, expect, it } from 'vitest';
import { DEFAULT_MODEL_ARGS, DEFAULT_MODEL_PATH, DEFAULT_THRESHOLD_RULE, exportPathFor, parseTrainArgs, shellQuote, trainCommand } from '../src/index.js';

describe('npm run train arguments', () => {
  it('defaults: a synthetic cohort, outcome labels within 12 h, 200 trees of depth 12, sqrt, min leaf 5, the default path', () => {
    const c = parseTrainArgs([]);
    if (c.mode !== 'train') throw new Error('expected train');
    expect(c.options.source).toEqual({ kind: 'synthetic', seed: 1, patients: 300, hours: 120 });
    expect(c.options.label).toEqual({ kind: 'outcome', horizonHours: 12 });
    expect(c.options.out).toBe(DEFAULT_MODEL_PATH);
    expect(c.options.forest).toEqual({ nTrees: 200, maxDepth: 12, maxFeatures: 'sqrt', minSamplesLeaf: 5 });
    expect(c.options.exportMlRandomForest).toBeNull();
  });

  it('sources, threshold labels, export and evaluation', () => {
    const d = parseTrainArgs(['--data', 'data/cohort', '--seed', '4', '--trees', '50', '--export', 'ml-random-forest', '--out', 'm/x.json']);
    if (d.mode !== 'train') throw new Error('expected train');
    expect(d.options.source).toEqual({ kind: 'cohort', dir: 'data/cohort' });
    expect(d.options.seed).toBe(4);
    expect(d.options.exportMlRandomForest).toBe('m/x.ml-random-forest.json');
    const t = parseTrainArgs(['--label', 'threshold', '--hr', '130', '--temp', '39.5']);
    if (t.mode !== 'train') throw new Error('expected train');
    expect(t.options.label).toEqual({ kind: 'threshold', rule: { heartRate: 130, temperature: 39.5 } });
    const t2 = parseTrainArgs(['--label', 'threshold']);
    if (t2.mode !== 'train') throw new Error('expected train');
    expect(t2.options.label).toEqual({ kind: 'threshold', rule: DEFAULT_THRESHOLD_RULE });
    const e = parseTrainArgs(['--meds', 'x.parquet', '--evaluate', 'model.json', '--report', 'r.html', '--horizon', '24']);
    expect(e).toMatchObject({ mode: 'evaluate', options: { source: { kind: 'meds', file: 'x.parquet' }, label: { kind: 'outcome', horizonHours: 24 }, model: 'model.json', report: 'r.html' } });
  });

  it('refuses contradictions and unknown flags', () => {
    expect(() => parseTrainArgs(['--data', 'a', '--meds', 'b'])).toThrow(/one source/);
    expect(() => parseTrainArgs(['--hr', '120'])).toThrow(/--label threshold/);
    expect(() => parseTrainArgs(['--meds', 'x', '--patients', '3'])).toThrow(/synthetic/);
    expect(() => parseTrainArgs(['--trees', '0'])).toThrow(/--trees/);
    expect(() => parseTrainArgs(['--export', 'onnx'])).toThrow(/ml-random-forest/);
    expect(() => parseTrainArgs(['--evaluate', 'm.json'])).toThrow(/--report/);
    expect(() => parseTrainArgs(['--bogus'])).toThrow();
  });

  it('prints a command a shell runs as given', () => {
    expect(shellQuote('data/model/a.json')).toBe('data/model/a.json');
    expect(shellQuote("it's here")).toBe(`'it'\\''s here'`);
    expect(trainCommand(['--seed', '1', '--out', 'a b.json'], { SOURCE_DATE_EPOCH: '5' })).toBe("SOURCE_DATE_EPOCH=5 npm run train -- --seed 1 --out 'a b.json'");
    expect(exportPathFor('x/model.json.gz')).toBe('x/model.ml-random-forest.json');
    expect(parseTrainArgs([...DEFAULT_MODEL_ARGS]).mode).toBe('train');
  });
});
