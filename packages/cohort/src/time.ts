export const MINUTE = 60_000;
export const HOUR = 60 * MINUTE;
export const DAY = 24 * HOUR;

const pad = (n: number) => (n < 10 ? `0${n}` : String(n));
let cachedDay = NaN;
let cachedPrefix = '';

/** RFC 3339 in UTC, without milliseconds when there are none (what the CSVs hold). */
const YEAR_10000_MS = Date.UTC(10000, 0, 1);

export function iso(ms: number): string {
  // The hot path below assumes a four-digit year; anything else (a FHIR time past 9999) takes the slow one.
  if (ms % 1000 !== 0 || ms < 0 || ms >= YEAR_10000_MS) {
    const text = new Date(ms).toISOString();
    return text.endsWith('.000Z') ? `${text.slice(0, -5)}Z` : text;
  }
  // Hot path of the generator: the date part changes once a day.
  const day = Math.floor(ms / DAY);
  if (day !== cachedDay) {
    cachedDay = day;
    cachedPrefix = new Date(day * DAY).toISOString().slice(0, 11);
  }
  const s = (ms - day * DAY) / 1000;
  return `${cachedPrefix}${pad(Math.floor(s / 3600))}:${pad(Math.floor((s % 3600) / 60))}:${pad(s % 60)}Z`;
}

/** The range of a Date (±8.64e15 ms): a time outside it cannot be written as an event's time. */
export const isDateMs = (ms: number): boolean => Number.isFinite(ms) && Math.abs(ms) <= 8.64e15;

/** Milliseconds since the epoch of an RFC 3339 timestamp, failing loudly on garbage. */
export function toMs(value: string | number | Date, what = 'time'): number {
  const ms = typeof value === 'number' ? value : value instanceof Date ? value.getTime() : Date.parse(value);
  if (!Number.isFinite(ms)) throw new Error(`${what}: not a timestamp: ${JSON.stringify(value)}`);
  return ms;
}
