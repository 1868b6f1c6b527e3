import { FormatRegistry, Type, type Static } from '@sinclair/typebox';

// RFC 3339 timestamps with an explicit offset ("Z" or "+01:00"). A timestamp without a
// zone is ambiguous in a hospital that spans summer time, so it is refused. So is a date
// that does not exist (Date.parse takes 2026-02-30 for 2 March) and one before 1900: no
// clinical event is that old, and warehouses do not all keep such dates. The shape is
//   ^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?(Z|[+-](\d{2}):(\d{2}))$
// read character by character: every raw event has two timestamps, and the regex's match
// arrays and substrings were the largest allocation of the feature service's validation.
export const EARLIEST_YEAR = 1900;

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
const daysIn = (year: number, month: number) => (month === 2 && year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : DAYS_IN_MONTH[month - 1]!);
const isDigit = (c: number) => c >= 48 && c <= 57;

/** The `n` ASCII digits at `at` as a number, or -1 if any is not a digit (or past the end). */
function digits(s: string, at: number, n: number): number {
  let v = 0;
  for (let i = at; i < at + n; i++) {
    const c = s.charCodeAt(i); // NaN past the end: not a digit
    if (!isDigit(c)) return -1;
    v = v * 10 + (c - 48);
  }
  return v;
}

/** A real instant written as RFC 3339 with an offset, in or after EARLIEST_YEAR. */
export function isEventTimestamp(value: string): boolean {
  if (value.length < 20) return false;
  const year = digits(value, 0, 4);
  const month = digits(value, 5, 2);
  const day = digits(value, 8, 2);
  const hour = digits(value, 11, 2);
  const minute = digits(value, 14, 2);
  const second = digits(value, 17, 2);
  if (year < 0 || month < 0 || day < 0 || hour < 0 || minute < 0 || second < 0) return false;
  // '-' 45, 'T' 84, ':' 58
  if (value.charCodeAt(4) !== 45 || value.charCodeAt(7) !== 45 || value.charCodeAt(10) !== 84 || value.charCodeAt(13) !== 58 || value.charCodeAt(16) !== 58) return false;
  let i = 19;
  if (value.charCodeAt(i) === 46) {
    // '.' then 1 to 9 digits
    let j = i + 1;
    while (isDigit(value.charCodeAt(j))) j++;
    if (j - i - 1 < 1 || j - i - 1 > 9) return false;
    i = j;
  }
  const zone = value.charCodeAt(i);
  let offsetHours = -1;
  let offsetMinutes = -1;
  if (zone === 90) i += 1; // 'Z'
  else if (zone === 43 || zone === 45) {
    // '+' or '-', then HH:MM
    offsetHours = digits(value, i + 1, 2);
    offsetMinutes = digits(value, i + 4, 2);
    if (offsetHours < 0 || offsetMinutes < 0 || value.charCodeAt(i + 3) !== 58) return false;
    i += 6;
  } else return false;
  if (i !== value.length) return false;
  if (year < EARLIEST_YEAR || month < 1 || month > 12 || hour > 23 || minute > 59 || second > 59) return false;
  if (day < 1 || day > daysIn(year, month)) return false;
  if (offsetHours >= 0 && (offsetHours > 23 || offsetMinutes > 59)) return false;
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
