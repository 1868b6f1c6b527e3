// ehr.scores.v1 on the wire: a frame of kind 'S'. The header is the score (probability, bands,
// NEWS2, top contributions, featureEventId, context) as JSON; the vector's values ride packed
// after it, so that the sink can land the whole `features` object without a join.
import { SeverityScoreEvent } from '../schemas/severity-score.js';
import { compileValidator, type Validation } from '../validation.js';
import { decodeContract, frameValuesOf, headerOf } from './contract.js';
import { encodeFrame } from './frame.js';
import { deepFreeze } from './freeze.js';

const validator = compileValidator(SeverityScoreEvent, 'severity score');

/**
 * A score message → bytes. Throws unless its features are exactly this catalogue's. A score
 * built on a decoded vector's catalogue (scoring) carries the vector's packed values as they came.
 */
export function encodeSeverityScore(event: SeverityScoreEvent): Buffer {
  return encodeFrame('S', headerOf(event), frameValuesOf(event.payload));
}

/**
 * Decodes by message: in `npm start` every reader of the scores topic (the sink, alerting, the
 * dashboard, the live summary) is handed the same record, and each decoding it again was
 * 15 % of the main thread's CPU in the embedded replay's profile (issue 18). Keyed by the bytes
 * object, so a message is decoded once per process while something holds it; on Kafka each
 * consumer has buffers of its own and this only misses.
 */
const decodedScores = new WeakMap<Uint8Array, Validation<SeverityScoreEvent>>();

/**
 * Bytes off ehr.scores.v1 (an 'S' frame, or the JSON of before) → a valid score, or why not.
 * The result is frozen, deep: readers of one message share it, so none can change what the
 * next one reads.
 */
export function decodeSeverityScore(bytes: Uint8Array | string): Validation<SeverityScoreEvent> {
  if (typeof bytes === 'string') return deepFreeze(decodeContract(bytes, 'S', validator));
  const known = decodedScores.get(bytes);
  if (known) return known;
  const decoded = deepFreeze(decodeContract(bytes, 'S', validator));
  decodedScores.set(bytes, decoded);
  return decoded;
}
