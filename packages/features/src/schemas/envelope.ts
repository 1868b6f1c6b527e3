import { Type, type TLiteral, type TObject, type TSchema } from '@sinclair/typebox';
import { DateTime, EncounterId, EventId, EventSource, PatientId } from './common.js';

/**
 * Every message on the bus is an envelope: schema name and version (what the payload
 * is), a stable event id (the idempotency key), who and when, and where it came from.
 */
export const envelopeFields = {
  schemaVersion: Type.Integer({ minimum: 1, description: 'Version of the named schema' }),
  eventId: EventId,
  patientId: PatientId,
  encounterId: Type.Union([EncounterId, Type.Null()]),
  occurredAt: DateTime,
  producedAt: DateTime,
  source: EventSource,
};

export function envelope<N extends string, V extends number, P extends TSchema>(name: N, version: V, payload: P) {
  return Type.Object(
    {
      schema: Type.Literal(name),
      ...envelopeFields,
      schemaVersion: Type.Literal(version),
      payload,
    },
    { $id: `${name}.v${version}`, additionalProperties: false },
  ) as TObject<
    { schema: TLiteral<N>; schemaVersion: TLiteral<V>; payload: P } & Omit<typeof envelopeFields, 'schemaVersion'>
  >;
}
