import {
  catalogueOf,
  deterministicId,
  FEATURE_NAMES,
  isDecodedCatalogue,
  NEWS2_PART_FEATURES,
  news2OfFeatures,
  news2Problems,
  featureLookup,
  news2TierOf,
  pickFeatures,
  servedBand,
  severityScoreOf,
  type ValidationIssue,
  type FeatureVectorEvent,
  type SeverityBand,
  type SeverityScoreEvent,
  type TopFeature,
  withCatalogueFeatures,
} from '@ehr/features';
import type { SeverityModel } from '@ehr/model';

/** The schema's limit for the one-line reason. */
const MAX_REASON = 240;

const SERVED = new Set<string>(FEATURE_NAMES);

/** Names that are not features of the served set (own keys only: input may name `__proto__`). */
export const unknownFeatureNames = (features: Readonly<Record<string, unknown>>): string[] => Object.keys(features).filter((n) => !SERVED.has(n));

export interface FeatureSetMismatch {
  error: string;
  issues: ValidationIssue[];
}

const listed = (names: readonly string[]) => `${names.slice(0, 10).join(', ')}${names.length > 10 ? `, … (${names.length} in all)` : ''}`;

/**
 * Why a vector is not of the feature set the model (or NEWS2 alone) reads: another
 * `featureSetVersion`, names the set does not have, or (`complete`) names it lacks. Scoring
 * such a vector would read its values under the wrong meaning, or as missing.
 */
export function featureSetMismatch(vector: FeatureVectorEvent, expectedVersion: string, options: { complete: boolean }): FeatureSetMismatch | null {
  const { featureSetVersion } = vector.payload;
  if (featureSetVersion !== expectedVersion) {
    const error = `feature set ${JSON.stringify(featureSetVersion.slice(0, 40))} is not the model's ${expectedVersion}`;
    return { error, issues: [{ path: 'payload.featureSetVersion', message: error }] };
  }
  // A vector decoded from a frame holds exactly the catalogue (frozen so): listing 211 names
  // to find that out was 5 % of scoring's CPU (issue 18's profile). The JSON of before and
  // POST /score are checked name by name.
  if (catalogueOf(vector.payload)) return null;
  const { features } = vector.payload;
  if (isDecodedCatalogue(features)) return null;
  const unknown = unknownFeatureNames(features);
  if (unknown.length > 0) {
    const error = `${unknown.length} unknown feature name(s): ${listed(unknown.map((n) => JSON.stringify(n.slice(0, 96))))}`;
    return { error, issues: unknown.slice(0, 20).map((n) => ({ path: `payload.features.${n.slice(0, 96)}`, message: 'not a feature of the served set' })) };
  }
  if (options.complete) {
    const missing = FEATURE_NAMES.filter((n) => !Object.hasOwn(features, n));
    if (missing.length > 0) {
      const error = `${missing.length} feature(s) of set ${expectedVersion} missing: ${listed(missing)}`;
      return { error, issues: missing.slice(0, 20).map((n) => ({ path: `payload.features.${n}`, message: 'missing' })) };
    }
  }
  return null;
}

/** NEWS2 issues as a refusal (a dead letter's error, a 422's detail), or null when there are none. */
export function news2Refusal(issues: FeatureSetMismatch['issues']): FeatureSetMismatch | null {
  if (issues.length === 0) return null;
  return { error: `implausible NEWS2: ${issues.map((i) => i.message).join('; ')}`.slice(0, 1000), issues };
}

/**
 * Why a vector's NEWS2 cannot be one (a total outside 0–20, a part outside 0–3, a total that
 * is not the sum of its parts, a part its own vital signs contradict, or vitals beside no
 * part): a vector that claims it is corrupt, and its score would carry it (and the floor it
 * sets) on.
 */
export function news2Implausible(vector: FeatureVectorEvent): FeatureSetMismatch | null {
  const catalogue = catalogueOf(vector.payload);
  return news2Refusal(news2Problems(catalogue ? featureLookup(catalogue.values) : vector.payload.features));
}

/** `served`: the score the ward sees (ehr.scores.v1); `shadow`: a challenger's, for comparison only. */
export type ScoreRole = 'served' | 'shadow';

export interface ScoredVector {
  score: SeverityScoreEvent;
  /** The row the model read (its feature order, NaN = missing; not to be written to), or null without a model. */
  row: Float64Array | null;
  /** Time spent in the model (prediction + explanation), microseconds. */
  inferenceMicros: number;
}

/**
 * One feature vector → the augmented score record: the vector, the model's probability
 * and band (or NEWS2 alone when there is no model, marked as such), NEWS2 and its band,
 * the top contributions, model name and version, and latency. Pure but for the clock.
 */
export function scoreVector(
  vector: FeatureVectorEvent,
  model: SeverityModel | null,
  options: { topK: number; now: () => Date; role?: ScoreRole },
): ScoredVector {
  // A vector off the bus is read by index from its frame's values: the 211-name record is
  // never built (it and its garbage were a quarter of scoring's CPU, issue 18).
  const catalogue = catalogueOf(vector.payload);
  const named = catalogue ? pickFeatures(catalogue.values, NEWS2_FEATURE_NAMES) : vector.payload.features;
  const news2 = news2OfFeatures(named);
  let probability: number | null = null;
  let modelBand: SeverityBand | null = null;
  let topFeatures: TopFeature[] = [];
  let inferenceMicros = 0;
  let row: Float64Array | null = null;

  if (model) {
    const started = process.hrtime.bigint();
    row = catalogue ? catalogueRow(model, catalogue.values) : model.rowFrom(vector.payload.features);
    const s = model.score(row, options.topK);
    inferenceMicros = Number(process.hrtime.bigint() - started) / 1000;
    probability = s.probability;
    modelBand = s.band ?? model.band(s.probability);
    topFeatures = s.contributions.map((c) => ({ feature: c.name ?? model.featureNames[c.feature]!, value: c.value, contribution: c.contribution }));
  }
  // Never calmer than NEWS2's own response tier (≥ 7 high; ≥ 5 or a single parameter at 3
  // medium); the score says which rule set the band, and why.
  const served = servedBand({ modelBand, probability, news2: news2TierOf(named) });

  const scoredAt = options.now();
  // A shadow score gets ids of its own: a challenger that is the served artifact again must
  // not share its score ids (the sink keeps one row per id).
  const kind = options.role === 'shadow' ? 'shadow-score' : 'severity-score';
  const scoreId = deterministicId(kind, vector.eventId, model ? `${model.name}@${model.version}` : 'news2-only');
  const latencyMs = Math.max(0, scoredAt.getTime() - Date.parse(vector.producedAt));
  const score = severityScoreOf(vector, scoreId, scoredAt, {
      mode: model ? 'model' : 'news2_only',
      probability,
      band: served.band,
      bandSource: served.source,
      bandReason: served.reason.length > MAX_REASON ? `${served.reason.slice(0, MAX_REASON - 1)}…` : served.reason,
      news2: news2.total,
      news2Band: news2.band,
      model: model ? { name: model.name, version: model.version } : null,
      // Replaced below by the vector's own values when it came from a frame (same record when read).
      features: catalogue ? EMPTY : vector.payload.features,
      topFeatures,
      latencyMs,
      context: { unit: vector.payload.context.unit, department: vector.payload.context.department, spo2Scale: vector.payload.context.spo2Scale },
    });
  // The score carries its vector's values: on the wire as the vector's packed bytes, unpacked again.
  if (catalogue) withCatalogueFeatures(score.payload, catalogue);
  return { inferenceMicros, row, score };
}

const EMPTY = Object.freeze({});

/** What NEWS2 and its response tier read of a vector. */
const NEWS2_FEATURE_NAMES: readonly string[] = ['news2_total', ...NEWS2_PART_FEATURES.map(([name]) => name)];

/**
 * Where each of a model's features sits in the catalogue, per model (null: the catalogue's own
 * order, the usual case, when the vector's values are the row as they are).
 */
const catalogueOrder = new WeakMap<SeverityModel, Int32Array | null>();
const CATALOGUE_INDEX = new Map(FEATURE_NAMES.map((n, i) => [n, i]));

/** A model's row from catalogue-ordered values (NaN = missing), as rowFrom gives it from the record. */
function catalogueRow(model: SeverityModel, values: Float64Array): Float64Array {
  let order = catalogueOrder.get(model);
  if (order === undefined) {
    const names = model.featureNames;
    const same = names.length === FEATURE_NAMES.length && names.every((n, i) => n === FEATURE_NAMES[i]);
    order = same ? null : Int32Array.from(names, (n) => CATALOGUE_INDEX.get(n) ?? -1);
    catalogueOrder.set(model, order);
  }
  if (order === null) return values;
  const row = new Float64Array(order.length);
  for (let i = 0; i < order.length; i++) row[i] = order[i]! < 0 ? NaN : values[order[i]!]!;
  return row;
}
