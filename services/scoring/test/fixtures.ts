import type { Bus, Subscription } from '@ehr/bus';
import { createRandom, decodeSeverityScore, FEATURE_NAMES, FEATURE_SET_VERSION, news2FromSnapshotVitals, NEWS2_PART_FEATURES, NEWS2_VITAL_FEATURES, type FeatureValues, type FeatureVectorEvent, type SeverityScoreEvent } from '@ehr/features';
import { saveModelArtifact, trainSeverityModel, type ModelArtifact } from '@ehr/model';

/** Feature values where severity follows heart rate and NEWS2, the rest noise or missing. */
export function syntheticFeatures(seed: number, severe: boolean): FeatureValues {
  const rng = createRandom(seed);
  const features: FeatureValues = {};
  for (const name of FEATURE_NAMES) features[name] = rng.chance(0.3) ? null : rng.normal(0, 1);
  features.heart_rate = severe ? rng.normal(118, 10) : rng.normal(80, 10);
  features.news2_total = severe ? rng.int(5, 10) : rng.int(0, 4);
  features.news2_heart_rate = severe ? 2 : 0;
  features.news2_respiratory_rate = 0;
  // The other NEWS2 parts as NEWS2 scores them (whole numbers 0–3; scoring refuses others),
  // from the draws above, so that the draws stay as they were.
  for (const [name] of NEWS2_PART_FEATURES) {
    const v = features[name];
    if (typeof v === 'number') features[name] = Math.min(3, Math.round(Math.abs(v)));
  }
  // The total is the sum of the parts scored, as the feature service makes it (scoring refuses
  // a total that is not: the served band's floor reads it). The draw above stays, unused, so
  // that the draws after it stay as they were.
  features.news2_total = NEWS2_PART_FEATURES.reduce((sum, [name]) => sum + (features[name] ?? 0), 0);
  // And each part with a vital sign beside it is the part NEWS2 scores that vital (scoring
  // refuses a vector whose parts its own vitals contradict), the total their sum again.
  return withNews2OfVitals(features);
}

/** The features with each NEWS2 part that has a vital sign beside it (and the total) as NEWS2 scores the vitals. */
export const withNews2OfVitals = (features: FeatureValues): FeatureValues => news2FromSnapshotVitals(features).features;

/**
 * The features without the vital signs NEWS2's parts are scored from, so that parts a test
 * sets itself stand alone (scoring refuses parts that the vitals beside them contradict).
 */
export function withoutNews2Vitals(features: FeatureValues): FeatureValues {
  const out = { ...features };
  for (const name of NEWS2_VITAL_FEATURES) if (name !== 'news2_spo2_scale') out[name] = null;
  return out;
}

/**
 * syntheticFeatures as a POST /score snapshot: its NEWS2 parts worked out from its vital signs
 * (scoring refuses a snapshot whose NEWS2 disagrees with them), consciousness as drawn.
 */
export function snapshotFeatures(seed: number, severe: boolean): FeatureValues {
  const features = syntheticFeatures(seed, severe);
  for (const name of ['news2_total', 'news2_respiratory_rate', 'news2_spo2', 'news2_air_or_oxygen', 'news2_systolic_bp', 'news2_heart_rate', 'news2_temperature']) delete features[name];
  return news2FromSnapshotVitals(features).features;
}

/** A small, real model trained on the served feature list. */
export async function trainTestModel(path: string, options: { seed?: number; name?: string; featureSchemaVersion?: string; labelNoise?: number } = {}): Promise<ModelArtifact> {
  const seed = options.seed ?? 1;
  const rng = createRandom(seed);
  const rows: (number | null)[][] = [];
  const y: number[] = [];
  for (let i = 0; i < 600; i++) {
    const severe = rng.chance(0.3);
    const f = syntheticFeatures(seed * 1000 + i, severe);
    rows.push(FEATURE_NAMES.map((n) => f[n] ?? null));
    // Flipped labels give leaves that are not pure: probabilities between 0 and 1, different per model.
    const flipped = options.labelNoise !== undefined && rng.chance(options.labelNoise);
    y.push(severe !== flipped ? 1 : 0);
  }
  const X = rows.map((r) => r.map((v) => (v === null ? NaN : v)));
  const { artifact } = await trainSeverityModel({
    X,
    y,
    name: options.name ?? 'test-severity',
    featureNames: FEATURE_NAMES,
    featureSchemaVersion: options.featureSchemaVersion ?? FEATURE_SET_VERSION,
    seed,
    forest: { nTrees: 20, maxDepth: 6, minSamplesLeaf: 3, seed, workers: 0 },
    createdAt: '2026-01-01T00:00:00.000Z',
  });
  await saveModelArtifact(path, artifact);
  return artifact;
}

let counter = 0;

export function vectorEvent(patientId: string, features: FeatureValues, at = '2026-03-01T10:00:00.000Z'): FeatureVectorEvent {
  counter++;
  return {
    schema: 'feature_vector',
    schemaVersion: 1,
    eventId: `fv-${patientId}-${counter}`,
    patientId,
    encounterId: `enc-${patientId}`,
    occurredAt: at,
    producedAt: new Date().toISOString(),
    source: 'feature-service',
    payload: {
      featureSetVersion: FEATURE_SET_VERSION,
      asOf: at,
      triggerEventId: `raw-${counter}`,
      features,
      context: { unit: 'ward-a', department: 'medicine', spo2Scale: 1 },
    },
  };
}

/** Polls until the predicate holds; the error names what never happened. */
export async function waitFor(predicate: () => boolean, what: string, ms = 10_000, everyMs = 20): Promise<void> {
  const deadline = Date.now() + ms;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** Pushes every score on `topic` (the served or the shadow scores) into `into`, read by group `groupId`; a score that does not decode fails the test. */
export function collectScores(bus: Bus, topic: string, into: SeverityScoreEvent[], groupId: string): Promise<Subscription> {
  return bus.subscribe({
    groupId,
    topics: [topic],
    handler: async ({ records }) => {
      for (const r of records) {
        const s = decodeSeverityScore(r.value);
        if (!s.ok) throw new Error(s.error);
        into.push(s.value);
      }
    },
  });
}
