import { describe, expect, it } from 'vitest';
import { createRandom, parseJson } from '../src/index.js';
import { isEventTimestamp } from '../src/schemas/common.js';

const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?(Z|[+-](\d{2}):(\d{2}))$/;
/** The check as first written (arrays and a Date per call): the rewrite must agree with it everywhere. */
function reference(value: string): boolean {
  const m = RFC3339.exec(value);
  if (!m) return false;
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  if (year < 1900 || month < 1 || month > 12 || hour > 23 || minute > 59 || second > 59) return false;
  if (day < 1 || day > new Date(Date.UTC(year, month, 0)).getUTCDate()) return false;
  if (m[9] !== undefined && (Number(m[9]) > 23 || Number(m[10]) > 59)) return false;
  return !Number.isNaN(Date.parse(value));
}

const pad = (n: number, w = 2) => String(n).padStart(w, '0');

describe('isEventTimestamp', () => {
  it('agrees with the first form on every day of 1899–2404 (leap years, month ends, bad days and months)', () => {
    let checked = 0;
    for (let y = 1899; y <= 2404; y++) {
      for (let mo = 0; mo <= 13; mo++) {
        for (let d = 0; d <= 32; d++) {
          const v = `${pad(y, 4)}-${pad(mo)}-${pad(d)}T12:30:45.5Z`;
          expect(isEventTimestamp(v), v).toBe(reference(v));
          checked++;
        }
      }
    }
    expect(checked).toBe(506 * 14 * 33);
  });

  it('agrees on times, offsets and shapes', () => {
    const samples = ['2026-01-05T00:00:00Z', '2026-01-05T24:00:00Z', '2026-01-05T23:60:00Z', '2026-01-05T23:59:60Z', '2026-01-05T23:59:59+24:00', '2026-01-05T23:59:59+23:59', '2026-01-05T23:59:59-01:60',
      '2026-01-05T23:59:59.123456789Z', '2026-01-05T23:59:59.1234567890Z', '2026-01-05 23:59:59Z', '2026-01-05T23:59:59', '9999-12-31T23:59:59Z', '0000-01-01T00:00:00Z', '', 'x', '2024-02-29T00:00:00+01:00', '2100-02-29T00:00:00Z', '2000-02-29T00:00:00Z',
      '2026-01-05T10:20:30Z ', '2026-01-05T10:20:30Z\n', ' 2026-01-05T10:20:30Z', '2026-01-05T10:20:30.5+01:00 ', '2026-01-05T10:20:30+0100', '2026-01-05T10:20:30+01', '2026-01-05T10:20:30.Z', '२०२६-01-05T10:20:30Z'];
    for (const v of samples) expect(isEventTimestamp(v), v).toBe(reference(v));
  });
});

describe('isEventTimestamp on mangled input', () => {
  it('agrees with the regex form on 50,000 timestamps with characters replaced, inserted, removed', () => {
    const rng = createRandom(3);
    const bases = ['2026-01-05T10:20:30Z', '2026-01-05T10:20:30.123Z', '2024-02-29T23:59:59.123456789+01:00', '1999-12-31T00:00:00-05:30', '2026-03-31T12:00:00+23:59'];
    const alphabet = '0123456789-:TZ.+ xt\n';
    let accepted = 0;
    for (let n = 0; n < 50_000; n++) {
      let v = bases[n % bases.length]!;
      const edits = 1 + Math.floor(rng.next() * 3);
      for (let e = 0; e < edits; e++) {
        const at = Math.floor(rng.next() * (v.length + 1));
        const c = alphabet[Math.floor(rng.next() * alphabet.length)]!;
        const op = rng.next();
        v = op < 0.5 ? v.slice(0, at) + c + v.slice(at + 1) : op < 0.75 ? v.slice(0, at) + c + v.slice(at) : v.slice(0, at) + v.slice(at + 1);
      }
      const want = reference(v);
      if (want) accepted++;
      expect(isEventTimestamp(v), JSON.stringify(v)).toBe(want);
    }
    expect(accepted).toBeGreaterThan(1000); // the mangling leaves plenty valid too
  });
});

describe('parseJson', () => {
  it('decodes valid UTF-8 after refusing invalid UTF-8 (one shared decoder, no state between calls)', () => {
    expect(parseJson(Buffer.from([0x7b, 0xff, 0x00, 0x22])).ok).toBe(false);
    expect(parseJson(Buffer.from([0x22, 0xe2, 0x82])).ok).toBe(false); // a sequence cut short
    expect(parseJson(Buffer.from('"é"'))).toEqual({ ok: true, value: 'é' });
  });
});
