// The corpus itself (no broker): enough kinds, each named once, and every case the contract
// alone decides (unparseable, schema_invalid, unsupported_schema_version) decided so by the
// contract's decoder, so the real-broker suite fails only on what the pipeline does.
import { decodeRawEvent } from '@ehr/features';
import { describe, expect, it } from 'vitest';
import { deadLetterCases, fhirCases, rawEventCases, scoreCases, vectorCases } from '../src/poison.js';

const at = '2026-01-05T12:00:00Z';
const now = Date.parse('2026-06-01T00:00:00Z');

describe('the poison corpus', () => {
  const raw = rawEventCases('t', at, now);
  const all = [...raw, ...vectorCases('t', at), ...scoreCases('t', at), ...deadLetterCases('t'), ...fhirCases('t', at, now)];

  it('holds well over 100 kinds of bad record, each named once', () => {
    expect(all.length).toBeGreaterThanOrEqual(200);
    expect(new Set(all.map((c) => c.name)).size).toBe(all.length);
  });

  it('every raw case the contract alone decides is decided so by the contract', () => {
    const decidedByContract = new Set(['unparseable', 'schema_invalid', 'unsupported_schema_version']);
    const got = raw.filter((c) => decidedByContract.has(c.expect)).map((c) => {
      const r = decodeRawEvent(c.value);
      return [c.name, r.ok ? 'valid' : r.reason];
    });
    expect(got).toEqual(raw.filter((c) => decidedByContract.has(c.expect)).map((c) => [c.name, c.expect]));
  });

  it('every raw case expected past the contract decodes as a valid event', () => {
    const past = raw.filter((c) => !['unparseable', 'schema_invalid', 'unsupported_schema_version'].includes(c.expect));
    expect(past.filter((c) => !decodeRawEvent(c.value).ok).map((c) => c.name)).toEqual([]);
  });

  it('stays under the broker message limit, every record', () => {
    expect(all.filter((c) => 'value' in c && c.value.length >= 1_000_000).map((c) => c.name)).toEqual([]);
  });
});
