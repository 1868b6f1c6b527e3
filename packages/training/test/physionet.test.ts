import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { createRandom } from '@ehr/features';
import { loadModelArtifact, readModelArtifact, saveModelArtifact, sawPatient, sealArtifact } from '@ehr/model';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  bestUtilityThreshold,
  calibrationSlope,
  ensureDefaultModel,
  evaluateClinically,
  evaluateOnData,
  hourUtility,
  loadPhysioNetDataset,
  normalizedUtility,
  parseTrainArgs,
  rowUtilities,
  nestedSample,
  PHYSIONET_REFERENCE_DATA,
  PHYSIONET_SPLIT,
  splitByPatient,
  splitCaveat,
  subsetDescription,
  subsetOfRows,
  trainOnPhysioNet,
  unrecordedSubset,
  type PhysioNetTrainingResult,
} from '../src/index.js';
import { SMALL_ARGS, tempDir, writeFakePhysioNet } from './helpers.js';

const dir = tempDir('physionet');
const data = join(dir, 'psv');

describe('the Challenge utility (constants of clinical-reference.md)', () => {
  it('scores an hour as the reference says', () => {
    // Septic stay, onset t_s = 20: alarms earn 0 at t_s − 12, 1 at t_s − 6, 0 at t_s + 3, never below −0.05.
    expect(hourUtility(8, 20, true)).toBeCloseTo(0, 12);
    expect(hourUtility(14, 20, true)).toBeCloseTo(1, 12);
    expect(hourUtility(11, 20, true)).toBeCloseTo(0.5, 12);
    expect(hourUtility(2, 20, true)).toBe(-0.05);
    expect(hourUtility(23, 20, true)).toBeCloseTo(0, 12);
    expect(hourUtility(17, 20, true)).toBeCloseTo(2 / 3, 12);
    // Silence: 0 up to t_s − 6, then down to −2 at t_s + 3; nothing counts after.
    expect(hourUtility(14, 20, false)).toBe(0);
    expect(hourUtility(23, 20, false)).toBeCloseTo(-2, 12);
    expect(hourUtility(30, 20, false)).toBe(0);
    expect(hourUtility(30, 20, true)).toBe(0);
    // Not septic: an alarm costs 0.05.
    expect(hourUtility(5, Infinity, true)).toBe(-0.05);
    expect(hourUtility(5, Infinity, false)).toBe(0);
  });

  it('normalises: best is 1, never alarming is 0; onset is the first label + 6; the best threshold is found exactly', () => {
    // Two stays of 30 h: one septic (labels from hour 14 → onset 20), one not.
    const y = [...Array.from({ length: 30 }, (_, h) => (h >= 14 ? 1 : 0)), ...new Array<number>(30).fill(0)];
    const patientOf = [...new Array<number>(30).fill(0), ...new Array<number>(30).fill(1)];
    const hourOf = [...Array.from({ length: 30 }, (_, h) => h), ...Array.from({ length: 30 }, (_, h) => h)];
    const u = rowUtilities(y, patientOf, hourOf);
    expect(normalizedUtility(u, () => false).normalized).toBe(0);
    expect(normalizedUtility(u, (i) => i < 30 && hourOf[i]! >= 8 && hourOf[i]! <= 23).normalized).toBeCloseTo(1, 12);
    // A score that alarms exactly those hours: the best threshold finds utility 1.
    const p = y.map((_, i) => (i < 30 && hourOf[i]! >= 8 && hourOf[i]! <= 23 ? 0.9 : 0.1));
    const best = bestUtilityThreshold(u, p);
    expect(best.threshold).toBe(0.9);
    expect(best.utility.normalized).toBeCloseTo(1, 12);
    expect(normalizedUtility(u, () => true).normalized).toBeLessThan(1);
  });
});

describe('clinical evaluation pieces', () => {
  it('calibration slope 1 and intercept 0 for calibrated probabilities; slope < 1 when overconfident', () => {
    const r = createRandom(5);
    const p: number[] = [];
    const y: number[] = [];
    for (let i = 0; i < 40000; i++) {
      const q = 0.01 + 0.5 * r.next();
      p.push(q);
      y.push(r.next() < q ? 1 : 0);
    }
    const fit = calibrationSlope(y, p);
    expect(fit.slope).toBeGreaterThan(0.9);
    expect(fit.slope).toBeLessThan(1.1);
    expect(Math.abs(fit.intercept)).toBeLessThan(0.15);
    const over = calibrationSlope(y, p.map((q) => 1 / (1 + Math.exp(-3 * Math.log(q / (1 - q))))));
    expect(over.slope).toBeLessThan(0.5);
  });

  it('per stay: the maximum score over the stay against ever positive; operating points count alerts per patient-day and lead times', () => {
    // Patient 0 septic (labels from hour 4 → onset 10), patient 1 not; 12 h each.
    const y = [...Array.from({ length: 12 }, (_, h) => (h >= 4 ? 1 : 0)), ...new Array<number>(12).fill(0)];
    const patientOf = [...new Array<number>(12).fill(0), ...new Array<number>(12).fill(1)];
    const hourOf = [...Array.from({ length: 12 }, (_, h) => h), ...Array.from({ length: 12 }, (_, h) => h)];
    const probability = y.map((_, i) => (i === 2 || i === 3 ? 0.9 : i === 15 ? 0.5 : 0.1));
    const e = evaluateClinically({ y, patientOf, hourOf, probability, news2: probability.map((p) => p * 10), qsofa: new Array<number>(24).fill(0), alarmThreshold: 0.8, bands: { medium: 0.4, high: 0.8 }, bootstrap: 0 });
    expect(e.stay.model.auroc).toBe(1);
    expect(e.patients).toBe(2);
    const alarm = e.alarms[0]!;
    expect(alarm).toMatchObject({ threshold: 0.8, newAlertsPerPatientDay: 1, staysAlertedBeforeOnset: 1, eventStays: 1, medianLeadHours: 8 });
    expect(alarm.alertRate).toBeCloseTo(2 / 24, 4);
    expect(alarm.sensitivity).toBe(0);
    expect(e.operatingPoints.map((o) => o.model.threshold)).toEqual([0.4, 0.8]);
  });
});

describe('training and evaluating on PhysioNet-format data (120 generated stays)', () => {
  let result: PhysioNetTrainingResult;
  beforeAll(async () => {
    await writeFakePhysioNet(data, 120, 7);
    result = await trainOnPhysioNet({ path: data, out: join(dir, 'model.json'), seed: 3, forest: { nTrees: 20, workers: 1 }, bootstrap: 20, createdAt: '2026-01-01T00:00:00.000Z' });
  }, 120_000);

  it('one row per hour of every stay, labelled with SepsisLabel, through the feature engine', async () => {
    const d = await loadPhysioNetDataset(data);
    expect(d.patients).toHaveLength(120);
    expect(d.rows).toBe(d.patientOf.length);
    expect(d.hourOf[0]).toBe(0);
    expect(d.y.reduce((a, b) => a + b, 0)).toBeGreaterThan(0);
    expect(d.demographics[0]).toMatchObject({ unit: 'MICU', gender: 'F' });
    const part = Int8Array.from({ length: 100 }, (_, p) => (p % 5 === 0 ? 2 : p % 5 === 1 ? 1 : 0));
    const positive = Uint8Array.from({ length: 100 }, (_, p) => (p % 3 === 0 ? 1 : 0));
    const drawn = nestedSample(part, positive, 10, PHYSIONET_SPLIT, 1);
    expect(drawn).toEqual(nestedSample(part, positive, 10, PHYSIONET_SPLIT, 1));
    expect(drawn).not.toEqual(nestedSample(part, positive, 10, PHYSIONET_SPLIT, 2));
    expect(drawn.map((p) => part[p])).toEqual(expect.arrayContaining([2, 2, 1, 1, 0]));
    expect(drawn.filter((p) => part[p] === 2)).toHaveLength(2);
  });

  it('the artifact names its data, label, alarm threshold, NEWS2-matched bands, and the patients it saw', () => {
    const a = result.artifact;
    expect(a.provenance).toMatchObject({ source: 'physionet', file: 'psv', patients: 120, split: { seed: 3, train: 72, validation: 24, test: 24 } });
    expect(a.provenance!.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(a.label).toMatchObject({ name: 'SepsisLabel', horizonHours: 6 });
    expect(a.alarm!.threshold).toBeGreaterThan(0);
    expect(a.bands!.rule).toBe('alertRate');
    expect(a.bandBudget!.medium).toMatch(/NEWS2 ≥ 5/);
    expect(a.seenPatients!.count).toBe(96);
    expect(a.hyperparameters.balancedBootstrap).toBe(3);
    expect(result.evaluation.hourly.model.auroc).toBeGreaterThan(0.8);
    expect(readFileSync(result.reportPath!, 'utf8')).toContain('id="operating-points"');
    expect(JSON.parse(readFileSync(result.jsonPath!, 'utf8')).evaluation.alarms.length).toBe(4);
  });

  it('the served band (never calmer than NEWS2) beside the model alone: in the evaluation, its JSON and the report', () => {
    const e = result.evaluation;
    const json = JSON.parse(readFileSync(result.jsonPath!, 'utf8')) as { evaluation: typeof e };
    expect(json.evaluation.servedBand).toEqual(e.servedBand);
    expect(json.evaluation.operatingPoints.map((o) => o.served)).toEqual(e.operatingPoints.map((o) => o.served));
    for (const o of e.operatingPoints) {
      // The floor only adds alerts: at least as many hours and positive hours flagged as the model alone.
      expect(o.served!.alertRate).toBeGreaterThanOrEqual(o.model.alertRate);
      expect(o.served!.sensitivity).toBeGreaterThanOrEqual(o.model.sensitivity);
    }
    const f = e.servedBand!;
    expect(f.hoursRaised).toBe(f.lowToMedium + f.lowToHigh + f.mediumToHigh);
    expect(f.servedHours.low + f.servedHours.medium + f.servedHours.high).toBe(e.rows);
    expect(e.operatingPoints[0]!.served!.alertRate).toBeCloseTo((f.servedHours.medium + f.servedHours.high) / e.rows, 4);
    const html = readFileSync(result.reportPath!, 'utf8');
    expect(html).toContain('served band ≥ medium');
    expect(html).toContain('before the NEWS2 floor');
    expect(html).toContain('id="served-band"');
  });

  it('same data and seed, same artifact', async () => {
    const again = await trainOnPhysioNet({ path: data, out: join(dir, 'again.json'), seed: 3, forest: { nTrees: 20, workers: 1 }, bootstrap: 0, report: null, json: null, createdAt: '2026-01-01T00:00:00.000Z' });
    expect(again.artifact.contentHash).toBe(result.artifact.contentHash);
  }, 120_000);

  it('npm run evaluate leaves out the patients the model saw, and scores the rest', async () => {
    const model = await loadModelArtifact(result.modelPath);
    const r = await evaluateOnData({ model: result.modelPath, data, json: join(dir, 'eval.json'), report: join(dir, 'eval.html'), bootstrap: 10 });
    expect(r.kind).toBe('physionet');
    expect(r.excludedPatients).toBe(96);
    expect(r.evaluation.patients).toBe(24);
    expect(r.evaluation.hourly.model.auroc).toBe(result.evaluation.hourly.model.auroc);
    expect(sawPatient(model.artifact.seenPatients, 'p900000') || sawPatient(model.artifact.seenPatients, 'p900001')).toBe(true);
    expect(existsSync(join(dir, 'eval.html'))).toBe(true);
  }, 120_000);

  it('a subset (--stays) is drawn inside the full split: its test patients are test patients of the full model, and no choice was made on them', async () => {
    const full = await loadPhysioNetDataset(data);
    const fullSplit = splitByPatient(full.patientOf, full.y, full.patients.length, PHYSIONET_SPLIT, 1);
    const fullTest = new Set(fullSplit.patients.test.map((p) => full.patients[p]!));
    const sub = await trainOnPhysioNet({ path: data, out: join(dir, 'subset.json'), stays: 40, seed: 5, forest: { nTrees: 10, workers: 1 }, bootstrap: 0, report: null, json: null, createdAt: '2026-01-01T00:00:00.000Z' });
    const ids = (part: 'train' | 'validation' | 'test') => sub.split.patients[part].map((p) => sub.dataset.patients[p]!);
    expect(sub.dataset.patients).toHaveLength(40);
    expect(sub.splits.map((s) => s.patients)).toEqual([24, 8, 8]);
    expect(ids('test').every((id) => fullTest.has(id))).toBe(true);
    expect([...ids('train'), ...ids('validation')].some((id) => fullTest.has(id))).toBe(false);
    // Every patient a choice was made on is listed as seen; none of the full test patients is.
    expect(sub.artifact.seenPatients!.count).toBe(96);
    expect(full.patients.every((id) => sawPatient(sub.artifact.seenPatients, id) !== fullTest.has(id))).toBe(true);
    expect(sub.artifact.provenance).toMatchObject({ patients: 40, split: { seed: 1, train: 24, validation: 8, test: 8 } });
    // Not the Challenge's set B: drawn inside this data's own split, no claim about the shipped choices' patients.
    expect(sub.artifact.provenance!.description).toMatch(/seeded subset of 40 stays, seed 5, drawn inside this data's own seed-1 split; .* chosen on the Challenge's training set B .*, not on this data/);
    expect(sub.artifact.provenance!.description).not.toMatch(/full-data model/);
    const r = await evaluateOnData({ model: sub.modelPath, data, json: null, report: null, bootstrap: 0 });
    expect(r.excludedPatients).toBe(96);
    expect(r.evaluation.patients).toBe(24);
    expect(r.evaluatedOn).toMatch(/\(96 stays the model was trained or tuned on, or that a choice behind it was made on, left out\)$/);
  }, 120_000);

  it('a subset artifact records its draw (provenance.subset), and the draw redraws its patients and their parts from the whole data', async () => {
    const sub = await trainOnPhysioNet({ path: data, out: join(dir, 'subset-draw.json'), stays: 40, seed: 5, forest: { nTrees: 10, workers: 1 }, bootstrap: 0, report: null, json: null, createdAt: '2026-01-01T00:00:00.000Z' });
    const saved = (await loadModelArtifact(sub.modelPath)).artifact;
    expect(saved.provenance!.subset).toEqual({ stays: 40, seed: 5, fractions: PHYSIONET_SPLIT, referenceSeed: 1, referenceFractions: PHYSIONET_SPLIT, referenceSha256: sub.dataset.source.sha256 });
    // The split seed is still the reference's; the draw's seed is the subset's.
    expect(saved.provenance!.split!.seed).toBe(1);
    const full = await loadPhysioNetDataset(data);
    const redrawn = subsetOfRows(full, saved.provenance!.subset!);
    expect(redrawn.stays.map((p) => full.patients[p])).toEqual(sub.dataset.patients);
    expect([...redrawn.part]).toEqual([...sub.dataset.reference!.part]);
    // The whole data records none.
    expect(result.artifact.provenance!.subset).toBeUndefined();
  }, 120_000);

  it('the claim that no choice was made on the test patients is made only on the Challenge\'s set B; a whole-data split other than the reference is flagged there', () => {
    const setB = { source: { kind: 'parquet', path: 'x', sha256: PHYSIONET_REFERENCE_DATA.sha256, files: 1 } } as const;
    const other = { source: { ...setB.source, sha256: 'ab'.repeat(32) } };
    const reference = { seed: 1, fractions: PHYSIONET_SPLIT, part: new Int8Array(0), choicePatients: [], draw: { stays: 3000, seed: 2, fractions: PHYSIONET_SPLIT } };
    expect(splitCaveat({ ...setB, reference }, PHYSIONET_SPLIT, 2)).toMatch(/test patients of the full data's seed-1 split too, so no choice behind this model was made on them/);
    expect(subsetDescription({ ...setB, reference })).toMatch(/seeded subset of 3000 stays, seed 2, drawn inside the full data's seed-1 split: its test patients are test patients of the full-data model/);
    expect(splitCaveat({ ...other, reference }, PHYSIONET_SPLIT, 2)).toMatch(/test patients of this data's own seed-1 split too; .* chosen on the Challenge's training set B .*, not on this data\)$/);
    expect(splitCaveat({ ...other, reference }, PHYSIONET_SPLIT, 2)).not.toMatch(/no choice/);
    expect(subsetDescription({ ...other, reference })).toMatch(/drawn inside this data's own seed-1 split/);
    // The whole of set B: the reference split says nothing; another seed, or other fractions at seed 1, mix in choice patients.
    expect(splitCaveat(setB, PHYSIONET_SPLIT, 1)).toBe('');
    expect(splitCaveat(setB, PHYSIONET_SPLIT, 3)).toMatch(/split with seed 3, train\/validation\/test 0.6\/0.2\/0.2: .* some of these test patients are ones a choice was made on/);
    expect(splitCaveat(setB, { train: 0.5, validation: 0.2, test: 0.3 }, 1)).toMatch(/split with seed 1, train\/validation\/test 0.5\/0.2\/0.3: .* some of these test patients are ones a choice was made on/);
    // Other data: no choice was made on any of its patients.
    expect(splitCaveat(other, { train: 0.5, validation: 0.2, test: 0.3 }, 3)).toBe('');
  });

  it('parses npm run train -- --physionet with a path, or the default data', () => {
    const c = parseTrainArgs(['--physionet', data, '--stays', '50', '--trees', '10']);
    expect(c.mode).toBe('train-physionet');
    if (c.mode !== 'train-physionet') return;
    expect(c.options).toMatchObject({ path: data, stays: 50, forest: { nTrees: 10, balancedBootstrap: 3 } });
    expect(parseTrainArgs(['--physionet', '--seed', '4'], { PHYSIONET_PATH: data })).toMatchObject({ mode: 'train-physionet', options: { path: data, seed: 4 } });
    expect(() => parseTrainArgs(['--physionet', '--seed', '4'], { PHYSIONET_PATH: join(dir, 'nowhere') })).toThrow(/no PhysioNet data/);
    expect(() => parseTrainArgs(['--physionet', data, '--horizon', '12'])).toThrow(/does not apply/);
  });

  it('the default model: real stays when asked and present (source, label, reason), else synthetic saying why', async () => {
    const path = join(dir, 'default', 'model.json');
    const lines: string[] = [];
    const real = await ensureDefaultModel({ path, say: (l) => lines.push(l), env: { PHYSIONET_PATH: data, SOURCE_DATE_EPOCH: '1767225600' }, realData: true, root: dir });
    expect(real).toMatchObject({ trained: true, source: 'physionet' });
    expect(real.label).toMatch(/^SepsisLabel/);
    expect(real.reason).toMatch(/real ICU stays/);
    expect(lines.at(-1)).toMatch(/npm run train -- --physionet psv --stays 3000/);
    const existing = await ensureDefaultModel({ path, say: () => undefined });
    expect(existing).toMatchObject({ trained: false, source: 'existing' });
    expect(existing.card!.data.source).toBe('physionet');
    const current = await readModelArtifact(path);
    // 120 stays, fewer than --stays 3000: the whole data, no subset.
    expect(current.provenance!.subset).toBeUndefined();
    expect(unrecordedSubset(current)).toBeNull();

    // A default drawn the old way (no provenance.subset) is replaced, saying why, like one of another feature set.
    const { createdAt, version: _v, contentHash: _h, provenance, ...content } = current;
    const { subset: _s, ...unrecorded } = provenance!;
    const old = sealArtifact({ ...content, provenance: { ...unrecorded, description: 'PhysioNet/CinC 2019 training set B (120 .psv files), 3000 stays (seeded subset, seed 1)' } }, createdAt);
    await saveModelArtifact(path, old);
    // Without the data to retrain on it is kept, saying why: a synthetic model would be worse.
    const kept: string[] = [];
    const keep = await ensureDefaultModel({ path, say: (l) => kept.push(l), env: { PHYSIONET_PATH: join(dir, 'nowhere') }, realData: true, fallbackArgs: SMALL_ARGS, root: dir });
    expect(keep).toMatchObject({ trained: false, source: 'existing' });
    expect(kept).toEqual([expect.stringMatching(/; kept: no PhysioNet data to retrain it on/)]);
    expect((await readModelArtifact(path)).contentHash).toBe(old.contentHash);
    const replaced: string[] = [];
    const again = await ensureDefaultModel({ path, say: (l) => replaced.push(l), env: { PHYSIONET_PATH: data, SOURCE_DATE_EPOCH: '1767225600' }, realData: true, root: dir });
    expect(again).toMatchObject({ trained: true, source: 'physionet' });
    expect(replaced[0]).toMatch(new RegExp(`^the model at .* \\(${old.version}\\) is a PhysioNet subset of 120 stays drawn with a split of its own, .*: training a new default model in its place$`));
    expect((await readModelArtifact(path)).contentHash).toBe(current.contentHash);
    rmSync(path);
    const fallback = await ensureDefaultModel({ path, say: () => undefined, env: { PHYSIONET_PATH: join(dir, 'nowhere') }, realData: true, fallbackArgs: SMALL_ARGS.filter((a) => a !== '--bootstrap' && a !== '50'), root: dir });
    expect(fallback).toMatchObject({ trained: true, source: 'synthetic' });
    expect(fallback.reason).toMatch(/no PhysioNet data/);
  }, 120_000);
});

describe('a default model drawn the old way is known (unrecordedSubset)', () => {
  const base = { source: 'physionet', description: 'PhysioNet/CinC 2019 training set B (packed parquet), 18000 stays', file: 'x.parquet', sha256: PHYSIONET_REFERENCE_DATA.sha256, patients: 18_000, rows: 1, split: { seed: 1, train: 1, validation: 1, test: 1 } };
  const of = (provenance: Record<string, unknown> | undefined) => unrecordedSubset({ provenance } as never);
  it('a PhysioNet subset without provenance.subset: fewer stays than set B, or "seeded subset" in its description', () => {
    expect(of(base)).toBeNull();
    expect(of(undefined)).toBeNull();
    expect(of({ ...base, patients: 3000 })).toMatch(/drawn with a split of its own/);
    expect(of({ ...base, sha256: 'ab'.repeat(32), patients: 3000, description: 'x, 3000 stays (seeded subset, seed 1)' })).toMatch(/subset of 3000 stays/);
    expect(of({ ...base, patients: 3000, description: "x (seeded subset, seed 1, drawn inside the full data's seed-1 split: …)" })).toMatch(/does not record its draw/);
    expect(of({ ...base, sha256: 'ab'.repeat(32), patients: 3000 })).toBeNull();
    expect(of({ ...base, patients: 3000, subset: { stays: 3000 } })).toBeNull();
    expect(of({ ...base, source: 'meds', patients: 3000 })).toBeNull();
  });
});

describe('forest tuning by cross-validation on training patients', () => {
  it('scores every candidate on held-out folds of the given rows only, and picks the best pooled AUROC', async () => {
    const { tuneForest, describeCandidate, DEFAULT_TUNING_GRID } = await import('../src/index.js');
    if (!existsSync(data)) await writeFakePhysioNet(data, 120, 7);
    const d = await loadPhysioNetDataset(data);
    const rows = Array.from({ length: d.rows }, (_, i) => i).filter((i) => d.patientOf[i]! < 90);
    const seen = new Set<number>();
    const grid = [
      { maxDepth: 2, minSamplesLeaf: 200, balancedBootstrap: 1 },
      { maxDepth: 1, minSamplesLeaf: 5, balancedBootstrap: 1, maxFeatures: 1 },
      { maxDepth: 1, minSamplesLeaf: 5, balancedBootstrap: 1, maxFeatures: 'all' as const },
    ];
    const r = await tuneForest({ X: d.X, cols: d.cols, y: d.y, patientOf: d.patientOf, rows, nPatients: d.patients.length, base: { maxFeatures: 'sqrt', workers: 1 }, grid, folds: 3, trees: 10, seed: 2, onCandidate: (_done, _total, row) => seen.add(row.foldAuroc.length) });
    expect(r.rows).toHaveLength(3);
    expect([...seen]).toEqual([3]);
    const top = Math.max(...r.rows.map((x) => x.auroc));
    expect(r.best).toEqual(grid[r.rows.findIndex((x) => x.auroc === top)]);
    // A candidate's features per split replace the base's (sqrt): stumps on the best of all features beat stumps on one drawn at random.
    expect(r.rows[2]!.auroc).toBeGreaterThan(r.rows[1]!.auroc);
    expect(describeCandidate(grid[2]!)).toBe('depth 1, leaf 5, balanced 1, features/split all');
    expect(describeCandidate(DEFAULT_TUNING_GRID[0]!)).toBe('depth 28, leaf 10, balanced 3, features/split sqrt');
  }, 60_000);
});
