import { FormatRegistry, Type, type Static } from '@sinclair/typebox';

// RFC 3339 timestamps with an explicit offset ("Z" or "+01:00"). A timestamp without a
// zone is ambiguous in a hospital that spans summer time, so it is refused. So is a date
// that does not exist (Date.parse takes 2026-02-30 for 2 March) and one before 1900: no
// clinical event is that old, and warehouses do not all keep such dates.
const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?(Z|[+-](\d{2}):(\d{2}))$/;
export const EARLIEST_YEAR = 1900;

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
const daysIn = (year: number, month: number) => (month === 2 && year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : DAYS_IN_MONTH[month - 1]!);

/**
 * A real instant written as RFC 3339 with an offset, in or after EARLIEST_YEAR. Every raw
 * event's timestamps go through this, so it reads the groups in place (no arrays, no Date
 * for the month's length): the slice/map/Date form was 11 % of the feature service's
 * allocation in its hot-path bench.
 */
export function isEventTimestamp(value: string): boolean {
  const m = RFC3339.exec(value);
  if (!m) return false;
  const year = Number(m[1]);
  const month = Number(m[2]);
  const day = Number(m[3]);
  if (year < EARLIEST_YEAR || month < 1 || month > 12 || Number(m[4]) > 23 || Number(m[5]) > 59 || Number(m[6]) > 59) return false;
  if (day < 1 || day > daysIn(year, month)) return false;
  if (m[9] !== undefined && (Number(m[9]) > 23 || Number(m[10]) > 59)) return false;
  return !Number.isNaN(Date.parse(value));
}

if (!FormatRegistry.Has('date-time')) FormatRegistry.Set('date-time', isEventTimestamp);

export const DateTime = Type.String({ format: 'date-time', description: 'RFC 3339 timestamp with offset' });

export const PatientId = Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9._:-]+$' });
export const EncounterId = Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9._:-]+$' });
export const EventId = Type.String({ minLength: 1, maxLength: 128, pattern: '^[A-Za-z0-9._:-]+$' });

export const EventSource = Type.Union(
  [
    Type.Literal('synthetic'),
    Type.Literal('meds'),
    Type.Literal('physionet'),
    Type.Literal('fhir'),
    Type.Literal('csv'),
    Type.Literal('api'),
    Type.Literal('feature-service'),
    Type.Literal('scoring-service'),
    Type.Literal('alerting-service'),
  ],
  { description: 'Where the message came from' },
);
export type EventSource = Static<typeof EventSource>;

export const Spo2Scale = Type.Union([Type.Literal(1), Type.Literal(2)], {
  description: 'NEWS2 SpO2 scale chosen by the clinician: 2 only for hypercapnic respiratory failure (target 88–92 %)',
});
export type Spo2Scale = Static<typeof Spo2Scale>;

/** Finite number (JSON cannot carry NaN or Infinity anyway, but in-process callers can). */
export const FiniteNumber = Type.Number({ minimum: -1e12, maximum: 1e12 });
