import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  ArtifactError,
  artifactTimestamp,
  artifactProblems,
  canonicalJson,
  contentHashOf,
  loadModelArtifact,
  readModelArtifact,
  saveModelArtifact,
  trainSeverityModel,
  validateArtifact,
  type ModelArtifact,
  type TrainedModel,
} from '../src/index.js';
import { nonlinearProblem } from './helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'ehr-model-test-'));
const data = nonlinearProblem(3000, 31, { noise: 0.05, missing: true });
const test = nonlinearProblem(1000, 32, { noise: 0.05, missing: true });
const base = {
  name: 'severity-rf',
  X: data.X,
  y: data.y,
  featureNames: data.names,
  featureSchemaVersion: 'features-v3',
  forest: { nTrees: 20, maxDepth: 8, minSamplesLeaf: 3, workers: 1 },
  seed: 11,
  test: { X: test.X, y: test.y },
};

let trained: TrainedModel;
beforeAll(async () => {
  trained = await trainSeverityModel(base);
});
afterEach(() => {
  vi.unstubAllEnvs();
});

describe('content hash', () => {
  it('same seed + same data → same content hash and version (1 or 2 workers, any time)', async () => {
    const again = await trainSeverityModel({ ...base, forest: { ...base.forest, workers: 2 }, createdAt: '2001-01-01T00:00:00.000Z' });
    expect(again.artifact.contentHash).toBe(trained.artifact.contentHash);
    expect(again.version).toBe(trained.version);
    expect(trained.version).toBe(trained.artifact.contentHash.slice(0, 12));
    const otherSeed = await trainSeverityModel({ ...base, seed: 12 });
    expect(otherSeed.artifact.contentHash).not.toBe(trained.artifact.contentHash);
    const otherData = await trainSeverityModel({ ...base, y: data.y.map((v, i) => (i === 0 ? 1 - v : v)) });
    expect(otherData.artifact.training.fingerprint).not.toBe(trained.artifact.training.fingerprint);
    expect(otherData.artifact.contentHash).not.toBe(trained.artifact.contentHash);
  });

  it('createdAt comes from SOURCE_DATE_EPOCH and is not hashed', async () => {
    vi.stubEnv('SOURCE_DATE_EPOCH', '1700000000');
    expect(artifactTimestamp()).toBe('2023-11-14T22:13:20.000Z');
    const a = await trainSeverityModel(base);
    expect(a.artifact.createdAt).toBe('2023-11-14T22:13:20.000Z');
    expect(a.artifact.contentHash).toBe(trained.artifact.contentHash);
    vi.stubEnv('SOURCE_DATE_EPOCH', 'soon');
    expect(() => artifactTimestamp()).toThrow(/SOURCE_DATE_EPOCH/);
  });

  it('canonical JSON sorts keys at every level', () => {
    expect(canonicalJson({ b: 1, a: { d: [3, { f: 1, e: 2 }], c: null } })).toBe('{"a":{"c":null,"d":[3,{"e":2,"f":1}]},"b":1}');
  });

  it('canonical JSON keeps a "__proto__" member a file holds (else two files would share one content hash)', () => {
    expect(canonicalJson(JSON.parse('{"b":1,"__proto__":{"x":2}}'))).toBe('{"__proto__":{"x":2},"b":1}');
  });

  it('tells at most 50 problems, and a file of 100,000 bad values is refused as one of a few', () => {
    const problems = artifactProblems({ ...JSON.parse(JSON.stringify(trained.artifact)), featureImportance: new Array(100_000).fill(null) });
    expect(problems).toHaveLength(50);
    expect(problems[0]).toBe('featureImportance[0]: expected a number, got null');
  });
});

describe('artifact contents', () => {
  it('records contract, training, calibration, bands, metrics and distributions', () => {
    const a = trained.artifact;
    expect(a).toMatchObject({ schema: 'ehr.severity-model', schemaVersion: 1, name: 'severity-rf', featureSchemaVersion: 'features-v3', seed: 11 });
    expect(a.featureNames).toEqual(data.names);
    expect(a.training).toMatchObject({ rows: 3000, forestRows: 2400, validationRows: 600 });
    expect(a.training.fingerprint).toMatch(/^[0-9a-f]{64}$/);
    expect(a.calibration.method).toBe('isotonic');
    expect(a.bands!.high).toBeGreaterThanOrEqual(a.bands!.medium);
    expect(a.bands!.validation.medium.sensitivity).toBeGreaterThanOrEqual(0.8);
    expect(a.metrics.validation!.raw.auroc).toBeGreaterThan(0.85);
    expect(a.metrics.test!.raw.auroc).toBeGreaterThan(0.85);
    expect(a.featureImportance.reduce((s, v) => s + v, 0)).toBeCloseTo(1, 12);
    expect(a.trainingDistribution).toHaveLength(data.names.length);
    const d4 = a.trainingDistribution[4]!;
    expect(d4.missingRate).toBeGreaterThan(0.1);
    expect(d4.proportions.reduce((s, v) => s + v, 0) + d4.missingRate).toBeCloseTo(1, 12);
  });

  it('the model predicts, calibrates, bands and explains', () => {
    const m = trained.model;
    const row = test.X[0]!;
    const raw = m.predictRawProba(row);
    const p = m.predictProba(row);
    expect(p).toBeGreaterThanOrEqual(0);
    expect(p).toBeLessThanOrEqual(1);
    const e = m.contributions(row, 4);
    expect(e.prediction).toBeCloseTo(raw, 14);
    expect(e.bias + Array.from(e.all).reduce((s, v) => s + v, 0)).toBeCloseTo(raw, 12);
    const s = m.score(row, 4);
    expect(s).toMatchObject({ probability: p, rawProbability: raw, band: m.band(p) });
    expect(m.band(m.bands!.high)).toBe('high');
    expect(m.band(m.bands!.medium)).toBe(m.bands!.high > m.bands!.medium ? 'medium' : 'high');
    expect(m.band(0)).toBe(m.bands!.medium > 0 ? 'low' : 'medium');
    const batch = m.predictProbaBatch(test.X.slice(0, 10));
    expect(Array.from(batch)).toEqual(test.X.slice(0, 10).map((r) => m.predictProba(r)));
    const named = m.rowFrom(Object.fromEntries(data.names.map((n, i) => [n, row[i]])));
    expect(m.predictProba(named)).toBe(p);
    expect(m.featureImportance()[0]!.importance).toBeGreaterThanOrEqual(m.featureImportance()[1]!.importance);
  });

  it('psi: ~0 for the training distribution itself, large for a shifted one', () => {
    const m = trained.model;
    const col = data.X.map((r) => r[0]!);
    expect(m.psi('x0', m.liveCounts('x0', col))).toBeLessThan(0.02);
    expect(m.psi(0, m.liveCounts(0, col.map((v) => v * 0.5)))).toBeGreaterThan(0.25);
    const x4 = data.X.map((r) => r[4] ?? null);
    expect(m.psi('x4', m.liveCounts('x4', x4.map(() => null)))).toBeGreaterThan(1);
    expect(() => m.psi('nope', { counts: [], missing: 0 })).toThrow(/unknown feature/);
  });
});

describe('save / load', () => {
  it('round-trips (plain and gzipped) to the same predictions and version', async () => {
    for (const name of ['model.json', 'model.json.gz']) {
      const path = join(dir, name);
      await saveModelArtifact(path, trained.artifact);
      const m = await loadModelArtifact(path);
      expect(m.version).toBe(trained.version);
      expect(m.featureNames).toEqual(data.names);
      for (const row of test.X.slice(0, 40)) {
        expect(m.predictProba(row)).toBe(trained.model.predictProba(row));
        expect(m.contributions(row).all).toEqual(trained.model.contributions(row).all);
      }
    }
    expect(readFileSync(join(dir, 'model.json.gz'))[0]).toBe(0x1f);
  });

  async function problemsOf(mutate: (a: Record<string, unknown>) => void, rehash = true): Promise<string> {
    const doc = JSON.parse(JSON.stringify(trained.artifact)) as Record<string, unknown>;
    mutate(doc);
    if (rehash) doc.contentHash = contentHashOf(doc as unknown as ModelArtifact);
    if (rehash) doc.version = (doc.contentHash as string).slice(0, 12);
    const path = join(dir, 'bad.json');
    writeFileSync(path, JSON.stringify(doc));
    try {
      await loadModelArtifact(path);
    } catch (err) {
      expect(err).toBeInstanceOf(ArtifactError);
      expect((err as Error).message).toContain(path);
      return (err as Error).message;
    }
    throw new Error('expected the artifact to be rejected');
  }

  it('rejects broken artifacts naming the file and what is wrong', async () => {
    await expect(loadModelArtifact(join(dir, 'missing.json'))).rejects.toThrow(/missing\.json[\s\S]*cannot read/);
    writeFileSync(join(dir, 'garbage.json'), '{"schema": ');
    await expect(readModelArtifact(join(dir, 'garbage.json'))).rejects.toThrow(/not valid JSON/);
    expect(await problemsOf((a) => { a.schemaVersion = 2; })).toMatch(/schemaVersion: this reader understands version 1, got 2/);
    expect(await problemsOf((a) => { a.featureNames = ['only-one']; })).toMatch(/forest.nFeatures: 8 features, featureNames has 1/);
    expect(await problemsOf((a) => { delete a.forest; })).toMatch(/forest: expected an object/);
    expect(await problemsOf((a) => { (a.missing as Record<string, unknown>).sentinel = null; })).toMatch(/missing.sentinel/);
    expect(await problemsOf((a) => { (a.bands as Record<string, unknown>).high = -1; })).toMatch(/bands.high: must be >= 0/);
    // The TypeBox schema names the place inside unions and nested objects, too.
    expect(await problemsOf((a) => { (a.calibration as Record<string, unknown>).method = 'magic'; })).toMatch(/calibration.method: expected 'none' or 'platt' or 'isotonic', got "magic"/);
    expect(await problemsOf((a) => { (a.hyperparameters as Record<string, unknown>).nTrees = 2.5; })).toMatch(/hyperparameters.nTrees: expected a whole number, got 2.5/);
    expect(await problemsOf((a) => { (a.featureNames as string[])[3] = ''; })).toMatch(/featureNames\[3\]: expected a non-empty string/);
    // Every score carries the name: one the score contract would refuse is refused at load instead.
    // A calibration that maps to no probability (every score it made would be refused downstream).
    expect(await problemsOf((a) => { a.calibration = { method: 'isotonic', x: [0, 1], y: [-0.1, 1.2] }; })).toMatch(/calibration.y\[0\]: must be >= 0, got -0.1\n\s+- calibration.y\[1\]: must be <= 1, got 1.2/);
    // A falling Platt curve reports the sickest as the calmest.
    expect(await problemsOf((a) => { a.calibration = { method: 'platt', a: -9.3, b: 4.6 }; })).toMatch(/calibration.a: -9.3 must be above 0/);
    expect(await problemsOf((a) => { a.name = 'n'.repeat(129); })).toMatch(/- name: expected at most 128 characters, got 129/);
    expect(await problemsOf((a) => { a.label = { name: 'SepsisLabel', description: 'x', horizonHours: -6 }; })).toMatch(/label.horizonHours: must be >= 0, got -6/);
    // content edited without re-hashing
    expect(await problemsOf((a) => { a.name = 'tampered'; }, false)).toMatch(/contentHash: the file says [0-9a-f]{64} but its content hashes to/);
    // a structurally broken forest (child pointing backwards) with a valid hash
    expect(
      await problemsOf((a) => {
        const f = a.forest as Record<string, string>;
        const right = new Int32Array(new Uint8Array(Buffer.from(f.right!, 'base64')).buffer);
        const i = right.findIndex((v) => v > 0);
        right[i] = 0;
        f.right = Buffer.from(right.buffer).toString('base64');
      }),
    ).toMatch(/forest.right\[\d+\] = 0: a child must come after its parent/);
  });

  it('validateArtifact accepts the real thing', () => {
    expect(validateArtifact(JSON.parse(JSON.stringify(trained.artifact))).version).toBe(trained.version);
  });
});

describe('trainSeverityModel options', () => {
  it('works without validation (no calibration, no bands) and with Platt + alert-rate bands', async () => {
    const none = await trainSeverityModel({ ...base, validation: null });
    expect(none.artifact.calibration).toEqual({ method: 'none' });
    expect(none.artifact.bands).toBeNull();
    expect(() => none.model.band(0.5)).toThrow(/no band thresholds/);
    expect(none.model.predictProba(test.X[0]!)).toBe(none.model.predictRawProba(test.X[0]!));
    await expect(trainSeverityModel({ ...base, validation: null, calibration: 'platt' })).rejects.toThrow(/needs validation/);

    const platt = await trainSeverityModel({ ...base, calibration: 'platt', bands: { rule: 'alertRate', medium: 0.3, high: 0.1 } });
    expect(platt.artifact.calibration.method).toBe('platt');
    expect(platt.artifact.bands!.validation.medium.alertRate).toBeLessThanOrEqual(0.3);
    expect(platt.artifact.bands!.validation.high.alertRate).toBeLessThanOrEqual(0.1);
    // calibration is monotone: it never reorders patients
    const raws = test.X.slice(0, 100).map((r) => platt.model.predictRawProba(r));
    const cals = test.X.slice(0, 100).map((r) => platt.model.predictProba(r));
    for (let i = 0; i < raws.length; i++) for (let j = 0; j < raws.length; j++) if (raws[i]! < raws[j]!) expect(cals[i]!).toBeLessThanOrEqual(cals[j]!);
  });
});
