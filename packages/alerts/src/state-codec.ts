// A patient's alert state as JSON for the alerting service's compacted changelog, checked
// on the way back in: a record that does not read back is reported, never half-trusted.
import { AlertKindSchema, compileValidator, DismissReasonSchema, News2Band, ResolveReasonSchema, SeverityBand } from '@ehr/features';
import { Type, type Static } from '@sinclair/typebox';
import type { PatientAlertState } from './alert-state.js';
import type { BudgetUse } from './budget.js';

// Epoch milliseconds within the years the contracts accept (1900-9999): a time outside them
// is no clock's (`new Date(1e300)` cannot be printed), and one such alert read back would
// fail every list and every event that shows it.
const Time = Type.Number({ minimum: Date.UTC(1900, 0, 1), maximum: Date.UTC(9999, 11, 31, 23, 59, 59, 999) });
const NullableTime = Type.Union([Time, Type.Null()]);
const NullableString = Type.Union([Type.String(), Type.Null()]);
const NullableNumber = Type.Union([Type.Number(), Type.Null()]);
const Overdue = Type.Object({ lastObservationAt: Time, dueAt: Time, intervalHours: Type.Number({ exclusiveMinimum: 0, maximum: 24 * 366 }) }, { additionalProperties: false });

const StoredState = Type.Object(
  {
    v: Type.Literal(1),
    patientId: Type.String({ minLength: 1 }),
    encounterId: NullableString,
    unit: NullableString,
    streak: Type.Integer({ minimum: 0 }),
    episode: Type.Boolean(),
    lastAlert: Type.Union([Type.Object({ level: NullableNumber, at: Time }, { additionalProperties: false }), Type.Null()]),
    latest: Type.Union([
      Type.Object(
        { scoreId: Type.String(), at: Time, probability: NullableNumber, news2: NullableNumber, news2Band: Type.Union([News2Band, Type.Null()]), band: SeverityBand, observedAt: NullableTime },
        { additionalProperties: false },
      ),
      Type.Null(),
    ]),
    overdueFor: NullableTime,
    alerts: Type.Array(
      Type.Object(
        {
          alertId: Type.String(),
          kind: AlertKindSchema,
          severity: SeverityBand,
          status: Type.Union([Type.Literal('open'), Type.Literal('acknowledged'), Type.Literal('escalated')]),
          raisedAt: Time,
          escalateAt: NullableTime,
          escalatedAt: NullableTime,
          acknowledgedAt: NullableTime,
          acknowledgedBy: NullableString,
          scoreId: NullableString,
          level: NullableNumber,
          probability: NullableNumber,
          news2: NullableNumber,
          unit: NullableString,
          reason: Type.String(),
          overdue: Type.Union([Overdue, Type.Null()]),
        },
        { additionalProperties: false },
      ),
    ),
    closed: Type.Array(
      Type.Object(
        {
          alertId: Type.String(),
          kind: AlertKindSchema,
          severity: SeverityBand,
          status: Type.Union([Type.Literal('dismissed'), Type.Literal('resolved')]),
          raisedAt: Time,
          closedAt: Time,
          dismissReason: Type.Union([DismissReasonSchema, Type.Null()]),
          resolveReason: Type.Union([ResolveReasonSchema, Type.Null()]),
          actor: NullableString,
          unit: NullableString,
          probability: NullableNumber,
          news2: NullableNumber,
          overdue: Type.Union([Overdue, Type.Null()]),
        },
        { additionalProperties: false },
      ),
    ),
    applied: Type.Union([Type.Object({ partition: Type.Integer({ minimum: 0 }), offset: Type.String({ pattern: '^[0-9]+$' }) }, { additionalProperties: false }), Type.Null()]),
  },
  { additionalProperties: false },
);
type StoredState = Static<typeof StoredState>;

const StoredBudget = Type.Object({ v: Type.Literal(1), unit: NullableString, day: Type.String({ pattern: '^\\d{4}-\\d{2}-\\d{2}$' }), used: Type.Integer({ minimum: 0 }) }, { additionalProperties: false });

const stateValidator = compileValidator(StoredState, 'alert state');
const budgetValidator = compileValidator(StoredBudget, 'alert budget');

export function encodeAlertState(state: PatientAlertState): string {
  const stored: StoredState = { v: 1, ...state };
  return JSON.stringify(stored);
}

/** The state, or throws saying what is wrong with the record. */
export function decodeAlertState(bytes: Uint8Array | string): PatientAlertState {
  const value: unknown = JSON.parse(typeof bytes === 'string' ? bytes : Buffer.from(bytes).toString('utf8'));
  const checked = stateValidator.validate(value);
  if (!checked.ok) throw new Error(checked.error);
  const { v: _v, ...state } = checked.value;
  return state;
}

export const encodeBudgetUse = (use: BudgetUse): string => JSON.stringify({ v: 1, ...use });

export function decodeBudgetUse(bytes: Uint8Array | string): BudgetUse {
  const value: unknown = JSON.parse(typeof bytes === 'string' ? bytes : Buffer.from(bytes).toString('utf8'));
  const checked = budgetValidator.validate(value);
  if (!checked.ok) throw new Error(checked.error);
  const { v: _v, ...use } = checked.value;
  return use;
}
