// R4 dates name a calendar day that must exist: Date.parse rolls one that does not
// (2026-02-30) over into the next month, which would date an event two days late.

/** False for a date-like text whose day does not exist; true otherwise (the format checks are the caller's). */
export function realDay(value: string): boolean {
  const m = /^(\d{4})-(\d{2})-(\d{2})/.exec(value);
  if (!m) return true; // not a date at all: the format checks say so
  const [year, month, day] = [Number(m[1]), Number(m[2]), Number(m[3])];
  return month >= 1 && month <= 12 && day >= 1 && day <= new Date(Date.UTC(year, month, 0)).getUTCDate();
}
