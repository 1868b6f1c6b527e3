import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeFeatureVector, encodeFeatureVector, encodeSeverityScore } from '@ehr/features';
import { loadModelArtifact, modelFromArtifact, type SeverityModel } from '@ehr/model';
import { beforeAll, describe, expect, it } from 'vitest';
import { scoreVector } from '../src/index.js';
import { syntheticFeatures, trainTestModel, vectorEvent, withoutNews2Vitals } from './fixtures.js';

let model: SeverityModel;
const now = () => new Date('2026-01-01T12:00:00Z');

beforeAll(async () => {
  const path = join(mkdtempSync(join(tmpdir(), 'scorer-')), 'm.json');
  await trainTestModel(path, { seed: 3 });
  model = await loadModelArtifact(path);
}, 120_000);

describe('the served band (never calmer than NEWS2)', () => {
  it("keeps the model's band when NEWS2 asks for no more, and says so", () => {
    const features = syntheticFeatures(11, true);
    const { score } = scoreVector(vectorEvent('p1', features), model, { topK: 3, now });
    expect(score.payload.bandSource).toBe('model');
    expect(score.payload.bandReason).toMatch(/^model risk [\d.]+ % \((low|medium|high) band\)/);
  });

  it("raises a calm model band to NEWS2's tier: a single parameter at 3 is at least medium", () => {
    const parts = { news2_respiratory_rate: 3, news2_spo2: null, news2_air_or_oxygen: null, news2_systolic_bp: null, news2_heart_rate: 0, news2_consciousness: null, news2_temperature: null };
    const features = { ...withoutNews2Vitals(syntheticFeatures(12, false)), heart_rate: 72, respiratory_rate: 7, ...parts, news2_total: 3 };
    const { score } = scoreVector(vectorEvent('p1', features), model, { topK: 3, now });
    expect(model.band(score.payload.probability!)).toBe('low');
    expect(score.payload).toMatchObject({ band: 'medium', bandSource: 'news2' });
    expect(score.payload.bandReason).toMatch(/NEWS2 scores 3 for respiration rate .*the model alone says low/);
  });

  it('NEWS2 ≥ 7 is high whatever the model says; without a model the band is NEWS2 tier', () => {
    const features = { ...syntheticFeatures(13, false), news2_total: 8 };
    const { score } = scoreVector(vectorEvent('p1', features), null, { topK: 3, now });
    expect(score.payload).toMatchObject({ mode: 'news2_only', band: 'high', bandSource: 'news2' });
    expect(score.payload.bandReason).toMatch(/NEWS2 8 \(≥ 7: emergency response\)/);
  });

  it("a challenger's shadow score gets the same NEWS2 floor (like for like) and ids of its own", () => {
    const features = { ...syntheticFeatures(12, false), heart_rate: 72, news2_total: 8 };
    const vector = vectorEvent('p1', features);
    const served = scoreVector(vector, model, { topK: 3, now }).score;
    const shadow = scoreVector(vector, model, { topK: 3, now, role: 'shadow' }).score;
    expect(model.band(shadow.payload.probability!)).toBe('low');
    expect(shadow.payload).toMatchObject({ band: 'high', bandSource: 'news2', probability: served.payload.probability });
    // The same artifact as served and as challenger: the sink must still keep both rows.
    expect(shadow.payload.scoreId).not.toBe(served.payload.scoreId);
    expect(shadow.eventId).toBe(shadow.payload.scoreId);
  });
});

describe('a vector off the bus (a frame) scores exactly as its JSON does', () => {
  const vectors = () => [
    vectorEvent('p1', syntheticFeatures(21, true)),
    vectorEvent('p2', { ...syntheticFeatures(22, false), news2_total: 3, news2_respiratory_rate: 3 }),
    vectorEvent('p3', { ...syntheticFeatures(23, false), news2_total: null, news2_spo2: null }),
  ];
  // The same forest reading the catalogue in another order: the frame's values must be reordered, not taken as they are.
  function reordered(): SeverityModel {
    const { artifact } = model;
    return modelFromArtifact({ ...artifact, featureNames: [...artifact.featureNames].reverse(), trainingDistribution: [...artifact.trainingDistribution].reverse() });
  }
  const cases: [string, () => SeverityModel | null][] = [
    ['the catalogue order', () => model],
    ['another order', reordered],
    ['no model (NEWS2 alone)', () => null],
  ];

  it.each(cases)('with %s: the same score, bytes and row', (_, which) => {
    const m = which();
    for (const vector of vectors()) {
      const fromJson = scoreVector(vector, m, { topK: 5, now });
      const frame = decodeFeatureVector(encodeFeatureVector(vector));
      if (!frame.ok) throw new Error(frame.error);
      const fromFrame = scoreVector(frame.value, m, { topK: 5, now });
      expect(encodeSeverityScore(fromFrame.score)).toEqual(encodeSeverityScore(fromJson.score));
      expect(fromFrame.score).toEqual(fromJson.score);
      expect(fromFrame.row).toEqual(fromJson.row);
    }
  });
});
