import { Type, type Static, type TLiteral, type TUnion } from '@sinclair/typebox';
import { LAB_KINDS, VITAL_KINDS } from '../clinical/signals.js';
import { DateTime, EventId, FiniteNumber, Spo2Scale } from './common.js';

// Generic over T so the static type keeps the literal union (VitalKind, not string).
const literals = <T extends string>(values: readonly T[], description: string): TUnion<TLiteral<T>[]> =>
  Type.Union(
    values.map((v) => Type.Literal(v)),
    { description },
  );

/**
 * A reading entered in error (FHIR `entered-in-error`) is withdrawn by an event of its own: the
 * same kind, value, unit and time, naming the withdrawn event's id here. The reading leaves the
 * patient's picture, or never enters it if it comes later.
 */
const Retracts = EventId;

/**
 * One result through its versions (FHIR: an Observation's id and code, through preliminary,
 * final, amended and corrected): `id` is the same for every version of the result, `at` is when
 * this version was made (FHIR `meta.lastUpdated`, else `issued`, else when it was received). Of
 * the versions the feature service holds, the latest by `at` stands in the patient's picture and
 * the others leave it, whatever order they came in. Without it a reading stands on its own.
 */
export const ResultVersion = Type.Object(
  {
    id: EventId,
    at: DateTime,
  },
  { additionalProperties: false, description: 'The result this reading is a version of, and when the version was made' },
);
export type ResultVersion = Static<typeof ResultVersion>;

export const VitalKindSchema = literals(VITAL_KINDS, 'Which vital sign');
export const LabKindSchema = literals(LAB_KINDS, 'Which laboratory test');

export const VitalSignPayload = Type.Object(
  {
    kind: VitalKindSchema,
    value: FiniteNumber,
    unit: Type.String({ minLength: 1, maxLength: 32, description: 'UCUM unit as sent; normalised by the feature service' }),
    method: Type.Optional(Type.String({ maxLength: 64 })),
    retracts: Type.Optional(Retracts),
    result: Type.Optional(ResultVersion),
  },
  { additionalProperties: false },
);
export type VitalSignPayload = Static<typeof VitalSignPayload>;

export const LabResultPayload = Type.Object(
  {
    kind: LabKindSchema,
    value: FiniteNumber,
    unit: Type.String({ minLength: 1, maxLength: 32 }),
    loinc: Type.Optional(Type.String({ maxLength: 16 })),
    itemId: Type.Optional(Type.Integer()),
    retracts: Type.Optional(Retracts),
    result: Type.Optional(ResultVersion),
  },
  { additionalProperties: false },
);
export type LabResultPayload = Static<typeof LabResultPayload>;

export const NOTE_MAX_CHARS = 100_000;

export const ClinicalNotePayload = Type.Object(
  {
    category: Type.Union([Type.Literal('nursing'), Type.Literal('progress'), Type.Literal('physician'), Type.Literal('other')]),
    text: Type.String({ maxLength: NOTE_MAX_CHARS }),
    author: Type.Optional(Type.String({ maxLength: 128 })),
  },
  { additionalProperties: false },
);
export type ClinicalNotePayload = Static<typeof ClinicalNotePayload>;

const Category = Type.String({ minLength: 1, maxLength: 64 });

export const AdmissionPayload = Type.Object(
  {
    admissionType: Category,
    unit: Category,
    department: Type.Optional(Category),
    gender: Type.Optional(Type.Union([Type.Literal('F'), Type.Literal('M'), Type.Literal('U')])),
    age: Type.Optional(Type.Number({ minimum: 0, maximum: 130 })),
    spo2Scale: Type.Optional(Spo2Scale),
    // When the hospital stay began, if this admission (e.g. to an ICU) came later in it.
    hospitalAdmitTime: Type.Optional(DateTime),
  },
  { additionalProperties: false },
);
export type AdmissionPayload = Static<typeof AdmissionPayload>;

export const TransferPayload = Type.Object(
  {
    fromUnit: Type.Optional(Category),
    toUnit: Category,
    icu: Type.Boolean({ description: 'True when the patient moves into intensive care' }),
    spo2Scale: Type.Optional(Spo2Scale),
  },
  { additionalProperties: false },
);
export type TransferPayload = Static<typeof TransferPayload>;

export const DischargeOutcome = Type.Union([
  Type.Literal('home'),
  Type.Literal('facility'),
  Type.Literal('transferred'),
  Type.Literal('died'),
  Type.Literal('other'),
]);
export type DischargeOutcome = Static<typeof DischargeOutcome>;

export const DischargePayload = Type.Object(
  {
    outcome: DischargeOutcome,
    location: Type.Optional(Category),
  },
  { additionalProperties: false },
);
export type DischargePayload = Static<typeof DischargePayload>;
