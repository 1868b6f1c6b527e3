// ehr.scores.v1 for a reader that wants the values, not the record: decodeSeverityScore
// builds the 211-key `features` record a frame's values stand for; the sink only turns it
// back into JSON text. Building it and stringifying it were 4 % and 12 % of the sink's CPU
// and most of its garbage (issue 18's profile), so here a frame's values stay the
// catalogue-ordered Float64Array they were packed from. Same checks, same failures as
// decodeSeverityScore (test/wire-score-values.test.ts holds the two together).
import { SeverityScoreEvent } from '../schemas/severity-score.js';
import type { FeatureValues } from '../schemas/feature-vector.js';
import { compileValidator, decodeWith, type Validation } from '../validation.js';
import { WireError } from './bytes.js';
import { decodeFrame, isFrame } from './frame.js';

/** A score without its features record (a frame's values ride beside it). */
export type SeverityScoreHeader = Omit<SeverityScoreEvent, 'payload'> & { payload: Omit<SeverityScoreEvent['payload'], 'features'> };

export type SeverityScoreWithValues =
  /** A frame: the values in catalogue order (FEATURE_NAMES), NaN for null. */
  | { event: SeverityScoreHeader; values: Float64Array }
  /** The JSON of before: its features record is in the event. */
  | { event: SeverityScoreEvent; values: null };

const validator = compileValidator(SeverityScoreEvent, 'severity score');
const NO_FEATURES: FeatureValues = Object.freeze({});

const failure = (err: WireError): Validation<never> => ({ ok: false, reason: err.reason, error: err.message, issues: [{ path: err.path, message: err.message }] });

/** Bytes off ehr.scores.v1 → a valid score and, for a frame, its values unbuilt; or why not. */
export function decodeSeverityScoreValues(bytes: Uint8Array | string): Validation<SeverityScoreWithValues> {
  if (!isFrame(bytes)) {
    const decoded = decodeWith((v) => validator.validate(v), bytes);
    return decoded.ok ? { ok: true, value: { event: decoded.value, values: null } } : decoded;
  }
  let frame;
  try {
    frame = decodeFrame(bytes, 'S');
  } catch (err) {
    if (err instanceof WireError) return failure(err);
    throw err;
  }
  const header = frame.header as { payload?: unknown } | null;
  if (typeof header !== 'object' || header === null || typeof header.payload !== 'object' || header.payload === null || Array.isArray(header.payload)) {
    return failure(new WireError('schema_invalid', 'header must be a JSON object with a payload object'));
  }
  // Validated as decodeSeverityScore validates it (features empty); the values were checked by unpackValues.
  (header.payload as { features: FeatureValues }).features = NO_FEATURES;
  const valid = validator.validate(header);
  if (!valid.ok) return valid;
  return { ok: true, value: { event: valid.value, values: frame.values } };
}
