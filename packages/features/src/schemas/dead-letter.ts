import { Type, type Static } from '@sinclair/typebox';
import { DateTime, EventId } from './common.js';

export const DEAD_LETTER_REASONS = [
  'unparseable',
  'schema_invalid',
  'unsupported_schema_version',
  'implausible_value',
  'unknown_unit',
  'too_large',
  'late_event',
  /** Dated further ahead of the wall clock than MAX_FUTURE_SKEW allows. */
  'future_event',
  /** A consumer threw on it on every one of its attempts (CONSUMER_MAX_ATTEMPTS). */
  'processing_error',
  'model_error',
  /** A feature vector of another feature set than the model's (version or names). */
  'feature_set_mismatch',
  /** The warehouse refused the row (a cast, a constraint, a size). */
  'warehouse_rejected',
] as const;
export type DeadLetterReason = (typeof DEAD_LETTER_REASONS)[number];

export const ValidationIssue = Type.Object(
  { path: Type.String(), message: Type.String() },
  { additionalProperties: false },
);
export type ValidationIssue = Static<typeof ValidationIssue>;

/**
 * A rejected message, kept whole. It is not an envelope of the normal kind because the
 * thing it carries may have no valid patient or event id; what could be read is kept.
 */
export const DeadLetter = Type.Object(
  {
    schema: Type.Literal('dead_letter'),
    schemaVersion: Type.Literal(1),
    eventId: EventId,
    patientId: Type.Union([Type.String({ maxLength: 256 }), Type.Null()]),
    originalEventId: Type.Union([Type.String({ maxLength: 256 }), Type.Null()]),
    producedAt: DateTime,
    service: Type.String({ minLength: 1, maxLength: 64 }),
    reason: Type.Union(DEAD_LETTER_REASONS.map((r) => Type.Literal(r))),
    error: Type.String({ maxLength: 4096 }),
    details: Type.Array(ValidationIssue, { maxItems: 50 }),
    sourceTopic: Type.String(),
    sourcePartition: Type.Union([Type.Integer({ minimum: 0 }), Type.Null()]),
    sourceOffset: Type.Union([Type.String({ pattern: '^[0-9]+$' }), Type.Null()]),
    originalKey: Type.Union([Type.String(), Type.Null()]),
    originalBytes: Type.String({ contentEncoding: 'base64', description: 'The message exactly as received, base64' }),
  },
  { $id: 'dead_letter.v1', additionalProperties: false },
);
export type DeadLetter = Static<typeof DeadLetter>;
