// Keys that come from input (a schema name, a unit) never reach Object.prototype: each
// of these threw a TypeError before, which the consumer redelivered forever.
import { describe, expect, it } from 'vitest';
import { cleanEvent, decodeRawEvent, futureEventProblem, normaliseUnit, processEvent, DEFAULT_ENGINE_OPTIONS, type RawEvent } from '../src/index.js';
import { vital } from './helpers.js';

const PROTOTYPE_KEYS = ['__proto__', 'constructor', 'toString', 'valueOf', 'hasOwnProperty', '__defineGetter__', 'isPrototypeOf'];

describe('lookups by input keys', () => {
  it.each(PROTOTYPE_KEYS)('a vital with unit %j is an unknown unit, not a crash', (unit) => {
    const event = vital('p-1', 'heart_rate', 80, 0, { unit });
    expect(normaliseUnit('heart_rate', 80, unit)).toMatchObject({ ok: false, error: expect.stringContaining('unknown unit') });
    expect(cleanEvent(event)).toMatchObject({ ok: false, reason: 'unknown_unit' });
    const states = new Map();
    const outcome = processEvent({ get: (id) => states.get(id), set: (id, s) => states.set(id, s) }, event, DEFAULT_ENGINE_OPTIONS);
    expect(outcome).toMatchObject({ kind: 'rejected', reason: 'unknown_unit' });
  });

  it('an unknown signal passed by a caller is refused, not looked up on the prototype', () => {
    expect(normaliseUnit('__proto__' as 'heart_rate', 80, '/min')).toMatchObject({ ok: false });
  });

  it.each(PROTOTYPE_KEYS)('an event of schema %j is schema_invalid, not a crash', (schema) => {
    const r = decodeRawEvent(JSON.stringify({ ...vital('p-1', 'heart_rate', 80, 0), schema }));
    expect(r).toMatchObject({ ok: false, reason: 'schema_invalid', issues: [{ path: 'schema' }] });
  });

  it('prototype keys as field names are extra fields', () => {
    const base: RawEvent = vital('p-1', 'heart_rate', 80, 0);
    const text = JSON.stringify(base).replace('"payload":{', '"payload":{"__proto__":{"x":1},');
    expect(decodeRawEvent(text)).toMatchObject({ ok: false, reason: 'schema_invalid' });
    expect(decodeRawEvent(JSON.stringify(base).replace('{"schema"', '{"constructor":{},"schema"'))).toMatchObject({ ok: false, reason: 'schema_invalid' });
  });
});

describe('future events', () => {
  const now = Date.parse('2026-06-01T12:00:00Z');
  const skew = 300_000;

  it('allows events up to the skew ahead of the wall clock', () => {
    expect(futureEventProblem('2026-06-01T12:05:00Z', now, skew)).toBeNull();
    expect(futureEventProblem('2020-01-01T00:00:00Z', now, skew)).toBeNull();
  });

  it('refuses anything further ahead, with the reason and the field', () => {
    const p = futureEventProblem('2026-06-01T12:05:01Z', now, skew);
    expect(p).toMatchObject({ reason: 'future_event', issues: [{ path: 'occurredAt' }] });
    expect(p!.error).toContain('MAX_FUTURE_SKEW');
    expect(futureEventProblem('9999-12-31T23:59:59-23:59', now, skew)).toMatchObject({ reason: 'future_event' });
  });
});

describe('event timestamps', () => {
  const at = (occurredAt: string) => decodeRawEvent(JSON.stringify({ ...vital('p-1', 'heart_rate', 80, 0), occurredAt }));
  it.each(['2026-02-30T10:00:00Z', '2025-02-29T10:00:00Z', '2026-04-31T00:00:00Z', '2026-01-01T24:00:00Z', '2026-01-01T10:00:00+24:00', '0000-01-01T00:00:00Z', '1899-12-31T23:59:59Z'])(
    '%s (a date that does not exist, or before 1900) is schema_invalid',
    (occurredAt) => expect(at(occurredAt)).toMatchObject({ ok: false, reason: 'schema_invalid', issues: [{ path: 'occurredAt' }] }),
  );
  it.each(['2024-02-29T10:00:00Z', '1900-01-01T00:00:00Z', '2026-12-31T23:59:59.999999999-11:30'])('%s is a timestamp', (occurredAt) => expect(at(occurredAt).ok).toBe(true));
});
