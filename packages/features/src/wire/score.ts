// ehr.scores.v1 on the wire: a frame of kind 'S'. The header is the score (probability, bands,
// NEWS2, top contributions, featureEventId, context) as JSON; the vector's values ride packed
// after it, so that the sink can land the whole `features` object without a join.
import { SeverityScoreEvent } from '../schemas/severity-score.js';
import { compileValidator, type Validation } from '../validation.js';
import { decodeContract, frameValuesOf, headerOf } from './contract.js';
import { encodeFrame } from './frame.js';

const validator = compileValidator(SeverityScoreEvent, 'severity score');

/**
 * A score message → bytes. Throws unless its features are exactly this catalogue's. A score
 * built on a decoded vector's catalogue (scoring) carries the vector's packed values as they came.
 */
export function encodeSeverityScore(event: SeverityScoreEvent): Buffer {
  return encodeFrame('S', headerOf(event), frameValuesOf(event.payload));
}

/** Bytes off ehr.scores.v1 (an 'S' frame, or the JSON of before) → a valid score, or why not. */
export const decodeSeverityScore = (bytes: Uint8Array | string): Validation<SeverityScoreEvent> => decodeContract(bytes, 'S', validator);
