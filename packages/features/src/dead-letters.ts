import { createHash } from 'node:crypto';
import { deterministicId } from './ids.js';
import { parseJson, type Validation } from './validation.js';
import { jsonPartOf } from './wire/frame.js';
import type { DeadLetter, DeadLetterReason, ValidationIssue } from './schemas/dead-letter.js';

export interface RejectedMessage {
  topic: string;
  partition: number | null;
  offset: string | null;
  key: string | null;
  value: Uint8Array;
}

export interface Rejection {
  service: string;
  reason: DeadLetterReason;
  error: string;
  issues?: readonly ValidationIssue[];
  /** What could be read of the rejected message, if anything. */
  patientId?: string | null;
  originalEventId?: string | null;
}

/** Best effort: the ids of a message that failed validation, for the audit trail. */
export function peekIds(value: unknown): { patientId: string | null; originalEventId: string | null } {
  if (typeof value !== 'object' || value === null) return { patientId: null, originalEventId: null };
  const v = value as { patientId?: unknown; eventId?: unknown };
  const clip = (x: unknown) => (typeof x === 'string' ? x.slice(0, 256) : null);
  return { patientId: clip(v.patientId), originalEventId: clip(v.eventId) };
}

/**
 * Most bytes of a rejected message a dead letter carries. Kafka refuses messages above
 * about 1 MB (`message.max.bytes`), and base64 grows the bytes by a third: a dead letter
 * carrying a 900 KB message whole could never be written, and the partition it came from
 * would be stuck on it forever. Past this, the first bytes are kept and a detail says how
 * many there were and their sha256.
 */
export const DEAD_LETTER_MAX_ORIGINAL_BYTES = 256 * 1024;
const MAX_KEY_CHARS = 1024;
const MAX_ISSUE_CHARS = 512;
const clip = (text: string, max: number) => (text.length > max ? `${text.slice(0, max - 1)}…` : text);

/**
 * The dead letter for a rejected message: the reason, the details, where it came from
 * and its exact bytes (the first DEAD_LETTER_MAX_ORIGINAL_BYTES of a larger one). The id
 * derives from the source position and the service, so a redelivered message
 * dead-letters to the same id (and lands once in the audit table).
 */
export function buildDeadLetter(message: RejectedMessage, rejection: Rejection, now: Date = new Date()): DeadLetter {
  const position = message.partition === null ? deterministicId('dl-bytes', Buffer.from(message.value).toString('base64')) : `${message.partition}:${message.offset}`;
  const bytes = Buffer.from(message.value);
  const kept = bytes.length > DEAD_LETTER_MAX_ORIGINAL_BYTES ? bytes.subarray(0, DEAD_LETTER_MAX_ORIGINAL_BYTES) : bytes;
  const truncated =
    kept.length < bytes.length
      ? [{ path: 'originalBytes', message: `truncated: the message had ${bytes.length} bytes (sha256 ${createHash('sha256').update(bytes).digest('hex')}); the first ${kept.length} are kept` }]
      : [];
  // Everything else a rejected message can put in its dead letter is clipped too: a 900 KB
  // property name (a validation path) or key would otherwise make the dead letter as
  // unwritable as the message itself.
  const key = message.key === null ? null : clip(message.key, MAX_KEY_CHARS);
  const keyNote = message.key !== null && key!.length < message.key.length ? [{ path: 'originalKey', message: `truncated: the key had ${message.key.length} characters; the first ${MAX_KEY_CHARS} are kept` }] : [];
  const notes = [...truncated, ...keyNote];
  return {
    schema: 'dead_letter',
    schemaVersion: 1,
    eventId: deterministicId('dead-letter', rejection.service, message.topic, position, rejection.reason),
    patientId: rejection.patientId ?? (message.key === null ? null : clip(message.key, 256)),
    originalEventId: rejection.originalEventId ?? null,
    producedAt: now.toISOString(),
    service: rejection.service,
    reason: rejection.reason,
    error: clip(rejection.error, 4096),
    details: [...notes, ...(rejection.issues ?? []).slice(0, 50 - notes.length).map((i) => ({ path: clip(i.path, MAX_ISSUE_CHARS), message: clip(i.message, MAX_ISSUE_CHARS) }))],
    sourceTopic: message.topic,
    sourcePartition: message.partition,
    sourceOffset: message.offset,
    originalKey: key,
    originalBytes: kept.toString('base64'),
  };
}

export interface TriageResult<T, R extends RejectedMessage> {
  accepted: { record: R; value: T }[];
  rejected: DeadLetter[];
}

/**
 * Splits consumed messages into those that decode and dead letters for the rest, so a
 * service never throws on poison input (which would redeliver it forever).
 */
export function triage<T, R extends RejectedMessage>(
  records: readonly R[],
  decode: (bytes: Uint8Array) => Validation<T>,
  service: string,
  now: Date = new Date(),
): TriageResult<T, R> {
  const result: TriageResult<T, R> = { accepted: [], rejected: [] };
  for (const record of records) {
    const decoded = decode(record.value);
    if (decoded.ok) {
      result.accepted.push({ record, value: decoded.value });
      continue;
    }
    // A compact frame's ids are in its JSON header.
    const parsed = decoded.reason === 'unparseable' ? null : parseJson(jsonPartOf(record.value));
    const ids = parsed?.ok ? peekIds(parsed.value) : {};
    result.rejected.push(buildDeadLetter(record, { service, reason: decoded.reason, error: decoded.error, issues: decoded.issues, ...ids }, now));
  }
  return result;
}
